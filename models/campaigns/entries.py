"""The one write path of campaign activity: device files (``ingest.activity``) and officers' own
entries (check-in, daily quiz, hand-entered steps) both go through :func:`merge_entries`.

Precedence: one entry per officer, campaign and day, and the larger plausible value wins whether it
was imported or entered by hand (a flagged, implausible value never replaces a plausible one), so
importing a file, entering by hand and importing it again leaves the same totals.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.campaigns.access import CampaignError, NotAllowed, Viewer, visible_campaign
from models.campaigns.rules import BACKFILL_DAYS, MAX_HAND_STEPS, takes_entries
from models.campaigns.writes import award_points
from models.db import bump_data_version
from models.schema import Campaign, CampaignEntry, Officer

CHUNK = 900
Key = tuple[int, dt.date]


def better(new: tuple[float, bool], old: tuple[float, bool]) -> bool:
    """The precedence rule: a plausible value beats a flagged one; otherwise the larger value wins."""
    if new[1] != old[1]:
        return old[1]
    return new[0] > old[0]


def merge_entries(session: Session, campaign_id: int, values: dict[Key, tuple[float, bool]],
                  batch_id: int | None = None) -> tuple[int, int, int]:
    """Upsert ``(officer id, day) -> (value, flagged)`` under the precedence rule; returns
    (inserted, updated, unchanged). The caller awards points and bumps the data version."""
    keys = list(values)
    existing: dict[Key, tuple[int, float, bool]] = {}
    for i in range(0, len(keys), CHUNK):
        part = keys[i:i + CHUNK]
        q = select(CampaignEntry.id, CampaignEntry.officer_id, CampaignEntry.day, CampaignEntry.value,
                   CampaignEntry.flagged).where(CampaignEntry.campaign_id == campaign_id,
                                                CampaignEntry.officer_id.in_({k[0] for k in part}),
                                                CampaignEntry.day.in_({k[1] for k in part}))
        for eid, oid, day, value, flagged in session.execute(q):
            existing[(oid, day)] = (eid, value, bool(flagged))
    inserts, updates, unchanged = [], [], 0
    for key, (value, flagged) in values.items():
        old = existing.get(key)
        if old is None:
            inserts.append({"campaign_id": campaign_id, "officer_id": key[0], "day": key[1], "value": value,
                            "flagged": flagged, "batch_id": batch_id})
        elif better((value, flagged), old[1:]):
            updates.append({"id": old[0], "value": value, "flagged": flagged, "batch_id": batch_id})
        else:
            unchanged += 1
    if inserts:
        session.execute(CampaignEntry.__table__.insert(), inserts)
    for u in updates:
        session.execute(CampaignEntry.__table__.update().where(CampaignEntry.id == u["id"])
                        .values(value=u["value"], flagged=u["flagged"], batch_id=u["batch_id"]))
    return len(inserts), len(updates), unchanged


# --- an officer's own entries ---------------------------------------------------------------------
def own_campaign(session: Session, viewer: Viewer, campaign_id: Any, kind: str, today: dt.date) -> Campaign:
    """The campaign an officer enters for: their own (visible), of this kind, running and open.
    The officer is always the caller: nothing from the browser names whom an entry is for."""
    if viewer.role != "officer" or viewer.officer_id is None:
        raise NotAllowed("only officers enter their own activity")
    c = visible_campaign(session, viewer, campaign_id)
    officer = session.get(Officer, viewer.officer_id)
    if officer is None or not officer.active:
        raise NotAllowed("not a member")
    if c.kind != kind:
        raise CampaignError({"_": ("这个活动不接受这种记录。", "This campaign does not take this kind of entry.")})
    if not takes_entries(c, today):
        raise CampaignError({"_": ("活动不在进行中（未开始、已结束或已关闭），不能再记录。",
                                   "The campaign is not running (not started, ended or closed): no entries now.")})
    return c


def write_own(session: Session, c: Campaign, officer_id: int, day: dt.date, value: float, today: dt.date) -> dict:
    before = session.scalar(select(CampaignEntry.value).where(
        CampaignEntry.campaign_id == c.id, CampaignEntry.officer_id == officer_id, CampaignEntry.day == day))
    inserted, updated, _ = merge_entries(session, c.id, {(officer_id, day): (float(value), False)})
    changed = bool(inserted or updated)
    if changed:
        session.flush()
        award_points(session, c.id, today, officer_id=officer_id)
        bump_data_version(session, "campaign")
    kept = session.scalar(select(CampaignEntry.value).where(
        CampaignEntry.campaign_id == c.id, CampaignEntry.officer_id == officer_id, CampaignEntry.day == day))
    return {"campaign_id": c.id, "day": day.isoformat(), "value": float(value), "kept": float(kept or 0),
            "before": None if before is None else float(before), "changed": changed}


def check_in(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Today's check-in of a micro-exercise campaign (a second one the same day changes nothing)."""
    c = own_campaign(session, viewer, campaign_id, "checkin", today)
    return write_own(session, c, viewer.officer_id, today, 1.0, today)


