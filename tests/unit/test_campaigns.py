"""Campaign models on a small hand-built force with known answers: visibility,
team scoring (mean vs total), leaderboards and hiding, weekly participation,
projection with its interval, points, validation and the frozen rule, and the
difference-in-differences estimate."""
from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest
from sqlalchemy import select

from models.campaigns.access import CampaignError, NotAllowed, NotVisible, visible_campaign
from models.campaigns.reads import (
    campaign_participation, campaign_progress, individual_leaderboard, list_campaigns, officer_campaigns,
    team_leaderboard,
)
from models.campaigns.stats import did_it_work, project_total
from models.campaigns.writes import award_points, campaign_form, save_campaign, set_hide_preference
from models.db import init_db, session_scope
from models.schema import Campaign, CampaignEntry, Observation, Officer, Points, Unit
from web.access import Scope

TODAY = dt.date(2025, 6, 30)


def add_units(s) -> dict[str, Unit]:
    """City T, districts T-D1 / T-D2; stations T-D1-S1 (20 officers), T-D1-S2 (6), T-D2-S1 (10)."""
    units = {}
    for code, parent, level, depth in [("T", None, "city", 0), ("T-D1", "T", "district", 1),
                                       ("T-D2", "T", "district", 1), ("T-D1-S1", "T-D1", "station", 2),
                                       ("T-D1-S2", "T-D1", "station", 2), ("T-D2-S1", "T-D2", "station", 2)]:
        path = (units[parent].path if parent else "/") + code + "/"
        u = Unit(code=code, name=f"{code}所", name_en=code, level=level, depth=depth, path=path,
                 parent_id=units[parent].id if parent else None)
        s.add(u)
        s.flush()
        units[code] = u
    return units


def add_officers(s, units, sizes=(("T-D1-S1", 20), ("T-D1-S2", 6), ("T-D2-S1", 10))) -> dict[str, list[int]]:
    out = {}
    n = 0
    for code, size in sizes:
        ids = []
        for _ in range(size):
            n += 1
            o = Officer(badge=f"T{n:04d}", name=f"民警{n:03d}", sex="male", birth_date=dt.date(1985, 1, 1),
                        unit_id=units[code].id, post_type="patrol")
            s.add(o)
            s.flush()
            ids.append(o.id)
        out[code] = ids
    return out


def scope(role, path=None, officer_id=None):
    return Scope(None, role, role, officer_id, path)  # no account row: created_by stays empty


@pytest.fixture(scope="module")
def world(new_db_url):
    """Two campaigns: 'pk' over district 1 and 2 (stations are teams), 'd2' over district 2 only."""
    url = new_db_url("campaigns")
    init_db(url)
    with session_scope(url) as s:
        units = add_units(s)
        officers = add_officers(s, units)
        start = dt.date(2025, 6, 2)  # a Monday; 28 days, finished by TODAY
        pk = Campaign(name="健步走PK", kind="steps", start_date=start, end_date=start + dt.timedelta(days=27),
                      scope_unit_ids=[units["T-D1"].id, units["T-D2"].id], team_level="station",
                      target_per_day=8000, team_scoring="mean", points_rule={"per_active_day": 1,
                                                                            "per_day_target": 2,
                                                                            "full_week_bonus": 20})
        d2 = Campaign(name="二分局打卡", kind="checkin", start_date=TODAY - dt.timedelta(days=3),
                      end_date=TODAY + dt.timedelta(days=20), scope_unit_ids=[units["T-D2"].id],
                      team_level="station", target_per_day=1, team_scoring="total")
        s.add_all([pk, d2])
        s.flush()
        entries = []
        # S1 (20 officers): 15 active at 9,000/day -> total 15*9000*28, mean 6,750 per member per day
        for oid in officers["T-D1-S1"][:15]:
            entries += [(pk.id, oid, start + dt.timedelta(days=k), 9000.0) for k in range(28)]
        # S2 (6 officers): all active at 10,000/day -> smaller total, higher mean
        for oid in officers["T-D1-S2"]:
            entries += [(pk.id, oid, start + dt.timedelta(days=k), 10000.0) for k in range(28)]
        # D2-S1 (10): active only the first week at 5,000 -> drop-off after week 1
        for oid in officers["T-D2-S1"]:
            entries += [(pk.id, oid, start + dt.timedelta(days=k), 5000.0) for k in range(7)]
        s.execute(CampaignEntry.__table__.insert(), [
            {"campaign_id": c, "officer_id": o, "day": d, "value": v, "flagged": False} for c, o, d, v in entries])
        # an implausible day: flagged, never counted
        s.add(CampaignEntry(campaign_id=pk.id, officer_id=officers["T-D2-S1"][0], day=start + dt.timedelta(days=10),
                            value=95000, flagged=True))
        ids = {"pk": pk.id, "d2": d2.id}
    return {"url": url, "officers": officers, "ids": ids}


