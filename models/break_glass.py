"""Break the glass: a health manager opens a portrait outside their scope after typing a reason.

The grant is one row per (manager, officer), valid for ``VALID_FOR`` (one day); it is written
together with its audit row (action ``break_glass``, flagged to admins in the audit viewer),
and ``web.access.officer_in_scope`` lets the manager through while it lasts. Only managers
break the glass: leaders see no lab values anyway, admins see everything, officers only
themselves.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import audit as audit_model
from models.schema import BreakGlass, Officer, User, utcnow

VALID_FOR = dt.timedelta(days=1)
MIN_REASON = 10  # characters: "看看" is not a reason
MAX_REASON = 500


class BreakGlassRefused(ValueError):
    """The request is not allowed (unknown officer, not a manager, no real reason)."""


def active(session: Session, user_id: int, officer_id: int, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return session.scalar(select(BreakGlass.id).where(
        BreakGlass.user_id == user_id, BreakGlass.officer_id == officer_id, BreakGlass.expires_at > now).limit(1)) is not None


def grant(session: Session, *, user_id: int, badge: str, reason: str, ip: str | None,
          now: dt.datetime | None = None) -> BreakGlass:
    """Record a reasoned access for a day and its flagged audit row; refuses anything else."""
    user = session.get(User, user_id)
    if user is None or user.role != "manager" or not user.active:
        raise BreakGlassRefused("only health managers break the glass")
    text = " ".join(str(reason or "").split())
    if len(text) < MIN_REASON:
        raise BreakGlassRefused("reason too short")
    officer = session.scalar(select(Officer).where(Officer.badge == str(badge)[:20]))
    if officer is None:
        raise BreakGlassRefused("no such officer")
    now = now or utcnow()
    row = audit_model.record(session, action="break_glass", target=f"officer:{officer.badge}",
                             detail={"reason": text[:MAX_REASON], "hours": int(VALID_FOR.total_seconds() // 3600),
                                     "scope": user.scope_unit.code if user.scope_unit else None},
                             user_id=user.id, username=user.username, ip=ip)
    grant_row = BreakGlass(user_id=user.id, officer_id=officer.id, reason=text[:MAX_REASON], granted_at=now,
                           expires_at=now + VALID_FOR, audit_id=row.id)
    session.add(grant_row)
    session.flush()
    return grant_row
