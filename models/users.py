"""Accounts: creation, password checks with argon2 (one verification per attempt, whatever the
outcome), password changes that end the account's sessions."""
from __future__ import annotations

import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.schema import Officer, Unit, User, utcnow
from models.sessions import clear_failures, end_user_sessions

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))  # checked for names that do not exist
ROLES = ("officer", "manager", "leader", "admin", "auditor")


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
    elif role in ("manager", "leader"):
        unit = session.scalar(select(Unit).where(Unit.code == str(scope_unit_code or "")))
        if unit is None:
            raise UserError(f"a {role} account needs --unit, the code of the unit subtree it covers")
        user.scope_unit_id = unit.id
    session.add(user)
    session.flush()
    return user


def burn_password_check(password: str) -> None:
    """The work of one real password check, for answers that must not be faster than one
    (an unknown name, a throttled pair): the timing then tells nothing."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass


def authenticate(session: Session, username: str, password: str, *,
                 now: dt.datetime | None = None) -> tuple[User | None, str]:
    """Check a password with exactly one argon2 verification whatever the outcome. Returns
    (user, "ok") or (None, reason), reason one of "unknown", "bad_password", "inactive"; the
    caller gives all three the same answer. Throttling is the caller's (models.sessions)."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        burn_password_check(password)
        return None, "unknown"
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None, "bad_password"
    if not user.active:
        return None, "inactive"
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user, "ok"


def set_password(session: Session, username: str, password: str) -> User:
    """Change or reset a password: every session of the account ends and its sign-in delays are cleared."""
    if len(password) < 8:
        raise UserError("password must have at least 8 characters")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    user.password_hash = hash_password(password)
    end_user_sessions(session, user.id, "password")
    clear_failures(session, user.username)
    return user
