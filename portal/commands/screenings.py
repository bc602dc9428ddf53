"""screenings remind: the "screening_due" message to every officer still due in an open screening round
from its reminder day (daily from cron; a second run the same day adds nothing)."""
from __future__ import annotations

import typer
from rich.console import Console

from portal.config import Config

console = Console()
screenings_app = typer.Typer(help="psychological screening rounds", no_args_is_help=True)


@screenings_app.command("remind")
def remind() -> None:
    """Remind the officers still due in every open round whose reminder day has come (once per round)."""
    from models.clock import today
    from models.db import session_scope
    from models.screenings import notify_due

    cfg = Config()
    with session_scope(cfg.database_url) as s:
        added = notify_due(s, today(cfg.today))
    console.print(f"screening reminders sent: {added:,}")


def register(app: typer.Typer) -> None:
    app.add_typer(screenings_app, name="screenings")
