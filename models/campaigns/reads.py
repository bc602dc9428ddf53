"""What the campaign pages show: the list, a campaign's progress, participation, points and
leaderboards, and an officer's own campaigns. Every function checks visibility first
(``access.visible_campaign``) and cuts leaders' figures for groups under five."""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from typing import Any, Callable, Iterable

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from models.campaigns.access import (
    Viewer, core_rows, may_edit, member_count, officer_unit_path, scope_paths, unit_label, unit_rows,
    visible_campaign, visible_to,
)
from models.campaigns.members import (
    Context, context, counted_all, counted_so_far, daily_average, days_so_far, last_counted_day, officer_totals, week_bounds, week_index,
)
from models.campaigns.rules import DEFAULT_POINTS, lifecycle, overall_target, status_of
from models.campaigns.stats import project_total
from models.schema import Campaign, CampaignEntry, Officer, OfficerPreference, Points
from models.suppression import TOTAL, Table, is_small

TOP_N = 20


# --- lists ----------------------------------------------------------------------------------------
def list_campaigns(session: Session, viewer: Viewer, today: dt.date, archived: bool = False) -> list[dict]:
    """Campaigns the caller may see, newest first, with status, members and progress; archived ones
    only when ``archived`` (they stay readable at their own address)."""
    units = unit_rows(session)
    officer_path = officer_unit_path(session, viewer.officer_id)
    out = []
    campaigns = [c for c in session.scalars(select(Campaign).order_by(Campaign.start_date.desc(), Campaign.id.desc()))
                 if visible_to(viewer, scope_paths(c, units), officer_path) and (archived or c.archived_at is None)]
    if not campaigns:
        return []
    for c in campaigns:
        paths = scope_paths(c, units)
        members = member_count(session, units, paths)
        total = float(session.scalar(select(func.sum(CampaignEntry.value)).where(
            CampaignEntry.campaign_id == c.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0)) or 0)
        target = overall_target(c, members)
        status = status_of(c, today)
        elapsed = 0.0 if status == "upcoming" else min(1.0, ((min(today, c.end_date) - c.start_date).days + 1)
                                                       / ((c.end_date - c.start_date).days + 1))
        state = lifecycle(c, today)
        out.append({
            "id": c.id, "name": c.name, "kind": c.kind, "status": state,
            "start": c.start_date.isoformat(), "end": c.end_date.isoformat(),
            "units": [unit_label(units[i]) for i in c.scope_unit_ids or [] if i in units],
            "members": members, "total": total, "target": target,
            "progress": (total / target) if target else None, "time_elapsed": elapsed,
            "team_scoring": c.team_scoring,
            "editable": may_edit(viewer, c, units) and state in ("upcoming", "running"),
        })
    return out


