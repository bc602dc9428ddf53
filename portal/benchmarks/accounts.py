"""Accounts for the whole roster (issue 17): ``accounts_from_roster`` for every officer of the force,
beside a raw executemany of the same app_user rows; both in a transaction that is rolled back, so
the bench database keeps no accounts it did not have."""
from __future__ import annotations

import time

from sqlalchemy import insert

from models import activation
from models.db import session_factory
from models.schema import User, utcnow
from portal.bench import BenchContext, Result

SECRET = "bench-secret"


def run(ctx: BenchContext) -> list[Result]:
    make = session_factory(ctx.url)
    s = make()
    try:
        t0 = time.perf_counter()
        created = activation.accounts_from_roster(s, SECRET, days=14)["created"]
        seconds = time.perf_counter() - t0
    finally:
        s.rollback()
        s.close()
    with make() as s:
        officer_ids = [o[0] for o in activation.pending_officers(s)][: len(created)]
    raw_seconds = _raw(make, officer_ids)
    return [Result("accounts_from_roster", seconds * 1000, seconds * 1000, raw_seconds * 1000,
                   30_000 if ctx.scale == "city" else None,
                   note=f"{len(created):,} officer accounts with codes; raw = executemany of the same rows")]


def _raw(make, officer_ids: list[int]) -> float:
    """Seconds to insert one prepared account row per officer (fixed hash, no codes), rolled back."""
    now = utcnow()
    rows = [{"username": f"bench{i}", "password_hash": activation.NO_PASSWORD, "role": "officer", "officer_id": oid,
             "scope_unit_id": None, "language": "zh", "active": True, "created_at": now,
             "activation_hash": "0" * 64, "activation_expires_at": now} for i, oid in enumerate(officer_ids)]
    s = make()
    try:
        t0 = time.perf_counter()
        if rows:
            s.execute(insert(User), rows)
            s.flush()
        return time.perf_counter() - t0
    finally:
        s.rollback()
        s.close()
