"""The ``portal`` command (typer). Sub-commands live in ``portal/commands/``, one module each."""
from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(help="警康 Portal: police occupational-health portal.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)


def _load_commands() -> None:
    from portal import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"portal.commands.{info.name}")
        module.register(app)


def main() -> None:
    from models.sessions import resolve_generations
    from portal.config import Config

    # an account changed here (set-password, a roster load that deactivates leavers) ends its sessions
    # in every web worker at once: they trust their cached session checks only while this is unbumped
    resolve_generations(lambda url: Config().session_generation())
    _load_commands()
    app()


if __name__ == "__main__":
    main()