def test_cam001_visibility_follows_scope(world):
    with session_scope(world["url"]) as s:
        d1 = s.scalar(select(Unit.path).where(Unit.code == "T-D1"))
        d2 = s.scalar(select(Unit.path).where(Unit.code == "T-D2"))
        d2_officer = world["officers"]["T-D2-S1"][0]
        d1_officer = world["officers"]["T-D1-S1"][0]
        names = lambda v: {c["name"] for c in list_campaigns(s, v, TODAY)}  # noqa: E731
        assert names(scope("manager", d1)) == {"健步走PK"}
        assert names(scope("leader", d2)) == {"健步走PK", "二分局打卡"}
        assert names(scope("officer", d1, d1_officer)) == {"健步走PK"}
        assert names(scope("officer", d2, d2_officer)) == {"健步走PK", "二分局打卡"}
        assert names(scope("admin")) == {"健步走PK", "二分局打卡"}
        with pytest.raises(NotVisible):
            visible_campaign(s, scope("manager", d1), world["ids"]["d2"])
        with pytest.raises(NotVisible):
            visible_campaign(s, scope("officer", d1, d1_officer), world["ids"]["d2"])
        for forged in ("999999", "1 OR 1=1", None, "../2"):
            with pytest.raises(NotVisible):
                visible_campaign(s, scope("manager", d1), forged)


def test_cam002_mean_and_total_disagree_on_winner(world):
    with session_scope(world["url"]) as s:
        board = team_leaderboard(s, scope("admin"), world["ids"]["pk"], TODAY)
    rows = {r["team"]["code"]: r for r in board["rows"]}
    s1, s2 = rows["T-D1-S1"], rows["T-D1-S2"]
    assert s1["mean_per_day"] == pytest.approx(15 * 9000 / 20)  # inactive members count as zero
    assert s2["mean_per_day"] == pytest.approx(10000)
    assert s1["participation"] == pytest.approx(0.75) and s2["participation"] == 1.0
    assert s2["rank"] == 1 and s1["rank"] == 2          # default rule: mean per member
    assert s1["rank_total"] == 1 and s2["rank_total"] == 2
    assert s1["total"] == pytest.approx(15 * 9000 * 28)
    # share meeting the 8,000 daily target
    assert s1["share_target"] == pytest.approx(15 / 20) and rows["T-D2-S1"]["share_target"] == 0


def test_cam003_flagged_values_not_counted(world):
    with session_scope(world["url"]) as s:
        ov = campaign_progress(s, scope("admin"), world["ids"]["pk"], TODAY)
    expected = 15 * 9000 * 28 + 6 * 10000 * 28 + 10 * 5000 * 7
    assert ov["total"] == pytest.approx(expected)
    assert ov["flagged"] == 1
    assert max(ov["series"]["daily"]) < 95000 + 15 * 9000 + 6 * 10000


