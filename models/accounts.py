"""Account administration queries (list, clear a sign-in delay, (de)activate); creation and passwords
live in models.users, sessions and sign-in delays in models.sessions."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.schema import Officer, Unit, User
from models.sessions import clear_failures, end_user_sessions, throttled_names


def list_accounts(session: Session) -> list[dict]:
    throttled = throttled_names(session)
    rows = []
    for u in session.scalars(select(User).order_by(User.role, User.username)):
        rows.append({
            "username": u.username, "role": u.role,
            "scope": u.scope_unit.name if u.scope_unit and u.role != "officer" else ("—" if u.role != "admin" else None),
            "officer": u.officer.badge if u.officer else "",
            "active": u.active,
            "throttled": u.username in throttled,
            "last_login": u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "",
        })
    return rows


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == str(username)))
    if user is None:
        raise LookupError(username)
    return user


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
