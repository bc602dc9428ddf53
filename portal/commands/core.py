"""init-db, demo, serve, users, officer, recompute."""
from __future__ import annotations

import datetime as dt
import getpass
import json
import sys

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from portal.config import Config

console = Console()

users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
officer_app = typer.Typer(help="Officers.", no_args_is_help=True)


def _url() -> str:
    return Config().database_url


def init_db() -> None:
    """Create the database schema or upgrade it to the newest migration."""
    from models.db import init_db as _init

    url = _url()
    _init(url)
    console.print(f"[green]database ready[/green]: {url}")


def run_demo(url: str, scale: str, seed: int, password: str, as_of: dt.date | None) -> dict:
    """Build the demo force with a progress bar and print accounts and colour mix."""
    from ingest.demo import build_demo

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        summary = build_demo(url, scale=scale, seed=seed, password=password, as_of=as_of, progress=progress)
    _print_demo(summary, password)
    _demo_activation(url)
    return summary


DEMO_ACTIVATIONS = 3  # officers of the demo who still have to activate their account


def _demo_activation(url: str) -> None:
    """A few demo officers get an account waiting for activation; print how to use one."""
    from portal.commands.accounts import create_from_roster

    cfg = Config()
    created = create_from_roster(url, cfg.secret_key, cfg.activation_days, limit=DEMO_ACTIVATIONS, by="demo")["created"]
    if not created:
        return
    table = Table(title="Officers to activate / 待激活民警账号", show_lines=False)
    for col in ("badge / 警号 (user name)", "name", "unit", "activation code / 激活码"):
        table.add_column(col)
    for c in created:
        table.add_row(c["badge"], c["name"], c["unit_code"], c["code"])
    console.print(table)
    console.print("To activate one: sign in with the badge as user name and the code in the password field, then "
                  "choose a password (10+ characters). 首次登录：用户名填警号，密码处填激活码，然后设置新密码。\n"
                  "Codes for every other officer: portal accounts from-roster")


def _print_demo(summary: dict, password: str) -> None:
    table = Table(title="Demo accounts / 演示账号", show_lines=False)
    for col in ("username", "role", "scope", "psych", "password"):
        table.add_column(col)
    for acc in summary.get("accounts", []):
        psych = "yes" if acc.get("psych") or acc["role"] in ("officer", "admin") else "no"
        table.add_row(acc["username"], acc["role"], str(acc.get("scope") or acc.get("badge") or "all"), psych, password)
    console.print(table)
    counts = {k: v for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    console.print(" · ".join(f"{k} {v:,}" for k, v in counts.items()))
    mix = summary.get("levels")
    if mix:
        total = sum(mix.values()) or 1
        console.print("warning levels: " + "  ".join(
            f"{lvl} {mix.get(lvl, 0):,} ({100 * mix.get(lvl, 0) / total:.1f}%)" for lvl in ("red", "orange", "yellow", "green")))


def demo(scale: str = typer.Option("city", help="tiny | city | province"),
         seed: int = typer.Option(42, help="random seed (same seed, same force)"),
         password: str = typer.Option("demo12345", help="password of every demo account"),
         as_of: str = typer.Option(None, help="last day of demo data, YYYY-MM-DD (default today)")) -> None:
    """Build the synthetic demo force into the database (which must be empty)."""
    if scale not in ("tiny", "city", "province"):
        raise typer.BadParameter("scale is tiny, city or province")
    day = dt.date.fromisoformat(as_of) if as_of else None
    try:
        run_demo(_url(), scale, seed, password, day)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


def serve(demo: bool = typer.Option(False, "--demo", help="build the demo force first if the database is empty"),
          host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8050),
          debug: bool = typer.Option(False)) -> None:
    """Serve the portal (development server; use gunicorn 'portal.wsgi:server' in production)."""
    from models.db import init_db as _init, is_empty
    from portal.app import create_app

    url = _url()
    _init(url)
    if demo and is_empty(url):
        console.print("building the demo force (first run only) ...")
        run_demo(url, "city", 42, "demo12345", None)
    app = create_app()
    console.print(f"[green]serving[/green] http://{host}:{port}  (database {url})")
    app.run(host=host, port=port, debug=debug)


