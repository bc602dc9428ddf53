"""Full recompute of the status snapshot (issue 3: under 10 s at city scale)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from models.schema import Observation, Officer
from models.snapshot import recent_readings, recompute_all
from portal.bench import BenchContext, Result, measure


def run(ctx: BenchContext) -> list[Result]:
    def full():
        with ctx.session() as s:
            recompute_all(s)

    def raw():
        """The reading query the recompute stands on, for every officer."""
        with ctx.session() as s:
            ids = list(s.scalars(select(Officer.id)))
            for i in range(0, len(ids), 500):
                recent_readings(s, ids[i:i + 500], dt.date.today())

    with ctx.session() as s:
        n = s.scalar(select(func.count()).select_from(Officer))
        obs = s.scalar(select(func.count()).select_from(Observation))
    return [measure("recompute_all", full, raw, 10_000, repeat=3,
                    note=f"{n:,} officers, {obs:,} observations; raw = the newest-two-readings window query")]
