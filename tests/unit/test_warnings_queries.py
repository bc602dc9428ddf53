"""Warnings queries on the tiny demo force, checked against plain Python over the same rows."""
import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from models.db import session_scope
from models.schema import Officer, OfficerStatus, Unit, User, WarningHistory
from models.warning import load_rules
from models import warnings_queries as wq
from tests.conftest import AS_OF

RULES = load_rules()


def _people(s, path=None):
    """Every active officer with their snapshot, as plain dicts."""
    rows = s.execute(select(Officer, OfficerStatus).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                     .where(Officer.active)).all()
    return [{"id": o.id, "badge": o.badge, "sex": o.sex, "birth": o.birth_date, "post": o.post_type, "level": st.level,
             "confirmed": st.confirmed, "rules": st.rule_ids, "path": st.unit_path, "last_exam": st.last_exam_date,
             "sbp": (st.latest.get("sbp") or {}).get("value")}
            for o, st in rows if path is None or st.unit_path.startswith(path)]


def _scope_path(s, username):
    return s.scalar(select(User).where(User.username == username)).scope_unit.path


def test_wq001_counts_per_colour_match_the_snapshot(demo_url):
    with session_scope(demo_url) as s:
        people = _people(s)
        counts = wq.level_counts(s, None, wq.Filters(), AS_OF)
    expected = Counter(p["level"] for p in people)
    assert counts == {lvl: expected.get(lvl, 0) for lvl in wq.LEVELS}
    assert sum(counts.values()) == len(people) > 100


def test_wq002_filters_narrow_like_python_would(demo_url):
    with session_scope(demo_url) as s:
        path = _scope_path(s, "manager_d1")
        people = _people(s, path)
        f = wq.Filters(sex="male", age_band="30_39", levels=("red",))
        counts = wq.level_counts(s, path, f, AS_OF)

    def age(p):
        return AS_OF.year - p["birth"].year - ((AS_OF.month, AS_OF.day) < (p["birth"].month, p["birth"].day))

    chosen = [p for p in people if p["sex"] == "male" and 30 <= age(p) < 40]
    expected = Counter(p["level"] for p in chosen)
    # the colour filter does not hide the other colours' counts
    assert counts == {lvl: expected.get(lvl, 0) for lvl in wq.LEVELS}


def test_wq003_forged_filter_values_are_dropped():
    f = wq.Filters.parse({"levels": ["red", "purple", {"x": 1}], "rule": "bp_grade3' OR '1'='1",
                          "age_band": "99", "sex": "male", "confirmed": "maybe", "exam": ["never"],
                          "followup": "overdue", "post_type": "patrol%"},
                         rule_ids=[r["id"] for r in RULES.rules], post_types=None)
    assert f.levels == ("red",) and f.rule is None and f.age_band is None and f.sex == "male"
    assert f.confirmed == "all" and f.exam is None and f.followup == "overdue" and f.post_type is None
    assert wq.Filters.parse("not a dict", rule_ids=[], post_types=None) == wq.Filters()


def test_wq004_map_classes_follow_the_legend(demo_url):
    with session_scope(demo_url) as s:
        root = s.scalar(select(Unit).where(Unit.depth == 0))
        data = wq.map_data(s, None, root, wq.Filters(), RULES, AS_OF, tree_depth=1)
        people = _people(s)
        n_children = s.scalar(select(Unit.id).where(Unit.parent_id == root.id).limit(1))
    assert data["root"]["total"] == len(people)
    assert data["children"], "the demo districts have polygons"
    assert n_children is not None
    for child in data["children"]:
        mine = [p for p in people if p["path"].startswith(child["path"])]
        assert child["total"] == len(mine)
        red_orange = sum(p["level"] in ("red", "orange") for p in mine)
        if len(mine) < 5:
            assert child["class"] == "none"
        else:
            assert child["class"] == RULES.legend_level(100 * red_orange / len(mine))
            assert child["share"] == pytest.approx(100 * red_orange / len(mine))
        assert child["geometry"]["type"] in ("Polygon", "MultiPolygon") and len(child["label"]) == 2
    assert [b["level"] for b in data["legend"]] == ["green", "yellow", "orange", "red"]


def test_wq005_small_group_is_grey():
    assert wq.legend_class({"red": 2, "orange": 1, "yellow": 1, "green": 0}, RULES) == ("none", None)
    assert wq.legend_class({lvl: 0 for lvl in wq.LEVELS}, RULES) == ("none", None)
    (first, below), (second, _) = RULES.legend[0], RULES.legend[1]
    at = {"red": 0, "orange": int(below), "yellow": 0, "green": 100 - int(below)}  # exactly on the first threshold
    assert wq.legend_class(at, RULES) == (second, float(below))
    assert wq.legend_class(dict(at, orange=int(below) - 1, green=101 - int(below)), RULES)[0] == first


