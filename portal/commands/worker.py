"""worker: the background worker (Celery for background callbacks when a broker is set; periodic tasks)."""
from __future__ import annotations

import typer

from portal.config import Config


def worker(concurrency: int = typer.Option(2, help="jobs run at once by this worker (Celery mode)")) -> None:
    """Run the background worker: with PORTAL_BROKER_URL the Celery worker of the app's background
    jobs (imports, recomputes, roster accounts, exports); in every mode the periodic tasks of
    portal/worker.py (e.g. marking jobs whose process died as failed). Stop it with Ctrl-C or SIGTERM."""
    from portal.worker import main

    main(Config(), concurrency)


def register(app: typer.Typer) -> None:
    app.command()(worker)
