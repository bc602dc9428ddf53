"""portal notify run: one pass of the notification generator and one of the e-mail outbox."""
from __future__ import annotations

import typer
from rich.console import Console

console = Console()
notify_app = typer.Typer(help="Notifications: the bell's messages and their e-mail.", no_args_is_help=True)


@notify_app.command("run")
def run() -> None:
    """Generate the messages of what changed since the last pass, then send the pending e-mail."""
    from portal.config import Config
    from portal.notify import deliver_mail, run_notifications

    cfg = Config()
    added = run_notifications(cfg)
    console.print("messages added: " + (", ".join(f"{k} {v}" for k, v in sorted(added.items()) if v) or "none"))
    try:
        mail = deliver_mail(cfg)
    except ValueError as exc:  # a malformed PORTAL_SMTP_URL
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if not cfg.smtp_url:
        console.print(f"e-mail: PORTAL_SMTP_URL not set, {mail['pending']} message(s) wait in the outbox")
    else:
        console.print(f"e-mail: sent {mail['sent']}, to retry {mail['retry']}, failed {mail['failed']}, "
                      f"pending {mail['pending']}")


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
