"""Account administration queries (list, unlock, (de)activate); creation lives in models.users."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.schema import Unit, User, utcnow


def list_accounts(session: Session) -> list[dict]:
    now = utcnow()
    rows = []
    for u in session.scalars(select(User).order_by(User.role, User.username)):
        rows.append({
            "username": u.username, "role": u.role,
            "scope": u.scope_unit.name if u.scope_unit and u.role != "officer" else ("—" if u.role != "admin" else None),
            "officer": u.officer.badge if u.officer else "",
            "active": u.active, "psych": bool(u.psych_access),
            "locked": bool(u.locked_until and u.locked_until > now),
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


def unlock(session: Session, username: str) -> None:
    user = _user(session, username)
    user.locked_until = None
    user.failed_logins = 0


def toggle_active(session: Session, username: str, acting_username: str) -> bool:
    """Flip an account's active flag (never one's own, so an admin cannot lock themself out)."""
    user = _user(session, username)
    if user.username == acting_username:
        raise ValueError("own account")
    user.active = not user.active
    return user.active


def unit_choices(session: Session) -> list[dict]:
    """Every unit in tree order, for picking the scope of a manager or leader."""
    return [{"code": code, "name": name, "name_en": name_en or name, "depth": depth}
            for code, name, name_en, depth in session.execute(
                select(Unit.code, Unit.name, Unit.name_en, Unit.depth).order_by(Unit.path))]
