"""The leaders' overview over the small hand-made force of test_comparison (counts worked out on paper)."""
import datetime as dt

import pytest
from sqlalchemy.orm import Session

from models import overview as ov
from models.db import session_scope
from models.schema import FollowUp, WarningHistory
from models.warning import load_rules
from tests.unit.test_comparison import AS_OF, build_small_force


@pytest.fixture(scope="module")
def force(new_db_url):
    url = new_db_url("overview_force")
    ids = build_small_force(url)
    s3 = ids["officers"]["S3"]  # ten women (the first hypertensive), then ten men (the first eight)
    red = {s3[0], *s3[10:18]}
    with session_scope(url) as s:
        # 10 May 2026: the nine hypertensive officers of S3 went from orange to red, the others to green
        for oid in s3:
            s.add(WarningHistory(officer_id=oid, unit_path=ids["units"]["S3"], rules_version="t",
                                 level="red" if oid in red else "green", previous_level="orange",
                                 changed_at=dt.datetime(2026, 5, 10, 8)))
        one = ids["officers"]["S1"]
        s.add_all([
            FollowUp(officer_id=one[0], opened_by_id=ids["user_id"], kind="phone", due=dt.date(2026, 6, 1)),
            FollowUp(officer_id=one[1], opened_by_id=ids["user_id"], kind="recheck", due=dt.date(2026, 7, 15),
                     status="in_progress"),
            FollowUp(officer_id=one[2], opened_by_id=ids["user_id"], kind="phone", due=dt.date(2026, 5, 1),
                     status="closed"),
            FollowUp(officer_id=s3[0], opened_by_id=ids["user_id"], kind="referral", due=dt.date(2026, 6, 20)),
        ])
    return url, ids


def test_ov001_kpis_for_the_whole_force(force):
    url, _ = force
    with session_scope(url) as s:
        o = ov.leader_overview(s, "/C/", AS_OF, load_rules())
    assert o["officers"] == 108
    assert o["examined"] == 103 and o["coverage"] == pytest.approx(103 / 108)
    # red: the 9 hypertensive in S3; orange: the other 21 hypertensive; yellow: S2's 5 without a reading
    assert o["levels"] == {"red": 9, "orange": 21, "yellow": 5, "green": 73}
    assert o["follow_ups"] == {"open": 3, "overdue": 2}
    # participation over the officers of the invited stations S1 and S2 (40 + 45), not the whole force
    assert o["campaign"] == {"participants": 12, "officers": 108, "invited": 85, "share": pytest.approx(12 / 85)}


def test_ov002_top_risk_factors_leave_out_reasons_that_are_not_risks(force):
    url, _ = force
    with session_scope(url) as s:
        factors = ov.top_risk_factors(s, "/C/", load_rules())
        district = ov.top_risk_factors(s, "/C/D2/", load_rules())
    assert [f["rule"] for f in factors] == ["bp_grade1"]  # exam_overdue is a reason, not a risk factor
    assert factors[0]["count"] == 30 and factors[0]["name_zh"]
    assert district[0]["count"] == 9


def test_ov003_level_change_since_the_quarter_began(force):
    url, _ = force
    with session_scope(url) as s:
        o = ov.leader_overview(s, "/C/D2/", AS_OF, load_rules())
    assert o["quarter_start"] == "2026-04-01"
    # on 1 April all 20 of D2 were orange; now 9 red and 11 green
    assert o["level_change"] == {"red": 9, "orange": -20, "yellow": 0, "green": 11}


def test_ov004_red_orange_by_month_follows_the_history(force):
    url, _ = force
    with session_scope(url) as s:
        series = ov.red_orange_by_month(s, "/C/D2/", AS_OF)
        counts = ov.leader_overview(s, "/C/D2/", AS_OF, load_rules())
        before = ov.red_orange_by_month(s, "/C/D2/", dt.date(2025, 6, 15), months=3)
    assert [p["month"] for p in series][0] == "2025-07" and series[-1]["month"] == "2026-06"
    assert [p["count"] for p in series] == [20] * 10 + [9, 9]
    assert series[-1]["count"] == counts["levels"]["red"] + counts["levels"]["orange"]
    # months that ended before the history began are unknown, not zero
    assert [p["count"] for p in before] == [None, None, 20]


def test_ov009_red_and_orange_by_month_each_apart(force):
    """The chart's two series: on 10 May 2026 D2's twenty went from orange to nine red and eleven green."""
    url, _ = force
    with session_scope(url) as s:
        series = ov.red_orange_by_month(s, "/C/D2/", AS_OF)
        before = ov.red_orange_by_month(s, "/C/D2/", dt.date(2025, 6, 15), months=3)
    assert [p["red"] for p in series] == [0] * 10 + [9, 9]
    assert [p["orange"] for p in series] == [20] * 10 + [0, 0]
    assert all(p["red"] + p["orange"] == p["count"] for p in series)
    assert [(p["red"], p["orange"]) for p in before] == [(None, None), (None, None), (0, 20)]


def test_ov005_sub_units_for_drill_down(force):
    url, _ = force
    with session_scope(url) as s:
        units = {u["code"]: u for u in ov.sub_units(s, "/C/")}
        inside = {u["code"] for u in ov.sub_units(s, "/C/D1/")}
    assert set(units) == {"D1", "D2", "DEP"}
    assert (units["D1"]["officers"], units["D1"]["red_orange"]) == (85, 20)
    assert (units["D2"]["officers"], units["D2"]["red_orange"]) == (20, 9)
    assert units["DEP"]["officers"] == 3
    assert inside == {"S1", "S2"}


def test_ov006_small_counts_are_hidden_from_leaders():
    from models.suppression import HIDDEN, single

    assert single(3) == HIDDEN
    assert single(0) == "0" and single(5) == "5" and single(1234) == "1,234"
    assert single(None) == HIDDEN


def test_ov007_side_by_side_gives_each_result_in_order_on_either_kind_of_session(force):
    url, _ = force
    jobs = (lambda s: ov.follow_up_counts(s, "/C/", AS_OF), lambda s: ov.levels_at(s, "/C/D2/", dt.datetime(2026, 4, 1)),
            lambda s: ov.top_risk_factors(s, "/C/D2/", load_rules())[0]["count"])
    expected = [{"open": 3, "overdue": 2}, {"red": 0, "orange": 20, "yellow": 0, "green": 0}, 9]
    with session_scope(url) as s:
        assert ov.side_by_side(s, *jobs) == expected
        # a session bound to one connection runs the jobs on that connection
        with Session(s.connection()) as on_one:
            assert ov.side_by_side(on_one, *jobs) == expected
