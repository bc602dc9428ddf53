"""backup PATH and restore PATH: the whole database to one file and back (docs/DEPLOY.md)."""
from __future__ import annotations

import typer
from rich.console import Console

from portal.config import Config

console = Console()


def backup(path: str = typer.Argument(..., help="the backup file to write (replaced when complete)")) -> None:
    """Back up the whole database to PATH (PostgreSQL: pg_dump custom format; SQLite: online backup);
    safe while the portal runs."""
    from portal.backup import BackupError, backup as _backup

    try:
        out = _backup(Config().database_url, path)
    except BackupError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"[green]backup written[/green]: {out['path']} ({out['backend']}, {out['bytes']:,} bytes)")


def restore(path: str = typer.Argument(..., help="a file written by portal backup"),
            yes: bool = typer.Option(False, "--yes", help="do not ask: replace the database's contents")) -> None:
    """Replace the database's contents with the backup in PATH. Stop the web workers, the background
    worker and the gateways first; run `portal init-db` afterwards if the backup is from an older release."""
    from portal.backup import BackupError, head_revision, restore as _restore

    url = Config().database_url
    if not yes and not typer.confirm(f"Replace everything in {url.split('@')[-1]} with {path}?"):
        raise typer.Exit(1)
    try:
        out = _restore(url, path)
    except BackupError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"[green]restored[/green] {out['path']} ({out['backend']}), schema revision {out['revision']}")
    if out["revision"] != head_revision(url):
        console.print(f"the schema is older than this release ({head_revision(url)}): run `portal init-db` to upgrade it")


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