def test_cam004_weekly_participation_shows_drop_off(world):
    with session_scope(world["url"]) as s:
        part = campaign_participation(s, scope("admin"), world["ids"]["pk"], TODAY)
    weeks = part["weeks"]
    assert part["members"] == 36 and part["participants"] == 31
    assert [w["active"] for w in weeks] == [31, 21, 21, 21]
    assert weeks[0]["rate"] == pytest.approx(31 / 36)
    assert all(w["days"] == 7 for w in weeks)


def test_cam005_individual_board_hides_names_but_not_own_rank(world):
    url, officers = world["url"], world["officers"]
    hider = officers["T-D1-S2"][0]   # a top officer (10,000/day)
    with session_scope(url) as s:
        set_hide_preference(s, hider, True)
    try:
        with session_scope(url) as s:
            other = individual_leaderboard(s, scope("manager", None), world["ids"]["pk"], TODAY)
            own = individual_leaderboard(s, scope("officer", None, hider), world["ids"]["pk"], TODAY)
            low = officers["T-D1-S1"][19]  # never active: ranked last, outside the top 20
            last = individual_leaderboard(s, scope("officer", None, low), world["ids"]["pk"], TODAY)
            hider_name = s.get(Officer, hider).name
        names = [r["name"] for r in other["rows"]]
        assert hider_name not in names and sum(r["anonymous"] for r in other["rows"]) == 1
        assert other["rows"][0]["rank"] == 1 and other["rows"][0]["total"] == pytest.approx(280000)
        assert own["me"]["name"] == hider_name and own["me"]["rank"] == 1 and not own["me"]["anonymous"]
        assert last["me"]["rank"] == 32 and last["me"]["total"] == 0
        assert len(last["rows"]) == 20 and not any(r["me"] for r in last["rows"])
    finally:
        with session_scope(url) as s:
            set_hide_preference(s, hider, False)


def test_cam006_leader_gets_no_names_and_small_teams_suppressed(world):
    with session_scope(world["url"]) as s:
        ind = individual_leaderboard(s, scope("leader", None), world["ids"]["pk"], TODAY)
        s.execute(Officer.__table__.update().where(Officer.id.in_(world["officers"]["T-D1-S2"][2:]))
                  .values(active=False))
        try:
            teams = team_leaderboard(s, scope("leader", None), world["ids"]["pk"], TODAY)
            manager = team_leaderboard(s, scope("manager", None), world["ids"]["pk"], TODAY)
        finally:
            s.execute(Officer.__table__.update().values(active=True))
    assert ind["rows"] == [] and ind["me"] is None and ind["withheld"]
    small = next(r for r in teams["rows"] if r["team"]["code"] == "T-D1-S2")
    assert small["suppressed"] and small["members"] is None and small["score"] is None
    assert next(r for r in manager["rows"] if r["team"]["code"] == "T-D1-S2")["members"] == 2


def test_cam007_projection_of_a_known_line():
    start = dt.date(2025, 3, 3)
    dates = [start + dt.timedelta(days=k) for k in range(21)]
    daily = [1000.0 - 10 * k for k in range(21)]         # steady drop-off, no noise
    end = start + dt.timedelta(days=29)
    p = project_total(daily, dates, end)
    future = sum(1000.0 - 10 * k for k in range(21, 30))
    assert p["final"] == pytest.approx(sum(daily) + future, rel=1e-6)
    assert p["slope_per_day"] == pytest.approx(-10, abs=1e-6)
    assert p["final_high"] - p["final_low"] < 1e-3 * p["final"]


def test_cam008_projection_interval_covers_truth():
    rng = np.random.default_rng(3)
    start = dt.date(2025, 3, 3)
    hits = 0
    for _ in range(60):
        days = [start + dt.timedelta(days=k) for k in range(42)]
        truth = [5000 - 20 * k - (1500 if d.weekday() >= 5 else 0) + rng.normal(0, 400) for k, d in enumerate(days)]
        p = project_total(truth[:28], days[:28], days[-1])
        hits += p["final_low"] <= sum(truth) <= p["final_high"]
        assert p["weekend_effect"] is not None
    assert hits >= 52  # a 95% interval covers the truth in about 57 of 60 runs
    assert project_total([1.0, 2.0], days[:2], days[-1]) is None


