"""Store and forward: journal rows to the central database, in order and exactly once.

One central transaction per batch inserts the ``raw_frame`` rows (unique on
(gateway, journal_seq)), the observations of the readings that found their
officer, the recomputed status of those officers and the device status rows;
only after it commits does the journal cursor move. A crash between the two
leaves rows that are already central: the next batch finds their
(gateway, journal_seq) and skips them (after checking they are the same frames,
so a replaced journal file cannot silently swallow new readings).

Who a reading belongs to:

1. its own ID (Tanita ``ID``, HL7 PID-3): a badge (leading zeros not
   significant) or an ID-card number (matched by ``ingest.idcard.keyed_hash``
   with the key in meta ``id_hash_key``, else the portal secret the caller hands down);
2. without an ID of its own: the officer whose card was swiped last at the same
   station within ``session_minutes`` (a later swipe, even of an unknown card,
   ends the earlier session);
3. otherwise the frame lands as ``unassigned`` with the reason, and waits on
   ``/admin/devices`` for a manager to assign it (:func:`assign_frame`).

The central-side read queries of ``/admin/devices`` are in ``models/devices.py``.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ingest import idcard
from ingest.gateway import drivers
from ingest.gateway.journal import FORWARDED, Journal, Row
from models.clinical import CANONICAL_UNITS
from models.db import bump_data_version, get_meta, session_scope
from models.devices import to_local
from models.schema import Device, Observation, Officer, RawFrame, utcnow

log = logging.getLogger("portal.gateway")

SOURCE_KIND = "kiosk"
NEGATIVE_TTL = 30.0  # seconds an unknown badge stays unknown in the cache


class JournalMismatch(RuntimeError):
    """The central database has a different frame under one of our (gateway, journal_seq) keys."""


# --------------------------------------------------------------------------- officer matching
class Resolver:
    """Badge / ID card -> officer id, with a small cache (unknown badges are retried after 30 s)."""

    def __init__(self, secret_key: str | None = None):
        self.secret_key = secret_key
        self._known: dict[tuple[str, str], int] = {}
        self._unknown: dict[tuple[str, str], float] = {}
        self._key: str | None = None

    def hash_key(self, session: Session) -> str | None:
        """Meta ``id_hash_key``, else the secret handed down; None when there is neither."""
        if self._key is None:
            self._key = get_meta(session, "id_hash_key") or self.secret_key
        return self._key

    def officer(self, session: Session, ident: dict, secret: str | None) -> tuple[int | None, str | None]:
        """(officer id, None) or (None, why not)."""
        kind = ident.get("kind")
        if not ident:
            return None, None
        if kind == "invalid":
            return None, ident.get("why", "invalid ID")
        if kind == "badge":
            norm = drivers.normalise_badge(ident["badge"])
            hit = self._lookup(session, ("badge", norm), lambda: session.scalar(
                select(Officer.id).where(func.ltrim(Officer.badge, "0") == norm)
                .order_by(Officer.active.desc(), Officer.id).limit(1)))
            return (hit, None) if hit else (None, f"unknown badge {ident['badge']}")
        if kind == "id_card":
            if not secret:
                return None, "ID number not recoverable from the frame"
            key = self.hash_key(session)
            if not key:
                return None, "no key to hash ID numbers with (set secret_key or PORTAL_SECRET_KEY)"
            digest = idcard.keyed_hash(secret, key)
            hit = self._lookup(session, ("id", digest), lambda: session.scalar(
                select(Officer.id).where(Officer.id_hash == digest)))
            return (hit, None) if hit else (None, f"unknown ID card {ident.get('masked')}")
        return None, f"unknown identity kind {kind!r}"

    def _lookup(self, session: Session, key: tuple[str, str], query: Callable[[], int | None]) -> int | None:
        if key in self._known:
            return self._known[key]
        if time.monotonic() - self._unknown.get(key, -1e9) < NEGATIVE_TTL:
            return None
        hit = query()
        if hit:
            self._known[key] = int(hit)
            self._unknown.pop(key, None)
            return int(hit)
        self._unknown[key] = time.monotonic()
        return None


# --------------------------------------------------------------------------- landing readings
def observation_rows(officer_id: int, values: dict[str, float], observed_at: dt.datetime, device: str,
                     station: str | None) -> list[dict[str, Any]]:
    return [{"officer_id": officer_id, "code": code, "value": float(value), "unit": CANONICAL_UNITS.get(code, ""),
             "observed_at": observed_at, "source_kind": SOURCE_KIND, "source_id": device, "station": station}
            for code, value in sorted(values.items())]


def _insert_observations(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert observations, leaving out any that already exist (same officer, code, time, device)."""
    if not rows:
        return 0
    seen = set()
    fresh = []
    for r in rows:
        key = (r["officer_id"], r["code"], r["observed_at"], r["source_id"])
        if key not in seen:
            seen.add(key)
            fresh.append(r)
    officers = {r["officer_id"] for r in fresh}
    times = [r["observed_at"] for r in fresh]
    existing = set(session.execute(
        select(Observation.officer_id, Observation.code, Observation.observed_at, Observation.source_id)
        .where(Observation.officer_id.in_(officers), Observation.source_kind == SOURCE_KIND,
               Observation.observed_at >= min(times), Observation.observed_at <= max(times))).all())
    fresh = [r for r in fresh if (r["officer_id"], r["code"], r["observed_at"], r["source_id"]) not in existing]
    if fresh:
        session.execute(Observation.__table__.insert(), fresh)
    return len(fresh)


