"""The portrait's read queries (models/portrait.py) on a small force with known values."""
import datetime as dt
import json
import re

import numpy as np
import pytest

from models import portrait
from models.clinical import bp_category
from models.db import init_db, session_scope
from models.risk import china_par_10y, china_par_ideal, round1
from models.schema import (Campaign, CampaignEntry, Exam, FollowUp, Hospital, Observation, Officer, Points, Unit,
                           User)
from models.snapshot import recompute_officers

TODAY = dt.date(2026, 6, 30)
BIRTH = dt.date(1976, 8, 15)
EXAM_DAYS = [dt.date(2023, 5, 8), dt.date(2024, 5, 9), dt.date(2025, 5, 12), dt.date(2026, 5, 10)]
EXAM_SBP = [138, 147, 153, 162]
EXAMS = [
    {"sbp": s, "dbp": 88 + i, "bmi": 26.0 + 0.4 * i, "waist_cm": 91 + i, "fpg": 5.6 + 0.1 * i, "tc": 5.6,
     "hdl": 1.1, "ldl": 3.5, "tg": 1.9, "ua": 400 + 10 * i, "alt": 30}
    for i, s in enumerate(EXAM_SBP)
]
KIOSK_START = dt.date(2025, 3, 1)


@pytest.fixture(scope="module")
def force(new_db_url):
    url = new_db_url("portrait")
    init_db(url)
    with session_scope(url) as s:
        city = Unit(code="T", name="测试市局", name_en="Test City", level="city", path="/T/", depth=0)
        s.add(city)
        s.flush()
        district = Unit(code="T-D1", name="一分局", name_en="District 1", level="district", path="/T/T-D1/",
                        depth=1, parent_id=city.id)
        s.add(district)
        s.flush()
        station = Unit(code="T-D1-S1", name="城西派出所", name_en="Chengxi station", level="station",
                       path="/T/T-D1/T-D1-S1/", depth=2, parent_id=district.id)
        hospital = Hospital(code="H01", name="第一人民医院")
        s.add_all([station, hospital])
        s.flush()
        me = Officer(badge="100001", name="王建国", sex="male", birth_date=BIRTH, unit_id=station.id,
                     post_type="patrol")
        empty = Officer(badge="100002", name="陈静", sex="female", birth_date=dt.date(1990, 1, 1),
                        unit_id=station.id, post_type="office")
        s.add_all([me, empty])
        s.flush()
        for day, values in zip(EXAM_DAYS, EXAMS):
            exam = Exam(officer_id=me.id, hospital_id=hospital.id, exam_date=day, findings=[],
                        ecg_text="窦性心律", ultrasound_text="轻度脂肪肝")
            s.add(exam)
            s.flush()
            for code, value in values.items():
                s.add(Observation(officer_id=me.id, code=code, value=value, unit="", source_kind="exam",
                                  source_id="H01", exam_id=exam.id,
                                  observed_at=dt.datetime.combine(day, dt.time(8))))
        # Kiosk blood pressure: three readings a month for 14 months, rising slowly.
        for m in range(14):
            for k in range(3):
                day = dt.date(2025 + (2 + m) // 12, (2 + m) % 12 + 1, 3 + 9 * k)
                s.add(Observation(officer_id=me.id, code="sbp", value=145 + 0.5 * m + k, unit="",
                                  source_kind="kiosk", source_id="K-01", station="城西派出所",
                                  observed_at=dt.datetime.combine(day, dt.time(9, 15))))
        for day, score in ((dt.date(2025, 11, 3), 7), (dt.date(2026, 4, 2), 12)):
            s.add(Observation(officer_id=me.id, code="phq9", value=score, unit="", source_kind="screening",
                              source_id="SCR", observed_at=dt.datetime.combine(day, dt.time(10))))
        manager = User(username="mgr", password_hash="x", role="manager", scope_unit_id=district.id)
        s.add(manager)
        s.flush()
        s.add_all([
            FollowUp(officer_id=me.id, opened_by_id=manager.id, assignee_id=manager.id, reason="血压升高",
                     kind="phone", due=dt.date(2026, 6, 1), status="open",
                     notes=[{"at": "2026-05-20", "by": "mgr", "text": "已电话联系"}],
                     opened_at=dt.datetime(2026, 5, 15, 9)),
            FollowUp(officer_id=me.id, opened_by_id=manager.id, kind="recheck", status="closed", outcome="improved",
                     opened_at=dt.datetime(2025, 6, 1, 9), closed_at=dt.datetime(2025, 7, 1, 9)),
        ])
        walk = Campaign(name="健步走PK", kind="steps", start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 6, 30),
                        target_per_day=8000, scope_unit_ids=[me.unit_id])
        s.add(walk)
        s.flush()
        for i, steps in enumerate((9000, 12000, 7000)):
            s.add(CampaignEntry(campaign_id=walk.id, officer_id=me.id, day=dt.date(2026, 4, 1 + i), value=steps))
        s.add_all([Points(campaign_id=walk.id, officer_id=me.id, points=10, reason="daily_target"),
                   Points(campaign_id=walk.id, officer_id=me.id, points=5, reason="daily_target")])
        s.flush()
        recompute_officers(s, [me.id, empty.id], as_of=TODAY)
        ids = {"me": me.id, "empty": empty.id}
    return url, ids


