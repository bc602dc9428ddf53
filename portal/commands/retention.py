"""purge: delete raw device frames and quarantined rows holding ID numbers after their period."""
from __future__ import annotations

import typer
from rich.console import Console

from portal.config import Config

console = Console()


def purge(dry_run: bool = typer.Option(False, "--dry-run", help="count only, delete nothing"),
          raw_days: int = typer.Option(None, help="days a device frame holding an ID number is kept "
                                                  "(default PORTAL_RETENTION_RAW_DAYS, 90)"),
          quarantine_days: int = typer.Option(None, help="days a quarantined row holding an ID number is kept "
                                                         "(default PORTAL_RETENTION_QUARANTINE_DAYS, 180)")) -> None:
    """Purge raw frames and quarantine rows that hold ID numbers and are past their retention period
    (run daily by cron or the scheduler); prints the counts."""
    from ingest.idcard import holds_number
    from models.db import session_scope
    from models.retention import purge as _purge

    cfg = Config()
    raw = raw_days if raw_days is not None else cfg.retention_raw_days
    quarantine = quarantine_days if quarantine_days is not None else cfg.retention_quarantine_days
    try:
        with session_scope(cfg.database_url) as s:
            out = _purge(s, holds_id=holds_number, raw_days=raw, quarantine_days=quarantine, dry_run=dry_run)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    verb = "would purge" if dry_run else "purged"
    console.print(f"{verb}: raw frames {out['raw_frames']:,} (received before {out['raw_before']})", soft_wrap=True)
    console.print(f"{verb}: quarantine rows {out['quarantine_rows']:,} in {len(out['batches'])} batch(es) "
                  f"(created before {out['quarantine_before']})", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(purge)
