"""Aggregates for the home page: counts over the status snapshot, cut to a unit subtree."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.schema import Exam, Officer, OfficerStatus, Unit

LEVELS = ("red", "orange", "yellow", "green")
SMALL_GROUP = 5


def _in_scope(unit_path: str | None):
    return Unit.path.like(f"{unit_path}%") if unit_path else True


def scope_counts(session: Session, unit_path: str | None, year: int | None = None) -> dict:
    """Officers, exam coverage in ``year`` and the count of each warning level in the subtree."""
    year = year or dt.date.today().year
    scoped = select(Officer.id).join(Unit, Officer.unit_id == Unit.id).where(Officer.active, _in_scope(unit_path))
    officers = session.scalar(select(func.count()).select_from(scoped.subquery()))
    examined = session.scalar(
        select(func.count(func.distinct(Exam.officer_id)))
        .where(Exam.officer_id.in_(scoped), Exam.exam_date >= dt.date(year, 1, 1), Exam.exam_date <= dt.date(year, 12, 31))
    )
    rows = session.execute(
        select(OfficerStatus.level, func.count()).where(OfficerStatus.officer_id.in_(scoped)).group_by(OfficerStatus.level)
    ).all()
    levels = {lvl: 0 for lvl in LEVELS}
    levels.update({lvl: n for lvl, n in rows})
    return {"officers": officers or 0, "examined": examined or 0, "year": year,
            "coverage": (examined / officers) if officers else None, "levels": levels}


def suppress_small(n: int | None) -> str:
    """Counts under 5 are shown as "<5" to leaders (re-identification risk)."""
    if n is None:
        return "–"
    return "<5" if 0 < n < SMALL_GROUP else f"{n:,}"