def test_por201_header_full_view(force):
    url, ids = force
    with session_scope(url) as s:
        h = portrait.header(s, ids["me"], lab_values=True, as_of=TODAY)
    assert (h["name"], h["badge"], h["age"]) == ("王建国", "100001", 49)
    assert h["unit"]["name"] == "城西派出所" and [u["name"] for u in h["unit_chain"]] == ["一分局", "城西派出所"]
    assert h["post"]["zh"] == "巡警"  # the one word for patrol (models.vocab), as on /warnings
    assert h["warning"]["level"] == "orange"         # SBP 162 at the latest exam: grade 2
    texts = " ".join(r["zh"] for r in h["warning"]["reasons"])
    assert "162" in texts and "PHQ-9" in texts
    advice = [tuple(r["advice"]) for r in h["warning"]["reasons"] if r["advice"]]
    assert advice and len(advice) == len(set(advice))     # each piece of advice once
    assert h["warning"]["reasons"][0]["advice"] is not None
    assert h["last_exam_date"] == "2026-05-10"


def test_por202_china_par_now_and_at_ideal_match_the_model(force):
    url, ids = force
    with session_scope(url) as s:
        risk = portrait.header(s, ids["me"], lab_values=True, as_of=TODAY)["risk"]
    last = EXAMS[-1]
    expected = china_par_10y(sex="male", age=49, sbp=last["sbp"], bp_treated=False, tc=last["tc"], hdl=last["hdl"],
                             waist=last["waist_cm"], smoker=False, diabetes=False, north=False, urban=True,
                             family_history=False)
    ideal = china_par_ideal(sex="male", age=49, north=False, urban=True)
    assert risk["pct"] == round1(expected)
    assert risk["ideal_pct"] == round1(ideal)
    assert risk["ideal_pct"] < risk["pct"]
    assert {f["code"] for f in risk["factors"]} == {"sbp", "tc", "waist_cm"}   # 162 > 120, 5.6 > 5.18, 94 > 90


def test_por203_leader_header_has_no_values_and_no_questionnaires(force):
    url, ids = force
    with session_scope(url) as s:
        h = portrait.header(s, ids["me"], lab_values=False, as_of=TODAY, psych=False)
        manager = portrait.header(s, ids["me"], lab_values=True, as_of=TODAY, psych=False)
        granted = portrait.header(s, ids["me"], lab_values=True, as_of=TODAY, psych=True)
    dump = json.dumps(h, ensure_ascii=False)
    assert h["risk"] is None
    assert "162" not in dump and "PHQ" not in dump and "抑郁" not in dump and "心理" not in dump
    assert "advice" not in dump
    rules = [r["rule"] for r in h["warning"]["reasons"]]
    assert "psych" not in rules and "bp_grade2" in rules  # a leader never reads of a psychological reason
    assert h["warning"]["level"] == "orange"
    # psy010: a manager without the grant reads the neutral line, never a score or a rule name
    dump = json.dumps(manager, ensure_ascii=False)
    assert "PHQ" not in dump and "抑郁" not in dump and "需要心理随访" in dump
    assert any(r["rule"].startswith("phq9") for r in granted["warning"]["reasons"])


