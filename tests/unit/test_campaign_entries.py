"""Officers' own campaign entries (issues 18, 19) on a small hand-built force: the caps on
hand-entered steps, the one precedence rule shared with device files (import, hand entry and
re-import give the same totals), the check-in, the daily quiz (no answer key before, one attempt a
day, explanations after), the question bank's validation, close and archive, the points ledger."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ingest.activity import load_activity_bytes
from models.campaigns.access import CampaignError, NotAllowed
from models.campaigns.entries import better, check_in, check_steps, enter_steps
from models.campaigns.quiz import daily_quiz, question_bank, save_question, submit_quiz
from models.campaigns.reads import list_campaigns, points_ledger, team_leaderboard
from models.campaigns.rules import MAX_HAND_STEPS
from models.campaigns.writes import archive_campaign, award_points, campaign_form, close_campaign, save_campaign
from models.db import data_versions, init_db, session_scope
from models.schema import Campaign, CampaignEntry, CampaignQuizAttempt, Officer
from tests.unit.test_campaigns import add_officers, add_units, scope

TODAY = dt.date(2025, 6, 30)


def question(n: int, correct: int = 1) -> dict:
    return {"text_zh": f"第{n}题：每天建议步行多少步？", "text_en": f"Question {n}: how many steps a day?",
            "options_zh": [f"{n}千", f"{n}万", f"{n}百", f"{n}十"], "options_en": [f"{n}k", f"{n}0k", f"{n}00", f"{n}0"],
            "correct": correct, "explanation_zh": f"解析{n}：每天六千到一万步。", "explanation_en": f"Why {n}: 6,000–10,000.",
            "active": True}


@pytest.fixture(scope="module")
def world(new_db_url):
    url = new_db_url("campaign_entries")
    init_db(url)
    with session_scope(url) as s:
        units = add_units(s)
        officers = add_officers(s, units)
        both = [units["T-D1"].id, units["T-D2"].id]
        start = TODAY - dt.timedelta(days=13)
        camps = {
            "steps": Campaign(name="健步走", kind="steps", start_date=start, end_date=TODAY + dt.timedelta(days=14),
                              scope_unit_ids=both, team_level="station", target_per_day=8000, team_scoring="mean",
                              points_rule={"per_active_day": 1, "per_day_target": 0, "full_week_bonus": 0}),
            "quiz": Campaign(name="知识答题", kind="quiz", start_date=start, end_date=TODAY + dt.timedelta(days=14),
                             scope_unit_ids=both, team_level="station", target_per_day=60, team_scoring="total"),
            "checkin": Campaign(name="微运动", kind="checkin", start_date=start, end_date=TODAY + dt.timedelta(days=14),
                                scope_unit_ids=both, team_level="station", target_per_day=1, team_scoring="total"),
        }
        s.add_all(camps.values())
        s.flush()
        ids = {k: c.id for k, c in camps.items()}
        badge = {o.id: o.badge for o in s.scalars(select(Officer))}
    return {"url": url, "units": {k: u.path for k, u in units.items()}, "officers": officers, "ids": ids,
            "badge": badge}


def me(world, code="T-D1-S2", k=0):
    return scope("officer", officer_id=world["officers"][code][k])


def admin():
    return scope("admin")


def test_cen001_caps_on_hand_entered_steps(world):
    c = Campaign(start_date=TODAY - dt.timedelta(days=20), end_date=TODAY + dt.timedelta(days=5))
    ok = check_steps(TODAY.isoformat(), 12000, c, TODAY)
    assert ok == (TODAY, 12000, {})
    assert check_steps(TODAY.isoformat(), MAX_HAND_STEPS, c, TODAY)[2] == {}
    assert "value" in check_steps(TODAY.isoformat(), MAX_HAND_STEPS + 1, c, TODAY)[2]
    assert "value" in check_steps(TODAY.isoformat(), -5, c, TODAY)[2]
    assert "value" in check_steps(TODAY.isoformat(), 100.5, c, TODAY)[2]
    assert "value" in check_steps(TODAY.isoformat(), True, c, TODAY)[2]
    assert "value" in check_steps(TODAY.isoformat(), "9000", c, TODAY)[2]
    future = check_steps((TODAY + dt.timedelta(days=1)).isoformat(), 5000, c, TODAY)[2]
    assert future["day"][1] == "The day cannot be in the future."
    before = Campaign(start_date=TODAY - dt.timedelta(days=2), end_date=TODAY + dt.timedelta(days=5))
    assert "started" in check_steps((TODAY - dt.timedelta(days=3)).isoformat(), 5000, before, TODAY)[2]["day"][1]
    assert "last 7 days" in check_steps((TODAY - dt.timedelta(days=8)).isoformat(), 5000, c, TODAY)[2]["day"][1]
    assert "day" in check_steps("2025-13-40", 5000, c, TODAY)[2]


def test_cen002_precedence_larger_plausible_value_wins():
    assert better((9000, False), (8000, False)) and not better((7000, False), (8000, False))
    assert better((100, False), (70000, True)) and not better((70000, True), (100, False))
    assert not better((8000, False), (8000, False))


def test_cen003_import_hand_entry_reimport_same_totals(world):
    url, cid = world["url"], world["ids"]["steps"]
    officer = me(world)
    badge = world["badge"][officer.officer_id]
    day = TODAY - dt.timedelta(days=1)
    data = f"警号,日期,步数\n{badge},{day.isoformat()},9000\n".encode()

    def totals():
        with session_scope(url) as s:
            value = s.scalar(select(CampaignEntry.value).where(CampaignEntry.campaign_id == cid,
                                                               CampaignEntry.officer_id == officer.officer_id,
                                                               CampaignEntry.day == day))
            n = s.scalar(select(func.count()).select_from(CampaignEntry).where(CampaignEntry.campaign_id == cid))
            board = team_leaderboard(s, admin(), cid, TODAY)
            return value, n, sum(r["total"] for r in board["rows"])

    load_activity_bytes(url, data, cid, filename="a.csv", today=TODAY)
    first = totals()
    assert first[0] == 9000 and first[2] == 9000
    with session_scope(url) as s:  # a smaller hand entry changes nothing: the device's larger count stands
        out = enter_steps(s, officer, cid, day.isoformat(), 5000, TODAY)
        assert out["changed"] is False and out["kept"] == 9000
    assert totals() == first
    summary = load_activity_bytes(url, data, cid, filename="a.csv", today=TODAY)
    assert summary["inserted"] == 0 and summary["updated"] == 0 and totals() == first
    with session_scope(url) as s:  # a larger hand entry replaces it: one entry for the day, never two
        assert enter_steps(s, officer, cid, day.isoformat(), 12000, TODAY)["kept"] == 12000
    second = totals()
    assert second[0] == 12000 and second[1] == first[1] and second[2] == 12000
    load_activity_bytes(url, data, cid, filename="a.csv", today=TODAY)  # the file again: still 12,000
    assert totals() == second


def test_cen004_hand_entry_refused_with_reason_and_only_for_oneself(world):
    url, cid = world["url"], world["ids"]["steps"]
    with session_scope(url) as s:
        with pytest.raises(CampaignError) as err:
            enter_steps(s, me(world), cid, TODAY.isoformat(), 75000, TODAY)
        assert "60,000" in err.value.errors["value"][1]
        with pytest.raises(NotAllowed):
            enter_steps(s, scope("manager"), cid, TODAY.isoformat(), 5000, TODAY)
        with pytest.raises(CampaignError):  # a steps entry into the check-in campaign
            enter_steps(s, me(world), world["ids"]["checkin"], TODAY.isoformat(), 5000, TODAY)


def test_cen005_checkin_counts_once_in_team_standings_and_points(world):
    url, cid = world["url"], world["ids"]["checkin"]
    officer = me(world, "T-D2-S1", 3)
    with session_scope(url) as s:
        before = {r["team"]["code"]: r["total"] for r in team_leaderboard(s, admin(), cid, TODAY)["rows"]}
        assert check_in(s, officer, cid, TODAY)["changed"] is True
        assert check_in(s, officer, cid, TODAY)["changed"] is False
    with session_scope(url) as s:
        after = {r["team"]["code"]: r["total"] for r in team_leaderboard(s, admin(), cid, TODAY)["rows"]}
    assert after["T-D2-S1"] == before.get("T-D2-S1", 0) + 1
    assert {k: v for k, v in after.items() if k != "T-D2-S1"} == {k: v for k, v in before.items() if k != "T-D2-S1"}


def test_cen006_question_bank_validated_and_for_editors_only(world):
    url, cid = world["url"], world["ids"]["quiz"]
    with session_scope(url) as s:
        with pytest.raises(CampaignError) as err:
            save_question(s, admin(), cid, {**question(1), "options_zh": ["甲", "甲", "乙", "丙"], "correct": 7,
                                             "text_en": ""}, TODAY)
        assert {"options_zh", "correct", "text_en"} <= set(err.value.errors)
        with pytest.raises(CampaignError):  # not a quiz campaign
            save_question(s, admin(), world["ids"]["steps"], question(1), TODAY)
        with pytest.raises(NotAllowed):
            save_question(s, me(world), cid, question(1), TODAY)
        with pytest.raises(NotAllowed):
            question_bank(s, me(world), cid)
        with pytest.raises(NotAllowed):  # a district-1 manager: the campaign spans both districts
            save_question(s, scope("manager", world["units"]["T-D1"]), cid, question(1), TODAY)
        for n in range(1, 8):
            save_question(s, admin(), cid, question(n, correct=n % 4), TODAY)
        bank = question_bank(s, admin(), cid)
        assert len(bank) == 7 and bank[0]["correct"] == 1
        save_question(s, admin(), cid, {**question(7, 3), "active": False}, TODAY, question_id=bank[-1]["id"])
        assert question_bank(s, admin(), cid)[-1]["active"] is False


def test_cen007_daily_quiz_no_key_before_one_attempt_explained_after(world):
    url, cid = world["url"], world["ids"]["quiz"]
    officer = me(world, "T-D1-S1", 5)
    with session_scope(url) as s:
        quiz = daily_quiz(s, officer, cid, TODAY)
        assert quiz["state"] == "open" and len(quiz["items"]) == 5
        assert all("correct" not in q and "explanation_zh" not in q for q in quiz["items"])
        assert daily_quiz(s, officer, cid, TODAY)["items"] == quiz["items"]  # the same draw on reload
        bank = {q["id"]: q for q in question_bank(s, admin(), cid)}
        assert all(bank[q["id"]]["active"] for q in quiz["items"])
        with pytest.raises(CampaignError):  # not every question answered
            submit_quiz(s, officer, cid, {quiz["items"][0]["id"]: 0}, TODAY)
        answers = {q["id"]: bank[q["id"]]["correct"] for q in quiz["items"]}
        wrong = quiz["items"][0]["id"]
        answers[wrong] = (answers[wrong] + 1) % 4
        result = submit_quiz(s, officer, cid, answers, TODAY)
    assert result["state"] == "done" and result["score"] == 80 and result["right"] == 4
    assert all(i["explanation_en"] for i in result["items"])
    with session_scope(url) as s:
        with pytest.raises(CampaignError) as err:
            submit_quiz(s, officer, cid, {k: bank[k]["correct"] for k in answers}, TODAY)
        assert "already" in err.value.errors["_"][1] or "answered" in err.value.errors["_"][1]
        assert daily_quiz(s, officer, cid, TODAY)["score"] == 80
        value = s.scalar(select(CampaignEntry.value).where(CampaignEntry.campaign_id == cid,
                                                           CampaignEntry.officer_id == officer.officer_id))
        assert value == 80
        assert s.scalar(select(func.count()).select_from(CampaignQuizAttempt)) == 1
        board = team_leaderboard(s, admin(), cid, TODAY)
        assert sum(r["total"] for r in board["rows"]) == 80


def test_cen008_close_and_archive(world):
    url = world["url"]
    with session_scope(url) as s:
        c = save_campaign(s, admin(), {"name": "临时活动", "kind": "checkin", "start_date": TODAY.isoformat(),
                                       "end_date": (TODAY + dt.timedelta(days=10)).isoformat(),
                                       "unit_codes": ["T-D1"], "team_level": "station", "target_per_day": 1,
                                       "team_scoring": "mean"}, TODAY)
        cid = c.id
    with session_scope(url) as s:
        with pytest.raises(CampaignError):  # running: close first
            archive_campaign(s, admin(), cid, TODAY)
        with pytest.raises(NotAllowed):
            close_campaign(s, me(world), cid, TODAY)
        close_campaign(s, admin(), cid, TODAY)
    with session_scope(url) as s:
        assert s.get(Campaign, cid).end_date == TODAY
        with pytest.raises(CampaignError):  # closed: no more entries by hand
            check_in(s, me(world), cid, TODAY)
        with pytest.raises(CampaignError):  # and no more edits
            save_campaign(s, admin(), {"name": "改名"}, TODAY, cid)
        assert "name" in campaign_form(s, admin(), cid, TODAY)["locked"]
        assert next(r for r in list_campaigns(s, admin(), TODAY) if r["id"] == cid)["status"] == "closed"
        archive_campaign(s, admin(), cid, TODAY)
    with session_scope(url) as s:
        assert cid not in [r["id"] for r in list_campaigns(s, admin(), TODAY)]
        shown = [r for r in list_campaigns(s, admin(), TODAY, archived=True) if r["id"] == cid]
        assert shown and shown[0]["status"] == "archived"


def test_cen009_points_ledger_lists_every_point(world):
    url, cid = world["url"], world["ids"]["steps"]
    officer = me(world, "T-D2-S1", 0)
    with session_scope(url) as s:
        for k in range(1, 8):  # a whole past week of hand entries
            enter_steps(s, officer, cid, (TODAY - dt.timedelta(days=k)).isoformat(), 9000, TODAY)
        award_points(s, cid, TODAY)
        ledger = points_ledger(s, officer.officer_id)
    assert ledger["total"] == sum(r["points"] for r in ledger["rows"]) > 0
    assert {r["reason"] for r in ledger["rows"]} == {"active_day"}
    assert all(r["campaign"] == "健步走" and r["campaign_id"] == cid for r in ledger["rows"])
    assert ledger["rows"] == sorted(ledger["rows"], key=lambda r: r["date"], reverse=True)


def test_cen010_a_check_in_moves_only_the_campaign_data_version(world):
    """Officers check in all morning: only campaign pages may forget their cached answers, not the
    warnings map or the portraits, which read health data alone."""
    url, cid = world["url"], world["ids"]["checkin"]
    with session_scope(url) as s:
        before = data_versions(s)
    with session_scope(url) as s:
        assert check_in(s, me(world, "T-D2-S1", 2), cid, TODAY)["changed"] is True
    with session_scope(url) as s:
        after = data_versions(s)
    assert int(after["campaign"]) == int(before["campaign"]) + 1
    assert (after["health"], after["followup"]) == (before["health"], before["followup"])
    with session_scope(url) as s:  # the same check-in again changes nothing, the version included
        assert check_in(s, me(world, "T-D2-S1", 2), cid, TODAY)["changed"] is False
    with session_scope(url) as s:
        assert data_versions(s) == after
