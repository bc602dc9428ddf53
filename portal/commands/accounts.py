"""portal accounts from-roster: an officer account with a one-time activation code for every active
officer who has none; the codes go to a CSV and a printable page of slips per unit."""
from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from portal.config import Config

console = Console()
accounts_app = typer.Typer(help="Officer accounts for the whole roster.", no_args_is_help=True)


def create_from_roster(url: str, secret: str, days: float, unit: str | None = None, progress=None, *,
                       limit: int | None = None, by: str = "cli", user_id: int | None = None,
                       ip: str | None = None) -> dict:
    """One transaction: every missing officer account, with its slip (the codes exist only in the
    result), and its audit row."""
    from models import audit as audit_model
    from models.activation import accounts_from_roster
    from models.db import session_scope

    with session_scope(url) as s:
        result = accounts_from_roster(s, secret, days=days, unit_code=unit, limit=limit, progress=progress)
        audit_model.record(s, action="accounts_from_roster", target=unit or "all",
                           detail={"created": len(result["created"]), "skipped": len(result["skipped"])},
                           user_id=user_id, username=by, ip=ip)
    return result


@accounts_app.command("from-roster")
def from_roster(unit: str = typer.Option(None, help="only this unit's subtree (unit code)"),
                out: Path = typer.Option(None, help="CSV of the codes (default instance/activation-<time>.csv); "
                                                    "the printable slips go beside it as .html")) -> None:
    """Create an account (user name = badge) with an activation code for every active officer lacking one."""
    from portal.config import instance_dir
    from portal.slips import slips_csv, slips_html

    cfg = Config()
    t0 = time.perf_counter()
    with Progress(TextColumn("accounts"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("accounts", total=None)
        try:
            result = create_from_roster(cfg.database_url, cfg.secret_key, cfg.activation_days, unit,
                                        lambda done, total: bar.update(task, completed=done, total=total))
        except LookupError:
            console.print(f"[red]no unit with code {unit}[/red]")
            raise typer.Exit(1) from None
    created, skipped = result["created"], result["skipped"]
    if skipped:
        console.print(f"[yellow]{len(skipped)} badge(s) skipped: an account of another kind has that user name: "
                      f"{', '.join(skipped[:10])}{' …' if len(skipped) > 10 else ''}[/yellow]")
    if not created:
        console.print("every active officer has an account already: nothing to do")
        return
    csv_path = out or instance_dir() / f"activation-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    csv_path.write_text("\ufeff" + slips_csv(created), encoding="utf-8")
    html_path = csv_path.with_suffix(".html")
    html_path.write_text(slips_html(created), encoding="utf-8")
    for p in (csv_path, html_path):
        p.chmod(0o600)  # the codes open accounts until they are used
    console.print(f"created {len(created):,} officer accounts in {time.perf_counter() - t0:.1f} s; codes valid "
                  f"{cfg.activation_days:g} days\n  codes: {csv_path}\n  slips: {html_path}")


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
