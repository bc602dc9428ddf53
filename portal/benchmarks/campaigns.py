"""/campaigns and /campaigns/<id> (issue 9): each page query beside the raw SQL it stands on —
the campaign's entries summed by day (progress) or by officer (leaderboards), in the same run.

Measured uncached (the page caches each answer per data version) for the whole-force
health manager (the individual leaderboard for the demo officer): progress on the running
campaign, participation and leaderboards on the campaign with the most entries."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from sqlalchemy import select, text

from models.campaigns import reads, stats
from models.schema import Campaign, User
from portal.bench import BenchContext, Result, measure

RAW_BY_DAY = ("SELECT day, sum(value), count(*) FROM campaign_entry WHERE campaign_id = {id} AND flagged = {no} "
              "AND value > 0 GROUP BY day")
RAW_BY_OFFICER = ("SELECT officer_id, sum(value), count(*) FROM campaign_entry WHERE campaign_id = {id} "
                  "AND flagged = {no} AND value > 0 GROUP BY officer_id")
RAW_OBS = ("SELECT officer_id, code, value FROM observation WHERE code IN ('weight_kg', 'bmi', 'sbp') "
           "AND observed_at >= '{since}'")


def run(ctx: BenchContext) -> list[Result]:
    target = 200 if ctx.scale in ("city", "tiny") else 800
    today = dt.date.today()
    with ctx.session() as s:
        rows = s.execute(select(Campaign.id, Campaign.start_date, Campaign.end_date).order_by(Campaign.id)).all()
        officer = s.scalar(select(User).where(User.username == "officer"))
        officer_id = officer.officer_id if officer else None
    if not rows:
        return []
    running = next((cid for cid, a, b in rows if a <= today <= b), rows[-1][0])
    with ctx.session() as s:  # the leaderboards are timed on the campaign with the most entries
        big = s.execute(text("SELECT campaign_id FROM campaign_entry GROUP BY campaign_id "
                             "ORDER BY count(*) DESC LIMIT 1")).scalar() or running
    finished = next((cid for cid, a, b in rows if b < today), None)
    manager = SimpleNamespace(role="manager", unit_path=None, officer_id=None, user_id=None)
    me = SimpleNamespace(role="officer", unit_path=None, officer_id=officer_id, user_id=None)
    no = "false" if not ctx.url.startswith("sqlite") else "0"

    def call(fn, viewer, cid):
        def go():
            with ctx.session() as s:
                fn(s, viewer, cid, today)
        return go

    def raw(sql):
        def go():
            with ctx.session() as s:
                s.execute(text(sql)).all()
        return go

    def listing():
        with ctx.session() as s:
            reads.list_campaigns(s, manager, today)

    def mine():
        with ctx.session() as s:
            reads.officer_campaigns(s, officer_id, today)

    by_day = raw(RAW_BY_DAY.format(id=running, no=no))
    by_officer = raw(RAW_BY_OFFICER.format(id=big, no=no))
    results = [
        measure("campaigns_list", listing, by_day, target, repeat=10,
                note="every campaign with members and progress; raw = one campaign summed by day"),
        measure("campaign_progress", call(reads.campaign_progress, manager, running), by_day, target, repeat=10,
                note="cumulative series + OLS projection; raw = entries summed by day"),
        measure("campaign_participation", call(reads.campaign_participation, manager, big), by_officer, target,
                repeat=10, note="distinct members per week; raw = entries summed by officer"),
        measure("campaign_teams", call(reads.team_leaderboard, manager, big), by_officer, target, repeat=10,
                note="team scores from per-officer totals; raw = entries summed by officer"),
        measure("campaign_individuals", call(reads.individual_leaderboard, me, big), by_officer, target, repeat=10,
                note="top 20 + own rank, hidden names; raw = entries summed by officer"),
        measure("campaign_points", call(reads.campaign_points, manager, running), by_day, target, repeat=10,
                note="points by reason; raw = entries summed by day"),
    ]
    if officer_id is not None:
        results.append(measure("campaigns_mine", mine, by_officer, target, repeat=10,
                               note="the officer's standing in each campaign; raw = one campaign by officer"))
    if finished is not None:
        start = next(a for cid, a, _b in rows if cid == finished)
        since = (start - dt.timedelta(days=stats.BASELINE_DAYS)).isoformat()
        results.append(measure("campaign_did", call(stats.did_it_work, manager, finished),
                               raw(RAW_OBS.format(since=since)), None, repeat=5,
                               note="DiD for weight, BMI, SBP (finished campaigns, cached per data "
                                    "version); raw = the weight/BMI/SBP rows since the baseline"))
    return results
