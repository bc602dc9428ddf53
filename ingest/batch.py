"""Import batches: the frame every loader (hospital, roster, activity) runs in.

A batch is one transaction per file: the loader writes its rows and the
quarantine entries (every refused row, value or unplaced column, with its raw
content and the reason — nothing is dropped), then ``finish_batch`` stores the
counts, recomputes the touched officers and bumps the data version in the same
transaction. A load that raises is rolled back whole and recorded as a failed
batch in its own transaction (``recording_failure``).

Counting (the summary every command prints): ``rows_read`` source rows; each row
is ``inserted``, ``updated``, ``unchanged`` or rejected (``rows_rejected``), so
``rows_read = inserted + updated + unchanged + rows_rejected``. ``quarantined``
counts the quarantine entries written.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Callable, Iterable, Iterator

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ingest.hospital import Unreadable
from models.db import bump_data_version, session_scope
from models.schema import ImportBatch, QuarantineRow, utcnow

__all__ = ["Progress", "ERRORS_KEPT", "file_hash", "new_batch", "record_failed", "recording_failure",
           "add_quarantine", "finish_batch", "base_summary"]

Progress = Callable[[str, int, int], None]
ERRORS_KEPT = 1000          # errors stored in import_batch.summary (the command prints them all)


def file_hash(data: bytes) -> str:
    """SHA-256 of the file, kept on the batch (a re-export of the same file is recognisable)."""
    return hashlib.sha256(data).hexdigest()


def new_batch(session: Session, kind: str, source: str | None, filename: str | None, digest: str | None,
              fmt: str | None, user: str | None) -> ImportBatch:
    batch = ImportBatch(kind=kind, source=source, filename=(filename or "")[-400:] or None, file_hash=digest,
                        file_format=fmt, created_by=user, started_at=utcnow(), status="running")
    session.add(batch)
    session.flush()
    return batch


def record_failed(url: str, kind: str, source: str | None, filename: str | None, digest: str | None,
                  user: str | None, reason: str, fmt: str | None = None) -> int:
    """A failed batch in its own transaction (nothing of its data remains); returns its id."""
    with session_scope(url) as s:
        batch = new_batch(s, kind, source, filename, digest, fmt, user)
        batch.status = "failed"
        batch.finished_at = utcnow()
        batch.summary = {"error": reason}
        return batch.id


@contextlib.contextmanager
def recording_failure(url: str, kind: str, source: str | None, filename: str | None, digest: str | None,
                      user: str | None, enabled: bool = True) -> Iterator[None]:
    """Around a whole load: if it raises, the half batch has been rolled back, so record a failed
    batch (in its own transaction) that says why, then re-raise. Not for dry runs (``enabled``)."""
    try:
        yield
    except Unreadable as exc:
        if enabled:
            exc.batch_id = record_failed(url, kind, source, filename, digest, user, str(exc))
        raise
    except Exception as exc:
        if enabled:
            record_failed(url, kind, source, filename, digest, user,
                          f"the batch failed and was rolled back: {type(exc).__name__}: {exc}")
        raise


def add_quarantine(session: Session, batch_id: int, entries: list[dict]) -> None:
    if entries:
        now = utcnow()
        session.execute(insert(QuarantineRow), [
            {"batch_id": batch_id, "row_number": e["row"], "field": (e.get("field") or "")[:60] or None,
             "reason": e["reason"], "raw": e["raw"], "status": "open", "created_at": now} for e in entries])


def finish_batch(session: Session, batch: ImportBatch, summary: dict, touched: Iterable[int],
                 write_before: Callable[[list[int]], None] | None = None) -> None:
    """Counts and summary on the batch row, recompute the touched officers, bump the data version.
    ``write_before``: rows the loader held back, written per chunk of officers as the recompute
    reaches them (``models.snapshot.recompute_officers``)."""
    from models.snapshot import recompute_officers

    ids = sorted(set(touched))
    if ids:
        recompute_officers(session, ids, write_before=write_before)
    summary["officers_recomputed"] = len(ids)
    for k in ("rows_read", "inserted", "updated", "unchanged", "quarantined"):
        setattr(batch, k, int(summary.get(k, 0)))
    stored = dict(summary)
    stored["errors"] = summary.get("errors", [])[:ERRORS_KEPT]
    if len(summary.get("errors", [])) > ERRORS_KEPT:
        stored["errors_truncated"] = len(summary["errors"])
    batch.summary = json.loads(json.dumps(stored, default=str))
    batch.status = "loaded"
    batch.finished_at = utcnow()
    bump_data_version(session)


def base_summary(batch_id: int | None, filename: str | None, fmt: str) -> dict:
    return {"batch_id": batch_id, "file": filename, "format": fmt, "rows_read": 0, "inserted": 0, "updated": 0,
            "unchanged": 0, "quarantined": 0, "errors": []}


def read_file(path: str | Path) -> tuple[bytes, str]:
    """A file's bytes and name for a loader; a path that cannot be read raises Unreadable."""
    p = Path(path)
    try:
        return p.read_bytes(), p.name
    except OSError as exc:
        raise Unreadable(f"cannot open {p}: {exc.strerror or exc}") from None
