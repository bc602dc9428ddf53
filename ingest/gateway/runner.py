"""``portal gateway --config FILE``: the station gateway's main loop.

The TOML file::

    gateway = "fs-d1-s03"            # name in raw_frame.gateway (default: the host name)
    journal = "gateway-journal.db"   # local SQLite journal (relative to this file)
    database = "postgresql+psycopg://portal@central/portal"   # default: PORTAL_DATABASE_URL
    session_minutes = 10             # card-reader session length
    forward_seconds = 0.5            # forwarder pause when idle
    report_seconds = 5               # device status heartbeat
    retention_days = 30              # forwarded journal rows kept this long

    [[device]]
    name = "tanita-s03"
    driver = "tanita"                # tanita | nibp | hl7 | card_reader
    port = "/dev/ttyUSB0"            # any pyserial URL
    baudrate = 9600
    station = "FS-D1-S03"            # unit code
    stale_minutes = 1440             # /admin/devices: amber after this long without a frame

    [[device]]
    name = "nibp-s03"
    driver = "nibp"
    port = "/dev/ttyUSB1"
    station = "FS-D1-S03"
    poll_seconds = 2                 # driver option

SIGINT and SIGTERM stop the gateway cleanly: readers report what they had
pending and close their ports, the forwarder gets a last chance to send the
backlog, the journal is closed. Whatever is not forwarded stays in the journal
for the next start.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.gateway.devices import DeviceConfig, DeviceReader
from ingest.gateway.forwarder import DeviceInfo, Forwarder, LiveStatus
from ingest.gateway.journal import Journal

log = logging.getLogger("portal.gateway")

_DEVICE_KEYS = {"name", "driver", "port", "station", "baudrate", "bytesize", "parity", "stopbits", "stale_minutes"}


class ConfigError(ValueError):
    pass


@dataclass
class GatewayConfig:
    journal: Path
    database: str
    gateway: str
    devices: list[DeviceConfig]
    session_minutes: float = 10
    forward_seconds: float = 0.5
    report_seconds: float = 5
    retention_days: float = 30
    secret_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> GatewayConfig:
    env = os.environ if environ is None else environ
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if "journal" not in data:
        raise ConfigError(f"{path}: 'journal' (path of the local journal) is required")
    journal = Path(str(data["journal"]))
    if not journal.is_absolute():
        journal = path.resolve().parent / journal
    database = data.get("database") or env.get("PORTAL_DATABASE_URL")
    if not database:
        raise ConfigError(f"{path}: no 'database' and PORTAL_DATABASE_URL is not set")
    devices = []
    names = set()
    raw_devices = data.get("device", [])
    if not isinstance(raw_devices, list) or not raw_devices:
        raise ConfigError(f"{path}: at least one [[device]] table is required")
    for i, d in enumerate(raw_devices, 1):
        for key in ("name", "driver", "port"):
            if not d.get(key):
                raise ConfigError(f"{path}: device #{i} needs '{key}'")
        if d["name"] in names:
            raise ConfigError(f"{path}: device name {d['name']!r} used twice")
        names.add(d["name"])
        options = {k: v for k, v in d.items() if k not in _DEVICE_KEYS}
        try:
            devices.append(DeviceConfig(
                name=str(d["name"]), driver=str(d["driver"]), port=str(d["port"]),
                station=str(d["station"]) if d.get("station") else None, baudrate=int(d.get("baudrate", 9600)),
                bytesize=int(d.get("bytesize", 8)), parity=str(d.get("parity", "N")),
                stopbits=float(d.get("stopbits", 1)),
                stale_minutes=int(d["stale_minutes"]) if d.get("stale_minutes") else None, options=options))
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return GatewayConfig(
        journal=journal, database=str(database), gateway=str(data.get("gateway") or socket.gethostname())[:60],
        devices=devices, session_minutes=float(data.get("session_minutes", 10)),
        forward_seconds=float(data.get("forward_seconds", 0.5)), report_seconds=float(data.get("report_seconds", 5)),
        retention_days=float(data.get("retention_days", 30)),
        secret_key=data.get("secret_key") or env.get("PORTAL_SECRET_KEY") or None,
        extra={k: v for k, v in data.items() if k not in {"journal", "database", "gateway", "device"}})


class Gateway:
    """Readers + forwarder around one journal. ``start()``/``stop()`` for embedding (tests),
    ``run_forever()`` for the command (signals)."""

    def __init__(self, cfg: GatewayConfig, read_timeout: float = 0.1, max_backoff: float = 10.0):
        self.cfg = cfg
        self.stop_event = threading.Event()
        self.journal = Journal(cfg.journal)
        self.live = {d.name: LiveStatus() for d in cfg.devices}
        self.readers = [DeviceReader(d, self.journal, self.stop_event, self.live[d.name], read_timeout=read_timeout,
                                     max_backoff=max_backoff) for d in cfg.devices]
        infos = {d.name: DeviceInfo(d.name, d.driver, d.station, d.port, d.stale_minutes) for d in cfg.devices}
        self.forwarder = Forwarder(self.journal, cfg.database, cfg.gateway, infos, self.live,
                                   session_minutes=cfg.session_minutes, secret_key=cfg.secret_key)
        self._forward_thread: threading.Thread | None = None

    def start(self) -> "Gateway":
        log.info("gateway %s starting: %d devices, journal %s (%d frames waiting), database %s",
                 self.cfg.gateway, len(self.readers), self.cfg.journal, sum(self.journal.backlog().values()),
                 _safe_url(self.cfg.database))
        try:
            pruned = self.journal.prune(self.cfg.retention_days)
            if pruned:
                log.info("pruned %d old forwarded journal rows", pruned)
        except Exception as exc:  # noqa: BLE001 - pruning is housekeeping; never block start-up
            log.warning("journal pruning failed: %s", exc)
        for r in self.readers:
            r.start()
        self._forward_thread = threading.Thread(
            target=self.forwarder.run, name="forwarder", daemon=True,
            kwargs={"stop": self.stop_event, "interval": self.cfg.forward_seconds,
                    "report_seconds": self.cfg.report_seconds})
        self._forward_thread.start()
        return self

    def stop(self, drain_seconds: float = 5.0) -> None:
        """Stop readers, give the forwarder a last chance, close the journal."""
        self.stop_event.set()
        for r in self.readers:
            r.join(timeout=5)
        if self._forward_thread is not None:
            self._forward_thread.join(timeout=30)
        try:
            self.forwarder.drain(drain_seconds)
            self.forwarder.report()
        except Exception as exc:  # noqa: BLE001 - the backlog stays in the journal for the next start
            log.warning("could not forward the rest before stopping (%s); %d frames stay in the journal",
                        str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                        sum(self.journal.backlog().values()))
        log.info("gateway %s stopped; journal %s", self.cfg.gateway, self.journal.counts())
        self.journal.close()

    def run_forever(self) -> None:
        def _signal(signum, _frame):
            log.info("received %s; stopping", signal.Signals(signum).name)
            self.stop_event.set()

        signal.signal(signal.SIGINT, _signal)
        signal.signal(signal.SIGTERM, _signal)
        self.start()
        while not self.stop_event.is_set():
            self.stop_event.wait(1.0)
        self.stop()


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        return f"{scheme}://{cred.split(':', 1)[0]}:***@{host}" if ":" in cred else url
    return url


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.Formatter.converter = time.localtime


def main(config_path: str, log_level: str = "INFO", secret_key: str | None = None) -> int:
    """Run the gateway; ``secret_key`` (the portal secret, handed down by ``portal gateway``) hashes ID
    numbers when the config file and PORTAL_SECRET_KEY give none and the database has no meta key."""
    setup_logging(log_level)
    try:
        cfg = load_config(config_path)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    cfg.secret_key = cfg.secret_key or secret_key
    Gateway(cfg).run_forever()
    return 0


if __name__ == "__main__":
    # ``python -m ingest.gateway.runner --config FILE``: the same loop as ``portal gateway`` without
    # loading the web application (a lighter start on a station host).
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="portal device gateway")
    parser.add_argument("--config", "-c", required=True)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    sys.exit(main(args.config, args.log_level))
