"""An admin's work on one quarantined row (/admin/imports): read it, correct a value, reject it.

A correction changes one cell of the row's raw content (the row stays open: the next re-process of
its batch loads it); a rejection closes it for good with the admin's reason. Both keep who and why on
the row (``decided_by``, ``decision_note``); the callers audit them.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from models.schema import QuarantineRow, utcnow

__all__ = ["QuarantineError", "row", "correct", "reject", "CORRECTABLE"]

CORRECTABLE = ("wide", "long", "units", "officers")  # raw content kept as cells (header -> value)


class QuarantineError(ValueError):
    """A decision that cannot be made; ``code`` has its words in ``vocab.QUARANTINE_ERRORS``."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _get(session: Session, row_id: int, batch_id: int | None = None) -> QuarantineRow:
    q = session.get(QuarantineRow, row_id)
    if q is None or (batch_id is not None and q.batch_id != batch_id):
        raise QuarantineError("no_row")
    return q


def row(session: Session, row_id: int) -> dict | None:
    q = session.get(QuarantineRow, row_id)
    if q is None:
        return None
    raw = q.raw or {}
    cells = raw.get("cells") if raw.get("kind") in CORRECTABLE and isinstance(raw.get("cells"), dict) else None
    return {"id": q.id, "batch_id": q.batch_id, "row": q.row_number, "field": q.field or "", "reason": q.reason,
            "status": q.status, "raw": raw, "cells": cells, "decided_by": q.decided_by or "",
            "decision_note": q.decision_note or ""}


def correct(session: Session, row_id: int, cell: str, value: str, user: str, batch_id: int | None = None) -> dict:
    """Set one cell of an open row's raw content; returns {"cell", "old", "new"} for the audit log."""
    q = _get(session, row_id, batch_id)
    if q.status != "open":
        raise QuarantineError("not_open")
    raw = dict(q.raw or {})
    cells = raw.get("cells")
    if raw.get("kind") not in CORRECTABLE or not isinstance(cells, dict):
        raise QuarantineError("not_correctable")
    if cell not in cells:
        raise QuarantineError("no_cell")
    value = (value or "").strip()[:400]
    old = cells[cell]
    raw["cells"] = {**cells, cell: value}
    q.raw = raw  # a new dict: the JSON column sees the change
    q.decided_by = (user or "")[:60] or None
    q.decision_note = f"{cell}: {old!s} -> {value}"[:2000]
    return {"cell": cell, "old": old, "new": value}


def reject(session: Session, row_id: int, note: str, user: str, batch_id: int | None = None) -> None:
    """Close an open row for good: it will not be loaded; the reason is kept."""
    q = _get(session, row_id, batch_id)
    if q.status != "open":
        raise QuarantineError("not_open")
    note = (note or "").strip()
    if not note:
        raise QuarantineError("reason_missing")
    q.status, q.resolved_at = "rejected", utcnow()
    q.decided_by = (user or "")[:60] or None
    q.decision_note = note[:2000]
