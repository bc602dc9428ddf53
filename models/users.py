"""Accounts: creation, password checks with argon2 (one verification per attempt, whatever the
outcome), password changes that end the account's sessions."""
from __future__ import annotations

import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import activation
from models.schema import Officer, Unit, User, utcnow
from models.sessions import clear_failures, end_user_sessions

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))  # checked for names that do not exist
ROLES = ("officer", "manager", "counsellor", "leader", "admin", "auditor")


class UserError(ValueError):
    """A refused account change: ``code`` has its words in ``models.vocab.ACCOUNT_ERRORS`` (screens show
    those, in the user's language); the message is the command line's English."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, role: str, *,
                officer_badge: str | None = None, scope_unit_code: str | None = None,
                language: str = "zh") -> User:
    """Create an account; officers are tied to their officer record, others to a unit subtree."""
    if role not in ROLES:
        raise UserError("unknown_role", f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not username:
        raise UserError("username_missing", "a user name is needed")
    if len(password) < 8:
        raise UserError("password_short", "password must have at least 8 characters")
    if session.scalar(select(User.id).where(User.username == username)):
        raise UserError("username_taken", f"user {username!r} exists")
    user = User(username=username, password_hash=hash_password(password), role=role, language=language)
    if role == "officer":
        officer = session.scalar(select(Officer).where(Officer.badge == str(officer_badge or "")))
        if officer is None:
            raise UserError("officer_needs_badge", "an officer account needs --badge of an existing officer")
        if session.scalar(select(User.id).where(User.officer_id == officer.id)):
            raise UserError("officer_has_account", f"the officer with badge {officer.badge} has an account already")
        user.officer_id = officer.id
        user.scope_unit_id = officer.unit_id
    elif role in ("manager", "counsellor", "leader"):
        unit = session.scalar(select(Unit).where(Unit.code == str(scope_unit_code or "")))
        if unit is None:
            raise UserError("scope_needs_unit", f"a {role} account needs --unit, the code of the unit subtree it covers")
        user.scope_unit_id = unit.id
    session.add(user)
    session.flush()
    return user


def verify_password(user: User, password: str) -> bool:
    """One argon2 verification of an account's password (False for an account waiting for activation)."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_password_check(password: str) -> None:
    """The work of one real password check, for answers that must not be faster than one
    (an unknown name, a throttled pair): the timing then tells nothing."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass


def authenticate(session: Session, username: str, password: str, *, secret: str | None = None,
                 now: dt.datetime | None = None) -> tuple[User | None, str]:
    """Check a password with exactly one argon2 verification whatever the outcome. Returns
    (user, "ok"), (user, "activate") when an account waiting for activation got its valid code
    (``secret`` keys the codes; the caller then asks for the first password), or (None, reason),
    reason one of "unknown", "bad_password", "inactive", "bad_code", "expired_code"; the caller
    gives them all the same answer. Throttling is the caller's (models.sessions)."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        burn_password_check(password)
        return None, "unknown"
    if user.activation_hash is not None:
        burn_password_check(password)  # the same time as a password check: the answer tells nothing
        if secret is None or not activation.code_matches(user, password, secret):
            return None, "bad_code"
        if activation.is_expired(user, now):
            return None, "expired_code"
        if not user.active:
            return None, "inactive"
        return user, "activate"
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
        raise UserError("password_short", "password must have at least 8 characters")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError("no_user", f"no user {username!r}")
    user.password_hash = hash_password(password)
    user.activation_hash = user.activation_expires_at = None  # a set password spends any activation code
    end_user_sessions(session, user.id, "password")
    clear_failures(session, user.username)
    return user


def has_psych_access(session: Session, user_id: int) -> bool:
    """Whether an admin granted this (active manager) account psychological detail."""
    return bool(session.scalar(select(User.psych_access).where(User.id == user_id, User.role == "manager",
                                                               User.active)))


def set_psych_access(session: Session, username: str, granted: bool) -> User:
    """Grant or revoke a health manager's ``psych`` access (counsellors have it by role)."""
    user = session.scalar(select(User).where(User.username == str(username)))
    if user is None:
        raise UserError("no_user", f"no user {username!r}")
    if user.role != "manager":
        raise UserError("psych_manager_only",
                        f"{username!r} is a {user.role}: only health managers are granted psychological access")
    user.psych_access = bool(granted)
    session.flush()
    return user
