"""Who may see what. Every data callback starts here.

The scope always comes from ``current_user`` on the server. Anything the
browser sends (a badge, a unit code, a dropdown value) is checked against it
and refused with :class:`AccessDenied` (HTTP 403) when it falls outside.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import audit as audit_model
from models import break_glass
from models import users as users_model
from models.db import session_scope
from models.schema import Officer, Unit

ROLES = ("officer", "manager", "counsellor", "leader", "admin", "auditor")
AUDIT_ROLES = ("admin", "auditor")  # who reads the audit log


class AccessDenied(Exception):
    """Raised when the caller may not see or do what was asked; answered with 403."""


@dataclass(frozen=True)
class Scope:
    user_id: int
    username: str
    role: str
    officer_id: int | None
    unit_path: str | None  # None: the whole force (admin)
    psych_access: bool = False  # a manager's ``psych`` grant (issue 16)

    def covers(self, path: str | None) -> bool:
        """True when a unit path lies inside this scope."""
        if self.unit_path is None:
            return True
        return bool(path) and path.startswith(self.unit_path)

    @property
    def sees_lab_values(self) -> bool:
        return self.role in ("officer", "manager", "counsellor", "admin")

    @property
    def sees_psych(self) -> bool:
        """The one decision on psychological detail (PHQ-9, GAD-7, the self-harm item, their warning
        reasons, counselling notes, filters by those rules): the officer about themself,
        counsellors and admins, managers with the ``psych`` grant; never leaders (``models.psych``)."""
        return self.role in ("officer", "counsellor", "admin") or (self.role == "manager" and self.psych_access)

    @property
    def names_all_levels(self) -> bool:
        """Named lists of every colour (leaders get red and orange only)."""
        return self.role in ("manager", "counsellor", "admin")


def current_scope(*roles: str) -> Scope:
    """The caller's scope; refuses anonymous callers and roles not in ``roles``."""
    if not getattr(current_user, "is_authenticated", False):
        raise AccessDenied("not logged in")
    if roles and current_user.role not in roles:
        raise AccessDenied(f"role {current_user.role} may not do this")
    if not roles and current_user.role == "auditor":  # auditors read the audit log and nothing else
        raise AccessDenied("auditors may only read the audit log")
    grant = False
    if current_user.role == "manager":  # as of this request's session check: a revoked grant ends at once
        grant = getattr(current_user, "psych_access", None)
        if grant is None:
            with db() as s:
                grant = users_model.has_psych_access(s, current_user.id)
    return Scope(
        user_id=current_user.id,
        username=current_user.username,
        role=current_user.role,
        officer_id=current_user.officer_id,
        unit_path=None if current_user.role == "admin" else current_user.scope_path,
        psych_access=grant,
    )


@contextlib.contextmanager
def db() -> Iterator[Session]:
    with session_scope(current_app.config["DATABASE_URL"]) as s:
        yield s


def officer_in_scope(session: Session, scope: Scope, badge: str) -> Officer:
    """The officer with this badge, if the caller may see them; else AccessDenied. A manager
    also sees an officer outside the scope for a day after breaking the glass.

    The same answer is given for "no such badge" and "not yours", so a caller
    cannot probe which badges exist outside their scope."""
    officer = session.scalar(select(Officer).where(Officer.badge == str(badge)))
    if officer is None:
        raise AccessDenied("no access")
    if scope.role == "officer":
        if officer.id != scope.officer_id:
            raise AccessDenied("no access")
        return officer
    if not scope.covers(officer.unit.path):
        # break the glass: a manager's reasoned, one-day access outside the scope (models.break_glass)
        if scope.role == "manager" and break_glass.active(session, scope.user_id, officer.id):
            return officer
        raise AccessDenied("no access")
    return officer


def unit_in_scope(session: Session, scope: Scope, code: str | None) -> Unit:
    """The unit with this code inside the caller's scope (the scope root when code is empty)."""
    if scope.role == "officer":
        raise AccessDenied("officers have no unit scope")
    if not code:
        if scope.unit_path is None:
            unit = session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
        else:
            unit = session.scalar(select(Unit).where(Unit.path == scope.unit_path))
    else:
        unit = session.scalar(select(Unit).where(Unit.code == str(code)))
    if unit is None or not scope.covers(unit.path):
        raise AccessDenied("no access")
    return unit


def client_ip() -> str | None:
    """The real peer of the request. X-Forwarded-For is never read here: when the app runs behind
    PORTAL_TRUSTED_PROXIES proxies, werkzeug's ProxyFix has already put the client's address into
    ``remote_addr`` (taking only what those proxies appended), and otherwise the header is ignored."""
    return request.remote_addr if request else None


def audit(action: str, target: str | None = None, detail: dict | None = None, session: Session | None = None,
          *, officer_ids=None, badges=None) -> None:
    """Write an audit-log row for the current user (views of records, exports, changes); a list's
    officers go in ``officer_ids`` or ``badges`` (see ``models.audit.record``)."""
    user_id = getattr(current_user, "id", None) if getattr(current_user, "is_authenticated", False) else None
    username = getattr(current_user, "username", None)
    ip = client_ip()
    if session is not None:
        audit_model.record(session, action=action, target=target, detail=detail, user_id=user_id, username=username, ip=ip,
                           officer_ids=officer_ids, badges=badges)
        return
    with db() as s:
        audit_model.record(s, action=action, target=target, detail=detail, user_id=user_id, username=username, ip=ip,
                           officer_ids=officer_ids, badges=badges)


def security_event(exc: Exception) -> None:
    """Record a refused request (a forged or out-of-scope callback, a report outside the scope) as a
    security event: who, which callback (its output spec) or path, and why. Called from one place,
    the app's AccessDenied handler, so no refusal goes unrecorded."""
    body = request.get_json(silent=True) if request.is_json else None
    callback = body.get("output") if isinstance(body, dict) else None
    changed = body.get("changedPropIds") if isinstance(body, dict) else None
    detail = {
        "reason": str(exc)[:200],
        "path": request.path[:200],
        "callback": str(callback)[:300] if callback is not None else None,
        "changed": [str(c)[:100] for c in changed[:5]] if isinstance(changed, list) else None,
    }
    audit("access_denied", target=str(callback if callback is not None else request.path)[:200], detail=detail)