def test_por204_leader_may_open_only_red_or_orange(force):
    url, ids = force
    with session_scope(url) as s:
        assert portrait.leader_may_view(s, ids["me"]) is True
        assert portrait.level_of(s, ids["empty"]) == "yellow"   # never examined: exam overdue
        assert portrait.leader_may_view(s, ids["empty"]) is False


def test_por205_key_indicators_classes_and_change_since_exam_before(force):
    url, ids = force
    with session_scope(url) as s:
        cards = {c["key"]: c for c in portrait.key_indicators(s, ids["me"])["cards"]}
    last, before = EXAMS[-1], EXAMS[-2]
    bp = cards["bp"]
    assert bp["value"] == f"{last['sbp']}/{last['dbp']}"
    assert bp["class"] == bp_category(last["sbp"], last["dbp"]) == "grade2" and bp["tone"] == "severe"
    assert bp["change"]["text"] == f"+{last['sbp'] - before['sbp']}/+{last['dbp'] - before['dbp']}"
    assert bp["change"]["since"] == EXAM_DAYS[-2].isoformat() and bp["change"]["worse"] == [True, True]
    assert cards["waist_cm"]["class"] == "central_obesity"
    assert cards["ua"]["class"] == "hyperuricemia" and cards["ua"]["tone"] == "abnormal"   # 430 > 420
    assert cards["ldl"]["class_zh"] == "边缘升高"
    assert cards["hdl"]["change"]["text"] == "±0"
    assert cards["phq9"]["value"] == "12" and cards["phq9"]["class"] == "moderate"
    assert cards["phq9"]["change"]["text"] == "+5" and cards["phq9"]["change"]["since"] == "2025-11-03"
    assert bp["source"].startswith("第一人民医院") and bp["date"] == EXAM_DAYS[-1].isoformat()


def test_por206_key_indicators_without_questionnaires(force):
    url, ids = force
    with session_scope(url) as s:
        keys = [c["key"] for c in portrait.key_indicators(s, ids["me"], psych=False)["cards"]]
    assert "phq9" not in keys and "bp" in keys


def test_por207_series_split_by_source_with_trend_lowess_and_forecast(force):
    url, ids = force
    with session_scope(url) as s:
        series = {x["code"]: x for x in portrait.indicator_series(s, ids["me"], as_of=TODAY)["series"]}
    sbp = series["sbp"]
    assert len(sbp["exam"]) == 4 and len(sbp["kiosk"]) == 42
    years = np.array([(d - EXAM_DAYS[0]).days / 365.25 for d in EXAM_DAYS])
    slope = np.polyfit(years, EXAM_SBP, 1)[0]
    assert sbp["trend"]["slope_per_year"] == pytest.approx(slope, rel=1e-6)
    assert sbp["trend"]["worsening"] is True
    assert sbp["lowess"] and sbp["forecast"] and len(sbp["forecast"]["dates"]) == 12
    assert sbp["exam"][0][2] == "第一人民医院 体检"
    assert series["phq9"]["trend"] is None            # two screenings only
    assert series["tc"]["trend"]["significant"] is False and not series["tc"]["trend"]["worsening"]
    # annual exams only: no monthly forecast, but the next exam's value from the exam trend (issue 20, item 4)
    fpg = series["fpg"]["forecast"]
    assert fpg["kind"] == "yearly" and fpg["dates"] == ["2026-05-10", "2027-05-10"]
    assert fpg["mean"][1] == pytest.approx(5.6 + 0.1 * 4, abs=0.01) and fpg["lower"][1] < fpg["mean"][1] < fpg["upper"][1]
    assert sbp["forecast"].get("kind", "monthly") == "monthly" and sbp["trend"]["band"]
    assert "body_fat_pct" not in series


