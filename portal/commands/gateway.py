"""portal gateway --config FILE (the station device gateway) and portal gateway-sim (a device simulator)."""
from __future__ import annotations

import typer


def gateway(config: str = typer.Option(..., "--config", "-c", help="TOML file: journal, database and one device table per device"),
            log_level: str = typer.Option("INFO", "--log-level", help="DEBUG | INFO | WARNING")) -> None:
    """Run the device gateway until SIGINT/SIGTERM: read the serial devices, journal every frame,
    forward to the central database."""
    from ingest.gateway.runner import main
    from portal.config import Config

    raise typer.Exit(main(config, log_level, secret_key=Config().secret_key))


def gateway_sim(driver: str = typer.Option(..., help="tanita | nibp | hl7 | card_reader"),
                port: str = typer.Option(..., help="the device side of the link (a pty, socket://, ...)"),
                badges: str = typer.Option("", help="comma-separated badges the simulated officers type or swipe"),
                every: float = typer.Option(5.0, help="seconds between readings"),
                count: int = typer.Option(0, help="readings to send (0: until stopped)"),
                bad_every: int = typer.Option(0, help="every Nth frame has a bad checksum (0: never)"),
                seed: int = typer.Option(1)) -> None:
    """Simulate a station device on a serial link (for demos and trials of a gateway)."""
    from ingest.gateway.simulators import run_simulator

    run_simulator(driver, port, [b for b in badges.split(",") if b], every=every, count=count,
                  bad_every=bad_every, seed=seed)


def register(app: typer.Typer) -> None:
    app.command("gateway")(gateway)
    app.command("gateway-sim")(gateway_sim)