# --- progress -------------------------------------------------------------------------------------
def campaign_progress(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Header facts and the cumulative progress against the target, with its projection to the end."""
    c = visible_campaign(session, viewer, campaign_id)
    units = unit_rows(session)
    paths = scope_paths(c, units)
    members = member_count(session, units, paths)
    status = status_of(c, today)
    last_day = last_counted_day(session, c, status, today)
    days_elapsed = 0 if last_day is None else (last_day - c.start_date).days + 1
    rows = session.execute(
        select(CampaignEntry.day, func.sum(CampaignEntry.value), func.count())
        .where(counted_so_far(c, last_day)).group_by(CampaignEntry.day).order_by(CampaignEntry.day)).all()
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
    if viewer.role == "leader" and is_small(members):
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
        "projection": projection, "lifecycle": lifecycle(c, today),
        "editable": may_edit(viewer, c, units) and lifecycle(c, today) in ("upcoming", "running"),
        "may_edit": may_edit(viewer, c, units),
    }


def campaign_participation(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Members active in each campaign week (drop-off), and how many took part at all.

    For leaders, counts under five are removed (``suppressed``)."""
    c = visible_campaign(session, viewer, campaign_id)
    ctx = context(session, c, today)
    members = len(ctx.member_unit)
    bounds = week_bounds(ctx.first_day, ctx.last_day)
    active_by_week = [0] * len(bounds)
    participants = 0
    if bounds:
        # the loader only accepts members' entries, so these counts need no join to the roster
        pairs = select(CampaignEntry.officer_id, week_index(session, c.start_date).label("w")).distinct() \
            .where(counted_all(c)).subquery()
        for k, n in core_rows(session, select(pairs.c.w, func.count()).group_by(pairs.c.w)):
            if 0 <= int(k) < len(bounds):
                active_by_week[int(k)] = int(n)
        participants = session.scalar(select(func.count(func.distinct(CampaignEntry.officer_id)))
                                      .where(counted_all(c))) or 0
    weeks = []
    for k, (a, b) in enumerate(bounds):
        n = active_by_week[k]
        weeks.append({"week": k + 1, "start": a.isoformat(), "end": b.isoformat(), "days": (b - a).days + 1,
                      "active": n, "rate": n / members if members else None})
    out = {"members": members, "participants": participants, "weeks": weeks, "kind": c.kind,
           "participation": participants / members if members else None}
    if viewer.role == "leader":  # one table: members = participants + the rest, and so for each week
        t = Table()
        t.add("members", members)
        t.add("participants", participants)
        t.add("others", max(0, members - participants))
        t.sum_of("members", ["participants", "others"])
        for w in weeks:
            t.add(("active", w["week"]), w["active"])
            t.add(("inactive", w["week"]), max(0, members - w["active"]))
            t.sum_of("members", [("active", w["week"]), ("inactive", w["week"])])
        t.suppress()
        for w in weeks:
            if not (t.shown(("active", w["week"])) and t.shown("members")):
                w.update(active=None, rate=None, suppressed=True)
        if not (t.shown("participants") and t.shown("members")):
            out.update(participants=None, participation=None, suppressed=True)
        if not t.shown("members"):
            out.update(members=None, suppressed=True)
    return out


def campaign_points(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Points awarded in the campaign, by reason (and the rule that awards them)."""
    c = visible_campaign(session, viewer, campaign_id)
    rows = session.execute(select(Points.reason, func.sum(Points.points), func.count(func.distinct(Points.officer_id)))
                           .where(Points.campaign_id == c.id).group_by(Points.reason)).all()
    by_reason = {r: {"points": int(p or 0), "officers": int(n)} for r, p, n in rows}
    if viewer.role == "leader":  # officers per reason overlap (one officer earns several): each stands alone
        for v in by_reason.values():
            if is_small(v["officers"]):
                v.update(officers=None, suppressed=True)
    mine = None
    if viewer.role == "officer" and viewer.officer_id is not None:
        mine = int(session.scalar(select(func.coalesce(func.sum(Points.points), 0)).where(
            Points.campaign_id == c.id, Points.officer_id == viewer.officer_id)) or 0)
    return {"total": sum(v["points"] for v in by_reason.values()), "by_reason": by_reason, "mine": mine,
            "rule": {**DEFAULT_POINTS, **(c.points_rule or {})}, "target_per_day": c.target_per_day,
            "kind": c.kind}


# --- leaderboards ---------------------------------------------------------------------------------
def _team_rows(ctx: Context, per_officer: dict[int, tuple[float, int, int]]) -> list[dict]:
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

    For leaders the counts go through the one suppression function: a team whose members are hidden
    carries ``suppressed`` (all its numbers removed); a shown team may still have its participants or
    the number meeting the target hidden (with the shares made of them)."""
    campaign = visible_campaign(session, viewer, campaign_id)
    ctx = context(session, campaign, today)
    rows = _team_rows(ctx, officer_totals(session, ctx))
    if viewer.role == "leader":
        _suppress_teams(rows, campaign.team_scoring)
    return {"scoring": campaign.team_scoring, "kind": campaign.kind, "target_per_day": campaign.target_per_day,
            "days_elapsed": ctx.days_elapsed, "rows": rows}


def _suppress_teams(rows: list[dict], scoring: str) -> None:
    """One table for a leader's team ranking: per team, members = participants + the rest and
    members = meeting the target + the rest; the campaign's members, participants and those
    meeting the target are the sums over the teams (the page shows the campaign's totals)."""
    t = Table()
    for i, r in enumerate(rows):
        meeting = round(r["share_target"] * r["members"])
        for key, value in (("members", r["members"]), ("participants", r["participants"]),
                           ("idle", r["members"] - r["participants"]), ("meeting", meeting),
                           ("below", r["members"] - meeting)):
            t.add((key, i), value)
        t.sum_of(("members", i), [("participants", i), ("idle", i)])
        t.sum_of(("members", i), [("meeting", i), ("below", i)])
    for key in ("members", "participants", "meeting"):
        t.add((key, TOTAL), sum(t.cells[(key, i)] for i in range(len(rows))))
        t.sum_of((key, TOTAL), [(key, i) for i in range(len(rows))])
    t.suppress()
    for i, r in enumerate(rows):
        if not t.shown(("members", i)):
            r.update(suppressed=True, members=None, participants=None, participation=None, total=None,
                     mean_per_day=None, share_target=None, score=None, rank=None, rank_total=None, rank_mean=None)
            continue
        if not t.shown(("participants", i)):
            r.update(participants=None, participation=None)
        if not t.shown(("meeting", i)):
            r.update(share_target=None)
            if scoring == "share_target":
                r.update(score=None, rank=None)


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
    ctx = context(session, campaign, today)
    per = officer_totals(session, ctx)
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
    def view(r: dict) -> dict:
        oid = r["officer_id"]
        mine = oid == me_id
        anonymous = oid in hidden and not mine
        officer = info[oid]
        team = ctx.units[ctx.team_of_unit[ctx.member_unit[oid]]]
        return {"rank": r["rank"], "me": mine, "anonymous": anonymous, "hidden": oid in hidden,
                "name": None if anonymous else officer.name,
                "team": None if anonymous else unit_label(team),
                "total": r["total"], "per_day": daily_average(r["total"], ctx.days_elapsed), "active_days": r["active_days"],
                "target_days": r["target_days"]}

    return {"rows": [view(r) for r in shown], "me": view(me) if me else None, "members": len(ctx.member_unit),
            "ranked": len(rows), "days_elapsed": ctx.days_elapsed, "kind": campaign.kind, "withheld": False}


# --- the officer's own view -----------------------------------------------------------------------
def campaign_totals(session: Session, campaign_id: int) -> list[float]:
    """Every member's counted total in a campaign, ascending (what a rank compares with)."""
    counted = and_(CampaignEntry.campaign_id == campaign_id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0)
    return sorted(float(v) for v in session.scalars(select(func.sum(CampaignEntry.value)).where(counted)
                                                    .group_by(CampaignEntry.officer_id)))


def officer_campaigns(session: Session, officer_id: int, today: dt.date,
                      totals: Callable[[int], list[float]] | None = None) -> list[dict]:
    """Each campaign the officer belongs to: their total, active days, rank among members and points.
    ``totals(campaign_id)``: ``campaign_totals`` as the caller keeps it (cached by data version), else
    the rank is counted in the database."""
    path = officer_unit_path(session, officer_id)
    if path is None:
        return []
    units = unit_rows(session)
    out = []
    for c in session.scalars(select(Campaign).where(Campaign.archived_at.is_(None))
                             .order_by(Campaign.start_date.desc(), Campaign.id.desc())):
        paths = scope_paths(c, units)
        if not any(path.startswith(p) for p in paths):
            continue
        status = status_of(c, today)
        end = min(c.end_date, today)
        counted = and_(CampaignEntry.campaign_id == c.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0)
        mine = session.execute(select(func.coalesce(func.sum(CampaignEntry.value), 0), func.count(),
                                      func.sum(case((CampaignEntry.value >= (c.target_per_day or 0), 1), else_=0)))
                               .where(counted, CampaignEntry.officer_id == officer_id)).one()
        total = float(mine[0] or 0)
        if totals is not None:
            ranked = totals(c.id)
            ahead = len(ranked) - bisect_right(ranked, total)
        else:
            sums = (select(CampaignEntry.officer_id, func.sum(CampaignEntry.value).label("s"))
                    .where(counted).group_by(CampaignEntry.officer_id).subquery())
            ahead = session.scalar(select(func.count()).select_from(sums).where(sums.c.s > total)) or 0
        members = member_count(session, units, paths)
        points = session.scalar(select(func.coalesce(func.sum(Points.points), 0))
                                .where(Points.campaign_id == c.id, Points.officer_id == officer_id)) or 0
        days = 0 if status == "upcoming" else (end - c.start_date).days + 1
        elapsed = days_so_far(c, last_counted_day(session, c, status, today))
        out.append({"id": c.id, "name": c.name, "kind": c.kind, "status": status,
                    "start": c.start_date.isoformat(), "end": c.end_date.isoformat(),
                    "total": total, "active_days": int(mine[1] or 0), "target_days": int(mine[2] or 0),
                    "days": days, "days_elapsed": elapsed, "per_day": daily_average(total, elapsed), "target_per_day": c.target_per_day,
                    "rank": ahead + 1 if status != "upcoming" else None, "members": members,
                    "points": int(points)})
    return out


def hide_preference(session: Session, officer_id: int) -> bool:
    pref = session.get(OfficerPreference, officer_id)
    return bool(pref and pref.hide_from_leaderboards)


LEDGER_ROWS = 2000  # an officer's points rows (one per campaign week and reason): years of campaigns


def points_ledger(session: Session, officer_id: int) -> dict:
    """Every point the officer was given: date, campaign, reason and points, newest first."""
    rows = session.execute(select(Points.awarded_at, Points.campaign_id, Campaign.name, Points.reason, Points.points)
                           .join(Campaign, Campaign.id == Points.campaign_id).where(Points.officer_id == officer_id)
                           .order_by(Points.awarded_at.desc(), Points.id.desc()).limit(LEDGER_ROWS)).all()
    items = [{"date": at.date().isoformat(), "campaign_id": cid, "campaign": name, "reason": reason, "points": int(p)}
             for at, cid, name, reason, p in rows]
    total = int(session.scalar(select(func.coalesce(func.sum(Points.points), 0))
                               .where(Points.officer_id == officer_id)) or 0)
    return {"total": total, "rows": items}