def test_cam009_points_follow_rule(world):
    with session_scope(world["url"]) as s:
        total = award_points(s, world["ids"]["pk"], TODAY)
        again = award_points(s, world["ids"]["pk"], TODAY)
        rows = s.execute(select(Points.officer_id, Points.reason, Points.points)
                         .where(Points.campaign_id == world["ids"]["pk"])).all()
        mine = officer_campaigns(s, world["officers"]["T-D1-S2"][0], TODAY)
    # S1 and S2 members on target every day: each week 7 active + 7 x 2 on target + 20 full-week bonus;
    # D2 (5,000 < 8,000): 7 active days in week 1 only
    assert total == again == 21 * 4 * (7 + 14 + 20) + 10 * 7
    assert len([r for r in rows if r.reason == "full_week_bonus"]) == 21 * 4
    pk = next(c for c in mine if c["id"] == world["ids"]["pk"])
    assert pk["points"] == 164 and pk["rank"] == 1 and pk["members"] == 36 and pk["active_days"] == 28


def test_cam010_officer_summary_ranks_and_excludes_foreign_campaigns(world):
    with session_scope(world["url"]) as s:
        d1_idle = officer_campaigns(s, world["officers"]["T-D1-S1"][19], TODAY)
        d2 = officer_campaigns(s, world["officers"]["T-D2-S1"][3], TODAY)
    assert [c["name"] for c in d1_idle] == ["健步走PK"] and d1_idle[0]["total"] == 0 and d1_idle[0]["rank"] == 32
    assert {c["name"] for c in d2} == {"健步走PK", "二分局打卡"}
    assert next(c for c in d2 if c["name"] == "健步走PK")["rank"] == 22


FORM = {"name": "秋季健步走", "kind": "steps", "start_date": "2025-07-07", "end_date": "2025-08-03",
        "unit_codes": ["T-D1"], "team_level": "station", "target_per_day": 8000, "target_total": "",
        "team_scoring": "mean", "points_per_active_day": 1, "points_per_day_target": 2,
        "points_full_week_bonus": 20}


def test_cam011_create_validates_with_clear_errors(world):
    with session_scope(world["url"]) as s:
        d1 = s.scalar(select(Unit.path).where(Unit.code == "T-D1"))
        mgr = scope("manager", d1)
        bad = {**FORM, "name": "", "start_date": "2025-06-01", "end_date": "2025-05-01", "unit_codes": ["T-D2"],
               "target_per_day": 90000, "team_scoring": "loudest", "points_full_week_bonus": -3}
        with pytest.raises(CampaignError) as err:
            save_campaign(s, mgr, bad, TODAY)
        assert set(err.value.errors) == {"name", "start_date", "end_date", "unit_codes", "target_per_day", "team_scoring",
                                         "points_full_week_bonus"}
        assert "范围" in err.value.errors["unit_codes"][0]
        with pytest.raises(CampaignError) as err:
            save_campaign(s, mgr, {**FORM, "end_date": "2025-07-01"}, TODAY)
        assert set(err.value.errors) == {"end_date"}
        for role in ("officer", "leader"):
            with pytest.raises(NotAllowed):
                save_campaign(s, scope(role, d1, world["officers"]["T-D1-S1"][0]), FORM, TODAY)
        c = save_campaign(s, mgr, FORM, TODAY)
        assert c.id and c.points_rule == {"per_active_day": 1, "per_day_target": 2, "full_week_bonus": 20}
        assert c.target_total is None and c.scope_unit_ids == [s.scalar(select(Unit.id).where(Unit.code == "T-D1"))]
        s.delete(c)