def _recompute(session: Session, officer_ids: set[int]) -> None:
    if not officer_ids:
        return
    from models.snapshot import recompute_officers

    recompute_officers(session, sorted(officer_ids))
    bump_data_version(session, "health")


# --------------------------------------------------------------------------- the forwarder
@dataclass
class DeviceInfo:
    name: str
    driver: str
    station: str | None
    port: str | None = None
    stale_minutes: int = 1440


@dataclass
class LiveStatus:
    """What a device reader knows right now (reported with each heartbeat)."""

    connected: bool = False
    error: str | None = None
    last_frame_at: dt.datetime | None = None
    noise_bytes: int = 0
    reconnects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Forwarder:
    def __init__(self, journal: Journal, url: str, gateway: str, devices: dict[str, DeviceInfo],
                 live: dict[str, LiveStatus] | None = None, session_minutes: float = 10, batch: int = 500,
                 secret_key: str | None = None):
        self.journal = journal
        self.url = url
        self.gateway = gateway
        self.devices = devices
        self.live = live if live is not None else {}
        self.session = dt.timedelta(minutes=session_minutes)
        self.batch = batch
        self.resolver = Resolver(secret_key)
        self.last_report = 0.0
        self.landed = 0  # raw_frame rows written by this process

    # -- identities
    def _identity(self, s: Session, row: Row) -> tuple[int | None, str, str | None]:
        """(officer id, how it was matched, reason when not) for a reading row."""
        parsed = row.parsed or {}
        ident = parsed.get("ident") or {}
        if ident:
            secret = drivers.ident_secret(row.driver, row.raw) if ident.get("kind") == "id_card" else None
            officer, why = self.resolver.officer(s, ident, secret)
            return officer, ident.get("kind", "id"), why
        card = self.journal.last_card(row.station, row.seq, row.received_at - self.session)
        if card is None:
            return None, "none", "no ID on the reading and no card swipe at the station in the last " \
                                 f"{int(self.session.total_seconds() // 60)} minutes"
        if card.status != "ok":
            return None, "session", f"card session: last swipe was rejected ({card.reason})"
        cident = (card.parsed or {}).get("ident") or {}
        secret = drivers.ident_secret("card_reader", card.raw) if cident.get("kind") == "id_card" else None
        officer, why = self.resolver.officer(s, cident, secret)
        return officer, f"session:{card.seq}", (f"card session: {why}" if why else None)

    def _central_row(self, s: Session, row: Row) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        parsed = dict(row.parsed or {})
        base = {"gateway": self.gateway, "journal_seq": row.seq, "device": row.device, "driver": row.driver,
                "station": row.station, "received_at": row.received_at, "raw": drivers.redact(row.raw),
                "parsed": parsed or None, "officer_id": None}
        if row.status == "rejected":
            return {**base, "status": "rejected", "reason": row.reason}, []
        if parsed.get("kind") == "card":
            officer, why = self.resolver.officer(s, parsed.get("ident") or {},
                                                 drivers.ident_secret(row.driver, row.raw))
            if officer is None:
                return {**base, "status": "rejected", "reason": f"card: {why}"}, []
            return {**base, "status": "ok", "reason": None, "officer_id": officer}, []
        officer, how, why = self._identity(s, row)
        parsed["matched_by"] = how
        base["parsed"] = parsed
        if officer is None:
            return {**base, "status": "unassigned", "reason": why}, []
        obs = observation_rows(officer, parsed.get("values") or {}, to_local(row.received_at), row.device, row.station)
        return {**base, "status": "ok", "reason": None, "officer_id": officer}, obs

    def forward_once(self) -> int:
        """Forward one batch; returns how many journal rows it moved past (0: nothing pending).
        Raises on database errors (the caller retries)."""
        rows = self.journal.pending(self.batch)
        if not rows:
            return 0
        forward = [r for r in rows if r.status in FORWARDED]
        touched: set[int] = set()
        with session_scope(self.url) as s:
            existing = {}
            if forward:
                existing = {seq: (dev, at, raw) for seq, dev, at, raw in s.execute(
                    select(RawFrame.journal_seq, RawFrame.device, RawFrame.received_at, RawFrame.raw)
                    .where(RawFrame.gateway == self.gateway,
                           RawFrame.journal_seq.in_([r.seq for r in forward])))}
            frames, observations = [], []
            for r in forward:
                if r.seq in existing:
                    dev, at, _raw = existing[r.seq]
                    if dev != r.device or abs((at - r.received_at).total_seconds()) > 1:
                        raise JournalMismatch(
                            f"raw_frame ({self.gateway}, {r.seq}) holds a frame of {dev} at {at}, the journal one of "
                            f"{r.device} at {r.received_at}: the journal was replaced; give this gateway a new name")
                    continue
                frame, obs = self._central_row(s, r)
                frames.append(frame)
                observations.extend(obs)
                if obs:
                    touched.add(frame["officer_id"])
            if frames:
                s.execute(RawFrame.__table__.insert(), frames)
            _insert_observations(s, observations)
            _recompute(s, touched)
            if time.monotonic() - self.last_report >= 1.0:
                self._report(s, after=rows[-1].seq)
        self.journal.set_cursor(rows[-1].seq)
        # the central copy is redacted; now the station's copy forgets the ID numbers too (a card
        # swipe is kept for one session window, since a later reading may still be matched through it)
        self.journal.mask_forwarded(drivers.redact, rows[-1].received_at - self.session)
        self.landed += len(frames)
        return len(rows)

    def drain(self, max_seconds: float = 30) -> int:
        """Forward until nothing is pending (or time runs out); returns rows moved."""
        end = time.monotonic() + max_seconds
        total = 0
        while time.monotonic() < end:
            n = self.forward_once()
            total += n
            if n == 0:
                break
        return total

    # -- device status
    def _report(self, s: Session, after: int | None = None) -> None:
        """Upsert the device rows; ``after``: the batch being committed ends at this seq."""
        backlog = self.journal.backlog(after)
        journal_times = None
        now = utcnow()
        for name, info in self.devices.items():
            live = self.live.get(name) or LiveStatus()
            last = live.last_frame_at
            if last is None:
                if journal_times is None:
                    journal_times = self.journal.last_frame_times()
                last = journal_times.get(name)
            values = {"driver": info.driver, "station": info.station, "port": info.port,
                      "connected": live.connected, "port_error": live.error, "last_frame_at": last,
                      "backlog": backlog.get(name, 0), "noise_bytes": live.noise_bytes,
                      "reconnects": live.reconnects, "stale_minutes": int(info.stale_minutes), "reported_at": now}
            res = s.execute(update(Device).where(Device.gateway == self.gateway, Device.name == name).values(**values))
            if res.rowcount == 0:
                s.add(Device(gateway=self.gateway, name=name, **values))
        s.flush()
        self.last_report = time.monotonic()

    def report(self) -> None:
        """A heartbeat: device status only."""
        with session_scope(self.url) as s:
            self._report(s)

    # -- the loop
    def run(self, stop: threading.Event, interval: float = 0.5, report_seconds: float = 5.0,
            max_backoff: float = 15.0) -> None:
        backoff = interval
        down_since: float | None = None
        while not stop.is_set():
            try:
                moved = self.forward_once()
                if moved == 0 and time.monotonic() - self.last_report >= report_seconds:
                    self.report()
                if down_since is not None:
                    log.info("central database reachable again after %.0f s; forwarding the backlog",
                             time.monotonic() - down_since)
                    down_since = None
                backoff = interval
                if moved:
                    continue  # more may be waiting: no pause while there is a backlog
            except JournalMismatch as exc:
                log.error("%s", exc)
                down_since = down_since or time.monotonic()
                backoff = max_backoff
            except Exception as exc:  # noqa: BLE001 - the database may fail in any way; the journal keeps all
                waiting = sum(self.journal.backlog().values())
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("central database unavailable (%s); %d frames wait in the journal",
                                _short(exc), waiting)
                else:
                    log.debug("central database still unavailable (%s); %d frames waiting", _short(exc), waiting)
                if isinstance(exc, IntegrityError):
                    backoff = interval
                else:
                    backoff = min(max_backoff, max(interval, backoff * 2))
            stop.wait(backoff)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


