"""A campaign's members, its teams and the entries that count so far: what every figure is
computed on."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Date, Integer, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from models.campaigns.access import UnitRow, core_rows, scope_paths, subtree_ids, unit_rows
from models.campaigns.rules import status_of
from models.schema import Campaign, CampaignEntry, Officer

@dataclass
class Context:
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


def context(session: Session, campaign: Campaign, today: dt.date) -> Context:
    units = unit_rows(session)
    paths = scope_paths(campaign, units)
    unit_ids = subtree_ids(units, paths)
    member_unit = dict(core_rows(session, select(Officer.id, Officer.unit_id).where(
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
    return Context(campaign, units, member_unit, team_of_unit, campaign.start_date, last_day, status, team_members)


def daily_average(total: float, days_elapsed: int) -> float:
    """活动日均（按已进行天数）— the one definition of an officer's (or a team member's) daily average in a
    campaign: the total that counts divided by the campaign days so far (first day to the last day that
    counts, ``last_counted_day``), days without activity included as zero. 0 before any day counts."""
    return total / days_elapsed if days_elapsed > 0 else 0.0


def days_so_far(campaign: Campaign, last_day: dt.date | None) -> int:
    """The campaign days so far: first day to the last day that counts (``last_counted_day``)."""
    return 0 if last_day is None else (last_day - campaign.start_date).days + 1


def counted_all(campaign: Campaign):
    """The entries that count, without a day range: the loader keeps every entry inside the campaign
    and not after today, and without the range the planner answers officer-wise queries from the
    covering index ix_campaign_entry_officer (with it, it reads the table)."""
    return and_(CampaignEntry.campaign_id == campaign.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0)


def counted_so_far(campaign: Campaign, last_day: dt.date | None):
    """The entries that count: this campaign, not flagged, above zero, inside the days so far."""
    end = last_day or campaign.start_date - dt.timedelta(days=1)
    return and_(CampaignEntry.campaign_id == campaign.id, CampaignEntry.flagged.is_(False), CampaignEntry.value > 0,
                CampaignEntry.day >= campaign.start_date, CampaignEntry.day <= end)


def week_bounds(first: dt.date, last: dt.date | None) -> list[tuple[dt.date, dt.date]]:
    """Campaign weeks (week 1 starts on the first day) up to ``last``."""
    if last is None or last < first:
        return []
    out = []
    a = first
    while a <= last:
        out.append((a, min(a + dt.timedelta(days=6), last)))
        a += dt.timedelta(days=7)
    return out


def week_index(session: Session, start: dt.date):
    """The campaign week (0-based) of an entry's day, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return cast((func.julianday(CampaignEntry.day) - func.julianday(start.isoformat())) / 7, Integer)
    return cast(CampaignEntry.day - cast(literal(start), Date), Integer) // 7  # PostgreSQL: date - date is days


def officer_totals(session: Session, ctx: Context) -> dict[int, tuple[float, int, int]]:
    """officer id -> (total, active days, days meeting the daily target), members only.

    One pass over the campaign's entries in officer order (index ix_campaign_entry_officer);
    entries lie inside the campaign and not after today (the loader refuses others)."""
    c = ctx.campaign
    if ctx.last_day is None:
        return {}
    target = c.target_per_day or 0
    cols = [CampaignEntry.officer_id, func.sum(CampaignEntry.value), func.count(),
            func.sum(case((CampaignEntry.value >= target, 1), else_=0))]
    rows = core_rows(session, select(*cols).where(counted_all(c)).group_by(CampaignEntry.officer_id))
    members = ctx.member_unit
    return {r[0]: (float(r[1] or 0), int(r[2]), int(r[3] or 0)) for r in rows if r[0] in members}


def last_counted_day(session: Session, campaign: Campaign, status: str, today: dt.date) -> dt.date | None:
    """The last day that counts: the end for a finished campaign, else the latest day with data."""
    if status == "upcoming":
        return None
    if status == "finished":
        return campaign.end_date
    return session.scalar(select(func.max(CampaignEntry.day)).where(
        CampaignEntry.campaign_id == campaign.id, CampaignEntry.day <= min(campaign.end_date, today)))
