"""Data completeness for /admin/data-health (issue 18): are the hospitals sending the yearly exams
they owe, with the items they should carry, and are the hospitals and kiosks still sending at all.

Every number on the page is defined here, once:

* **An officer's hospital** is the hospital of their latest exam: the data holds no assignment of
  officers to hospitals, so it is derived (the page says so); an officer never examined has none.
* **Expected** (hospital, month): exams falling due that month at the hospital — each exam makes the
  officer's next exam due 12 months later (the yearly cycle), at the hospital of that exam.
* **Received** (hospital, month): exams of the hospital dated in that month, whether due or not.
* **On time**: an expected exam whose officer's next exam (at any hospital) is dated no later than
  the end of the month it fell due.
* **Late**: an expected exam whose officer's next exam came after the month it fell due.
* **Missing**: an expected exam whose month has ended with no later exam of the officer on record.
* **Open**: an expected exam whose month has not ended yet and which has not come in so far.
* **Item share** (hospital, item): of the hospital's exams in the last 12 months, the share carrying
  the item (a measured value, or the conclusion text of a finding-type test).
* **Stale hospital**: a hospital whose last file (the newest import batch that brought one of its
  exams) finished more than ``STALE_HOSPITAL_DAYS`` days ago.
* **Stale kiosk**: a device whose state on /admin/devices is not "ok" (``models.devices``: no frame
  for longer than its stale time, its port down, or its gateway silent).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from models.devices import device_overview
from models.items import FINDING_TEXT_COLUMNS
from models.schema import Exam, Hospital, ImportBatch, Observation, Officer

CYCLE_MONTHS = 12  # the yearly exam cycle
STALE_HOSPITAL_DAYS = 60  # a hospital with no file for longer than this is flagged
MONTHS_SHOWN = 12

DEFINITIONS: dict[str, tuple[str, str]] = {
    "hospital": ("民警所属医院：取其最近一次体检的医院（数据中没有民警与医院的对应关系，故由此推得）；从未体检的民警不属于任何医院。",
                 "An officer's hospital is the hospital of their latest exam (the data holds no assignment, so it is "
                 "derived); an officer never examined has none."),
    "expected": ("应检：当月到期的体检——每次体检后12个月应再检（年度周期），到期记在该次体检的医院。",
                 "Expected: exams falling due that month — each exam makes the next one due 12 months later (the yearly "
                 "cycle), at the hospital of that exam."),
    "received": ("已收到：该医院当月体检日期的体检数（无论是否到期）。",
                 "Received: the hospital's exams dated that month, due or not."),
    "on_time": ("按时：到期后，民警的下一次体检（任何医院）不晚于到期当月月底。",
                "On time: the officer's next exam (at any hospital) is dated no later than the end of the month it fell due."),
    "late": ("迟到：下一次体检晚于到期当月。", "Late: the next exam came after the month it fell due."),
    "missing": ("缺失：到期当月已过，尚无该民警更晚的体检记录。",
                "Missing: the month it fell due has ended and no later exam of the officer is on record."),
    "open": ("待收：到期当月尚未结束，目前还未收到。", "Open: the month it falls due has not ended and it has not come in yet."),
    "item_share": ("项目覆盖率：该医院近12个月的体检中，含有该项目（检测值或检查结论）的比例。",
                   "Item share: of the hospital's exams in the last 12 months, the share carrying the item (a value or "
                   "a test's conclusion)."),
    "stale_hospital": (f"超时医院：最近一份文件（带来其体检的最新导入批次）已超过 {STALE_HOSPITAL_DAYS} 天。",
                       f"Stale hospital: its last file (the newest import batch bringing one of its exams) finished more "
                       f"than {STALE_HOSPITAL_DAYS} days ago."),
    "stale_kiosk": ("超时设备：设备页上状态不是“正常”的设备（超过其超时时间无数据、串口断开或网关失联）。",
                    "Stale kiosk: a device whose state on the devices page is not OK (no frame for longer than its stale "
                    "time, port down, or gateway silent)."),
}


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(y, m, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _month_end(d: dt.date) -> dt.date:
    return _add_months(dt.date(d.year, d.month, 1), 1) - dt.timedelta(days=1)


def month_keys(today: dt.date, months: int = MONTHS_SHOWN) -> list[str]:
    """"YYYY-MM" of the last ``months`` months, oldest first, this month last."""
    first = dt.date(today.year, today.month, 1)
    return [_add_months(first, -i).strftime("%Y-%m") for i in range(months - 1, -1, -1)]


def completeness(session: Session, today: dt.date, months: int = MONTHS_SHOWN) -> dict:
    """Per hospital and month (the last ``months``): expected, received, on time, late, missing, open
    (see the module's definitions), and the officers per hospital. Returns {"months", "hospitals":
    [{"code", "name", "officers", "months": {month: {...}}, "totals": {...}}]}."""
    keys = month_keys(today, months)
    first_due = dt.date.fromisoformat(keys[0] + "-01")
    # the exams that make something due in the window, and every exam after them (the next exam)
    since = _add_months(first_due, -CYCLE_MONTHS)
    rows = session.execute(
        select(Exam.officer_id, Exam.hospital_id, Exam.exam_date).join(Officer, Officer.id == Exam.officer_id)
        .where(Officer.active, Exam.exam_date >= since, Exam.exam_date <= today)
        .order_by(Exam.officer_id, Exam.exam_date)).all()
    blank = {"expected": 0, "received": 0, "on_time": 0, "late": 0, "missing": 0, "open": 0}
    cells: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: {k: dict(blank) for k in keys})
    by_officer: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
    for officer_id, hospital_id, day in rows:
        by_officer[officer_id].append((hospital_id, day))
        month = day.strftime("%Y-%m")
        if month in cells[hospital_id]:
            cells[hospital_id][month]["received"] += 1
    for exams in by_officer.values():
        for i, (hospital_id, day) in enumerate(exams):
            due = _add_months(day, CYCLE_MONTHS)
            month = due.strftime("%Y-%m")
            if month not in cells[hospital_id]:
                continue
            cell = cells[hospital_id][month]
            cell["expected"] += 1
            nxt = exams[i + 1][1] if i + 1 < len(exams) else None
            end = _month_end(due)
            if nxt is not None:
                cell["on_time" if nxt <= end else "late"] += 1
            elif end < today:
                cell["missing"] += 1
            else:
                cell["open"] += 1
    officers = dict(session.execute(_assigned_counts()).all())
    out = []
    for hospital_id, code, name in session.execute(select(Hospital.id, Hospital.code, Hospital.name).order_by(Hospital.code)):
        per_month = cells[hospital_id] if hospital_id in cells else {k: dict(blank) for k in keys}
        totals = {k: sum(m[k] for m in per_month.values()) for k in blank}
        out.append({"code": code, "name": name, "officers": officers.get(hospital_id, 0), "months": per_month,
                    "totals": totals})
    return {"months": keys, "hospitals": out}


def _assigned_counts():
    """Active officers per hospital of their latest exam (see "An officer's hospital")."""
    latest = (select(Exam.officer_id, func.max(Exam.exam_date).label("day")).group_by(Exam.officer_id).subquery("latest"))
    return (select(Exam.hospital_id, func.count(func.distinct(Exam.officer_id)))
            .join(latest, and_(latest.c.officer_id == Exam.officer_id, latest.c.day == Exam.exam_date))
            .join(Officer, Officer.id == Exam.officer_id).where(Officer.active)
            .group_by(Exam.hospital_id))


def item_shares(session: Session, today: dt.date) -> dict:
    """How often each hospital sends each item: {"items": [code, ...], "hospitals": [{"code", "name",
    "exams", "shares": {item: share 0–1}}]} over exams of the last 12 months (see "Item share")."""
    since = _add_months(today, -CYCLE_MONTHS)
    exams = dict(session.execute(select(Exam.hospital_id, func.count()).where(Exam.exam_date > since, Exam.exam_date <= today)
                                 .group_by(Exam.hospital_id)).all())
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for hospital_id, code, n in session.execute(
            select(Exam.hospital_id, Observation.code, func.count(func.distinct(Observation.exam_id)))
            .join(Exam, Exam.id == Observation.exam_id)
            .where(Exam.exam_date > since, Exam.exam_date <= today).group_by(Exam.hospital_id, Observation.code)):
        counts[hospital_id][code] = n
    for test, column in FINDING_TEXT_COLUMNS.items():
        col = getattr(Exam, column)
        for hospital_id, n in session.execute(
                select(Exam.hospital_id, func.count()).where(Exam.exam_date > since, Exam.exam_date <= today,
                                                             col.is_not(None), col != "")
                .group_by(Exam.hospital_id)):
            counts[hospital_id][test] = n
    items = sorted({c for per in counts.values() for c in per})
    out = []
    for hospital_id, code, name in session.execute(select(Hospital.id, Hospital.code, Hospital.name).order_by(Hospital.code)):
        n = exams.get(hospital_id, 0)
        out.append({"code": code, "name": name, "exams": n,
                    "shares": {item: (counts[hospital_id].get(item, 0) / n if n else None) for item in items}})
    return {"items": items, "hospitals": out}


def hospital_staleness(session: Session, now: dt.datetime, days: int = STALE_HOSPITAL_DAYS) -> list[dict]:
    """Each hospital's last file (see "Stale hospital"), its newest exam date and whether it is stale."""
    last_file = dict(session.execute(
        select(Exam.hospital_id, func.max(func.coalesce(ImportBatch.finished_at, ImportBatch.started_at)))
        .join(ImportBatch, ImportBatch.id == Exam.batch_id).group_by(Exam.hospital_id)).all())
    newest = dict(session.execute(select(Exam.hospital_id, func.max(Exam.exam_date)).group_by(Exam.hospital_id)).all())
    out = []
    for hospital_id, code, name in session.execute(select(Hospital.id, Hospital.code, Hospital.name).order_by(Hospital.code)):
        at = last_file.get(hospital_id)
        if isinstance(at, str):  # SQLite hands an aggregate over a datetime back as text
            at = dt.datetime.fromisoformat(at)
        age = (now - at).days if at else None
        out.append({"code": code, "name": name, "last_file": at, "newest_exam": newest.get(hospital_id),
                    "days": age, "stale": age is None or age > days})
    return out


def stale_kiosks(session: Session, now: dt.datetime | None = None) -> list[dict]:
    """The devices that are not "ok" on /admin/devices (see "Stale kiosk")."""
    return [d for d in device_overview(session, now) if d["state"] != "ok"]


def data_health(session: Session, today: dt.date, now: dt.datetime) -> dict:
    """Everything /admin/data-health shows, in one call."""
    return {"completeness": completeness(session, today), "items": item_shares(session, today),
            "hospitals": hospital_staleness(session, now), "kiosks": stale_kiosks(session, now),
            "stale_days": STALE_HOSPITAL_DAYS}
