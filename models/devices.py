"""Read queries of /admin/devices: device states, rejected frames, the unassigned-readings queue.

The gateway (``ingest/gateway``) writes these tables; this module only reads them.
Frame times are stored as naive UTC, observations as local wall-clock time.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.schema import Device, RawFrame, Unit, utcnow


def to_local(utc_naive: dt.datetime) -> dt.datetime:
    """Naive UTC -> naive local time (observations carry the local wall-clock time, like exams)."""
    return utc_naive.replace(tzinfo=dt.timezone.utc).astimezone().replace(tzinfo=None)


def to_utc(local_naive: dt.datetime) -> dt.datetime:
    return local_naive.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _today_start_utc(now_local: dt.datetime | None = None) -> dt.datetime:
    now_local = now_local or dt.datetime.now()
    return to_utc(dt.datetime.combine(now_local.date(), dt.time()))


def device_overview(session: Session, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Each device as last reported, with frames OK / rejected / unassigned since local midnight.

    ``age_minutes`` is the time since the last frame; ``state`` is ok / amber (older than the device's
    stale time) / red (older than three times it, never seen, port lost, or the gateway silent)."""
    now = now or utcnow()
    since = _today_start_utc()
    counts: dict[str, dict[str, int]] = {}
    for device, status, n in session.execute(
            select(RawFrame.device, RawFrame.status, func.count())
            .where(RawFrame.received_at >= since).group_by(RawFrame.device, RawFrame.status)):
        counts.setdefault(device, {})[status] = n
    units = {code: (name, name_en) for code, name, name_en in session.execute(select(Unit.code, Unit.name, Unit.name_en))}
    out = []
    for d in session.scalars(select(Device).order_by(Device.station, Device.name)):
        c = counts.get(d.name, {})
        age = (now - d.last_frame_at).total_seconds() / 60 if d.last_frame_at else None
        silent = (now - d.reported_at).total_seconds() / 60 if d.reported_at else None
        stale = max(1, d.stale_minutes or 1440)
        if age is None or age > 3 * stale or not d.connected or (silent is not None and silent > 10):
            state = "red"
        elif age > stale:
            state = "amber"
        else:
            state = "ok"
        out.append({"id": d.id, "gateway": d.gateway, "name": d.name, "driver": d.driver, "station": d.station,
                    "station_name": units.get(d.station or "", (None, None))[0],
                    "station_name_en": units.get(d.station or "", (None, None))[1], "port": d.port, "connected": d.connected,
                    "port_error": d.port_error, "last_frame_at": d.last_frame_at, "age_minutes": age,
                    "stale_minutes": stale, "state": state, "backlog": d.backlog, "noise_bytes": d.noise_bytes,
                    "reconnects": d.reconnects, "reported_at": d.reported_at, "gateway_silent_minutes": silent,
                    "ok_today": c.get("ok", 0) + c.get("unassigned", 0) + c.get("assigned", 0),
                    "rejected_today": c.get("rejected", 0), "unassigned_today": c.get("unassigned", 0)})
    return out


def recent_rejected(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.execute(
        select(RawFrame.id, RawFrame.device, RawFrame.station, RawFrame.received_at, RawFrame.reason, RawFrame.raw)
        .where(RawFrame.status == "rejected").order_by(RawFrame.received_at.desc(), RawFrame.id.desc())
        .limit(max(1, min(int(limit), 200))))
    return [{"id": i, "device": dev, "station": st, "received_at": at, "reason": reason, "raw": raw_preview(raw)}
            for i, dev, st, at, reason, raw in rows]


def raw_preview(raw: bytes | None, limit: int = 90) -> str:
    """Printable excerpt of raw bytes: control bytes as <STX>, <ETX>, \\xNN."""
    names = {0x02: "<STX>", 0x03: "<ETX>", 0x0B: "<VT>", 0x1C: "<FS>", 0x0D: "<CR>", 0x0A: "<LF>"}
    out = []
    for b in (raw or b"")[: limit * 2]:
        out.append(names.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}"))
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unassigned_queue(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.execute(
        select(RawFrame.id, RawFrame.device, RawFrame.driver, RawFrame.station, RawFrame.received_at,
               RawFrame.reason, RawFrame.parsed)
        .where(RawFrame.status == "unassigned").order_by(RawFrame.received_at.desc(), RawFrame.id.desc())
        .limit(max(1, min(int(limit), 500))))
    out = []
    for i, dev, driver, st, at, reason, parsed in rows:
        parsed = parsed or {}
        ident = parsed.get("ident") or {}
        out.append({"id": i, "device": dev, "driver": driver, "station": st, "received_at": at, "reason": reason,
                    "values": parsed.get("values") or {},
                    "ident": ident.get("badge") or ident.get("masked") or ident.get("text") or ""})
    return out


def unassigned_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RawFrame).where(RawFrame.status == "unassigned")) or 0


def admin_devices_data(session: Session, now: dt.datetime | None = None, rejected_limit: int = 20,
                       queue_limit: int = 50) -> dict[str, Any]:
    """Everything /admin/devices shows, in one call."""
    return {"devices": device_overview(session, now), "rejected": recent_rejected(session, rejected_limit),
            "queue": unassigned_queue(session, queue_limit), "unassigned_total": unassigned_count(session)}