def test_wq006_list_sorts_and_pages_on_the_server(demo_url):
    with session_scope(demo_url) as s:
        full = wq.officer_rows(s, None, wq.Filters(), AS_OF, leader=False, sort=[("sbp", True)], start=0, end=500)
        pages = [wq.officer_rows(s, None, wq.Filters(), AS_OF, leader=False, sort=[("sbp", True)], start=i, end=i + 25)
                 for i in range(0, 75, 25)]
    values = [r["sbp"] for r in full["rows"] if r["sbp"] is not None]
    assert values == sorted(values, reverse=True) and len(values) > 50
    assert [r["sbp"] for r in full["rows"]][-1] is None or values  # missing values sort last
    assert [r["badge"] for p in pages for r in p["rows"]] == [r["badge"] for r in full["rows"][:75]]
    assert full["total"] == pages[0]["total"] == len(full["rows"])


def test_wq007_forged_ranges_and_sort_columns_are_clamped():
    assert wq.clamp_range(-10, 10 ** 12) == (0, wq.MAX_PAGE)
    assert wq.clamp_range("x", None) == (0, 100)
    assert wq.clamp_range(50, 20) == (50, 50)
    forged = [{"colId": "name; DROP TABLE officer", "sort": "asc"}, {"colId": "sbp", "sort": "desc"},
              {"colId": "badge", "sort": "sideways"}, "junk", {"colId": "level", "sort": "asc"}]
    assert wq.clean_sort(forged, leader=False) == [("sbp", True), ("level", False)]
    assert wq.clean_sort(forged, leader=True) == [("level", False)]  # no sorting a leader's list by lab values


def test_wq008_leaders_get_red_and_orange_names_without_values(demo_url):
    with session_scope(demo_url) as s:
        rows = wq.officer_rows(s, None, wq.Filters(), AS_OF, leader=True, start=0, end=500)
        green = wq.officer_rows(s, None, wq.Filters(levels=("green",)), AS_OF, leader=True)
        people = _people(s)
        open_levels = dict(s.execute(select(OfficerStatus.officer_id, OfficerStatus.open_level)).all())
    # psy: a leader's names are those red or orange for a non-psychological reason (the open level)
    assert rows["total"] == sum(open_levels.get(p["id"]) in ("red", "orange") for p in people) > 0
    for r in rows["rows"]:
        assert set(r) == {"badge", "name", "unit", "unit_en", "level", "confirmed"}
        assert r["level"] in ("red", "orange")
    assert green["total"] == 0 and green["rows"] == []


def test_wq009_unit_outside_scope_is_refused(demo_url):
    with session_scope(demo_url) as s:
        d1, d2 = _scope_path(s, "manager_d1"), _scope_path(s, "manager_d2")
        other = s.scalar(select(Unit).where(Unit.path == d2))
        with pytest.raises(PermissionError):
            wq.level_counts(s, d1, wq.Filters(unit_path=d2), AS_OF)
        with pytest.raises(PermissionError):
            wq.map_data(s, d1, other, wq.Filters(), RULES, AS_OF)


def test_wq010_exam_bands(demo_url):
    with session_scope(demo_url) as s:
        never = wq.officer_rows(s, None, wq.Filters(exam="never"), AS_OF, leader=False, end=500)["rows"]
        recent = wq.officer_rows(s, None, wq.Filters(exam="within12"), AS_OF, leader=False, end=500)["rows"]
        total = wq.officer_rows(s, None, wq.Filters(), AS_OF, leader=False, end=1)["total"]
        over18 = wq.officer_rows(s, None, wq.Filters(exam="over18"), AS_OF, leader=False, end=1)["total"]
        between = wq.officer_rows(s, None, wq.Filters(exam="12to18"), AS_OF, leader=False, end=1)["total"]
    assert all(r["last_exam"] is None for r in never)
    cutoff = wq._months_before(AS_OF, 12)
    assert recent and all(dt.date.fromisoformat(r["last_exam"]) > cutoff for r in recent)
    assert len(recent) + between + over18 == total  # the three bands partition the force


