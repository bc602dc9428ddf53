"""Serial port readers: one thread per device, reconnecting with backoff.

A reader opens its port with pyserial (any URL ``serial_for_url`` accepts:
``/dev/ttyUSB0``, ``/dev/serial/by-id/...``, ``socket://host:port``, ``loop://``),
reads continuously (a Tanita sends once and never repeats), feeds the bytes to
its driver and journals every outcome before doing anything else with it (the
HL7 ACK goes out after the journal commit). Polled devices (NIBP) get their
poll every ``poll_seconds``.

When the port fails or vanishes, the reader reports what it had pending,
closes the port, logs it and retries with exponential backoff (0.5 s doubling
to ``max_backoff``); it logs again when the port is back. Each reader fails on
its own: the other devices keep working.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import serial

from ingest.gateway import drivers
from ingest.gateway.forwarder import LiveStatus
from ingest.gateway.journal import Journal, utcnow

log = logging.getLogger("portal.gateway")

DEFAULT_STALE = {"tanita": 1440, "nibp": 10, "hl7": 1440, "card_reader": 1440}


@dataclass
class DeviceConfig:
    name: str
    driver: str
    port: str
    station: str | None = None
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    stale_minutes: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.driver not in drivers.DRIVERS:
            raise ValueError(f"device {self.name!r}: unknown driver {self.driver!r} "
                             f"(one of {', '.join(drivers.DRIVERS)})")
        if self.stale_minutes is None:
            self.stale_minutes = DEFAULT_STALE[self.driver]


def _hl7_clock() -> str:
    return dt.datetime.now().strftime("%Y%m%d%H%M%S")


class DeviceReader(threading.Thread):
    def __init__(self, cfg: DeviceConfig, journal: Journal, stop: threading.Event, live: LiveStatus | None = None,
                 read_timeout: float = 0.1, initial_backoff: float = 0.5, max_backoff: float = 10.0):
        super().__init__(name=f"device-{cfg.name}", daemon=True)
        self.cfg = cfg
        self.journal = journal
        self.stop_event = stop
        self.live = live or LiveStatus()
        self.read_timeout = read_timeout
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        state: dict[str, Any] = {"clock": _hl7_clock}
        if cfg.driver == "nibp":
            last = journal.last_parsed(cfg.name) or {}
            state["last_counter"] = last.get("counter")
        self.protocol = drivers.make_protocol(cfg.driver, cfg.options, **state)
        self.port: serial.SerialBase | None = None
        self.journaled = 0
        self.crashed: BaseException | None = None

    # -- journal first
    def _record(self, outcomes: list[drivers.Outcome]) -> None:
        for o in outcomes:
            now = utcnow()
            self.journal.append(self.cfg.name, self.cfg.driver, self.cfg.station, o.raw, o.status, o.reason,
                                o.parsed, received_at=now, noise_bytes=o.noise_bytes)
            self.journaled += 1
            with self.live.lock:
                if o.status == "noise":
                    self.live.noise_bytes += o.noise_bytes
                else:
                    self.live.last_frame_at = now
            if o.status == "rejected":
                log.info("%s: frame rejected: %s", self.cfg.name, o.reason)
            if o.reply and self.port is not None:
                self.port.write(o.reply)

    def _open(self) -> serial.SerialBase:
        c = self.cfg
        port = serial.serial_for_url(c.port, do_not_open=True)
        port.baudrate = c.baudrate
        port.bytesize = c.bytesize
        port.parity = c.parity
        port.stopbits = c.stopbits
        port.timeout = self.read_timeout
        port.write_timeout = 2
        port.open()
        return port

    def _set_live(self, connected: bool, error: str | None) -> None:
        with self.live.lock:
            self.live.connected = connected
            self.live.error = error

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - report and end this thread only
            self.crashed = exc
            self._set_live(False, f"reader stopped: {exc}")
            log.exception("%s: reader crashed", self.cfg.name)

    def _run(self) -> None:
        backoff = self.initial_backoff
        failures = 0
        while not self.stop_event.is_set():
            try:
                self.port = self._open()
            except (serial.SerialException, OSError, ValueError) as exc:
                failures += 1
                self._set_live(False, str(exc)[:300])
                if failures == 1 or backoff >= self.max_backoff and failures % 10 == 0:
                    log.warning("%s: cannot open %s (%s); retrying in %.1f s", self.cfg.name, self.cfg.port,
                                _short(exc), backoff)
                self.stop_event.wait(backoff)
                backoff = min(self.max_backoff, backoff * 2)
                continue
            if failures or self.live.reconnects:
                log.info("%s: port %s is back; reading again", self.cfg.name, self.cfg.port)
            else:
                log.info("%s: connected to %s (%s, %d baud)", self.cfg.name, self.cfg.port, self.cfg.driver,
                         self.cfg.baudrate)
            failures = 0
            backoff = self.initial_backoff
            self._set_live(True, None)
            try:
                self._read_loop()
            except (serial.SerialException, OSError) as exc:
                self._record(self.protocol.flush())
                with self.live.lock:
                    self.live.reconnects += 1
                self._set_live(False, str(exc)[:300])
                log.warning("%s: port %s lost (%s); reconnecting in %.1f s", self.cfg.name, self.cfg.port,
                            _short(exc), backoff)
                self._close()
                self.stop_event.wait(backoff)
                continue
            self._record(self.protocol.flush())
            self._close()
        self._set_live(False, "gateway stopped")

    def _close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except Exception:  # noqa: BLE001 - closing a dead port may fail; nothing to keep
                pass
            self.port = None

    def _read_loop(self) -> None:
        poll = self.protocol.poll_seconds
        next_poll = time.monotonic()
        last = time.monotonic()
        while not self.stop_event.is_set():
            if poll:
                now = time.monotonic()
                if now >= next_poll:
                    self.port.write(self.protocol.poll_request())
                    next_poll = now + poll
            waiting = self.port.in_waiting
            data = self.port.read(max(1, min(waiting, 65536)) if waiting else 4096)
            now = time.monotonic()
            if data:
                self._record(self.protocol.feed(data))
            else:
                self._record(self.protocol.idle(now - last))
            last = now


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