def test_por208_exam_history_marks_abnormal_values(force):
    url, ids = force
    with session_scope(url) as s:
        hist = portrait.exam_history(s, ids["me"])
    assert [e["date"] for e in hist["exams"]] == [d.isoformat() for d in EXAM_DAYS]
    first, last = hist["exams"][0]["values"], hist["exams"][-1]["values"]
    assert first["sbp"]["tone"] == "borderline" and last["sbp"]["tone"] == "severe"
    assert last["ua"]["class"] == "hyperuricemia"     # 430 > 420
    assert first["ua"]["class"] == "normal_ua"
    assert hist["exams"][0]["hospital"] == "第一人民医院" and hist["exams"][0]["ecg"] == "窦性心律"
    assert hist["codes"][0] == "sbp"
    assert hist["exams"][0]["chest"] is None and hist["exams"][0]["extra"] is None  # issue 20 texts, none here


def test_por220_exam_history_shows_items_kept_raw():
    assert portrait._extra_text({"尿比重": {"value": "1.020", "unit": None},
                                 "尿潜血": {"value": "阴性", "unit": None},
                                 "同型半胱氨酸": {"value": 12.5, "unit": "µmol/L"}}) == \
        "尿比重 1.020; 尿潜血 阴性; 同型半胱氨酸 12.5 µmol/L"
    assert portrait._extra_text(None) is None and portrait._extra_text({}) is None


def test_por209_care_follow_ups_for_managers_only_and_campaign_points(force):
    url, ids = force
    with session_scope(url) as s:
        full = portrait.care(s, ids["me"], follow_ups=True, as_of=TODAY)
        officer_view = portrait.care(s, ids["me"], follow_ups=False, as_of=TODAY)
    assert [f["status"] for f in full["follow_ups"]] == ["open", "closed"]
    assert full["follow_ups"][0]["overdue"] is True and full["follow_ups"][0]["last_note"] == "已电话联系"
    assert full["follow_ups"][0]["assignee"] == "mgr" and full["follow_ups"][1]["outcome"] == "improved"
    assert officer_view["follow_ups"] is None
    (walk,) = officer_view["campaigns"]
    assert walk["active_days"] == 3 and walk["total"] == 28000 and walk["points"] == 15
    assert officer_view["points_total"] == 15 and walk["status"] == "running" and walk["rank"] >= 1


def test_por210_officer_without_data(force):
    url, ids = force
    with session_scope(url) as s:
        assert portrait.key_indicators(s, ids["empty"])["cards"] == []
        assert portrait.indicator_series(s, ids["empty"], as_of=TODAY)["series"] == []
        assert portrait.exam_history(s, ids["empty"])["exams"] == []
        care = portrait.care(s, ids["empty"], follow_ups=True, as_of=TODAY)
        h = portrait.header(s, ids["empty"], lab_values=True, as_of=TODAY)
    # a member of the running campaign who has not taken part yet: listed with nothing counted
    assert care["follow_ups"] == [] and care["points_total"] == 0
    assert [(c["active_days"], c["points"], c["total"]) for c in care["campaigns"]] == [(0, 0, 0.0)]
    assert h["risk"] is None and h["warning"]["level"] == "yellow"
    assert re.search(r"体检", h["warning"]["reasons"][0]["zh"])


def test_por211_report_bundles_header_cards_and_small_multiples(force):
    url, ids = force
    with session_scope(url) as s:
        r = portrait.report(s, ids["me"], as_of=TODAY)
    assert r["header"]["risk"] is not None
    assert {x["code"] for x in r["series"]["series"]} <= set(portrait.REPORT_CODES)
    assert r["indicators"]["cards"]