def check_steps(raw_day: Any, raw_value: Any, c: Campaign, today: dt.date) -> tuple[dt.date | None, int | None,
                                                                                  dict[str, tuple[str, str]]]:
    """The caps on hand-entered steps: a whole number 0–60,000, a day inside the campaign, not in
    the future and at most ``BACKFILL_DAYS`` back. Returns (day, steps, errors)."""
    errors: dict[str, tuple[str, str]] = {}
    day = None
    try:
        day = dt.date.fromisoformat(str(raw_day)) if raw_day not in (None, "") else None
    except ValueError:
        day = None
    if day is None:
        errors["day"] = ("请选择日期。", "Choose the day.")
    elif day > today:
        errors["day"] = ("不能填报未来的日期。", "The day cannot be in the future.")
    elif day < c.start_date:
        errors["day"] = (f"活动 {c.start_date.isoformat()} 才开始。", f"The campaign started on {c.start_date.isoformat()}.")
    elif day > c.end_date:
        errors["day"] = (f"活动已于 {c.end_date.isoformat()} 结束。", f"The campaign ended on {c.end_date.isoformat()}.")
    elif (today - day).days > BACKFILL_DAYS:
        errors["day"] = (f"只能补填最近 {BACKFILL_DAYS} 天。", f"Only the last {BACKFILL_DAYS} days can be entered.")
    steps = None
    if isinstance(raw_value, bool) or not isinstance(raw_value, (int, float)):
        errors["value"] = ("请填写步数（整数）。", "Enter the number of steps (a whole number).")
    elif raw_value != raw_value or not float(raw_value).is_integer():
        errors["value"] = ("步数应为整数。", "Steps must be a whole number.")
    elif raw_value < 0:
        errors["value"] = ("步数不能为负数。", "Steps cannot be negative.")
    elif raw_value > MAX_HAND_STEPS:
        errors["value"] = (f"一天最多 {MAX_HAND_STEPS:,} 步；更多的记录请由计步设备导入。",
                           f"At most {MAX_HAND_STEPS:,} steps a day; larger counts come from a device import.")
    else:
        steps = int(raw_value)
    return day, steps, errors


def enter_steps(session: Session, viewer: Viewer, campaign_id: Any, raw_day: Any, raw_value: Any,
                today: dt.date) -> dict:
    """The officer's own step count for a day, by hand (CampaignError with the reason otherwise)."""
    c = own_campaign(session, viewer, campaign_id, "steps", today)
    day, steps, errors = check_steps(raw_day, raw_value, c, today)
    if errors:
        raise CampaignError(errors)
    return write_own(session, c, viewer.officer_id, day, float(steps), today)


def own_entries(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date, days: int = 8) -> list[dict]:
    """The caller's own entries of the last ``days`` days of a campaign, newest first."""
    if viewer.role != "officer" or viewer.officer_id is None:
        return []
    c = visible_campaign(session, viewer, campaign_id)
    rows = session.execute(select(CampaignEntry.day, CampaignEntry.value, CampaignEntry.flagged).where(
        CampaignEntry.campaign_id == c.id, CampaignEntry.officer_id == viewer.officer_id,
        CampaignEntry.day > today - dt.timedelta(days=days)).order_by(CampaignEntry.day.desc())).all()
    return [{"day": d.isoformat(), "value": float(v), "flagged": bool(f)} for d, v, f in rows]
