"""Sign-in sessions kept on the server, and the sign-in throttle per (user name, client address).

A session is a ``user_session`` row; the browser's (signed) cookie carries a random token whose
SHA-256 digest is the row's key. Every request checks the row, so a session ended here (logout,
idle or absolute timeout, a changed user agent or address, a password change, a deactivation) is
refused at once, whoever holds a copy of the cookie.

Failed sign-ins slow down the pair (name as typed, address): the first ``free`` failures cost
nothing, each further one doubles the wait up to ``cap``. Another address is not slowed, so an
attacker cannot lock a user out, and names that do not exist are throttled exactly like real ones.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.schema import LoginThrottle, UserSession, utcnow

TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen_at is written at most this often (idle precision)
KEEP_ENDED = dt.timedelta(days=30)  # ended and expired rows are pruned after this
FORGET_FAILURES = dt.timedelta(hours=24)  # a pair with no failure for this long starts again


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ---- sessions ---------------------------------------------------------------------------------

def start_session(session: Session, user_id: int, *, ip: str | None, user_agent: str,
                  now: dt.datetime | None = None) -> str:
    """Open a session for a user who just proved their password; returns the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=digest(token), user_id=user_id, created_at=now, last_seen_at=now,
                            ip=ip, agent_hash=digest(user_agent or "")))
    session.execute(delete(UserSession).where(UserSession.last_seen_at < now - KEEP_ENDED))
    session.flush()
    return token


def check_session(session: Session, token: str, user_id: int, *, ip: str | None, user_agent: str,
                  idle: dt.timedelta, lifetime: dt.timedelta, now: dt.datetime | None = None) -> str | None:
    """None when the session is live (its last-seen time moves on); otherwise why it is refused:
    "unknown", "ended" (both already over), or "lifetime", "idle", "binding" (ended by this call)."""
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == digest(str(token))))
    if row is None or row.user_id != user_id:
        return "unknown"
    if row.ended_at is not None:
        return "ended"
    if now - row.created_at > lifetime:
        reason = "lifetime"
    elif now - row.last_seen_at > idle:
        reason = "idle"
    elif row.agent_hash != digest(user_agent or "") or row.ip != ip:
        reason = "binding"  # the cookie came from another browser or address
    else:
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
        return None
    row.ended_at, row.end_reason = now, reason
    return reason


def end_session(session: Session, token: str, reason: str = "logout", now: dt.datetime | None = None) -> bool:
    """End one session (logout); True when it was live."""
    result = session.execute(update(UserSession)
                             .where(UserSession.token_hash == digest(str(token)), UserSession.ended_at.is_(None))
                             .values(ended_at=now or utcnow(), end_reason=reason))
    return result.rowcount > 0


def end_user_sessions(session: Session, user_id: int, reason: str, now: dt.datetime | None = None,
                      keep_token: str | None = None) -> int:
    """End every live session of a user (password change or reset, deactivation), but the one of
    ``keep_token`` (the browser that changed its own password); returns how many."""
    q = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep_token is not None:
        q = q.where(UserSession.token_hash != digest(str(keep_token)))
    result = session.execute(q.values(ended_at=now or utcnow(), end_reason=reason))
    return result.rowcount


def live_sessions(session: Session, user_id: int) -> int:
    return len(session.scalars(select(UserSession.id).where(UserSession.user_id == user_id,
                                                            UserSession.ended_at.is_(None))).all())


# ---- sign-in throttle -------------------------------------------------------------------------

def throttle_wait(session: Session, username: str, ip: str | None, now: dt.datetime | None = None) -> dt.timedelta | None:
    """How long this (name, address) pair must still wait before a password is checked; None: not at all."""
    now = now or utcnow()
    row = session.get(LoginThrottle, (username[:60], ip or ""))
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return None
    return row.blocked_until - now


def record_failure(session: Session, username: str, ip: str | None, *, free: int, base: dt.timedelta,
                   cap: dt.timedelta, now: dt.datetime | None = None) -> LoginThrottle:
    """Count a failed sign-in for the pair; past ``free`` failures the wait doubles up to ``cap``."""
    now = now or utcnow()
    key = {"username": username[:60], "ip": ip or ""}
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_FAILURES))
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(**key, failures=0, last_failure_at=now).on_conflict_do_nothing())
    row = session.get(LoginThrottle, (key["username"], key["ip"]), with_for_update=True, populate_existing=True)
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= free:
        row.blocked_until = now + min(base * 2 ** min(row.failures - free, 30), cap)
    session.flush()
    return row


def clear_failures(session: Session, username: str, ip: str | None = None) -> int:
    """Forget a name's failures (from one address after a good sign-in; from all when an admin clears it)."""
    q = delete(LoginThrottle).where(LoginThrottle.username == username[:60])
    if ip is not None:
        q = q.where(LoginThrottle.ip == ip)
    return session.execute(q).rowcount


def throttled_names(session: Session, now: dt.datetime | None = None) -> set[str]:
    """Names some address must currently wait for (shown to admins, who can clear them)."""
    now = now or utcnow()
    return set(session.scalars(select(LoginThrottle.username).where(LoginThrottle.blocked_until > now)))