def test_wq011_movement_matches_history(demo_url):
    start = AS_OF - dt.timedelta(days=91)
    since = dt.datetime.combine(start, dt.time.min)
    with session_scope(demo_url) as s:
        data = wq.movement(s, None, start, AS_OF)
        history = s.execute(select(WarningHistory.officer_id, WarningHistory.level, WarningHistory.changed_at)
                            .order_by(WarningHistory.changed_at, WarningHistory.id)).all()
        now = dict(s.execute(select(OfficerStatus.officer_id, OfficerStatus.level)
                             .join(Officer, Officer.id == OfficerStatus.officer_id).where(Officer.active)).all())
    before, after = {}, {}
    for oid, level, at in history:
        if at < since:
            before[oid] = level
        after[oid] = level
    assert after == {oid: after[oid] for oid in after if oid in now} and all(after[o] == now[o] for o in now)
    expected = Counter((before.get(oid, "new"), lvl) for oid, lvl in now.items())
    got = Counter({(b, a): n for b, a, n in data["matrix"]}) + Counter({(b, a): n for b, a, n in data["rule_matrix"]})
    assert got == expected
    assert (data["improved"] + data["worsened"] + data["unchanged"] + data["new"] + data["rule_change"]
            == len(now))


def test_wq013_period_boundaries():
    assert wq.quarter_start(dt.date(2026, 11, 18)) == dt.date(2026, 10, 1)
    assert wq.quarter_start(dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)
    assert wq.quarter_start(dt.date(2026, 3, 31)) == dt.date(2026, 1, 1)
    assert wq.quarter_start(dt.date(2026, 4, 1)) == dt.date(2026, 4, 1)
    assert wq.quarter_start(dt.date(2026, 6, 30)) == dt.date(2026, 4, 1)
    assert wq.quarter_start(dt.date(2026, 9, 30)) == dt.date(2026, 7, 1)
    assert wq.quarter_start(dt.date(2026, 12, 31)) == dt.date(2026, 10, 1)
    assert wq.year_start(dt.date(2026, 11, 18)) == dt.date(2026, 1, 1)
    today = dt.date(2026, 11, 18)
    assert wq.period_bounds("quarter", None, None, today) == ("quarter", dt.date(2026, 10, 1), today)
    assert wq.period_bounds("year", None, None, today) == ("year", dt.date(2026, 1, 1), today)
    assert wq.period_bounds("12m", None, None, today) == ("12m", dt.date(2025, 11, 18), today)
    assert wq.period_bounds("12m", None, None, dt.date(2024, 2, 29))[1] == dt.date(2023, 2, 28)
    # a forged preset is the quarter; a custom pair is clamped to [2000-01-01, today]
    assert wq.period_bounds("decade'; --", "1900-01-01", "2999-01-01", today)[0] == "quarter"
    assert wq.period_bounds("custom", "1900-01-01", "2999-01-01", today) == ("custom", wq.EARLIEST, today)
    assert wq.period_bounds("custom", "2026-02-01", "2026-03-01", today) == \
        ("custom", dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    for start, end in (("2026-03-01", "2026-03-01"), ("2026-03-02", "2026-03-01"), ("2026-02-30", "2026-03-01"),
                       (None, "2026-03-01"), ("2026-03-01", None), ("2030-01-01", "2031-01-01"),
                       ("1990-01-01", "1999-06-01")):
        with pytest.raises(wq.PeriodError):
            wq.period_bounds("custom", start, end, today)


@pytest.fixture()
def hand_history(new_db_url):
    """Six officers in two stations with a hand-written history around a rules update on 1 July."""
    from models.db import init_db

    url = new_db_url("movement")
    init_db(url)
    with session_scope(url) as s:
        city = Unit(code="M", name="测试市局", level="city", path="/M/", depth=0)
        s.add(city)
        s.flush()
        a = Unit(code="M-A", name="甲所", level="station", path="/M/M-A/", depth=1, parent_id=city.id)
        b = Unit(code="M-B", name="乙所", level="station", path="/M/M-B/", depth=1, parent_id=city.id)
        s.add_all([a, b])
        s.flush()
        # badge: unit, sex, [(date, level, rules version)]
        people = {
            "a1": (a, "male", [("2026-02-01", "green", "v1"), ("2026-08-10", "red", "v2")]),      # worse
            "a2": (a, "male", [("2026-02-01", "yellow", "v1"), ("2026-07-01", "orange", "v2")]),  # rule change
            "a3": (a, "female", [("2026-02-01", "orange", "v1"), ("2026-05-01", "green", "v1")]),  # better (h1)
            "a4": (a, "male", [("2026-02-01", "green", "v1"), ("2026-07-01", "yellow", "v2"),
                               ("2026-09-01", "green", "v2")]),                                    # back: unchanged
            "a5": (a, "male", [("2026-08-01", "red", "v2")]),                                      # new
            "b1": (b, "male", [("2026-02-01", "green", "v1"), ("2026-07-01", "red", "v2")]),      # other unit
        }
        for badge, (unit, sex, rows) in people.items():
            officer = Officer(badge=badge, name=badge, sex=sex, birth_date=dt.date(1980, 5, 5), unit_id=unit.id,
                              post_type="patrol")
            s.add(officer)
            s.flush()
            previous = None
            for day, level, version in rows:
                s.add(WarningHistory(officer_id=officer.id, unit_path=unit.path, level=level, previous_level=previous,
                                     confirmed=True, reasons=[], rules_version=version,
                                     changed_at=dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59))))
                previous = level
            s.add(OfficerStatus(officer_id=officer.id, unit_path=unit.path, level=previous, rules_version=rows[-1][2],
                                rule_ids=",", latest={}, classes={}, reasons=[]))
    return url


