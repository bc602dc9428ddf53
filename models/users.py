"""Accounts: creation, password checks with argon2, lockout after repeated failures."""
from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.schema import Officer, Unit, User, utcnow

_hasher = PasswordHasher()
ROLES = ("officer", "manager", "counsellor", "leader", "admin")


class UserError(ValueError):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, role: str, *,
                officer_badge: str | None = None, scope_unit_code: str | None = None,
                language: str = "zh") -> User:
    """Create an account; officers are tied to their officer record, others to a unit subtree."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise UserError("password must have at least 8 characters")
    if session.scalar(select(User.id).where(User.username == username)):
        raise UserError(f"user {username!r} exists")
    user = User(username=username, password_hash=hash_password(password), role=role, language=language)
    if role == "officer":
        officer = session.scalar(select(Officer).where(Officer.badge == str(officer_badge or "")))
        if officer is None:
            raise UserError("an officer account needs --badge of an existing officer")
        user.officer_id = officer.id
        user.scope_unit_id = officer.unit_id
    elif role in ("manager", "counsellor", "leader"):
        unit = session.scalar(select(Unit).where(Unit.code == str(scope_unit_code or "")))
        if unit is None:
            raise UserError(f"a {role} account needs --unit, the code of the unit subtree it covers")
        user.scope_unit_id = unit.id
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str, *, max_failed: int = 5,
                 lockout_minutes: int = 15, now: dt.datetime | None = None) -> tuple[User | None, str]:
    """Check a password. Returns (user, "ok") or (None, reason) with reason one of
    "bad_credentials", "locked", "inactive". Failures count towards a lockout."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _hasher.hash(password)  # same work as a real check, so timing does not reveal names
        return None, "bad_credentials"
    if user.locked_until and user.locked_until > now:
        return None, "locked"
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= max_failed:
            user.locked_until = now + dt.timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            return None, "locked"
        return None, "bad_credentials"
    if not user.active:
        return None, "inactive"
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user, "ok"


def has_psych_access(session: Session, user_id: int) -> bool:
    """Whether an admin granted this (active manager) account psychological detail."""
    return bool(session.scalar(select(User.psych_access).where(User.id == user_id, User.role == "manager",
                                                               User.active)))


def set_psych_access(session: Session, username: str, granted: bool) -> User:
    """Grant or revoke a health manager's ``psych`` access (counsellors have it by role)."""
    user = session.scalar(select(User).where(User.username == str(username)))
    if user is None:
        raise UserError(f"no user {username!r}")
    if user.role != "manager":
        raise UserError(f"{username!r} is a {user.role}: only health managers are granted psychological access")
    user.psych_access = bool(granted)
    session.flush()
    return user
