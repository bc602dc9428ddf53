"""``portal worker``: the background worker, one command in every mode.

* With ``PORTAL_BROKER_URL`` set it runs the Celery worker for the app's background callbacks (imports,
  recomputes, accounts from the roster, large exports started in the browser): the Dash app is built in
  this process, so every background callback is registered as a Celery task of the same name.
* In every mode it runs the periodic tasks below, each every ``interval`` seconds (the first run right
  at start-up), in a thread of its own. A task that raises is logged and runs again at its next turn.

The registry of periodic tasks is :data:`PERIODIC`: ``(name, interval seconds, function(config))``. To add
one (e-mail delivery, notification generation...), write a function that takes the
:class:`~portal.config.Config` and append it there. A task must be safe to run twice at once: with
several machines every ``portal worker`` runs it (write idempotently: keys, ``UPDATE ... WHERE``).
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable

from portal.config import Config
from portal.notify import deliver_mail, run_notifications

log = logging.getLogger("portal.worker")

PeriodicTask = tuple[str, float, Callable[[Config], object]]


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_dead_jobs(cfg: Config) -> list[int]:
    """Jobs whose process died (the server restarted, a worker was killed) are marked failed."""
    from models import jobs
    from models.db import session_scope

    with session_scope(cfg.database_url) as s:
        return jobs.fail_dead(s, pid_alive)


def purge_uploads(cfg: Config) -> int:
    """Files uploaded on /admin/imports (they may hold ID numbers) are deleted a week after they arrived."""
    from pathlib import Path

    from ingest.uploads import purge

    return purge(Path(cfg.cache_dir).parent)


def remind_screenings(cfg: Config) -> int:
    """The "screening due" message to officers still due in open rounds (once per round and officer)."""
    from models.clock import today
    from models.db import session_scope
    from models.screenings import notify_due

    with session_scope(cfg.database_url) as s:
        return notify_due(s, today(cfg.today))


PERIODIC: list[PeriodicTask] = [
    ("fail-dead-jobs", 60, fail_dead_jobs),
    ("purge-uploads", 3600, purge_uploads),
    ("notifications", 300, run_notifications),  # what changed since the last pass -> the bell (and the outbox)
    ("mail", 60, deliver_mail),  # the outbox through PORTAL_SMTP_URL, retried with back-off
    ("screening-reminders", 3600, remind_screenings),
]


def run_periodic(cfg: Config, stop: threading.Event, tasks: list[PeriodicTask] | None = None,
                 tick: float = 1.0) -> None:
    """Run each task every ``interval`` seconds until ``stop`` is set."""
    import time

    tasks = PERIODIC if tasks is None else tasks
    due = {name: 0.0 for name, _, _ in tasks}
    while not stop.is_set():
        now = time.monotonic()
        for name, interval, fn in tasks:
            if now >= due[name]:
                due[name] = now + interval
                try:
                    out = fn(cfg)
                    if out:
                        log.info("periodic %s: %s", name, out)
                except Exception:  # noqa: BLE001 - one task's failure must not stop the others
                    log.exception("periodic task %s failed", name)
        stop.wait(tick)


def main(cfg: Config, concurrency: int = 2) -> None:
    """The worker: Celery (with a broker) plus the periodic loop, or the periodic loop alone."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    if not cfg.broker_url:
        log.info("no PORTAL_BROKER_URL: background callbacks run in the web server (disk cache); "
                 "this worker runs the periodic tasks: %s", ", ".join(n for n, _, _ in PERIODIC))
        try:
            run_periodic(cfg, stop)
        except KeyboardInterrupt:
            pass
        return
    from portal.app import create_app
    from web.jobs import celery_app

    create_app(cfg)  # registers every background callback as a task of the Celery app
    loop = threading.Thread(target=run_periodic, args=(cfg, stop), name="portal-periodic", daemon=True)
    loop.start()
    celery = celery_app(cfg.broker_url, cfg.broker_queue)
    try:
        celery.worker_main(["worker", "--loglevel=INFO", "--pool=threads", f"--concurrency={max(1, concurrency)}",
                            "-Q", cfg.broker_queue, "--without-gossip", "--without-mingle", "--without-heartbeat"])
    finally:
        stop.set()