def test_cam012_edit_rules_before_during_after(world):
    with session_scope(world["url"]) as s:
        d1 = s.scalar(select(Unit.path).where(Unit.code == "T-D1"))
        d2 = s.scalar(select(Unit.path).where(Unit.code == "T-D2"))
        admin, mgr1, mgr2 = scope("admin"), scope("manager", d1), scope("manager", d2)
        c = save_campaign(s, mgr1, FORM, TODAY)
        cid = c.id
        save_campaign(s, mgr1, {**FORM, "kind": "quiz", "target_per_day": 60}, TODAY, cid)  # before start: anything
        assert s.get(Campaign, cid).kind == "quiz"
        with pytest.raises(NotVisible):
            save_campaign(s, mgr2, FORM, TODAY, cid)   # another district cannot even see it
        with pytest.raises(NotAllowed):
            save_campaign(s, mgr1, FORM, TODAY, world["ids"]["pk"])  # spans both districts: not theirs alone
        running = TODAY + dt.timedelta(days=10)
        form = campaign_form(s, admin, cid, running)
        assert form["status"] == "running" and "kind" in form["locked"] and "name" not in form["locked"]
        with pytest.raises(CampaignError) as err:
            save_campaign(s, admin, {**form, "target_per_day": 70}, running, cid)
        assert "_" in err.value.errors
        save_campaign(s, admin, {**form, "name": "秋季知识赛", "end_date": "2025-08-10"}, running, cid)
        assert s.get(Campaign, cid).name == "秋季知识赛" and s.get(Campaign, cid).end_date == dt.date(2025, 8, 10)
        after = dt.date(2025, 9, 1)
        with pytest.raises(CampaignError) as err:
            save_campaign(s, admin, {**form, "name": "改名"}, after, cid)
        assert "冻结" in err.value.errors["_"][0]
        assert s.get(Campaign, cid).name == "秋季知识赛"
        s.delete(s.get(Campaign, cid))


def _did_world(url, effect: float, n_each: int, seed: int):
    """A finished campaign where participants' weight and SBP change by ``effect`` more than others'."""
    rng = random.Random(seed)
    with session_scope(url) as s:
        unit = s.scalar(select(Unit).where(Unit.code == "T-D2-S1"))
        start = dt.date(2024, 3, 4) - dt.timedelta(days=400 * seed)  # windows of different worlds never overlap
        end = start + dt.timedelta(days=55)
        c = Campaign(name=f"DiD {effect} {n_each}", kind="steps", start_date=start, end_date=end,
                     scope_unit_ids=[unit.id], team_level="station", target_per_day=8000, team_scoring="mean")
        s.add(c)
        s.flush()
        # existing members of the unit stay out of this analysis: only new officers have observations
        obs, entries = [], []

        def centred(sd):  # noise with mean exactly zero within each group: the group means are known
            xs = [rng.gauss(0, sd) for _ in range(n_each)]
            return [x - sum(xs) / n_each for x in xs]

        noise = {(part, code): centred(0.8 if code == "weight_kg" else 4)
                 for part in (True, False) for code in ("weight_kg", "sbp")}
        for i in range(2 * n_each):
            o = Officer(badge=f"D{seed}{effect:+.0f}{i:04d}", name="x", sex="male", birth_date=dt.date(1980, 1, 1),
                        unit_id=unit.id, post_type="office")
            s.add(o)
            s.flush()
            part = i < n_each
            if part:
                entries += [{"campaign_id": c.id, "officer_id": o.id, "day": start + dt.timedelta(days=k),
                             "value": 9000, "flagged": False} for k in range(30)]
            w0, b0 = rng.gauss(75, 8), rng.gauss(128, 12)
            drift = -0.3
            e_w, e_b = noise[(part, "weight_kg")][i % n_each], noise[(part, "sbp")][i % n_each]
            for code, v0, v1 in (("weight_kg", w0, w0 + drift + (effect if part else 0) + e_w),
                                 ("sbp", b0, b0 + (2 * effect if part else 0) + e_b)):
                obs.append({"officer_id": o.id, "code": code, "value": v0, "unit": "x", "source_kind": "exam",
                            "observed_at": dt.datetime.combine(start - dt.timedelta(days=40), dt.time(9))})
                obs.append({"officer_id": o.id, "code": code, "value": v1, "unit": "x", "source_kind": "exam",
                            "observed_at": dt.datetime.combine(end + dt.timedelta(days=30), dt.time(9))})
        s.execute(Observation.__table__.insert(), obs)
        s.execute(CampaignEntry.__table__.insert(), entries)
        return c.id


