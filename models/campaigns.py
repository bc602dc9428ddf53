"""Health campaigns: who may see and run them, and every figure their pages show.

A campaign's scope is a list of units; its members are the active officers in
those subtrees, grouped into teams at ``team_level`` (the ancestor unit at that
level). Activity lives in ``campaign_entry`` (one row per officer per day, the
highest value kept); flagged rows (implausible values) are never counted.

Visibility: a campaign is visible to a caller when one of its scope units and
the caller's scope subtree overlap (officers: their own unit lies inside the
campaign's scope). The figures of a visible campaign are the campaign's own
(a team PK is public to everyone taking part); leaders get them with groups
under five suppressed and never see the individual leaderboard.

Functions take ``viewer``: any object with ``role``, ``unit_path`` (None = the
whole force) and ``officer_id`` — the callbacks pass ``web.access.Scope``.
Error messages are (zh, en) pairs; the web layer picks the language.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

import numpy as np
from sqlalchemy import Date, Integer, and_, case, cast, delete, func, literal, select
from sqlalchemy.orm import Session

from models.db import bump_data_version
from models.items import ITEMS
from models.schema import (
    Campaign, CampaignEntry, Observation, Officer, OfficerPreference, Points, Unit,
)
from models.vocab import CAMPAIGN_KINDS, SMALL_GROUP, TEAM_SCORING

KINDS = tuple(CAMPAIGN_KINDS)
SCORING = tuple(TEAM_SCORING)
TEAM_LEVELS = ("district", "station")
IMPLAUSIBLE_STEPS = ITEMS["steps"].high   # a day above is flagged, never counted (models.items)
TOP_N = 20
MAX_DAYS = 366
MAX_UNITS = 200  # units chosen for one campaign (a whole force's stations fit)
# points rule: per day with activity, per day meeting the daily target, bonus per full week on target
POINT_KEYS = ("per_active_day", "per_day_target", "full_week_bonus")
POINT_REASONS = {"per_active_day": "active_day", "per_day_target": "daily_target",
                 "full_week_bonus": "full_week_bonus"}
DEFAULT_POINTS = {"per_active_day": 0, "per_day_target": 1, "full_week_bonus": 10}
VALUE_LIMITS = {"steps": (1, IMPLAUSIBLE_STEPS), "quiz": (1, 100), "checkin": (1, 1)}
DID_MEASURES = ("weight_kg", "bmi", "sbp")
DID_MIN_GROUP = 10            # officers with before and after values, per group
BASELINE_DAYS = 365           # "before": latest value in the year up to the start
FOLLOW_UP_DAYS = 180          # "after": first value from the last two weeks to 180 days after the end
PARTICIPANT_SHARE = 0.25      # participant: active on at least a quarter of the campaign days


class Viewer(Protocol):
    role: str
    unit_path: str | None
    officer_id: int | None


class NotVisible(LookupError):
    """The campaign does not exist or lies outside the caller's scope (same answer for both)."""


class NotAllowed(PermissionError):
    """The caller's role or scope does not allow this change."""


class CampaignError(ValueError):
    """Validation failed; ``errors`` maps a form field ("_" for the whole form) to a (zh, en) message."""

    def __init__(self, errors: dict[str, tuple[str, str]]):
        super().__init__("; ".join(en for _, en in errors.values()))
        self.errors = errors


# --- status, scope and membership ---------------------------------------------------------
def status_of(campaign: Campaign, today: dt.date) -> str:
    if today < campaign.start_date:
        return "upcoming"
    if today > campaign.end_date:
        return "finished"
    return "running"


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    name_en: str | None
    level: str
    path: str
    depth: int


def _units(session: Session) -> dict[int, UnitRow]:
    """Every unit, without its boundary polygon (a few hundred rows at most); read once per session."""
    if "campaign_units" not in session.info:
        session.info["campaign_units"] = {r[0]: UnitRow(*r) for r in _core(session, select(
            Unit.id, Unit.code, Unit.name, Unit.name_en, Unit.level, Unit.path, Unit.depth))}
    return session.info["campaign_units"]


def _core(session: Session, stmt):
    """Rows through the Core connection: no ORM bookkeeping for the thousands of rows a campaign sums."""
    return session.connection().execute(stmt).all()


def _subtree_ids(units: dict[int, UnitRow], paths: list[str]) -> list[int]:
    return [u.id for u in units.values() if any(u.path.startswith(p) for p in paths)]


