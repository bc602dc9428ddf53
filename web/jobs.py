"""Long actions with a progress bar: Dash background callbacks, recorded as ``job`` rows.

The engine is Dash's own: a ``DiskcacheManager`` (cache under ``instance/jobs``, jobs run in processes of
the web server; one machine, nothing to install) by default, or dash's ``CeleryManager`` on the broker
named by ``PORTAL_BROKER_URL`` (Redis; jobs run in ``portal worker`` processes on any machine) — see
:func:`manager`.

A background callback becomes a recorded job with one line, :func:`recorded`, under ``@checked``::

    @app.callback(..., background=True, manager=jobs.manager(app),
                  progress=[Output("x-progress", "value"), Output("x-progress", "max")])
    @checked
    @jobs.recorded("export", url, label=lambda unit, *_: unit)
    def x_export(set_progress: Any, _: Clicks, unit: Code):
        set_progress((done, total))        # the bar in the page, and the job row's progress
        jobs.current().outcome("导出 3 行", "3 rows exported", rows=3)   # the result on /admin/jobs

The row says who started the job (:func:`caller`), its progress (so the job survives a page reload:
the pages read it back from the table), its duration and its result or error; /admin/jobs lists them.

A background job runs in another process, without Flask's request: who started it is taken from the
request that started it (a ``custom_data`` hook reading ``current_user`` on the server, never from
anything the browser sends) and read back in the job with :func:`caller`.
"""
from __future__ import annotations

import contextvars
import functools
import time
from pathlib import Path
from typing import Any, Callable

import diskcache
from dash import DiskcacheManager, callback_context, hooks
from dash.exceptions import PreventUpdate
from flask import has_request_context, request
from flask_login import current_user

from models import jobs as job_model
from models.db import session_scope
from web.access import AccessDenied

_managers: dict[str, Any] = {}
_celery_apps: dict[tuple[str, str], Any] = {}
_roles: dict[str, tuple[str, ...]] = {}  # a background callback's first output id -> roles that may start it
_current: contextvars.ContextVar["JobRun | None"] = contextvars.ContextVar("portal_job", default=None)
PROGRESS_EVERY = 1.0  # seconds between two progress writes to the job row


def celery_app(broker_url: str, queue: str = "portal"):
    """The Celery application of a broker (Redis: broker and result backend alike), one per process."""
    key = (broker_url, queue)
    if key not in _celery_apps:
        from celery import Celery

        app = Celery("portal", broker=broker_url, backend=broker_url)
        app.conf.update(task_default_queue=queue, result_expires=24 * 3600, broker_connection_retry_on_startup=True,
                        worker_hijack_root_logger=False, task_track_started=True)
        _celery_apps[key] = app
    return _celery_apps[key]


def manager(app):
    """The app's background-callback manager: Celery when the config names a broker, else a disk cache
    (one cache directory per instance folder)."""
    cfg = app.server.config.get("PORTAL_CONFIG")
    broker = getattr(cfg, "broker_url", None)
    if broker:
        queue = getattr(cfg, "broker_queue", "portal") or "portal"
        key = f"celery:{broker}:{queue}"
        if key not in _managers:
            from dash import CeleryManager

            _managers[key] = CeleryManager(celery_app(broker, queue))
        return _managers[key]
    path = str(Path(app.server.instance_path) / "jobs")
    if path not in _managers:
        _managers[path] = DiskcacheManager(diskcache.Cache(path))
    return _managers[path]


def require(output_id: str, *roles: str) -> None:
    """Only these roles may start the background callback whose first output is ``output_id``: checked
    in the request, before any job starts (a refusal is the app's uniform 403, audited)."""
    _roles[output_id] = roles


@hooks.custom_data("portal_caller")
def _caller(_ctx) -> dict | None:
    if not has_request_context():
        return None
    body = request.get_json(silent=True) if request.is_json else None
    output = str(body.get("output", "")) if isinstance(body, dict) else ""
    for output_id, roles in _roles.items():
        if output.startswith(f"..{output_id}.") or output.startswith(f"{output_id}."):
            role = current_user.role if getattr(current_user, "is_authenticated", False) else None
            if role not in roles:
                raise AccessDenied(f"role {role} may not start {output_id}")
    if not getattr(current_user, "is_authenticated", False):
        return None
    return {"id": current_user.id, "username": current_user.username, "role": current_user.role,
            "language": current_user.language, "ip": request.remote_addr}


def caller() -> dict | None:
    """Who started the running callback or job: {"id", "username", "role", "language", "ip"} or None."""
    data = getattr(callback_context, "custom_data", None) or {}
    return data.get("portal_caller")


def words(who: dict | None, zh: str, en: str) -> str:
    """``tr`` for a job, which has no request: the language of the user who started it."""
    return en if (who or {}).get("language") == "en" else zh


class JobRun:
    """The running job as its callback sees it: call it like Dash's ``set_progress``."""

    def __init__(self, url: str, job_id: int | None, set_progress: Callable | None, repeat_of: dict | None = None):
        self.url, self.id, self._dash, self.repeat_of = url, job_id, set_progress, repeat_of
        self.result: dict[str, Any] | None = None
        self._written = 0.0

    def __call__(self, value) -> None:
        """Dash's progress outputs; a ``(done, total, ...)`` value is also the job row's progress."""
        if self._dash is not None:
            self._dash(value)
        if isinstance(value, (list, tuple)) and len(value) >= 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[:2]):
            self.progress(value[0] / value[1] if value[1] else 1.0)

    def progress(self, fraction: float, step: str | None = None) -> None:
        """The job row's progress (0..1), written at most every second (and at the end)."""
        if self.id is None:
            return
        now = time.monotonic()
        if fraction < 1 and step is None and now - self._written < PROGRESS_EVERY:
            return
        self._written = now
        job_model.report_progress(self.url, self.id, fraction, step)

    def outcome(self, zh: str, en: str, **data) -> None:
        """The result /admin/jobs shows (both languages) and any JSON-able facts (a batch id...)."""
        self.result = {"zh": zh, "en": en, **data}


def current() -> JobRun | None:
    """The job the running background callback is recorded as (inside a :func:`recorded` callback)."""
    return _current.get()


def recorded(kind: str, url: str, *, label: Callable[..., str | None] | None = None,
             key: Callable[..., str | None] | None = None) -> Callable:
    """Record every run of a background callback as a ``job`` row of ``kind`` (``vocab.JOB_KINDS``).

    ``label(*args)`` names what it works on; ``key(*args)`` makes it run once per key: a second start
    with the same key writes no row and the callback sees ``current().repeat_of`` (the first job)."""
    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(set_progress, *args):
            who = caller() or {}
            text = label(*args) if label else None
            k = key(*args) if key else None
            with session_scope(url) as s:
                job_id = job_model.start(s, kind, user_id=who.get("id"), username=who.get("username"), label=text,
                                         key=k)
                repeat = job_model.by_key(s, k) if job_id is None and k is not None else None
            job = JobRun(url, job_id, set_progress, repeat)
            token = _current.set(job)
            try:
                out = fn(job, *args)
            except PreventUpdate:
                _end(url, job, None)
                raise
            except BaseException as exc:
                if job_id is not None:
                    with session_scope(url) as s:
                        job_model.fail(s, job_id, f"{type(exc).__name__}: {exc}")
                raise
            finally:
                _current.reset(token)
            _end(url, job, job.result)
            return out
        return run
    return deco


def _end(url: str, job: JobRun, result: dict | None) -> None:
    if job.id is not None:
        with session_scope(url) as s:
            job_model.finish(s, job.id, result)
