"""The gateway's local journal: a SQLite file on the station host.

Every frame a device sends is appended here first - device, time, raw bytes,
parse result, status - and committed (WAL, synchronous=FULL) before the gateway
does anything else with it (an HL7 ACK goes out only after the commit). The
forwarder then copies rows to the central database in ``seq`` order and moves
the forward cursor only after the central commit, so a crash, a SIGKILL or a
database outage can delay a reading but never lose or duplicate it.

``seq`` is an AUTOINCREMENT key: it is never reused, even after old rows are
pruned, and it is the idempotency key (gateway, journal_seq) of ``raw_frame``.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

FORWARDED = ("ok", "rejected")  # statuses that go to the central database
STATUSES = ("ok", "rejected", "idle", "noise")

SCHEMA = """
CREATE TABLE IF NOT EXISTS frame (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    driver TEXT NOT NULL,
    station TEXT,
    received_at TEXT NOT NULL,      -- UTC, ISO 8601 with microseconds
    raw BLOB NOT NULL,
    status TEXT NOT NULL,           -- ok / rejected / idle / noise
    reason TEXT,
    parsed TEXT,                    -- JSON (ID numbers masked)
    noise_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_frame_device_seq ON frame (device, seq);
CREATE INDEX IF NOT EXISTS ix_frame_station_driver_seq ON frame (station, driver, seq);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@dataclass
class Row:
    seq: int
    device: str
    driver: str
    station: str | None
    received_at: dt.datetime  # naive UTC
    raw: bytes
    status: str
    reason: str | None
    parsed: dict[str, Any] | None
    noise_bytes: int = 0


class Journal:
    """Thread-safe: device readers append, the forwarder reads and moves the cursor."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writing
    def append(self, device: str, driver: str, station: str | None, raw: bytes, status: str,
               reason: str | None = None, parsed: dict[str, Any] | None = None,
               received_at: dt.datetime | None = None, noise_bytes: int = 0) -> int:
        """Write one frame and commit; returns its seq."""
        if status not in STATUSES:
            raise ValueError(f"unknown journal status {status!r}")
        at = (received_at or utcnow()).isoformat(sep=" ", timespec="microseconds")
        body = json.dumps(parsed, ensure_ascii=False, sort_keys=True) if parsed is not None else None
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO frame (device, driver, station, received_at, raw, status, reason, parsed, noise_bytes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (device, driver, station, at, bytes(raw), status, reason, body, noise_bytes))
            return int(cur.lastrowid)

    # -- state
    def get_state(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO state (key, value) VALUES (?, ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    @property
    def cursor(self) -> int:
        """The seq of the last row the central database has (0: none)."""
        return int(self.get_state("forward_cursor", "0"))

    def set_cursor(self, seq: int) -> None:
        self.set_state("forward_cursor", str(int(seq)))

    # -- reading
    def _rows(self, sql: str, args: Iterable = ()) -> list[Row]:
        with self._lock:
            rows = self._db.execute(sql, tuple(args)).fetchall()
        return [Row(seq, device, driver, station, dt.datetime.fromisoformat(at), bytes(raw), status, reason,
                    json.loads(parsed) if parsed else None, noise)
                for seq, device, driver, station, at, raw, status, reason, parsed, noise in rows]

    _COLS = "seq, device, driver, station, received_at, raw, status, reason, parsed, noise_bytes"

    def pending(self, limit: int = 500) -> list[Row]:
        """Rows after the cursor, in order (every status: the cursor moves past idle and noise too)."""
        return self._rows(f"SELECT {self._COLS} FROM frame WHERE seq > ? ORDER BY seq LIMIT ?",
                          (self.cursor, limit))

    def rows(self, status: str | None = None, device: str | None = None) -> list[Row]:
        """All rows (tests, diagnostics)."""
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if device:
            where.append("device = ?")
            args.append(device)
        sql = f"SELECT {self._COLS} FROM frame" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
        return self._rows(sql, args)

    def last_card(self, station: str | None, before_seq: int, since: dt.datetime) -> Row | None:
        """The newest card swipe (valid or not) at a station before ``before_seq`` and not before ``since``."""
        rows = self._rows(
            f"SELECT {self._COLS} FROM frame WHERE station IS ? AND driver = 'card_reader' AND seq < ? "
            "AND status IN ('ok', 'rejected') AND received_at >= ? ORDER BY seq DESC LIMIT 1",
            (station, before_seq, since.isoformat(sep=" ", timespec="microseconds")))
        return rows[0] if rows else None

    def last_parsed(self, device: str, statuses: tuple[str, ...] = ("ok", "idle", "rejected")) -> dict | None:
        """The parse result of a device's newest frame with one of these statuses."""
        marks = ",".join("?" * len(statuses))
        rows = self._rows(f"SELECT {self._COLS} FROM frame WHERE device = ? AND status IN ({marks}) "
                          "AND parsed IS NOT NULL ORDER BY seq DESC LIMIT 1", (device, *statuses))
        return rows[0].parsed if rows else None

    def backlog(self, after: int | None = None) -> dict[str, int]:
        """Rows per device still to be forwarded (after the cursor, or after ``after``)."""
        start = self.cursor if after is None else int(after)
        with self._lock:
            rows = self._db.execute("SELECT device, count(*) FROM frame WHERE seq > ? AND status IN ('ok', 'rejected') "
                                    "GROUP BY device", (start,)).fetchall()
        return {d: n for d, n in rows}

    def last_frame_times(self) -> dict[str, dt.datetime]:
        """Newest frame time per device (any frame but noise)."""
        with self._lock:
            rows = self._db.execute("SELECT device, max(received_at) FROM frame WHERE status != 'noise' "
                                    "GROUP BY device").fetchall()
        return {d: dt.datetime.fromisoformat(at) for d, at in rows}

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, count(*) FROM frame GROUP BY status").fetchall()
        return dict(rows)

    def max_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'frame'").fetchone()
        return int(row[0]) if row else 0

    def mask_forwarded(self, redact: Callable[[bytes], bytes], hold_cards_since: dt.datetime) -> int:
        """Mask ID numbers in the raw bytes of frames the central database already has (behind the
        cursor); ``redact`` is ``ingest.gateway.drivers.redact``. Card swipes received at or after
        ``hold_cards_since`` keep their number a little longer: a reading not yet forwarded may
        still be matched to the officer through them (the forwarder's card session). Masking is
        idempotent; ``masked_through`` remembers how far every row is done. Returns rows changed."""
        start = int(self.get_state("masked_through", "0"))
        cursor = self.cursor
        if cursor <= start:
            return 0
        hold = hold_cards_since.isoformat(sep=" ", timespec="microseconds")
        with self._lock:
            rows = self._db.execute("SELECT seq, driver, received_at, raw FROM frame WHERE seq > ? AND seq <= ? "
                                    "ORDER BY seq", (start, cursor)).fetchall()
        changed, through, held = 0, start, False
        for seq, driver, at, raw in rows:
            if driver == "card_reader" and at >= hold:
                held = True
                continue
            masked = redact(bytes(raw))
            if masked != bytes(raw):
                with self._lock:
                    self._db.execute("UPDATE frame SET raw = ? WHERE seq = ?", (masked, seq))
                changed += 1
            if not held:
                through = seq
        if through != start:
            self.set_state("masked_through", str(through))
        return changed

    def prune(self, forwarded_days: float = 30, idle_days: float = 1) -> int:
        """Delete forwarded rows older than ``forwarded_days`` and idle/noise rows older than
        ``idle_days`` (only rows behind the cursor). Returns how many went."""
        now = utcnow()
        old = (now - dt.timedelta(days=forwarded_days)).isoformat(sep=" ")
        old_idle = (now - dt.timedelta(days=idle_days)).isoformat(sep=" ")
        cursor = self.cursor
        with self._lock:
            n = self._db.execute("DELETE FROM frame WHERE seq <= ? AND ((received_at < ?) OR "
                                 "(status IN ('idle', 'noise') AND received_at < ?))",
                                 (cursor, old, old_idle)).rowcount
        return n
