"""Changes to campaigns: the edit form and its validation, save_campaign, the points award and
an officer's choice to hide from leaderboards."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.orm import Session

from models.campaigns.access import (
    CampaignError, NotAllowed, Viewer, may_edit, unit_rows, visible_campaign,
)
from models.campaigns.rules import (
    DEFAULT_POINTS, KINDS, MAX_DAYS, MAX_UNITS, POINT_KEYS, POINT_REASONS, SCORING, TEAM_LEVELS, VALUE_LIMITS, lifecycle,
    status_of,
)
from models.db import bump_data_version
from models.schema import Campaign, CampaignEntry, OfficerPreference, Points, Unit, utcnow


# --- create and edit ------------------------------------------------------------------------------
RUNNING_EDITABLE = ("name", "end_date", "target_total")


def _as_date(raw: Any) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except (TypeError, ValueError):
        return None


def _as_number(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        x = float(raw)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def campaign_form(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """The stored values of a campaign for the edit form (NotAllowed when the caller may not edit it)."""
    c = visible_campaign(session, viewer, campaign_id)
    units = unit_rows(session)
    if not may_edit(viewer, c, units):
        raise NotAllowed("no access")
    rule = {**DEFAULT_POINTS, **(c.points_rule or {})}
    status = status_of(c, today)
    if lifecycle(c, today) in ("closed", "archived"):
        status = "finished"  # closed or archived: frozen like a finished campaign
    return {"id": c.id, "name": c.name, "kind": c.kind, "start_date": c.start_date.isoformat(),
            "end_date": c.end_date.isoformat(), "unit_codes": [units[i].code for i in c.scope_unit_ids if i in units],
            "team_level": c.team_level, "target_per_day": c.target_per_day, "target_total": c.target_total,
            "team_scoring": c.team_scoring, **{f"points_{k}": rule[k] for k in POINT_KEYS},
            "status": status, "locked": list(_locked_fields(status))}


def _locked_fields(status: str) -> tuple[str, ...]:
    fields = ("name", "kind", "start_date", "end_date", "unit_codes", "team_level", "target_per_day",
              "target_total", "team_scoring", *[f"points_{k}" for k in POINT_KEYS])
    if status == "upcoming":
        return ()
    if status == "running":
        return tuple(f for f in fields if f not in RUNNING_EDITABLE)
    return fields


def unit_choices(session: Session, viewer: Viewer) -> list[dict]:
    """Units a caller may put in a campaign's scope: districts and stations in their subtree."""
    if viewer.role not in ("manager", "admin"):
        raise NotAllowed("no access")
    q = select(Unit).order_by(Unit.path)
    if viewer.unit_path:
        q = q.where(Unit.path.like(f"{viewer.unit_path}%"))
    return [{"code": u.code, "name": u.name, "name_en": u.name_en or u.name, "level": u.level, "depth": u.depth}
            for u in session.scalars(q)]