@users_app.command("create")
def users_create(username: str,
                 role: str = typer.Option(..., help="officer | manager | counsellor | leader | admin | auditor"),
                 unit: str = typer.Option(None, help="unit code of the scope (manager, counsellor, leader)"),
                 badge: str = typer.Option(None, help="badge of the officer (officer accounts)"),
                 password: str = typer.Option(None, help="omit to be asked")) -> None:
    """Create an account."""
    from models.db import session_scope
    from models.users import UserError, create_user

    pw = password or getpass.getpass("password: ")
    try:
        with session_scope(_url()) as s:
            create_user(s, username, pw, role, officer_badge=badge, scope_unit_code=unit)
    except UserError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"created {role} {username}")


def _set_psych(username: str, granted: bool) -> None:
    from models.audit import record
    from models.db import session_scope
    from models.users import UserError, set_psych_access

    try:
        with session_scope(_url()) as s:
            set_psych_access(s, username, granted)
            record(s, action="grant_psych" if granted else "revoke_psych", target=username, detail={"via": "cli"},
                   user_id=None, username=None, ip=None)
    except UserError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"psychological access {'granted to' if granted else 'revoked from'} {username}")


@users_app.command("grant-psych")
def users_grant_psych(username: str) -> None:
    """Grant a health manager psychological detail (PHQ-9, GAD-7, their reasons, counselling notes)."""
    _set_psych(username, True)


@users_app.command("revoke-psych")
def users_revoke_psych(username: str) -> None:
    """Revoke a health manager's psychological access."""
    _set_psych(username, False)


@users_app.command("list")
def users_list() -> None:
    """List accounts."""
    from sqlalchemy import select

    from models.db import session_scope
    from models.schema import User

    from models.sessions import live_sessions, throttled_names

    table = Table("username", "role", "scope", "language", "active", "sessions", "sign-in delayed")
    with session_scope(_url()) as s:
        delayed = throttled_names(s)
        for u in s.scalars(select(User).order_by(User.username)):
            table.add_row(u.username, u.role, u.scope_unit.code if u.scope_unit else "all", u.language,
                          "yes" if u.active else "no", str(live_sessions(s, u.id)),
                          "yes" if u.username in delayed else "")
    console.print(table)


@users_app.command("set-password")
def users_set_password(username: str, password: str = typer.Option(None, help="omit to be asked")) -> None:
    """Change or reset a password; every session of the account ends."""
    from models.db import session_scope
    from models.users import UserError, set_password

    pw = password or getpass.getpass("new password: ")
    try:
        with session_scope(_url()) as s:
            set_password(s, username, pw)
    except UserError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"password of {username} set; its sessions ended")


@officer_app.command("show")
def officer_show(badge: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Print an officer and their latest observations."""
    from models.db import session_scope
    from models.officers import officer_summary

    with session_scope(_url()) as s:
        data = officer_summary(s, badge)
    if data is None:
        console.print(f"[red]no officer with badge {badge}[/red]")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def recompute() -> None:
    """Recompute every officer's status snapshot (guideline classes, China-PAR, warning level) under the
    rules version in force (``models.rule_versions``; change it on /admin/rules, not with a file)."""
    import time

    from models.db import session_scope
    from models.rule_versions import in_force_info
    from models.snapshot import recompute_all

    t0 = time.perf_counter()
    with session_scope(_url()) as s:
        levels = recompute_all(s)
        info = in_force_info(s)
    console.print(f"recomputed in {time.perf_counter() - t0:.1f} s under rules v{info['number']} ({info['label']}): {levels}")


def register(app: typer.Typer) -> None:
    app.command("init-db")(init_db)
    app.command()(demo)
    app.command()(serve)
    app.command()(recompute)
    app.add_typer(users_app, name="users")
    app.add_typer(officer_app, name="officer")