def _member_count(session: Session, units: dict[int, UnitRow], paths: list[str]) -> int:
    ids = _subtree_ids(units, paths)
    if not ids:
        return 0
    return session.scalar(select(func.count()).select_from(Officer).where(Officer.active, Officer.unit_id.in_(ids))) or 0


def _scope_paths(campaign: Campaign, units: dict[int, UnitRow]) -> list[str]:
    return [units[i].path for i in (campaign.scope_unit_ids or []) if i in units]


def _overlaps(paths: Iterable[str], scope_path: str | None) -> bool:
    if scope_path is None:
        return True
    return any(p.startswith(scope_path) or scope_path.startswith(p) for p in paths)


def _officer_path(session: Session, officer_id: int | None) -> str | None:
    if officer_id is None:
        return None
    return session.scalar(select(Unit.path).join(Officer, Officer.unit_id == Unit.id).where(Officer.id == officer_id))


def _visible_to(viewer: Viewer, paths: list[str], officer_path: str | None) -> bool:
    if viewer.role == "officer":
        return officer_path is not None and any(officer_path.startswith(p) for p in paths)
    if viewer.role == "admin":
        return True
    return _overlaps(paths, viewer.unit_path)


def visible_campaign(session: Session, viewer: Viewer, campaign_id: Any) -> Campaign:
    """The campaign with this id if the caller may see it; NotVisible otherwise (forged ids included)."""
    try:
        cid = int(str(campaign_id))
    except (TypeError, ValueError):
        raise NotVisible("no access") from None
    campaign = session.get(Campaign, cid)
    if campaign is None:
        raise NotVisible("no access")
    units = _units(session)
    if not _visible_to(viewer, _scope_paths(campaign, units), _officer_path(session, viewer.officer_id)):
        raise NotVisible("no access")
    return campaign


@dataclass
class _Ctx:
    """A campaign with its members, teams and the days that count so far."""

    campaign: Campaign
    units: dict[int, UnitRow]
    member_unit: dict[int, int]            # officer id -> unit id
    team_of_unit: dict[int, int]           # unit id -> team unit id
    first_day: dt.date
    last_day: dt.date | None               # last day with data that counts (None: nothing yet)
    status: str
    team_members: dict[int, int] = field(default_factory=dict)

    @property
    def days_elapsed(self) -> int:
        return 0 if self.last_day is None else (self.last_day - self.first_day).days + 1

    @property
    def days_total(self) -> int:
        return (self.campaign.end_date - self.campaign.start_date).days + 1


def _team_depth(units: dict[int, UnitRow], level: str) -> int:
    depths = [u.depth for u in units.values() if u.level == level]
    return min(depths) if depths else {"district": 1, "station": 2}.get(level, 2)


def _context(session: Session, campaign: Campaign, today: dt.date) -> _Ctx:
    units = _units(session)
    paths = _scope_paths(campaign, units)
    unit_ids = _subtree_ids(units, paths)
    member_unit = dict(_core(session, select(Officer.id, Officer.unit_id).where(
        Officer.active, Officer.unit_id.in_(unit_ids)))) if unit_ids else {}
    depth = _team_depth(units, campaign.team_level)
    by_code = {u.code: u.id for u in units.values()}
    team_of_unit: dict[int, int] = {}
    for uid in set(member_unit.values()):
        codes = [c for c in units[uid].path.strip("/").split("/") if c]
        team_of_unit[uid] = by_code.get(codes[min(depth, len(codes) - 1)], uid)
    team_members: dict[int, int] = {}
    for uid in member_unit.values():
        t = team_of_unit[uid]
        team_members[t] = team_members.get(t, 0) + 1
    status = status_of(campaign, today)
    last_day = None
    if status != "upcoming":
        latest = session.scalar(select(func.max(CampaignEntry.day)).where(
            CampaignEntry.campaign_id == campaign.id, CampaignEntry.day <= min(campaign.end_date, today)))
        if status == "finished":
            last_day = campaign.end_date
        elif latest is not None:
            last_day = latest
    return _Ctx(campaign, units, member_unit, team_of_unit, campaign.start_date, last_day, status, team_members)


def _counted_all(campaign: Campaign):
    """The entries that count, without a day range: the loader keeps every entry inside the campaign
    and not after today, and without the range the planner answers officer-wise queries from the
    covering index ix_campaign_entry_officer (with it, it reads the table)."""
    return and_(CampaignEntry.campaign_id == campaign.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0)


