"""Sign-in sessions kept on the server, and the sign-in throttle per (user name, client address).

A session is a ``user_session`` row; the browser's (signed) cookie carries a random token whose
SHA-256 digest is the row's key. Every request checks the row, so a session ended here (logout,
idle or absolute timeout, a changed user agent or address, a password change, a deactivation) is
refused at once, whoever holds a copy of the cookie.

A web worker may keep a checked session for a few seconds instead of reading the row on every
request, but only while the *session generation* (``Generation``: a file in the instance folder, or
a Redis counter) is unchanged: every commit that ends a session or changes an account bumps it
(SQLAlchemy events below, on every process that registered its store: the app and the CLI), so
such a change still ends sessions at once in every worker. A new data version (every ingest batch)
bumps it too: the page cache (``web.cache``) reads the data version from the database only when
the generation moved.

Failed sign-ins slow down the pair (name as typed, address): the first ``free`` failures cost
nothing, each further one doubles the wait up to ``cap``. Another address is not slowed, so an
attacker cannot lock a user out, and names that do not exist are throttled exactly like real ones.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, event, select, update
from sqlalchemy.engine import Engine
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
    return check_session_row(session, token, user_id, ip=ip, user_agent=user_agent, idle=idle, lifetime=lifetime,
                             now=now)[0]


def check_session_row(session: Session, token: str, user_id: int, *, ip: str | None, user_agent: str,
                      idle: dt.timedelta, lifetime: dt.timedelta,
                      now: dt.datetime | None = None) -> tuple[str | None, UserSession | None]:
    """``check_session``'s answer and the live row (its times, for a worker's short-lived copy)."""
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == digest(str(token))))
    if row is None or row.user_id != user_id:
        return "unknown", None
    if row.ended_at is not None:
        return "ended", None
    if now - row.created_at > lifetime:
        reason = "lifetime"
    elif now - row.last_seen_at > idle:
        reason = "idle"
    elif row.agent_hash != digest(user_agent or "") or row.ip != ip:
        reason = "binding"  # the cookie came from another browser or address
    else:
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
        return None, row
    row.ended_at, row.end_reason = now, reason
    return reason, None


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


# ---- the session generation: what lets a web worker trust its short-lived copy of a session check --------

class Generation(ABC):
    """A counter every process of one installation shares: bumped after any commit that ended a session or
    changed an account, read by the web workers before they trust a session check they cached."""

    @abstractmethod
    def get(self) -> str:
        """The current value (any change means: re-check cached sessions)."""

    @abstractmethod
    def bump(self) -> None:
        """Move the counter on."""


class FileGeneration(Generation):
    """One small file in the instance folder (one machine: the default, with SQLite or a filesystem cache)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def get(self) -> str:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return "0"
        return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"

    def bump(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_hex(8))  # a new inode every time: no two bumps look alike
        os.replace(tmp, self.path)


class RedisGeneration(Generation):
    """A Redis counter (several machines, or PORTAL_CACHE_URL set)."""

    KEY = "portal:session-generation"

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def get(self) -> str:
        value = self.client.get(self.KEY)
        return value.decode() if value else "0"

    def bump(self) -> None:
        self.client.incr(self.KEY)


_generations: dict[Engine, Generation] = {}
_resolver: Callable[[str], Generation | None] | None = None


def use_generation(url: str, store: Generation) -> None:
    """Bump ``store`` after every commit on ``url`` that ended a session or changed an account."""
    from models.db import get_engine

    _listen()
    _generations[get_engine(url)] = store


def resolve_generations(resolver: Callable[[str], Generation | None]) -> None:
    """For processes that write accounts without a web app (the CLI): the store of a database URL,
    looked up the first time a commit needs it."""
    global _resolver
    _listen()
    _resolver = resolver


def generation_of(session: Session) -> Generation | None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    store = _generations.get(engine)
    if store is None and _resolver is not None:
        url = engine.url.render_as_string(hide_password=False)
        store = _resolver(url)
        if store is not None:
            _generations[engine] = store
    return store


_WATCHED = ("app_user", "user_session")
_listening = False


def _listen() -> None:
    global _listening
    if _listening:
        return
    _listening = True
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)


def _after_flush(session: Session, _context) -> None:
    from models.schema import Meta, User

    if any(isinstance(obj, Meta) and obj.key.startswith("data_version") for obj in list(session.new) + list(session.dirty)):
        session.info["session_generation_bump"] = True  # new data: web.cache re-reads the data version
        return
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, User) or (isinstance(obj, UserSession) and (obj in session.deleted or not _touched_only(obj))):
            session.info["session_generation_bump"] = True
            return


def _touched_only(row: UserSession) -> bool:
    """Whether the only change to a session row is its last-seen time moving on (the touch of a live
    session, which can end nothing); anything else (ended, times moved back) bumps the generation."""
    from sqlalchemy import inspect

    state = inspect(row)
    for attr in state.attrs:
        history = attr.history
        if not history.has_changes():
            continue
        if attr.key != "last_seen_at" or not history.deleted or not history.added \
                or history.added[0] is None or history.deleted[0] is None or history.added[0] < history.deleted[0]:
            return False
    return True


def _on_execute(state) -> None:
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _WATCHED:
            state.session.info["session_generation_bump"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("session_generation_bump", False):
        store = generation_of(session)
        if store is not None:
            store.bump()


def _after_rollback(session: Session, _previous) -> None:
    session.info.pop("session_generation_bump", None)


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