def _cells(rows):
    return {(b, a): n for b, a, n in rows}


def test_wq014_movement_on_a_hand_built_history(hand_history):
    with session_scope(hand_history) as s:
        year = wq.movement(s, None, dt.date(2026, 1, 1), dt.date(2026, 11, 18))
        h2 = wq.movement(s, "/M/M-A/", dt.date(2026, 6, 1), dt.date(2026, 11, 18))
        men = wq.movement(s, None, dt.date(2026, 6, 1), dt.date(2026, 11, 18), wq.Filters(sex="male"))
        reds = wq.movement(s, None, dt.date(2026, 6, 1), dt.date(2026, 11, 18), wq.Filters(levels=("red",)))
        march = wq.movement(s, "/M/", dt.date(2026, 2, 1), dt.date(2026, 3, 1))
        edge = wq.movement(s, "/M/", dt.date(2026, 2, 2), dt.date(2026, 7, 1))
    # from 1 January nobody had a record: all new
    assert _cells(year["matrix"]) == {("new", "red"): 3, ("new", "orange"): 1, ("new", "green"): 2}
    assert year["rule_change"] == 0 and year["new"] == 6
    # station A from 1 June: the rules update of 1 July (a2) apart from health changes; a1's worsening in
    # August is written under the new version too, but after the update's own recompute: a health change
    assert _cells(h2["matrix"]) == {("green", "red"): 1, ("green", "green"): 2, ("new", "red"): 1}
    assert _cells(h2["rule_matrix"]) == {("yellow", "orange"): 1}
    assert (h2["worsened"], h2["improved"], h2["unchanged"], h2["new"], h2["rule_change"]) == (1, 0, 2, 1, 1)
    # the filters narrow the population: men only (a3 is a woman), red at the end only
    assert _cells(men["matrix"]) == {("green", "red"): 1, ("green", "green"): 1, ("new", "red"): 1}
    assert _cells(men["rule_matrix"]) == {("yellow", "orange"): 1, ("green", "red"): 1}
    assert _cells(reds["matrix"]) == {("green", "red"): 1, ("new", "red"): 1}
    assert _cells(reds["rule_matrix"]) == {("green", "red"): 1}
    # a row on the first day is not yet in force at its start; a row on the last day is at its end
    assert _cells(march["matrix"]) == {("new", "green"): 3, ("new", "yellow"): 1, ("new", "orange"): 1}
    assert _cells(edge["matrix"]) == {("orange", "green"): 1, ("green", "green"): 1}
    assert _cells(edge["rule_matrix"]) == {("yellow", "orange"): 1, ("green", "yellow"): 1, ("green", "red"): 1}
    assert edge["improved"] == 1 and edge["rule_change"] == 3


def test_wq015_movement_refuses_a_unit_outside_the_scope(hand_history):
    with session_scope(hand_history) as s:
        with pytest.raises(PermissionError):
            wq.movement(s, "/M/M-A/", dt.date(2026, 6, 1), dt.date(2026, 11, 18), wq.Filters(unit_path="/M/M-B/"))


def test_wq012_rule_filter_and_unconfirmed(demo_url):
    with session_scope(demo_url) as s:
        people = _people(s)
        rule = Counter(r for p in people for r in p["rules"].strip(",").split(",") if r).most_common(1)[0][0]
        got = wq.level_counts(s, None, wq.Filters(rule=rule), AS_OF)
        unconfirmed = wq.level_counts(s, None, wq.Filters(confirmed="unconfirmed"), AS_OF)
    assert sum(got.values()) == sum(f",{rule}," in p["rules"] for p in people)
    assert sum(unconfirmed.values()) == sum(not p["confirmed"] for p in people)