def _validate(session: Session, viewer: Viewer, data: dict, today: dt.date,
              existing: Campaign | None) -> tuple[dict, dict[str, tuple[str, str]]]:
    errors: dict[str, tuple[str, str]] = {}
    out: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not 2 <= len(name) <= 120:
        errors["name"] = ("请填写活动名称（2–120 个字）。", "Give the campaign a name (2–120 characters).")
    out["name"] = name
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        errors["kind"] = ("请选择活动类型。", "Choose the kind of campaign.")
    out["kind"] = kind
    start, end = _as_date(data.get("start_date")), _as_date(data.get("end_date"))
    if start is None:
        errors["start_date"] = ("请选择开始日期。", "Choose a start date.")
    elif existing is None and start < today:
        errors["start_date"] = ("开始日期不能早于今天。", "The start date cannot be in the past.")
    if end is None:
        errors["end_date"] = ("请选择结束日期。", "Choose an end date.")
    elif start is not None:
        if end < start:
            errors["end_date"] = ("结束日期不能早于开始日期。", "The end date cannot be before the start date.")
        elif (end - start).days + 1 > MAX_DAYS:
            errors["end_date"] = (f"活动最长 {MAX_DAYS} 天。", f"A campaign lasts at most {MAX_DAYS} days.")
        elif existing is not None and end != existing.end_date and end < today:
            errors["end_date"] = ("结束日期不能早于今天。", "The end date cannot be in the past.")
    out["start_date"], out["end_date"] = start, end
    codes = data.get("unit_codes") or []
    if isinstance(codes, str):
        codes = [codes]
    codes = list(dict.fromkeys(str(c) for c in codes)) if isinstance(codes, list) else []  # a repeated code counts once
    units = {}
    if len(codes) > MAX_UNITS:
        errors["unit_codes"] = (f"最多选择 {MAX_UNITS} 个参赛单位。", f"Choose at most {MAX_UNITS} units.")
        codes = []
    elif codes:
        units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    chosen = []
    if not codes and "unit_codes" not in errors:
        errors["unit_codes"] = ("请至少选择一个参赛单位。", "Choose at least one unit taking part.")
    for code in codes:
        u = units.get(code)
        if u is None or (viewer.unit_path is not None and not u.path.startswith(viewer.unit_path)):
            errors["unit_codes"] = ("只能选择您管辖范围内的单位。", "Choose only units inside your scope.")
            chosen = []
            break
        chosen.append(u)
    # a unit inside another chosen unit adds nothing: keep the outer one. In path order an outer unit
    # comes right before the units inside it, so one pass against the last kept unit suffices (linear).
    kept: list = []
    for u in sorted(chosen, key=lambda u: u.path):
        if not kept or not u.path.startswith(kept[-1].path):
            kept.append(u)
    chosen = kept
    out["scope_unit_ids"] = sorted({u.id for u in chosen})
    team_level = data.get("team_level")
    if team_level not in TEAM_LEVELS:
        errors["team_level"] = ("请选择队伍层级。", "Choose the team level.")
    out["team_level"] = team_level
    tpd = _as_number(data.get("target_per_day"))
    if kind in KINDS:
        low, high = VALUE_LIMITS[kind]
        if tpd is None or not low <= tpd <= high:
            errors["target_per_day"] = (f"每人每日目标应在 {low:g}–{high:g} 之间。",
                                        f"The daily target per person must be {low:g}–{high:g}.")
    out["target_per_day"] = tpd
    total = _as_number(data.get("target_total"))
    if data.get("target_total") not in (None, "") and (total is None or total <= 0):
        errors["target_total"] = ("总目标应为正数，或留空（按每人每日目标计算）。",
                                  "The overall target must be positive, or empty (daily target × members × days).")
    out["target_total"] = total
    scoring = data.get("team_scoring")
    if scoring not in SCORING:
        errors["team_scoring"] = ("请选择队伍计分方式。", "Choose how teams are scored.")
    out["team_scoring"] = scoring
    rule = {}
    for k in POINT_KEYS:
        raw = data.get(f"points_{k}")
        x = _as_number(raw if raw not in (None, "") else 0)
        if x is None or x < 0 or x > 1000 or not float(x).is_integer():
            errors[f"points_{k}"] = ("积分应为 0–1000 的整数。", "Points must be a whole number 0–1000.")
        else:
            rule[k] = int(x)
    out["points_rule"] = rule
    return out, errors


def save_campaign(session: Session, viewer: Viewer, data: dict, today: dt.date, campaign_id: Any = None) -> Campaign:
    """Create (``campaign_id`` None) or edit a campaign after validating every field.

    Managers act only on units inside their scope, admins anywhere, nobody else.
    Editable in full before it starts; while it runs only the name, end date and
    overall target; frozen after it ends."""
    if viewer.role not in ("manager", "admin"):
        raise NotAllowed("only health managers and administrators run campaigns")
    existing = None
    if campaign_id not in (None, ""):
        existing = visible_campaign(session, viewer, campaign_id)
        if not may_edit(viewer, existing, unit_rows(session)):
            raise NotAllowed("no access")
        status = status_of(existing, today)
        if existing.closed_at is not None or existing.archived_at is not None:
            raise CampaignError({"_": ("活动已关闭或归档，不能修改。", "The campaign was closed or archived; it cannot change.")})
        if status == "finished":
            raise CampaignError({"_": ("活动已结束，记录已冻结，不能修改。",
                                       "The campaign has ended; its record is frozen.")})
    values, errors = _validate(session, viewer, data, today, existing)
    if existing is not None and status_of(existing, today) == "running":
        stored = {"kind": existing.kind, "start_date": existing.start_date, "scope_unit_ids": sorted(existing.scope_unit_ids),
                  "team_level": existing.team_level, "target_per_day": existing.target_per_day,
                  "team_scoring": existing.team_scoring,
                  "points_rule": {**DEFAULT_POINTS, **(existing.points_rule or {})}}
        changed = [k for k, v in stored.items() if values.get(k) != v]
        if changed:
            errors["_"] = ("活动已开始：只能修改名称、结束日期和总目标。",
                           "The campaign has started: only its name, end date and overall target can change.")
    if errors:
        raise CampaignError(errors)
    if existing is None:
        campaign = Campaign(created_by_id=getattr(viewer, "user_id", None), **values)
        session.add(campaign)
    else:
        campaign = existing
        fields = RUNNING_EDITABLE if status_of(existing, today) == "running" else tuple(values)
        for k in fields:
            setattr(campaign, k, values[k])
    session.flush()
    bump_data_version(session, "campaign")
    return campaign


