"""Re-run a batch's open quarantine, whatever kind of batch it was.

Its own module because it needs every loader (hospital, roster, activity) and
each loader needs the batch framework: kept apart, the imports run one way.
"""
from __future__ import annotations

import datetime as dt

from ingest import activity, hospital_load, roster
from ingest.batch import Progress
from ingest.hospital import Unreadable
from models.db import session_scope
from models.schema import ImportBatch

__all__ = ["reprocess"]


def reprocess(url: str, batch_id: int, user: str | None = None, progress: Progress | None = None,
              mapping: dict | None = None, today: dt.date | None = None, secret: str | None = None) -> dict:
    """Re-run batch ``batch_id``'s open quarantine in a new batch (hospital batches with the mapping
    now in force, or ``mapping`` saved first). ``secret``: the portal secret ID numbers are hashed with."""
    with session_scope(url) as s:
        original = s.get(ImportBatch, batch_id)
        if original is None:
            raise Unreadable(f"no import batch {batch_id}")
        if original.kind in ("units", "officers"):
            return roster.reprocess(s, original, user, secret=secret)
        if original.kind == "activity":
            return activity.reprocess(s, original, user, today, secret=secret)
        if original.kind != "hospital":
            raise Unreadable(f"batch {batch_id} is a {original.kind} batch; only hospital, roster and activity "
                             "batches can be re-processed")
        return hospital_load.reprocess(s, original, user, progress, mapping, secret=secret)
