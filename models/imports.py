"""Read queries of /admin/imports: batches, their quarantine (paged, CSV) and hospital mappings.

The loaders that write these tables live in ``ingest/``; this module only reads them.
"""
from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.schema import Campaign, Hospital, ImportBatch, QuarantineRow


def hospital_mapping(session: Session, code: str) -> dict | None:
    h = session.scalar(select(Hospital).where(Hospital.code == code))
    return h.mapping if h else None


def batch_list(session: Session, limit: int = 500) -> list[dict]:
    """The newest batches, for the imports page."""
    rows = list(session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))
    opened = open_counts(session, [b.id for b in rows])
    return [{"id": b.id, "kind": b.kind, "source": b.source or "", "filename": b.filename or "",
             "file_hash": (b.file_hash or "")[:12], "format": b.file_format or "", "created_by": b.created_by or "",
             "started_at": b.started_at.strftime("%Y-%m-%d %H:%M:%S") if b.started_at else "",
             "status": b.status, "rows_read": b.rows_read, "inserted": b.inserted, "updated": b.updated,
             "unchanged": b.unchanged, "quarantined": b.quarantined,
             "open": opened.get(b.id, 0), "error": (b.summary or {}).get("error", "")} for b in rows]


def open_counts(session: Session, batch_ids: list[int]) -> dict[int, int]:
    if not batch_ids:
        return {}
    return dict(session.execute(select(QuarantineRow.batch_id, func.count()).where(
        QuarantineRow.batch_id.in_(batch_ids), QuarantineRow.status == "open").group_by(QuarantineRow.batch_id)).all())


def batch_detail(session: Session, batch_id: int) -> dict | None:
    b = session.get(ImportBatch, batch_id)
    if b is None:
        return None
    mapping = hospital_mapping(session, b.source) if b.kind == "hospital" and b.source else None
    return {"id": b.id, "kind": b.kind, "source": b.source, "filename": b.filename, "file_hash": b.file_hash,
            "format": b.file_format, "created_by": b.created_by, "status": b.status,
            "started_at": b.started_at, "finished_at": b.finished_at,
            # the batch's count columns are authoritative (the demo batch has no summary JSON)
            "summary": {**(b.summary or {}), "rows_read": b.rows_read, "inserted": b.inserted, "updated": b.updated,
                        "unchanged": b.unchanged, "quarantined": b.quarantined},
            "open": open_counts(session, [b.id]).get(b.id, 0), "mapping": mapping,
            "has_hospital": b.kind == "hospital" and bool(b.source)}


def quarantine_count(session: Session, batch_id: int) -> int:
    return session.scalar(select(func.count()).select_from(QuarantineRow).where(QuarantineRow.batch_id == batch_id))


def quarantine_page(session: Session, batch_id: int, start: int, end: int) -> list[dict]:
    """Rows ``start``..``end`` of a batch's quarantine (server-side paging)."""
    rows = session.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == batch_id)
                           .order_by(QuarantineRow.id).offset(max(0, start)).limit(max(0, end - start)))
    return [_q_dict(q) for q in rows]


def _q_dict(q: QuarantineRow) -> dict:
    return {"id": q.id, "row": q.row_number, "field": q.field or "", "reason": q.reason, "status": q.status,
            "raw": json.dumps(q.raw, ensure_ascii=False, default=str)}


def quarantine_csv(session: Session, batch_id: int) -> str:
    """The whole quarantine of a batch as CSV text (UTF-8 with BOM so Excel shows Chinese)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["batch", "row", "field", "reason", "status", "raw"])
    for q in session.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == batch_id)
                             .order_by(QuarantineRow.id)):
        d = _q_dict(q)
        w.writerow([batch_id, d["row"] if d["row"] is not None else "", d["field"], d["reason"], d["status"], d["raw"]])
    return "\ufeff" + buf.getvalue()


def upload_targets(session: Session, kind: str) -> list[dict]:
    """What an uploaded file of ``kind`` is loaded into: the hospitals, the campaigns, or nothing (rosters)."""
    if kind == "hospital":
        return [{"value": h.code, "name": h.name} for h in session.scalars(select(Hospital).order_by(Hospital.code))]
    if kind == "activity":
        return [{"value": str(c.id), "name": c.name}
                for c in session.scalars(select(Campaign).order_by(Campaign.start_date.desc()).limit(200))]
    return []


def unplaced_columns(session: Session, batch_id: int) -> list[str]:
    """The columns a hospital batch could not place (to map on /admin/imports)."""
    b = session.get(ImportBatch, batch_id)
    if b is None or b.kind != "hospital":
        return []
    return [str(c) for c in (b.summary or {}).get("unplaced_columns") or []][:200]