def _counted(campaign: Campaign, last_day: dt.date | None):
    """The entries that count: this campaign, not flagged, above zero, inside the days so far."""
    end = last_day or campaign.start_date - dt.timedelta(days=1)
    return and_(CampaignEntry.campaign_id == campaign.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0,
                CampaignEntry.day >= campaign.start_date, CampaignEntry.day <= end)


def _week_bounds(first: dt.date, last: dt.date | None) -> list[tuple[dt.date, dt.date]]:
    """Campaign weeks (week 1 starts on the first day) up to ``last``."""
    if last is None or last < first:
        return []
    out = []
    a = first
    while a <= last:
        out.append((a, min(a + dt.timedelta(days=6), last)))
        a += dt.timedelta(days=7)
    return out


def _week_index(session: Session, start: dt.date):
    """The campaign week (0-based) of an entry's day, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return cast((func.julianday(CampaignEntry.day) - func.julianday(start.isoformat())) / 7, Integer)
    return cast(CampaignEntry.day - cast(literal(start), Date), Integer) // 7  # PostgreSQL: date - date is days


def _per_officer(session: Session, ctx: _Ctx) -> dict[int, tuple[float, int, int]]:
    """officer id -> (total, active days, days meeting the daily target), members only.

    One pass over the campaign's entries in officer order (index ix_campaign_entry_officer);
    entries lie inside the campaign and not after today (the loader refuses others)."""
    c = ctx.campaign
    if ctx.last_day is None:
        return {}
    target = c.target_per_day or 0
    cols = [CampaignEntry.officer_id, func.sum(CampaignEntry.value), func.count(),
            func.sum(case((CampaignEntry.value >= target, 1), else_=0))]
    rows = _core(session, select(*cols).where(_counted_all(c)).group_by(CampaignEntry.officer_id))
    members = ctx.member_unit
    return {r[0]: (float(r[1] or 0), int(r[2]), int(r[3] or 0)) for r in rows if r[0] in members}


def unit_label(unit: UnitRow) -> dict:
    return {"code": unit.code, "name": unit.name, "name_en": unit.name_en or unit.name}


# --- lists ----------------------------------------------------------------------------------
def list_campaigns(session: Session, viewer: Viewer, today: dt.date) -> list[dict]:
    """Campaigns the caller may see, newest first, with status, members and progress."""
    units = _units(session)
    officer_path = _officer_path(session, viewer.officer_id)
    out = []
    campaigns = [c for c in session.scalars(select(Campaign).order_by(Campaign.start_date.desc(), Campaign.id.desc()))
                 if _visible_to(viewer, _scope_paths(c, units), officer_path)]
    if not campaigns:
        return []
    for c in campaigns:
        paths = _scope_paths(c, units)
        members = _member_count(session, units, paths)
        total = float(session.scalar(select(func.sum(CampaignEntry.value)).where(
            CampaignEntry.campaign_id == c.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0)) or 0)
        target = overall_target(c, members)
        status = status_of(c, today)
        elapsed = 0.0 if status == "upcoming" else min(1.0, ((min(today, c.end_date) - c.start_date).days + 1)
                                                       / ((c.end_date - c.start_date).days + 1))
        out.append({
            "id": c.id, "name": c.name, "kind": c.kind, "status": status,
            "start": c.start_date.isoformat(), "end": c.end_date.isoformat(),
            "units": [unit_label(units[i]) for i in c.scope_unit_ids or [] if i in units],
            "members": members, "total": total, "target": target,
            "progress": (total / target) if target else None, "time_elapsed": elapsed,
            "team_scoring": c.team_scoring,
            "editable": _may_edit(viewer, c, units) and status != "finished",
        })
    return out


def overall_target(campaign: Campaign, members: int) -> float | None:
    """The overall target: as set, or the daily target for every member on every day."""
    if campaign.target_total:
        return float(campaign.target_total)
    if campaign.target_per_day and members:
        return float(campaign.target_per_day) * members * ((campaign.end_date - campaign.start_date).days + 1)
    return None


# --- progress and projection --------------------------------------------------------------
def _design(days: np.ndarray, weekend: np.ndarray, use_weekend: bool) -> np.ndarray:
    cols = [np.ones_like(days, dtype=float), days.astype(float)]
    if use_weekend:
        cols.append(weekend.astype(float))
    return np.column_stack(cols)


def project_total(daily: list[float], day_dates: list[dt.date], end: dt.date, level: float = 0.95) -> dict | None:
    """Project the cumulative total to ``end`` from daily totals.

    OLS of the daily total on a linear trend (drop-off) and a weekend
    indicator (weekend dips); the interval of the projected cumulative sum
    adds the parameter uncertainty of the summed forecasts (xᵀΣx) to the
    residual variance of each future day, with t on the residual degrees of
    freedom. None when there are fewer than five days to fit on."""
    import statsmodels.api as sm
    from scipy import stats

    n = len(daily)
    if n < 5 or not day_dates:
        return None
    start = day_dates[0]
    t = np.array([(d - start).days for d in day_dates])
    wk = np.array([d.weekday() >= 5 for d in day_dates])
    use_weekend = bool(wk.any() and (~wk).any() and n >= 7)
    fit = sm.OLS(np.asarray(daily, dtype=float), _design(t, wk, use_weekend)).fit()
    future = [day_dates[-1] + dt.timedelta(days=k) for k in range(1, (end - day_dates[-1]).days + 1)]
    observed = float(np.sum(daily))
    if not future:
        return {"dates": [], "mean": [], "low": [], "high": [], "final": observed, "final_low": observed,
                "final_high": observed, "slope_per_day": float(fit.params[1]), "weekend_effect":
                float(fit.params[2]) if use_weekend else None, "observed": observed}
    tf = np.array([(d - start).days for d in future])
    wf = np.array([d.weekday() >= 5 for d in future])
    xf = _design(tf, wf, use_weekend)
    pred = np.maximum(xf @ fit.params, 0.0)  # a day's total cannot be negative
    cum_x = np.cumsum(xf, axis=0)
    cov = np.asarray(fit.cov_params())
    sigma2 = float(fit.scale)
    var = np.einsum("ij,jk,ik->i", cum_x, cov, cum_x) + np.arange(1, len(future) + 1) * sigma2
    q = stats.t.ppf(0.5 + level / 2, max(fit.df_resid, 1))
    mean = observed + np.cumsum(pred)
    half = q * np.sqrt(var)
    low = np.maximum(mean - half, observed)
    high = mean + half
    return {"dates": [d.isoformat() for d in future], "mean": mean.tolist(), "low": low.tolist(),
            "high": high.tolist(), "final": float(mean[-1]), "final_low": float(low[-1]),
            "final_high": float(high[-1]), "slope_per_day": float(fit.params[1]),
            "weekend_effect": float(fit.params[2]) if use_weekend else None, "observed": observed,
            "sd_final": float(np.sqrt(var[-1])), "df": float(fit.df_resid)}


def _last_day(session: Session, campaign: Campaign, status: str, today: dt.date) -> dt.date | None:
    """The last day that counts: the end for a finished campaign, else the latest day with data."""
    if status == "upcoming":
        return None
    if status == "finished":
        return campaign.end_date
    return session.scalar(select(func.max(CampaignEntry.day)).where(
        CampaignEntry.campaign_id == campaign.id, CampaignEntry.day <= min(campaign.end_date, today)))


def campaign_progress(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Header facts and the cumulative progress against the target, with its projection to the end."""
    c = visible_campaign(session, viewer, campaign_id)
    units = _units(session)
    paths = _scope_paths(c, units)
    members = _member_count(session, units, paths)
    status = status_of(c, today)
    last_day = _last_day(session, c, status, today)
    days_elapsed = 0 if last_day is None else (last_day - c.start_date).days + 1
    rows = session.execute(
        select(CampaignEntry.day, func.sum(CampaignEntry.value), func.count())
        .where(_counted(c, last_day)).group_by(CampaignEntry.day).order_by(CampaignEntry.day)).all()
    by_day = {d: (float(s or 0), int(n)) for d, s, n in rows}
    dates = [c.start_date + dt.timedelta(days=k) for k in range(days_elapsed)]
    daily = [by_day.get(d, (0.0, 0))[0] for d in dates]
    active = [by_day.get(d, (0.0, 0))[1] for d in dates]
    cumulative = np.cumsum(daily).tolist() if daily else []
    target = overall_target(c, members)
    projection = project_total(daily, dates, c.end_date) if status == "running" else None
    if projection is not None and target:
        from scipy import stats

        sd = projection.get("sd_final")
        if sd:
            projection["p_target"] = float(1 - stats.t.cdf((target - projection["final"]) / sd, projection["df"]))
        else:
            projection["p_target"] = 1.0 if projection["final"] >= target else 0.0
    flagged = session.scalar(select(func.count()).select_from(CampaignEntry).where(
        CampaignEntry.campaign_id == c.id, CampaignEntry.flagged.is_(True))) or 0
    if viewer.role == "leader" and members < SMALL_GROUP:
        active = [None] * len(active)
    return {
        "id": c.id, "name": c.name, "kind": c.kind, "status": status,
        "start": c.start_date.isoformat(), "end": c.end_date.isoformat(),
        "units": [unit_label(units[i]) for i in c.scope_unit_ids or [] if i in units],
        "team_level": c.team_level, "team_scoring": c.team_scoring,
        "target_per_day": c.target_per_day, "target_total": c.target_total, "target": target,
        "points_rule": {**DEFAULT_POINTS, **(c.points_rule or {})},
        "members": members, "days_total": (c.end_date - c.start_date).days + 1, "days_elapsed": days_elapsed,
        "last_day": last_day.isoformat() if last_day else None,
        "total": float(cumulative[-1]) if cumulative else 0.0, "flagged": flagged,
        "series": {"dates": [d.isoformat() for d in dates], "daily": daily, "active": active,
                   "cumulative": cumulative},
        "projection": projection,
        "editable": _may_edit(viewer, c, units) and status != "finished",
    }


