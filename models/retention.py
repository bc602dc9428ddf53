"""Retention: raw device frames and quarantined rows that still hold an ID number in the clear
are deleted after a configurable period (``portal purge``). The central ``raw_frame`` copy is
redacted by the forwarder, so frames hit here come from older gateways or other feeds; a
quarantined roster row keeps the number it was rejected with until it is purged. Each purged
batch keeps a count in its summary (``purged``) and one audit row says what went, so a batch
still explains its numbers. The test for "holds an ID number" is handed in by the caller
(``ingest.idcard.holds_number``): models know no ingest code.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import audit as audit_model
from models.schema import ImportBatch, QuarantineRow, RawFrame, utcnow

CHUNK = 1000


def _scan(session: Session, q, test) -> list[int]:
    """Ids of the rows of ``q`` (id, payload) whose payload ``test`` flags, read in chunks."""
    hits, last = [], 0
    while True:
        rows = session.execute(q.where(q.selected_columns[0] > last).order_by(q.selected_columns[0]).limit(CHUNK)).all()
        if not rows:
            return hits
        hits += [i for i, payload in rows if test(payload)]
        last = rows[-1][0]


def purge(session: Session, *, holds_id: Callable[[object], bool], raw_days: int, quarantine_days: int,
          dry_run: bool = False, now: dt.datetime | None = None) -> dict:
    """Delete (or with ``dry_run`` only count) what is past its period. Returns
    {"raw_frames": n, "quarantine_rows": n, "batches": {batch_id: n}, "raw_before": iso, "quarantine_before": iso}."""
    if raw_days < 1 or quarantine_days < 1:
        raise ValueError("retention periods are at least one day")
    now = now or utcnow()
    raw_before = now - dt.timedelta(days=raw_days)
    q_before = now - dt.timedelta(days=quarantine_days)
    frames = _scan(session, select(RawFrame.id, RawFrame.raw).where(RawFrame.received_at < raw_before), holds_id)
    quarantined = _scan(session, select(QuarantineRow.id, QuarantineRow.raw).where(QuarantineRow.created_at < q_before),
                        lambda raw: holds_id(json.dumps(raw, ensure_ascii=False) if raw is not None else None))
    per_batch: dict[int, int] = {}
    for i in range(0, len(quarantined), CHUNK):
        for batch_id in session.scalars(select(QuarantineRow.batch_id).where(QuarantineRow.id.in_(quarantined[i:i + CHUNK]))):
            per_batch[batch_id] = per_batch.get(batch_id, 0) + 1
    out = {"raw_frames": len(frames), "quarantine_rows": len(quarantined), "batches": per_batch,
           "raw_before": raw_before.isoformat(sep=" ", timespec="seconds"),
           "quarantine_before": q_before.isoformat(sep=" ", timespec="seconds"), "dry_run": dry_run}
    if dry_run:
        return out
    for i in range(0, len(frames), CHUNK):
        session.execute(delete(RawFrame).where(RawFrame.id.in_(frames[i:i + CHUNK])))
    for i in range(0, len(quarantined), CHUNK):
        session.execute(delete(QuarantineRow).where(QuarantineRow.id.in_(quarantined[i:i + CHUNK])))
    for batch in session.scalars(select(ImportBatch).where(ImportBatch.id.in_(list(per_batch)))) if per_batch else []:
        summary = dict(batch.summary or {})
        summary["purged"] = int(summary.get("purged", 0)) + per_batch[batch.id]
        summary["purged_at"] = now.isoformat(sep=" ", timespec="seconds")
        batch.summary = summary
    if frames or quarantined:
        audit_model.record(session, action="purge", target="retention",
                           detail={k: v for k, v in out.items() if k != "batches"} | {"batches": len(per_batch)},
                           user_id=None, username="portal purge", ip=None)
    return out
