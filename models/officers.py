"""Read queries about one officer."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.schema import Observation, Officer, OfficerStatus


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def officer_by_badge(session: Session, badge: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.badge == str(badge)))


def latest_observations(session: Session, officer_id: int) -> dict[str, dict]:
    """Latest value per code: {code: {value, unit, date, source, kind}}."""
    rows = session.execute(
        select(Observation.code, Observation.value, Observation.unit, Observation.observed_at,
               Observation.source_kind, Observation.source_id)
        .where(Observation.officer_id == officer_id)
        .order_by(Observation.code, Observation.observed_at.desc())
    )
    latest: dict[str, dict] = {}
    for code, value, unit, at, kind, source in rows:
        if code not in latest:
            latest[code] = {"value": value, "unit": unit, "date": at.date().isoformat(), "source": source, "kind": kind}
    return latest


def officer_summary(session: Session, badge: str, today: dt.date | None = None) -> dict | None:
    """The officer's facts, latest observations and status snapshot, as `portal officer show` prints them."""
    officer = officer_by_badge(session, badge)
    if officer is None:
        return None
    today = today or dt.date.today()
    data = {
        "badge": officer.badge,
        "name": officer.name,
        "sex": officer.sex,
        "birth_date": officer.birth_date.isoformat(),
        "age": age_on(officer.birth_date, today),
        "unit": {"code": officer.unit.code, "name": officer.unit.name, "path": officer.unit.path},
        "post_type": officer.post_type,
        "hire_date": officer.hire_date.isoformat() if officer.hire_date else None,
        "id_masked": officer.id_masked,
        "latest": latest_observations(session, officer.id),
    }
    status = session.get(OfficerStatus, officer.id)
    if status is not None:
        data["warning"] = {"level": status.level, "confirmed": status.confirmed,
                           "rules_version": status.rules_version, "reasons": status.reasons}
        data["risk"] = {"china_par_10y_pct": status.china_par, "category": status.china_par_category}
        data["classes"] = status.classes
        data["latest"] = status.latest or data["latest"]  # same values, with readable source labels
        data["computed_at"] = status.computed_at.isoformat()
    return data
