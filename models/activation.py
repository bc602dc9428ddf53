"""One-time activation codes: accounts for the whole roster, the first sign-in, an admin's reset.

An account that waits for its first password has no usable password hash; it holds the keyed hash
(HMAC-SHA256 with the app secret) of a random code and the code's expiry. The codes are random and
high-entropy (12 characters of a 31-letter alphabet, ~59 bits), so a fast keyed hash is enough: no
slow password hash is needed, and 11,700 of them are made in milliseconds. A code works once: setting
the first password clears it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Callable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models.schema import Officer, Unit, User, utcnow
from models.sessions import clear_failures, end_user_sessions

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0, 1: nothing to misread on a paper slip
CODE_LENGTH = 12
NO_PASSWORD = "!activation"  # never an argon2 hash: no password opens an account that waits for activation
CHUNK = 2000

Progress = Callable[[int, int], None]


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise(code: str) -> str:
    """What the user typed, without spaces, dashes or case."""
    return re.sub(r"[^0-9A-Z]", "", (code or "").upper())


def code_hash(code: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"activation:" + normalise(code).encode("ascii", "ignore"),
                    hashlib.sha256).hexdigest()


def code_matches(user: User, code: str, secret: str) -> bool:
    return bool(user.activation_hash) and hmac.compare_digest(user.activation_hash, code_hash(code, secret))


def is_expired(user: User, now: dt.datetime | None = None) -> bool:
    return user.activation_expires_at is None or user.activation_expires_at <= (now or utcnow())


def issue_code(session: Session, user: User, secret: str, days: float, reason: str = "reset",
               now: dt.datetime | None = None) -> str:
    """A new activation code for an account (an admin's reset): its password stops working, every
    session ends and its sign-in delays are cleared. The code is returned once and never stored."""
    now = now or utcnow()
    code = new_code()
    user.password_hash = NO_PASSWORD
    user.activation_hash = code_hash(code, secret)
    user.activation_expires_at = now + dt.timedelta(days=days)
    end_user_sessions(session, user.id, reason, now=now)
    clear_failures(session, user.username)
    session.flush()
    return code


def finish_activation(session: Session, user: User, password_hash: str) -> None:
    """The first password is set: the code is spent."""
    user.password_hash = password_hash
    user.activation_hash = None
    user.activation_expires_at = None
    clear_failures(session, user.username)


def pending_officers(session: Session, unit_code: str | None = None, limit: int | None = None) -> list[tuple]:
    """(officer id, badge, name, unit id, unit code, unit name, unit name_en) of every active officer
    without an account, in unit order; ``unit_code`` limits it to that unit's subtree."""
    q = (select(Officer.id, Officer.badge, Officer.name, Unit.id, Unit.code, Unit.name, Unit.name_en)
         .join(Unit, Unit.id == Officer.unit_id)
         .outerjoin(User, User.officer_id == Officer.id)
         .where(Officer.active.is_(True), User.id.is_(None))
         .order_by(Unit.path, Officer.badge))
    if unit_code:
        root = session.scalar(select(Unit.path).where(Unit.code == str(unit_code)))
        if root is None:
            raise LookupError(unit_code)
        q = q.where(Unit.path.like(root + "%"))
    if limit is not None:
        q = q.limit(limit)
    return list(session.execute(q))


def accounts_from_roster(session: Session, secret: str, *, days: float, unit_code: str | None = None,
                         limit: int | None = None, now: dt.datetime | None = None,
                         progress: Progress | None = None) -> dict:
    """An officer account (user name = badge) with an activation code for every active officer who has
    none, written with bulk inserts. Returns {"created": [slip, ...], "skipped": [badge, ...]}: a slip
    carries the code in clear (the only time it exists), a badge is skipped when an account of another
    kind already has that user name. ``limit``: at most this many officers (the demo's few). Raises
    LookupError for an unknown unit."""
    now = now or utcnow()
    expires = now + dt.timedelta(days=days)
    officers = pending_officers(session, unit_code, limit)
    taken = set(session.scalars(select(User.username).where(User.username.in_([o[1] for o in officers])))) \
        if len(officers) <= 1000 else set(session.scalars(select(User.username)))
    total = len(officers)
    created, skipped, rows = [], [], []
    if progress:
        progress(0, total)
    for n, (officer_id, badge, name, unit_id, code_, unit_name, unit_name_en) in enumerate(officers, 1):
        if badge in taken:
            skipped.append(badge)
        else:
            code = new_code()
            rows.append({"username": badge, "password_hash": NO_PASSWORD, "role": "officer", "officer_id": officer_id,
                         "scope_unit_id": unit_id, "language": "zh", "active": True, "created_at": now,
                         "activation_hash": code_hash(code, secret), "activation_expires_at": expires})
            created.append({"unit_code": code_, "unit_name": unit_name, "unit_name_en": unit_name_en or unit_name,
                            "badge": badge, "name": name, "code": code, "expires": expires})
        if len(rows) >= CHUNK or n == total:
            if rows:
                session.execute(insert(User), rows)
                rows = []
            if progress:
                progress(n, total)
    session.flush()
    return {"created": created, "skipped": skipped}
