"""Account administration queries (list, clear a sign-in delay, (de)activate); creation and passwords
live in models.users, sessions and sign-in delays in models.sessions."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.schema import Officer, Unit, User
from models import activation
from models.sessions import clear_failures, end_user_sessions, throttled_names
from models.users import ROLES, UserError, create_user

STATUSES = ("active", "pending", "inactive", "delayed")  # words in models.vocab.ACCOUNT_STATUS
PAGE_MAX = 500


def list_accounts(session: Session) -> list[dict]:
    throttled = throttled_names(session)
    rows = []
    for u in session.scalars(select(User).order_by(User.role, User.username)):
        rows.append({
            "username": u.username, "role": u.role,
            "scope": u.scope_unit.name if u.scope_unit and u.role != "officer" else ("—" if u.role != "admin" else None),
            "officer": u.officer.badge if u.officer else "",
            "active": u.active, "psych": bool(u.psych_access),
            "throttled": u.username in throttled,
            "last_login": u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "",
        })
    return rows


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == str(username)))
    if user is None:
        raise LookupError(username)
    return user


def account_id(session: Session, username: str) -> int:
    return _user(session, username).id


def clear_throttle(session: Session, username: str) -> int:
    """Let every address try this account's password again at once; returns how many delays were cleared."""
    user = _user(session, username)
    return clear_failures(session, user.username)


def toggle_active(session: Session, username: str, acting_username: str) -> bool:
    """Flip an account's active flag (never one's own, so an admin cannot lock themself out)."""
    user = _user(session, username)
    if user.username == acting_username:
        raise ValueError("own account")
    user.active = not user.active
    if not user.active:
        end_user_sessions(session, user.id, "deactivated")
    return user.active


def unit_choices(session: Session) -> list[dict]:
    """Every unit in tree order, for picking the scope of a manager or leader."""
    return [{"code": code, "name": name, "name_en": name_en or name, "depth": depth}
            for code, name, name_en, depth in session.execute(
                select(Unit.code, Unit.name, Unit.name_en, Unit.depth).order_by(Unit.path))]


def sync_officer_accounts(session: Session, officer_ids) -> dict:
    """After a roster load: the account of an officer who left (no longer active) is deactivated and its
    sessions end; the account of an officer who moved keeps its name, password and history and follows
    the officer to the new unit. Returns {"deactivated": [...user names], "moved": n}."""
    ids = sorted(set(officer_ids))
    deactivated, moved = [], 0
    for i in range(0, len(ids), 900):
        for user, officer in session.execute(select(User, Officer).join(Officer, User.officer_id == Officer.id)
                                             .where(Officer.id.in_(ids[i:i + 900]))):
            if user.scope_unit_id != officer.unit_id:
                user.scope_unit_id = officer.unit_id
                moved += 1
            if not officer.active and user.active:
                user.active = False
                end_user_sessions(session, user.id, "left_force")
                deactivated.append(user.username)
    session.flush()
    return {"deactivated": deactivated, "moved": moved}


def account_page(session: Session, *, search: str | None = None, role: str | None = None, status: str | None = None,
                 start: int = 0, end: int = 100) -> dict:
    """One page of accounts for the server-paged grid: ``search`` matches user name, badge, officer
    name and scope unit (code or name); ``role`` and ``status`` filter. {"rows": [...], "total": n}."""
    q = (select(User, Officer.badge, Officer.name, Unit.code, Unit.name, Unit.name_en)
         .outerjoin(Officer, User.officer_id == Officer.id)
         .outerjoin(Unit, User.scope_unit_id == Unit.id))
    if search:
        like = f"%{search.strip()[:60]}%"
        q = q.where(or_(User.username.ilike(like), Officer.badge.ilike(like), Officer.name.ilike(like),
                        Unit.code.ilike(like), Unit.name.ilike(like), Unit.name_en.ilike(like)))
    if role in ROLES:
        q = q.where(User.role == role)
    delayed = throttled_names(session)
    if status == "active":
        q = q.where(User.active.is_(True), User.activation_hash.is_(None))
    elif status == "pending":
        q = q.where(User.active.is_(True), User.activation_hash.is_not(None))
    elif status == "inactive":
        q = q.where(User.active.is_(False))
    elif status == "delayed":
        q = q.where(User.username.in_(sorted(delayed) or [""]))
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    start = max(0, int(start))
    end = min(max(start, int(end)), start + PAGE_MAX)
    rows = []
    for user, badge, name, unit_code, unit_name, unit_name_en in session.execute(
            q.order_by(User.role, User.username).offset(start).limit(end - start)):
        rows.append({
            "username": user.username, "role": user.role, "badge": badge or "", "name": name or "",
            "unit_code": unit_code or "", "unit_name": unit_name or "", "unit_name_en": unit_name_en or unit_name or "",
            "status": ("inactive" if not user.active else "pending" if user.activation_hash else "active"),
            "throttled": user.username in delayed, "psych": bool(user.psych_access) and user.role == "manager",
            "last_login": user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "",
        })
    return {"rows": rows, "total": total}