def campaign_participation(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Members active in each campaign week (drop-off), and how many took part at all.

    For leaders, counts under five are removed (``suppressed``)."""
    c = visible_campaign(session, viewer, campaign_id)
    ctx = _context(session, c, today)
    members = len(ctx.member_unit)
    bounds = _week_bounds(ctx.first_day, ctx.last_day)
    active_by_week = [0] * len(bounds)
    participants = 0
    if bounds:
        # the loader only accepts members' entries, so these counts need no join to the roster
        pairs = select(CampaignEntry.officer_id, _week_index(session, c.start_date).label("w")).distinct() \
            .where(_counted_all(c)).subquery()
        for k, n in _core(session, select(pairs.c.w, func.count()).group_by(pairs.c.w)):
            if 0 <= int(k) < len(bounds):
                active_by_week[int(k)] = int(n)
        participants = session.scalar(select(func.count(func.distinct(CampaignEntry.officer_id)))
                                      .where(_counted_all(c))) or 0
    weeks = []
    for k, (a, b) in enumerate(bounds):
        n = active_by_week[k]
        weeks.append({"week": k + 1, "start": a.isoformat(), "end": b.isoformat(), "days": (b - a).days + 1,
                      "active": n, "rate": n / members if members else None})
    out = {"members": members, "participants": participants, "weeks": weeks, "kind": c.kind,
           "participation": participants / members if members else None}
    if viewer.role == "leader":
        for w in weeks:
            if w["active"] < SMALL_GROUP or members < SMALL_GROUP:
                w.update(active=None, rate=None, suppressed=True)
        if members < SMALL_GROUP or participants < SMALL_GROUP:
            out.update(participants=None, participation=None, suppressed=True)
    return out


def campaign_points(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Points awarded in the campaign, by reason (and the rule that awards them)."""
    c = visible_campaign(session, viewer, campaign_id)
    rows = session.execute(select(Points.reason, func.sum(Points.points), func.count(func.distinct(Points.officer_id)))
                           .where(Points.campaign_id == c.id).group_by(Points.reason)).all()
    by_reason = {r: {"points": int(p or 0), "officers": int(n)} for r, p, n in rows}
    if viewer.role == "leader":
        for v in by_reason.values():
            if v["officers"] < SMALL_GROUP:
                v.update(officers=None, suppressed=True)
    mine = None
    if viewer.role == "officer" and viewer.officer_id is not None:
        mine = int(session.scalar(select(func.coalesce(func.sum(Points.points), 0)).where(
            Points.campaign_id == c.id, Points.officer_id == viewer.officer_id)) or 0)
    return {"total": sum(v["points"] for v in by_reason.values()), "by_reason": by_reason, "mine": mine,
            "rule": {**DEFAULT_POINTS, **(c.points_rule or {})}, "target_per_day": c.target_per_day,
            "kind": c.kind}


# --- leaderboards ---------------------------------------------------------------------------
def _team_rows(ctx: _Ctx, per_officer: dict[int, tuple[float, int, int]]) -> list[dict]:
    c = ctx.campaign
    days = max(ctx.days_elapsed, 1)
    target = c.target_per_day or 0
    agg: dict[int, dict] = {t: {"total": 0.0, "participants": 0, "meeting": 0} for t in ctx.team_members}
    for oid, (total, _n, _hit) in per_officer.items():
        a = agg[ctx.team_of_unit[ctx.member_unit[oid]]]
        a["total"] += total
        a["participants"] += 1
        if target and total / days >= target:
            a["meeting"] += 1
    rows = []
    for team, members in ctx.team_members.items():
        a = agg[team]
        mean = a["total"] / members / days
        share = a["meeting"] / members
        score = {"mean": mean, "total": a["total"], "share_target": share}.get(c.team_scoring, mean)
        rows.append({"team": unit_label(ctx.units[team]), "members": members, "participants": a["participants"],
                     "participation": a["participants"] / members, "total": a["total"],
                     "mean_per_day": mean, "share_target": share, "score": score})
    rows.sort(key=lambda r: (-r["score"], r["team"]["code"]))
    _rank(rows, "score", "rank")
    for i, r in enumerate(sorted(rows, key=lambda r: -r["total"])):
        r["rank_total"] = i + 1
    for i, r in enumerate(sorted(rows, key=lambda r: -r["mean_per_day"])):
        r["rank_mean"] = i + 1
    return rows


def _rank(rows: list[dict], key: str, out: str) -> None:
    """Competition ranking (1, 2, 2, 4) over rows already sorted by ``key`` descending."""
    prev, rank = None, 0
    for i, r in enumerate(rows):
        if r[key] != prev:
            rank, prev = i + 1, r[key]
        r[out] = rank


def team_leaderboard(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Teams ranked by the campaign's scoring rule, with mean, total, share meeting target and participation.

    For leaders, teams under five members carry ``suppressed`` (their numbers are removed)."""
    campaign = visible_campaign(session, viewer, campaign_id)
    ctx = _context(session, campaign, today)
    rows = _team_rows(ctx, _per_officer(session, ctx))
    if viewer.role == "leader":
        for r in rows:
            if r["members"] < SMALL_GROUP:
                r.update(suppressed=True, members=None, participants=None, participation=None, total=None,
                         mean_per_day=None, share_target=None, score=None, rank=None, rank_total=None,
                         rank_mean=None)
    return {"scoring": campaign.team_scoring, "kind": campaign.kind, "target_per_day": campaign.target_per_day,
            "days_elapsed": ctx.days_elapsed, "rows": rows}


def _hidden(session: Session, ids: Iterable[int]) -> set[int]:
    ids = list(ids)
    if not ids:
        return set()
    return set(session.scalars(select(OfficerPreference.officer_id).where(
        OfficerPreference.officer_id.in_(ids), OfficerPreference.hide_from_leaderboards.is_(True))))


def individual_leaderboard(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date,
                           top: int = TOP_N) -> dict:
    """The top officers by their total, plus the caller's own row for an officer.

    Officers who hide themselves appear as anonymous to everyone but themselves.
    Leaders get no individual rows (they see names only of red/orange officers)."""
    campaign = visible_campaign(session, viewer, campaign_id)
    if viewer.role == "leader":
        return {"rows": [], "me": None, "members": None, "withheld": True}
    ctx = _context(session, campaign, today)
    per = _per_officer(session, ctx)
    ranked = sorted(per.items(), key=lambda kv: (-kv[1][0], kv[0]))
    rows = [{"officer_id": oid, "total": v[0], "active_days": v[1], "target_days": v[2]} for oid, v in ranked]
    _rank(rows, "total", "rank")
    me_id = viewer.officer_id if viewer.role == "officer" else None
    shown = rows[:top]
    me = next((r for r in rows if r["officer_id"] == me_id), None)
    if me_id is not None and me is None and me_id in ctx.member_unit:
        me = {"officer_id": me_id, "total": 0.0, "active_days": 0, "target_days": 0, "rank": len(rows) + 1}
    wanted = {r["officer_id"] for r in shown} | ({me["officer_id"]} if me else set())
    info = {o.id: o for o in session.scalars(select(Officer).where(Officer.id.in_(wanted)))} if wanted else {}
    hidden = _hidden(session, wanted)
    days = max(ctx.days_elapsed, 1)

    def view(r: dict) -> dict:
        oid = r["officer_id"]
        mine = oid == me_id
        anonymous = oid in hidden and not mine
        officer = info[oid]
        team = ctx.units[ctx.team_of_unit[ctx.member_unit[oid]]]
        return {"rank": r["rank"], "me": mine, "anonymous": anonymous, "hidden": oid in hidden,
                "name": None if anonymous else officer.name,
                "team": None if anonymous else unit_label(team),
                "total": r["total"], "per_day": r["total"] / days, "active_days": r["active_days"],
                "target_days": r["target_days"]}

    return {"rows": [view(r) for r in shown], "me": view(me) if me else None, "members": len(ctx.member_unit),
            "ranked": len(rows), "days_elapsed": ctx.days_elapsed, "kind": campaign.kind, "withheld": False}


# --- the officer's own view ----------------------------------------------------------------
def officer_campaigns(session: Session, officer_id: int, today: dt.date) -> list[dict]:
    """Each campaign the officer belongs to: their total, active days, rank among members and points."""
    path = _officer_path(session, officer_id)
    if path is None:
        return []
    units = _units(session)
    out = []
    for c in session.scalars(select(Campaign).order_by(Campaign.start_date.desc(), Campaign.id.desc())):
        paths = _scope_paths(c, units)
        if not any(path.startswith(p) for p in paths):
            continue
        status = status_of(c, today)
        end = min(c.end_date, today)
        counted = and_(CampaignEntry.campaign_id == c.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0)
        mine = session.execute(select(func.coalesce(func.sum(CampaignEntry.value), 0), func.count(),
                                      func.sum(case((CampaignEntry.value >= (c.target_per_day or 0), 1), else_=0)))
                               .where(counted, CampaignEntry.officer_id == officer_id)).one()
        total = float(mine[0] or 0)
        totals = (select(CampaignEntry.officer_id, func.sum(CampaignEntry.value).label("s"))
                  .where(counted).group_by(CampaignEntry.officer_id).subquery())
        ahead = session.scalar(select(func.count()).select_from(totals).where(totals.c.s > total)) or 0
        members = _member_count(session, units, paths)
        points = session.scalar(select(func.coalesce(func.sum(Points.points), 0))
                                .where(Points.campaign_id == c.id, Points.officer_id == officer_id)) or 0
        days = 0 if status == "upcoming" else (end - c.start_date).days + 1
        out.append({"id": c.id, "name": c.name, "kind": c.kind, "status": status,
                    "start": c.start_date.isoformat(), "end": c.end_date.isoformat(),
                    "total": total, "active_days": int(mine[1] or 0), "target_days": int(mine[2] or 0),
                    "days": days, "per_day": total / days if days else 0.0, "target_per_day": c.target_per_day,
                    "rank": ahead + 1 if status != "upcoming" else None, "members": members,
                    "points": int(points)})
    return out


def hide_preference(session: Session, officer_id: int) -> bool:
    pref = session.get(OfficerPreference, officer_id)
    return bool(pref and pref.hide_from_leaderboards)


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


# --- points -------------------------------------------------------------------------------------
def award_points(session: Session, campaign_id: int, today: dt.date | None = None) -> int:
    """Recompute the campaign's points from its counted entries and the points rule.

    Per officer and completed campaign week (awarded at the week's last day):
    ``active_day`` points per day with activity, ``daily_target`` points per
    day meeting the daily target and ``full_week_bonus`` when all seven days
    met it. Idempotent: the rule's rows are replaced. Returns the points total."""
    c = session.get(Campaign, campaign_id)
    today = today or dt.date.today()
    rule = {**DEFAULT_POINTS, **(c.points_rule or {})}
    session.execute(delete(Points).where(Points.campaign_id == c.id, Points.reason.in_(POINT_REASONS.values())))
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
        CampaignEntry.day >= c.start_date, CampaignEntry.day <= weeks[-1][1])
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


# --- create and edit ------------------------------------------------------------------------------
RUNNING_EDITABLE = ("name", "end_date", "target_total")


def _may_edit(viewer: Viewer, campaign: Campaign, units: dict[int, UnitRow]) -> bool:
    if viewer.role == "admin":
        return True
    if viewer.role != "manager":
        return False
    paths = _scope_paths(campaign, units)
    return bool(paths) and all(viewer.unit_path is None or p.startswith(viewer.unit_path) for p in paths)


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
    units = _units(session)
    if not _may_edit(viewer, c, units):
        raise NotAllowed("no access")
    rule = {**DEFAULT_POINTS, **(c.points_rule or {})}
    status = status_of(c, today)
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
        if not _may_edit(viewer, existing, _units(session)):
            raise NotAllowed("no access")
        status = status_of(existing, today)
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
    bump_data_version(session)
    return campaign


# --- did it work? -----------------------------------------------------------------------------------
def _did_one(rows: list[tuple[int, float, float, bool]]) -> dict:
    """DiD from (officer, before, after, participant) rows: OLS of the value on group × period,
    standard errors clustered by officer."""
    import pandas as pd
    import statsmodels.formula.api as smf

    part = [r for r in rows if r[3]]
    non = [r for r in rows if not r[3]]
    res: dict[str, Any] = {"n_participants": len(part), "n_others": len(non)}
    for label, group in (("participants", part), ("others", non)):
        res[f"{label}_before"] = float(np.mean([r[1] for r in group])) if group else None
        res[f"{label}_after"] = float(np.mean([r[2] for r in group])) if group else None
        res[f"{label}_change"] = float(np.mean([r[2] - r[1] for r in group])) if group else None
    if len(part) < DID_MIN_GROUP or len(non) < DID_MIN_GROUP:
        res["verdict"] = "insufficient"
        return res
    long = pd.DataFrame(
        [(oid, v0, 0, int(p)) for oid, v0, _v1, p in rows] + [(oid, v1, 1, int(p)) for oid, _v0, v1, p in rows],
        columns=["officer", "y", "post", "treated"])
    fit = smf.ols("y ~ treated * post", data=long).fit(cov_type="cluster", cov_kwds={"groups": long["officer"]})
    low, high = fit.conf_int().loc["treated:post"]
    est = float(fit.params["treated:post"])
    res.update(did=est, ci_low=float(low), ci_high=float(high), p=float(fit.pvalues["treated:post"]))
    res["verdict"] = "lower" if high < 0 else "higher" if low > 0 else "unclear"
    return res


def did_it_work(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Change in weight, BMI and SBP for participants vs the other members of a finished campaign.

    Participants were active on at least a quarter of the campaign's days; the
    comparison group is every other member. "Before" is each officer's latest
    value in the year up to the start; "after" the first value from the last two
    weeks of the campaign up to 180 days after it. Observational: officers chose
    to take part, so the estimate is an association, not proof of an effect."""
    campaign = visible_campaign(session, viewer, campaign_id)
    ctx = _context(session, campaign, today)
    if ctx.status != "finished":
        return {"status": ctx.status, "measures": {}}
    c = campaign
    per = _per_officer(session, ctx)
    need = math.ceil(PARTICIPANT_SHARE * ctx.days_total)
    participant = {oid for oid, v in per.items() if v[1] >= need}
    before_from = dt.datetime.combine(c.start_date - dt.timedelta(days=BASELINE_DAYS), dt.time())
    before_to = dt.datetime.combine(c.start_date, dt.time.max)
    after_from = dt.datetime.combine(c.end_date - dt.timedelta(days=13), dt.time())
    after_to = dt.datetime.combine(min(c.end_date + dt.timedelta(days=FOLLOW_UP_DAYS), today), dt.time.max)
    def pick(code: str, lo: dt.datetime, hi: dt.datetime, latest: bool):
        # one index seek per officer and code (uq_observation starts with officer, code, time)
        return (select(Observation.value)
                .where(Observation.officer_id == Officer.id, Observation.code == code,
                       Observation.observed_at.between(lo, hi))
                .order_by(Observation.observed_at.desc() if latest else Observation.observed_at.asc())
                .limit(1).correlate(Officer).scalar_subquery())

    cols = [pick(code, *window) for code in DID_MEASURES
            for window in ((before_from, before_to, True), (after_from, after_to, False))]
    unit_ids = _subtree_ids(ctx.units, _scope_paths(c, ctx.units))
    before: dict[tuple[int, str], float] = {}
    after: dict[tuple[int, str], float] = {}
    for row in _core(session, select(Officer.id, *cols).where(Officer.active, Officer.unit_id.in_(unit_ids))):
        for k, code in enumerate(DID_MEASURES):
            v0, v1 = row[1 + 2 * k], row[2 + 2 * k]
            if v0 is not None and v1 is not None:
                before[(row[0], code)], after[(row[0], code)] = v0, v1
    measures = {}
    for code in DID_MEASURES:
        rows = [(oid, before[(oid, code)], after[(oid, code)], oid in participant)
                for (oid, cd) in after if cd == code and (oid, code) in before]
        if rows:
            measures[code] = _did_one(rows)
    if viewer.role == "leader":
        for m in measures.values():
            if m["n_participants"] < SMALL_GROUP or m["n_others"] < SMALL_GROUP:
                for k in list(m):
                    if k not in ("n_participants", "n_others", "verdict"):
                        m[k] = None
                m["suppressed"] = True
                m["verdict"] = "insufficient"
    return {"status": ctx.status, "participants": len(participant), "others": len(ctx.member_unit) - len(participant),
            "participant_min_days": need, "days_total": ctx.days_total, "measures": measures,
            "windows": {"before": [before_from.date().isoformat(), c.start_date.isoformat()],
                        "after": [after_from.date().isoformat(), after_to.date().isoformat()]}}
