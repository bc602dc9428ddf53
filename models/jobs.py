"""Background jobs: one ``job`` row per run (an import, a recompute, accounts from the roster, an export).

Writes are small commands, each in the caller's session: :func:`start` (one row, or ``None`` when a job
with the same ``key`` exists: a replayed start adds nothing), :func:`set_progress` (also the heartbeat),
:func:`finish`, :func:`fail`, and :func:`fail_dead` (the periodic check that marks jobs whose process died).
Reads apart: :func:`get`, :func:`by_key`, :func:`running`, :func:`count`, :func:`page` (server paging,
newest first). Kinds and statuses have their words in ``models.vocab`` (``JOB_KINDS``, ``JOB_STATUSES``).
"""
from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Any, Callable

from sqlalchemy import create_engine, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from models.schema import Job, utcnow
from models.vocab import JOB_KINDS

__all__ = ["start", "set_progress", "report_progress", "finish", "fail", "fail_dead", "get", "by_key", "running", "count", "page",
           "HOST", "STALE_AFTER"]

HOST = socket.gethostname()[:120]
STALE_AFTER = dt.timedelta(hours=2)  # a running job without a heartbeat this long is dead, wherever it ran


def start(session: Session, kind: str, *, user_id: int | None = None, username: str | None = None,
          label: str | None = None, key: str | None = None, pid: int | None = None) -> int | None:
    """A new running job; its id. ``None`` when ``key`` is given and a job with that key exists already."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    if key is not None and by_key(session, key) is not None:
        return None
    now = utcnow()
    job = Job(kind=kind, status="running", key=key, label=(label or "")[:400] or None, user_id=user_id,
              username=(username or "")[:60] or None, started_at=now, heartbeat_at=now, progress=0.0,
              host=HOST, pid=os.getpid() if pid is None else pid)
    if key is None:
        session.add(job)
        session.flush()
        return job.id
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:  # another start with this key won the race
        return None
    return job.id


def set_progress(session: Session, job_id: int, fraction: float, step: str | None = None) -> None:
    job = session.get(Job, job_id)
    if job is None or job.status != "running":
        return
    job.progress = min(1.0, max(0.0, float(fraction)))
    if step is not None:
        job.step = step[:200]
    job.heartbeat_at = utcnow()


_quick: dict[str, Engine] = {}


def _quick_engine(url: str) -> Engine:
    """An engine whose writes never wait for a lock (one per URL per process)."""
    if url not in _quick:
        if url.startswith("sqlite"):
            args = {"check_same_thread": False, "timeout": 0}
        elif url.startswith("postgresql"):
            args = {"options": "-c jit=off -c lock_timeout=200", "prepare_threshold": None}
        else:
            args = {}
        _quick[url] = create_engine(url, future=True, pool_size=1, max_overflow=1, connect_args=args) \
            if not url.startswith("sqlite") else create_engine(url, future=True, connect_args=args)
    return _quick[url]


def _forget_quick_in_child() -> None:
    for engine in _quick.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_quick_in_child)


def report_progress(url: str, job_id: int, fraction: float, step: str | None = None) -> bool:
    """A running job's progress and heartbeat, in its own short transaction that never waits: a job
    reports progress while its own work may hold the database's write lock (SQLite has one for the
    whole file), so a write that would wait is skipped (False) and the next report tries again."""
    values = {"progress": min(1.0, max(0.0, float(fraction))), "heartbeat_at": utcnow()}
    if step is not None:
        values["step"] = step[:200]
    try:
        with _quick_engine(url).begin() as conn:
            conn.execute(update(Job).where(Job.id == job_id, Job.status == "running").values(**values))
    except OperationalError:
        return False
    return True


def finish(session: Session, job_id: int, result: dict[str, Any] | None = None) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    now = utcnow()
    job.status, job.progress, job.finished_at, job.heartbeat_at = "done", 1.0, now, now
    job.result = result


def fail(session: Session, job_id: int, error: str) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    now = utcnow()
    job.status, job.finished_at, job.heartbeat_at = "failed", now, now
    job.error = error[:4000]


def fail_dead(session: Session, alive: Callable[[int], bool], now: dt.datetime | None = None) -> list[int]:
    """Mark failed the running jobs whose process died: on this host a pid that no longer runs
    (``alive(pid)`` False), anywhere a heartbeat older than :data:`STALE_AFTER`. Returns their ids."""
    now = now or utcnow()
    dead = []
    for job in session.scalars(select(Job).where(Job.status == "running")):
        if (job.host == HOST and job.pid is not None and not alive(job.pid)) or job.heartbeat_at < now - STALE_AFTER:
            job.status, job.finished_at = "failed", now
            job.error = "the process running this job ended before it finished"
            dead.append(job.id)
    return dead


# --- reads ----------------------------------------------------------------------------------------
def _dict(j: Job) -> dict:
    end = j.finished_at or utcnow()
    return {"id": j.id, "kind": j.kind, "status": j.status, "label": j.label or "", "username": j.username or "",
            "started_at": j.started_at, "finished_at": j.finished_at,
            "seconds": max(0.0, (end - j.started_at).total_seconds()) if j.started_at else None,
            "progress": j.progress, "step": j.step or "", "result": j.result or {}, "error": j.error or "",
            "host": j.host or "", "pid": j.pid}


def get(session: Session, job_id: int) -> dict | None:
    j = session.get(Job, job_id)
    return _dict(j) if j else None


def by_key(session: Session, key: str) -> dict | None:
    j = session.scalar(select(Job).where(Job.key == key))
    return _dict(j) if j else None


def running(session: Session, kinds: tuple[str, ...] | None = None, limit: int = 20) -> list[dict]:
    q = select(Job).where(Job.status == "running")
    if kinds:
        q = q.where(Job.kind.in_(kinds))
    return [_dict(j) for j in session.scalars(q.order_by(Job.started_at.desc(), Job.id.desc()).limit(limit))]


def _filtered(q, kind: str | None, status: str | None):
    if kind:
        q = q.where(Job.kind == kind)
    if status:
        q = q.where(Job.status == status)
    return q


def count(session: Session, kind: str | None = None, status: str | None = None) -> int:
    return session.scalar(_filtered(select(func.count()).select_from(Job), kind, status)) or 0


def page(session: Session, start: int, end: int, kind: str | None = None, status: str | None = None) -> list[dict]:
    """Rows ``start``..``end`` of the jobs, newest first (server paging of /admin/jobs)."""
    start = max(0, int(start))
    end = max(start, min(int(end), start + 1000))
    q = _filtered(select(Job), kind, status).order_by(Job.started_at.desc(), Job.id.desc()).offset(start).limit(end - start)
    return [_dict(j) for j in session.scalars(q)]