def set_role_and_scope(session: Session, username: str, role: str, unit_code: str | None,
                       acting_username: str) -> User:
    """Change a manager's, leader's or admin's role and scope. Officer accounts stay tied to their
    officer (their scope follows the roster), and nobody edits their own role."""
    user = _user(session, username)
    if user.username == acting_username:
        raise UserError("own_account", "own account")
    if role not in ROLES or role == "officer" or user.role == "officer":
        raise UserError("unknown_role", f"role {role!r} cannot be set here")
    if role == "admin":
        user.scope_unit_id = None
    else:
        unit = session.scalar(select(Unit).where(Unit.code == str(unit_code or "")))
        if unit is None:
            raise UserError("scope_needs_unit", f"a {role} account needs a scope unit")
        user.scope_unit_id = unit.id
    if user.role != role:
        end_user_sessions(session, user.id, "role")  # the next request loads the new role
    if role != "manager":
        user.psych_access = False  # the psych grant is a manager's; another role does not carry it
    user.role = role
    session.flush()
    return user


def reset_with_code(session: Session, username: str, secret: str, days: float, acting_username: str) -> str:
    """An admin's reset: a new one-time activation code (shown once), the password stops working."""
    user = _user(session, username)
    if user.username == acting_username:
        raise UserError("own_account", "own account")
    return activation.issue_code(session, user, secret, days, reason="reset")


BULK_HEADERS = {"username": ("username", "user name", "用户名"), "role": ("role", "角色"),
                "unit": ("unit", "unit code", "单位", "单位代码")}
BULK_ROLES = {"manager": "manager", "leader": "leader", "健康管理师": "manager", "管理师": "manager", "领导": "leader"}


def bulk_create(session: Session, text: str, secret: str, days: float) -> dict:
    """Managers and leaders from CSV text (user name, role, unit code). Every good row gets an account
    waiting for activation and a code; bad rows are listed with an error code (no row is half made).
    {"created": [{"username", "role", "unit", "code"}], "errors": [{"row", "username", "code"}]}."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    col = {}
    for key, names in BULK_HEADERS.items():
        col[key] = next((i for i, h in enumerate(header) if h in names), None)
    if None in col.values():
        return {"created": [], "errors": [{"row": 1, "username": "", "code": "bulk_header"}]}
    created, errors = [], []
    for n, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        cell = {k: (cells[i].strip() if i < len(cells) else "") for k, i in col.items()}
        role = BULK_ROLES.get(cell["role"].lower(), BULK_ROLES.get(cell["role"]))
        if role is None:
            errors.append({"row": n, "username": cell["username"], "code": "bulk_role"})
            continue
        try:
            with session.begin_nested():
                user = create_user(session, cell["username"][:60], activation.NO_PASSWORD + "-placeholder", role,
                                   scope_unit_code=cell["unit"])
                code = activation.issue_code(session, user, secret, days, reason="created")
        except UserError as exc:
            errors.append({"row": n, "username": cell["username"], "code": exc.code})
            continue
        created.append({"username": user.username, "role": role, "unit": cell["unit"], "code": code,
                        "expires": user.activation_expires_at})
    return {"created": created, "errors": errors}