# --------------------------------------------------------------------------- /admin/devices queries






class AssignError(ValueError):
    pass


def assign_frame(session: Session, frame_id: int, badge: str) -> dict[str, Any]:
    """Give an unassigned reading to the officer with this badge: observations land, the status is
    recomputed. Raises AssignError (no such waiting reading, unknown badge, already assigned)."""
    try:
        fid = int(frame_id)
    except (TypeError, ValueError):
        raise AssignError("no such reading") from None
    norm = drivers.normalise_badge(str(badge or ""))
    if not norm or len(norm) > 20:
        raise AssignError("badge required")
    frame = session.get(RawFrame, fid)
    if frame is None or frame.status != "unassigned":
        raise AssignError("no such reading waiting for assignment")
    officer = session.scalar(select(Officer).where(func.ltrim(Officer.badge, "0") == norm)
                             .order_by(Officer.active.desc(), Officer.id).limit(1))
    if officer is None:
        raise AssignError("unknown badge")
    # claim the frame first: a concurrent assignment of the same frame updates nothing and fails here
    claimed = session.execute(update(RawFrame).where(and_(RawFrame.id == fid, RawFrame.status == "unassigned"))
                              .values(status="assigned", officer_id=officer.id)).rowcount
    if claimed != 1:
        raise AssignError("reading was assigned meanwhile")
    values = (frame.parsed or {}).get("values") or {}
    n = _insert_observations(session, observation_rows(officer.id, values, to_local(frame.received_at),
                                                       frame.device, frame.station))
    _recompute(session, {officer.id})
    return {"frame_id": fid, "officer_id": officer.id, "badge": officer.badge, "name": officer.name,
            "device": frame.device, "observations": n, "codes": sorted(values)}