# --- close and archive ----------------------------------------------------------------------------
def close_campaign(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> Campaign:
    """End a running campaign early: it ends today (today's entries still count) and takes no more
    entries by hand from now on; its record is then frozen like any finished campaign."""
    c = _editable(session, viewer, campaign_id)
    if lifecycle(c, today) != "running":
        raise CampaignError({"_": ("只有进行中的活动可以关闭。", "Only a running campaign can be closed.")})
    c.closed_at = utcnow()
    c.end_date = today
    session.flush()
    bump_data_version(session, "campaign")
    return c


def archive_campaign(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> Campaign:
    """Take a campaign that is not running (not started, finished or closed) out of the default
    lists; it stays readable at its own address and under "show archived"."""
    c = _editable(session, viewer, campaign_id)
    state = lifecycle(c, today)
    if state == "archived":
        raise CampaignError({"_": ("活动已归档。", "The campaign is already archived.")})
    if state == "running":
        raise CampaignError({"_": ("进行中的活动请先关闭，再归档。", "Close a running campaign before archiving it.")})
    c.archived_at = utcnow()
    session.flush()
    bump_data_version(session, "campaign")
    return c


def _editable(session: Session, viewer: Viewer, campaign_id: Any) -> Campaign:
    if viewer.role not in ("manager", "admin"):
        raise NotAllowed("only health managers and administrators run campaigns")
    c = visible_campaign(session, viewer, campaign_id)
    if not may_edit(viewer, c, unit_rows(session)):
        raise NotAllowed("no access")
    return c


# --- points ---------------------------------------------------------------------------------------
def award_points(session: Session, campaign_id: int, today: dt.date | None = None, officer_id: int | None = None) -> int:
    """Recompute the campaign's points from its counted entries and the points rule.

    Per officer and completed campaign week (awarded at the week's last day):
    ``active_day`` points per day with activity, ``daily_target`` points per
    day meeting the daily target and ``full_week_bonus`` when all seven days
    met it. Idempotent: the rule's rows are replaced (only ``officer_id``'s when given: after one
    officer's own entry). Returns the points total."""
    c = session.get(Campaign, campaign_id)
    today = today or dt.date.today()
    rule = {**DEFAULT_POINTS, **(c.points_rule or {})}
    mine = (Points.officer_id == officer_id,) if officer_id is not None else ()
    session.execute(delete(Points).where(Points.campaign_id == c.id, Points.reason.in_(POINT_REASONS.values()), *mine))
    last = min(c.end_date, today)
    weeks = [(c.start_date + dt.timedelta(days=7 * k), c.start_date + dt.timedelta(days=7 * k + 6))
             for k in range(((c.end_date - c.start_date).days + 1) // 7 + 1)]
    weeks = [(a, min(b, c.end_date)) for a, b in weeks if a <= c.end_date and min(b, c.end_date) <= last]
    if not weeks:
        return 0
    target = c.target_per_day or 0
    week = case(*[(CampaignEntry.day <= b, k) for k, (_a, b) in enumerate(weeks[:-1])], else_=len(weeks) - 1) \
        if len(weeks) > 1 else None
    cols = [CampaignEntry.officer_id, func.count(), func.sum(case((CampaignEntry.value >= target, 1), else_=0))]
    q = select(*cols, week.label("w") if week is not None else literal(0).label("w")).where(
        CampaignEntry.campaign_id == c.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0,
        CampaignEntry.day >= c.start_date, CampaignEntry.day <= weeks[-1][1],
        *((CampaignEntry.officer_id == officer_id,) if officer_id is not None else ()))
    q = q.group_by(CampaignEntry.officer_id, week) if week is not None else q.group_by(CampaignEntry.officer_id)
    new = []
    for oid, active, hit, k in session.execute(q):
        a, b = weeks[int(k or 0)]
        at = dt.datetime.combine(b, dt.time(22))
        for key, n in (("per_active_day", active), ("per_day_target", hit or 0)):
            if rule.get(key) and n:
                new.append({"campaign_id": c.id, "officer_id": oid, "points": int(rule[key]) * int(n),
                            "reason": POINT_REASONS[key], "awarded_at": at})
        if rule.get("full_week_bonus") and target and (b - a).days == 6 and (hit or 0) == 7:
            new.append({"campaign_id": c.id, "officer_id": oid, "points": int(rule["full_week_bonus"]),
                        "reason": "full_week_bonus", "awarded_at": at})
    if new:
        session.execute(Points.__table__.insert(), new)
    return sum(r["points"] for r in new)


# --- the officer's choice -------------------------------------------------------------------------
def set_hide_preference(session: Session, officer_id: int, hide: bool) -> bool:
    """Hide (or show) the officer's name on leaderboards; True when the stored choice changed."""
    pref = session.get(OfficerPreference, officer_id)
    if pref is not None and pref.hide_from_leaderboards == bool(hide):
        return False
    if pref is None:
        if not hide:
            return False
        session.add(OfficerPreference(officer_id=officer_id, hide_from_leaderboards=True))
    else:
        pref.hide_from_leaderboards = bool(hide)
    session.flush()
    return True
