"""portal ingest activity FILE --campaign ID: daily steps, quiz scores or check-ins for a campaign."""
from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def activity(file: str = typer.Argument(..., help="CSV or XLSX: badge (警号) or ID number, date (日期) and "
                                                   "steps (步数) / score (得分) / check-in (打卡)"),
             campaign: int = typer.Option(..., "--campaign", help="the campaign's id (shown on /campaigns)"),
             dry_run: bool = typer.Option(False, "--dry-run", help="check the file and report, store nothing"),
             as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Load a campaign's daily activity: validated, idempotent, rejected rows kept in quarantine."""
    import getpass

    from ingest.activity import load_activity_file
    from ingest.hospital import Unreadable
    from portal.config import Config

    try:
        summary = load_activity_file(Config().database_url, file, campaign, dry_run=dry_run,
                                     user=getpass.getuser(), today=_today(), secret=Config().secret_key)
    except Unreadable as exc:
        if as_json:
            sys.stdout.write(json.dumps({"file": file, "error": str(exc),
                                         "batch_id": getattr(exc, "batch_id", None)}, ensure_ascii=False) + "\n")
        else:
            console.print(f"[red]cannot load {file}[/red]: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        keys = ("batch_id", "file", "format", "rows_read", "inserted", "updated", "unchanged", "quarantined",
                "errors", "flagged", "points", "campaign_id", "dry_run")
        sys.stdout.write(json.dumps({k: summary.get(k) for k in keys}, ensure_ascii=False, default=str) + "\n")
        return
    _print(summary)


def _today():
    import datetime as dt
    import os

    raw = os.environ.get("PORTAL_TODAY")
    return dt.date.fromisoformat(raw) if raw else dt.date.today()


def _print(summary: dict) -> None:
    out = Console()
    title = f"{summary['campaign']} · {summary['file']} ({summary['format']})"
    if summary.get("dry_run"):
        title += " · dry run, nothing stored"
    table = Table("rows read", "inserted", "updated", "unchanged", "quarantined", "flagged > 60,000", title=title)
    table.add_row(*[f"{summary.get(k, 0):,}" for k in ("rows_read", "inserted", "updated", "unchanged",
                                                       "quarantined", "flagged")])
    out.print(table)
    for err in summary["errors"][:50]:
        out.print(f"  row {err['row']} [{err['field']}]: {err['reason']}")
    if len(summary["errors"]) > 50:
        out.print(f"  ... and {len(summary['errors']) - 50:,} more (see /admin/imports, batch {summary['batch_id']})")
    if summary.get("batch_id"):
        out.print(f"batch {summary['batch_id']} loaded; campaign points now {summary.get('points', 0):,}")


def register(app: typer.Typer) -> None:
    try:
        from portal.commands.ingest import ingest_app
    except ModuleNotFoundError as exc:
        if exc.name != "portal.commands.ingest":
            raise
        # the ingest group's own module is not there (yet): host the group here
        ingest_app = typer.Typer(help="Load data files.", no_args_is_help=True)
        app.add_typer(ingest_app, name="ingest")
    ingest_app.command("activity")(activity)
