"""What a rules draft would change, and putting it in force (issue 18): the draft evaluated over the
inputs of the current snapshot (:func:`impact`), publishing with a recompute of every officer whose
level changes are marked ``cause="rules"`` (:func:`publish`), and publishing an older version again as
a new version (:func:`republish`). The versions themselves live in ``models.rule_versions``."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import warning as warning_model
from models.rule_versions import copy_version, check_body, draft, in_force
from models.schema import Hospital, Officer, OfficerStatus, RuleVersion, Unit, utcnow
from models.snapshot import assess_officers, recompute_all
from models.vocab import LEVELS


# --- impact --------------------------------------------------------------------------------------------
def _top_unit(path: str, units: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """The sub-unit of the force an officer's unit lies in (the second code of the path), or the unit."""
    codes = [c for c in path.split("/") if c]
    code = codes[1] if len(codes) > 1 else codes[0] if codes else ""
    return units.get(code, (code, code))


def impact(session: Session, body: dict, as_of: dt.date, *, names: bool, psych: bool,
           progress: Callable[[int, int], None] | None = None, chunk: int = 500) -> dict:
    """What publishing ``body`` would change: the draft evaluated over the inputs of the current
    snapshot (the readings and exams up to ``as_of``), compared with each officer's level now.

    Returns {"changed", "officers", "transitions": [[from, to, n]], "units": [[zh, en, n]], "rows":
    [{badge, name, unit, unit_en, from, to}]} — ``rows`` only with ``names``; without ``psych`` the
    levels compared are the open levels (``models.psych``), so no change resting on a psychological
    reason shows. Nothing is written."""
    rules = warning_model.rules_from_dict(body, origin="draft")
    hospitals = dict(session.execute(select(Hospital.code, Hospital.name)).all())
    current = {oid: (lvl, open_lvl) for oid, lvl, open_lvl in session.execute(
        select(OfficerStatus.officer_id, OfficerStatus.level, OfficerStatus.open_level))}
    ids = sorted(session.scalars(select(Officer.id).where(Officer.active)))
    units = {c: (n, e or n) for c, n, e in session.execute(select(Unit.code, Unit.name, Unit.name_en))}
    transitions: dict[tuple[str, str], int] = defaultdict(int)
    by_unit: dict[tuple[str, str], int] = defaultdict(int)
    changed_ids: list[tuple[int, str, str]] = []
    for start in range(0, len(ids), chunk):
        for row in assess_officers(session, ids[start:start + chunk], as_of, rules, hospitals):
            now_level, now_open = current.get(row["officer_id"], (None, None))
            before = now_level if psych else (now_open or now_level)
            after = row["level"] if psych else row["open_level"]
            if before is None or before == after:
                continue
            transitions[(before, after)] += 1
            by_unit[_top_unit(row["unit_path"], units)] += 1
            changed_ids.append((row["officer_id"], before, after))
        if progress is not None:
            progress(min(start + chunk, len(ids)), len(ids))
    rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    rows = []
    if names and changed_ids:
        moves = {oid: (b, a) for oid, b, a in changed_ids}
        for i in range(0, len(changed_ids), 500):
            part = [oid for oid, _b, _a in changed_ids[i:i + 500]]
            for oid, badge, name, unit, unit_en in session.execute(
                    select(Officer.id, Officer.badge, Officer.name, Unit.name, Unit.name_en)
                    .join(Unit, Unit.id == Officer.unit_id).where(Officer.id.in_(part))):
                b, a = moves[oid]
                rows.append({"badge": badge, "name": name, "unit": unit, "unit_en": unit_en or unit, "from": b, "to": a})
        rows.sort(key=lambda r: (rank[r["to"]], r["badge"]))
    return {"changed": len(changed_ids), "officers": len(ids),
            "transitions": sorted(([b, a, n] for (b, a), n in transitions.items()),
                                  key=lambda t: (rank[t[0]], rank[t[1]])),
            "units": sorted(([zh, en, n] for (zh, en), n in by_unit.items()), key=lambda u: (-u[2], u[0])),
            "rows": rows}


# --- publishing ------------------------------------------------------------------------------------
def publish(session: Session, version_id: int, user_id: int | None, as_of: dt.date,
            progress: Callable[[int, int], None] | None = None) -> dict:
    """Put a draft in force: the version in force is retired, every active officer recomputed under
    the new rules (history rows of level changes marked ``cause="rules"``). Returns {"number",
    "label", "levels", "previous"}; LookupError when the version is no draft, ValueError when its
    body does not pass :func:`check_body`."""
    row = session.get(RuleVersion, version_id)
    if row is None or row.status != "draft":
        raise LookupError("no such draft")
    if check_body(row.body):
        raise ValueError("the draft does not pass the checks")
    in_force(session)  # seeds version 1 first when the table is empty
    previous = session.scalar(select(RuleVersion.number).where(RuleVersion.status == "published")
                              .order_by(RuleVersion.number.desc()).limit(1))
    now = utcnow()
    session.execute(update(RuleVersion).where(RuleVersion.status == "published")
                    .values(status="retired", retired_at=now))
    row.status, row.published_by_id, row.published_at, row.updated_at = "published", user_id, now, now
    session.flush()
    rules = warning_model.rules_from_dict(row.body, origin=f"rule_version {row.number}")
    levels = recompute_all(session, as_of=as_of, rules=rules, cause="rules", progress=progress)
    return {"number": row.number, "label": row.label, "levels": levels, "previous": previous}


def republish(session: Session, number: int, user_id: int | None, as_of: dt.date,
              progress: Callable[[int, int], None] | None = None) -> dict:
    """Publish a retired version again: a new version (a copy under the next number) is published."""
    source = session.scalar(select(RuleVersion).where(RuleVersion.number == number))
    if source is None or source.status != "retired":
        raise LookupError("no such retired version")
    if in_force(session).raw.get("rules") == source.body.get("rules"):  # a replay, or nothing to restore
        raise LookupError("these rules are in force already")
    existing = draft(session)
    if existing is not None:  # one draft at a time: the open one gives way to the version restored
        session.delete(existing)
        session.flush()
    row = copy_version(session, source, user_id, f"再次发布 v{number} / v{number} published again")
    return publish(session, row.id, user_id, as_of, progress)
