"""Engine and session handling, and schema creation through Alembic."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"

_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """One engine per URL per process (SQLite gets WAL and foreign keys; PostgreSQL no JIT, no prepared statements)."""
    if url not in _engines:
        kwargs = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        elif url.startswith("postgresql"):
            # the dashboards' GROUP BYs over every officer cost enough for the planner to JIT-compile
            # them, which takes longer (~0.4 s a query at province scale) than running them; and
            # psycopg prepares a statement run 5 times, after which PostgreSQL may switch to a generic
            # plan that ignores the scope and dates bound in (the overview went from ~1.5 s to ~5 s):
            # so nothing is prepared. (Not plan_cache_mode=force_custom_plan: that also re-plans the
            # foreign-key check of every inserted row, which made an ingest batch three times slower.)
            kwargs["connect_args"] = {"options": "-c jit=off", "prepare_threshold": None}
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        _engines[url] = engine
    return _engines[url]


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # up to 128 MB of pages per connection (default 2 MB): the dashboards scan the snapshot's covering
    # index and look up every officer's unit; a pooled connection keeps those pages between requests
    # (province overview ~0.6 -> ~0.5 s); the memory is taken only as pages are read
    cur.execute("PRAGMA cache_size=-131072")
    cur.close()


def vacuum(url: str, tables: tuple[str, ...], full: bool = False) -> None:
    """VACUUM (ANALYZE) the tables on PostgreSQL after a bulk write, since autovacuum may be off or
    lagging: until a table is vacuumed its index-only scans still read the rows (the covering
    snapshot index saves nothing). ``full`` also compacts the table. Nothing on SQLite."""
    if not url.startswith("postgresql"):
        return
    with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ({'FULL, ' if full else ''}ANALYZE) {', '.join(tables)}")


def _forget_pools_in_child() -> None:
    """A forked process (a background job of a Dash callback, a preloaded gunicorn worker) must never
    use the connections its parent opened: the two would talk over one socket. It drops the pools
    without closing them (closing would end the parent's connections) and opens its own."""
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_in_child)


def dispose(url: str) -> None:
    engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def close_idle_connections() -> None:
    """Close the pooled connections of every engine (each opens new ones when next used)."""
    for engine in list(_engines.values()):
        engine.dispose()


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False, future=True)


@contextlib.contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = get_engine(url)
    return cfg


def init_db(url: str) -> None:
    """Create the schema or upgrade it to the newest migration."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def get_meta(session: Session, key: str, default: str | None = None) -> str | None:
    from models.schema import Meta

    row = session.get(Meta, key)
    return row.value if row else default


def set_meta(session: Session, key: str, value: str) -> None:
    from models.schema import Meta

    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value


# What a cached page answer can depend on, each with its own counter in ``meta``: "health"
# (observations, exams, questionnaires, statuses), "campaign" (campaigns and their entries) and
# "followup" (follow-ups and officers' replies to them). An officer's check-in moves only
# "campaign", a kiosk reading only "health", a manager's follow-up only "followup", so none
# empties the caches of pages that do not read it; anything else (an import batch, units,
# officers) moves all of them.
DATA_DOMAINS = ("health", "campaign", "followup")
_FOLLOWUP_TABLES = frozenset({"follow_up", "follow_up_reply"})


def _version_key(domain: str) -> str:
    if domain not in DATA_DOMAINS:
        raise ValueError(f"unknown data domain {domain!r}")
    return "data_version" if domain == "health" else f"data_version:{domain}"


def bump_data_version(session: Session, *domains: str) -> None:
    """Move the data version of ``domains`` (default: all); the page cache keys on them."""
    for domain in domains or DATA_DOMAINS:
        key = _version_key(domain)
        set_meta(session, key, str(int(get_meta(session, key, "0")) + 1))


def data_versions(session: Session) -> dict[str, str]:
    """The current version of every data domain."""
    from models.schema import Meta

    stored = dict(session.execute(select(Meta.key, Meta.value).where(
        Meta.key.in_([_version_key(d) for d in DATA_DOMAINS]))).all())
    return {domain: stored.get(_version_key(domain), "0") for domain in DATA_DOMAINS}


@event.listens_for(Session, "before_flush")
def _followups_move_their_version(session: Session, _context, _instances) -> None:
    """Every write of a follow-up, whichever of its many paths (manager, officer, job), moves the
    "followup" version in the same transaction."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(getattr(obj, "__tablename__", None) in _FOLLOWUP_TABLES for obj in changed):
        with session.no_autoflush:
            bump_data_version(session, "followup")


def is_empty(url: str) -> bool:
    from models.schema import Officer

    with session_scope(url) as s:
        return s.scalar(select(Officer.id).limit(1)) is None