def test_cam013_did_recovers_known_effect(world):
    cid = _did_world(world["url"], -2.0, 40, 1)
    with session_scope(world["url"]) as s:
        res = did_it_work(s, scope("admin"), cid, TODAY)
    w = res["measures"]["weight_kg"]
    assert w["did"] == pytest.approx(-2.0, abs=1e-6)   # group noise is centred: the answer is exact
    assert w["ci_low"] < -2.0 < w["ci_high"] < 0
    assert w["ci_high"] - w["ci_low"] == pytest.approx(2 * 1.96 * 0.8 * (2 / 40) ** 0.5, rel=0.25)
    assert w["verdict"] == "lower" and w["n_participants"] == 40
    assert w["participants_change"] - w["others_change"] == pytest.approx(w["did"])
    assert res["measures"]["sbp"]["verdict"] == "lower"


def test_cam014_did_no_effect_is_unclear_and_small_is_insufficient(world):
    none = _did_world(world["url"], 0.0, 60, 2)
    small = _did_world(world["url"], -2.0, 4, 3)
    with session_scope(world["url"]) as s:
        res = did_it_work(s, scope("manager", None), none, TODAY)
        tiny = did_it_work(s, scope("manager", None), small, TODAY)
        lead = did_it_work(s, scope("leader", None), small, TODAY)
    assert res["measures"]["weight_kg"]["verdict"] == "unclear"
    assert res["measures"]["weight_kg"]["ci_low"] < 0 < res["measures"]["weight_kg"]["ci_high"]
    assert tiny["measures"]["weight_kg"]["verdict"] == "insufficient"
    assert "did" not in tiny["measures"]["weight_kg"]
    # a leader gets no group means for groups under five
    assert lead["measures"]["weight_kg"]["participants_change"] is None


def test_cam015_running_campaign_has_no_verdict_yet(world):
    with session_scope(world["url"]) as s:
        res = did_it_work(s, scope("admin"), world["ids"]["d2"], TODAY)
        ov = campaign_progress(s, scope("admin"), world["ids"]["d2"], TODAY)
    assert res == {"status": "running", "measures": {}}
    assert ov["status"] == "running" and ov["total"] == 0 and ov["projection"] is None


def test_cam120_leaders_team_ranking_goes_through_the_one_suppression():
    """A team of 3 and a team with 2 taking part: hidden, and so is enough else that neither the
    campaign's totals nor the other rows give them away."""
    from models.campaigns.reads import _suppress_teams

    def team(code, members, participants, share):
        return {"team": {"code": code}, "members": members, "participants": participants,
                "participation": participants / members, "total": 1000.0, "mean_per_day": 10.0,
                "share_target": share, "score": 10.0, "rank": 1, "rank_total": 1, "rank_mean": 1}

    rows = [team("A", 20, 2, 0.5), team("B", 3, 3, 1.0), team("C", 30, 12, 0.4), team("D", 25, 20, 0.4)]
    _suppress_teams(rows, "mean")
    by = {r["team"]["code"]: r for r in rows}
    assert by["B"].get("suppressed") and by["B"]["members"] is None and by["B"]["participants"] is None
    assert by["A"]["participants"] is None and by["A"]["participation"] is None  # 2 taking part
    # the totals (members 78, participants 37) minus what is shown never isolate a hidden count
    shown_members = [r["members"] for r in rows if r["members"] is not None]
    shown_participants = [r["participants"] for r in rows if r["participants"] is not None]
    assert len(shown_members) <= len(rows) - 2 and len(shown_participants) <= len(rows) - 2
