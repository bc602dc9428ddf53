"""Unit comparison statistics (hand-worked examples, scipy's exact quantiles) and the
per-unit SQL over a small hand-made force whose numbers can be counted on paper."""
import datetime as dt
import math

import pytest
from scipy import stats
from sqlalchemy import select

from models import comparison as cmp
from models import unit_queries as uq
from models.db import init_db, session_scope
from models.schema import (
    Campaign, CampaignEntry, Exam, Hospital, Observation, Officer, OfficerStatus, Unit, User, WarningHistory,
)

AS_OF = dt.date(2026, 6, 30)
LAST_YEAR = 2025


# --- pure statistics ------------------------------------------------------------------------
def test_cmp001_wilson_matches_newcombe_1998():
    # Newcombe, Stat Med 1998;17:857, table I, method 3 (score interval)
    e = cmp.wilson(81, 263)
    assert (round(e.lo, 4), round(e.hi, 4)) == (0.2553, 0.3662)
    e = cmp.wilson(15, 148)
    assert (round(e.lo, 4), round(e.hi, 4)) == (0.0624, 0.1605)


def test_cmp002_wilson_hand_formula_and_zero_events():
    n, x, z = 40, 8, stats.norm.ppf(0.975)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    e = cmp.wilson(x, n)
    assert e.value == pytest.approx(0.2)
    assert e.lo == pytest.approx(centre - half) and e.hi == pytest.approx(centre + half)
    zero = cmp.wilson(0, 25)
    assert zero.value == 0 and zero.lo == pytest.approx(0, abs=1e-12) and 0.1 < zero.hi < 0.15
    assert cmp.wilson(0, 0).value is None


def test_cmp003_direct_standardisation_worked_by_hand():
    # unit: band A 2 of 10, band B 8 of 20; standard population A 300, B 100
    # DSR = 0.75 * 0.2 + 0.25 * 0.4 = 0.25 (crude would be 10/30 = 0.333)
    e = cmp.direct_standardised({"A": (10, 2), "B": (20, 8)}, {"A": 300, "B": 100})
    assert e.value == pytest.approx(0.25)
    # Fay-Feuer: w = W/n = (0.075, 0.0125); v = Σ w² d = 0.01125 + 0.00125 = 0.0125; wM = 0.075
    # lower = v / (2y) * chi2(0.025; 2y²/v) = 0.025 * chi2(0.025; 10) = 0.025 * 3.2470 (table)
    assert e.lo == pytest.approx(0.025 * 3.2470, abs=1e-4)
    upper = (0.0125 + 0.075 ** 2) / (2 * (0.25 + 0.075)) * stats.chi2.ppf(0.975, 2 * 0.325 ** 2 / (0.0125 + 0.075 ** 2))
    assert e.hi == pytest.approx(upper)
    assert e.coverage == 1.0


def test_cmp004_one_stratum_gives_the_exact_poisson_interval():
    e = cmp.direct_standardised({"only": (50, 7)}, {"only": 1234})
    assert e.value == pytest.approx(7 / 50)
    assert e.lo == pytest.approx(stats.chi2.ppf(0.025, 14) / 100)
    assert e.hi == pytest.approx(stats.chi2.ppf(0.975, 16) / 100)


def test_cmp005_missing_stratum_reweights_and_reports_coverage():
    # the unit has nobody in stratum C: weights re-normalised over A and B, coverage 400/500
    e = cmp.direct_standardised({"A": (10, 2), "B": (20, 8), "C": (0, 0)}, {"A": 300, "B": 100, "C": 100})
    assert e.value == pytest.approx(0.25) and e.coverage == pytest.approx(0.8)


def test_cmp006_binomial_limits_are_scipys_exact_quantiles():
    for p0, n in ((0.2, 50), (0.05, 200), (0.35, 17), (0.01, 1000)):
        for level in (0.95, 0.998):
            tail = (1 - level) / 2
            lo, hi = cmp.binomial_limits(p0, n, level, interpolate=False)
            assert lo == stats.binom.ppf(tail, n, p0) / n
            assert hi == stats.binom.ppf(1 - tail, n, p0) / n
            ilo, ihi = cmp.binomial_limits(p0, n, level)
            # the interpolated limit lies within one event below the exact quantile
            assert lo - 1 / n <= ilo <= lo and hi - 1 / n <= ihi <= hi


def test_cmp007_spiegelhalter_interpolation_by_hand():
    p0, n, q = 0.2, 50, 0.975
    r = stats.binom.ppf(q, n, p0)
    a = (stats.binom.cdf(r, n, p0) - q) / (stats.binom.cdf(r, n, p0) - stats.binom.cdf(r - 1, n, p0))
    assert cmp.binomial_limit(p0, n, q) == pytest.approx((r - a) / n)


def test_cmp008_limits_narrow_with_n_and_approach_normal():
    wide = cmp.binomial_limits(0.2, 20, 0.998)
    narrow = cmp.binomial_limits(0.2, 2000, 0.998)
    assert wide[0] < narrow[0] < 0.2 < narrow[1] < wide[1]
    approx = 0.2 + stats.norm.ppf(0.999) * math.sqrt(0.2 * 0.8 / 2000)
    assert narrow[1] == pytest.approx(approx, abs=0.003)


def test_cmp009_position_against_limits():
    assert cmp.position(0.5, 50, "proportion", 0.2) == "above998"
    assert cmp.position(0.2, 50, "proportion", 0.2) == "within"
    hi95 = cmp.binomial_limits(0.2, 100, 0.95)[1]
    hi998 = cmp.binomial_limits(0.2, 100, 0.998)[1]
    assert cmp.position((hi95 + hi998) / 2, 100, "proportion", 0.2) == "above95"
    assert cmp.position(0.0, 200, "proportion", 0.2) == "below998"
    assert cmp.position(None, 10, "proportion", 0.2) is None


def test_cmp010_chi_square_matches_hand_calculation():
    # 10/100, 20/100, 5/100: expected 35/3 events each; X² = Σ (O−E)²/E over both columns
    res = cmp.chi_square_proportions([10, 20, 5], [100, 100, 100])
    e1, e0 = 35 / 3, 100 - 35 / 3
    hand = sum((o - e1) ** 2 / e1 + ((100 - o) - e0) ** 2 / e0 for o in (10, 20, 5))
    assert res.statistic == pytest.approx(hand) and res.df == 2
    assert res.p_value == pytest.approx(stats.chi2.sf(hand, 2))
    same = cmp.chi_square_proportions([10, 10], [50, 50])
    assert same.statistic == pytest.approx(0) and same.p_value == pytest.approx(1)
    assert cmp.chi_square_proportions([3], [10]) is None


def test_cmp011_cochran_q_and_means():
    q = cmp.cochran_q([0.1, 0.3], [0.01 ** 2, 0.01 ** 2])
    # equal weights: pooled 0.2, Q = 2 * (0.1 / 0.01)² = 200
    assert q.statistic == pytest.approx(200) and q.df == 1
    # two groups of values {1, 3} and {5, 7}: means 2 and 6, grand 4, within variance 2
    m = cmp.chi_square_means([2, 2], [4, 12], [10, 74])
    assert m.statistic == pytest.approx((2 * 4 + 2 * 4) / 2) and m.df == 1
    e = cmp.mean_ci(4, 16, 84)  # values 1, 3, 5, 7
    assert e.value == 4
    assert e.hi - e.value == pytest.approx(stats.t.ppf(0.975, 3) * math.sqrt((84 - 64) / 3 / 4))


def test_cmp012_standardised_mean_by_hand():
    est, var = cmp.standardised_mean({"A": (2, 4, 10), "B": (2, 12, 74)}, {"A": 1, "B": 3})
    assert est.value == pytest.approx(0.25 * 2 + 0.75 * 6)
    assert var == pytest.approx(0.25 ** 2 * 2 / 2 + 0.75 ** 2 * 2 / 2)


# --- a small force counted on paper -------------------------------------------------------------
UNITS = [("C", "市局", "city", None), ("D1", "一分局", "district", "C"), ("S1", "一所", "station", "D1"),
         ("S2", "二所", "station", "D1"), ("D2", "二分局", "district", "C"), ("S3", "三所", "station", "D2"),
         ("DEP", "指挥中心", "department", "C")]


def _born(age: int) -> dt.date:
    return dt.date(AS_OF.year - age, 1, 15)


def build_small_force(url: str) -> dict:
    """Units and officers whose counts the tests below work out by hand.

    S1: 20 men aged 25 (2 hypertensive) + 20 men aged 45 (10 hypertensive)
    S2: 30 men aged 25 (3) + 10 men aged 45 (5) + 5 men aged 25 with no BP reading
    S3: 10 women aged 25 (1) + 10 men aged 45 (8)
    DEP: 3 men aged 45 (1)
    """
    init_db(url)
    ids: dict = {"officers": {}}
    with session_scope(url) as s:
        units = {}
        for code, name, level, parent in UNITS:
            path = (units[parent].path if parent else "/") + code + "/"
            u = Unit(code=code, name=name, name_en=code, level=level, path=path, depth=path.count("/") - 2,
                     parent_id=units[parent].id if parent else None)
            s.add(u)
            s.flush()
            units[code] = u
        hospital = Hospital(code="H1", name="一院")
        s.add(hospital)
        s.flush()
        groups = [("S1", "male", 25, 20, 2), ("S1", "male", 45, 20, 10), ("S2", "male", 25, 30, 3),
                  ("S2", "male", 45, 10, 5), ("S2", "male", 25, 5, None), ("S3", "female", 25, 10, 1),
                  ("S3", "male", 45, 10, 8), ("DEP", "male", 45, 3, 1)]
        seq = 0
        for unit, sex, age, count, hyper in groups:
            for i in range(count):
                seq += 1
                o = Officer(badge=f"B{seq:04d}", name=f"民警{seq}", sex=sex, birth_date=_born(age),
                            unit_id=units[unit].id, post_type="patrol", hire_date=dt.date(2010, 1, 1))
                s.add(o)
                s.flush()
                ids["officers"].setdefault(unit, []).append(o.id)
                measured = hyper is not None
                is_hyper = measured and i < hyper
                sbp = 150.0 if is_hyper else 120.0
                latest = {"sbp": {"value": sbp, "unit": "mmHg", "date": "2026-03-01", "source": "一院 体检",
                                  "kind": "exam"}} if measured else {}
                par = 2.0 if age == 25 else 6.0
                if unit == "S3" and sex == "male":
                    par += 2.0
                level = "red" if is_hyper and unit == "S3" else ("orange" if is_hyper else
                                                                 "green" if measured else "yellow")
                s.add(OfficerStatus(officer_id=o.id, unit_path=units[unit].path, latest=latest,
                                    classes={"bp": ("grade1" if is_hyper else "normal") if measured else None},
                                    china_par=par if measured else None, level=level, confirmed=True,
                                    reasons=[], rules_version="t",
                                    rule_ids=",bp_grade1," if is_hyper else ("," if measured else ",exam_overdue,"),
                                    hypertension=is_hyper,
                                    last_exam_date=dt.date(2026, 3, 1) if measured else dt.date(2025, 5, 1)))
                # exams: everyone in 2025; in 2026 all but S2's unmeasured five
                s.add(Exam(officer_id=o.id, hospital_id=hospital.id, exam_date=dt.date(2025, 5, 1)))
                if measured:
                    s.add(Exam(officer_id=o.id, hospital_id=hospital.id, exam_date=dt.date(2026, 3, 1)))
                # 2025 readings: S1's first 4 young men had 150 then 130 (last reading counts), the old had 150
                if unit == "S1":
                    last = 150.0 if age == 45 and i < 6 else 125.0
                    # with a DBP beside each SBP: a BP reading is measured only as the pair
                    for day, kind, src, sbp_value in ((dt.datetime(2025, 3, 1, 9), "exam", "H1", 150.0),
                                                      (dt.datetime(2025, 9, 1, 9), "kiosk", "K1", last)):
                        for code, value in (("sbp", sbp_value), ("dbp", 80.0)):
                            s.add(Observation(officer_id=o.id, code=code, value=value, unit="mmHg",
                                              observed_at=day, source_kind=kind, source_id=src))
        user = User(username="mgr", password_hash="x", role="manager", scope_unit_id=units["C"].id)
        campaign = Campaign(name="健步走", kind="steps", start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 6, 30),
                            scope_unit_ids=[units["S1"].id, units["S2"].id])  # S3 was not invited
        s.add_all([user, campaign])
        s.flush()
        # campaign: 12 of S1's officers took part this year
        for oid in ids["officers"]["S1"][:12]:
            s.add(CampaignEntry(campaign_id=campaign.id, officer_id=oid, day=dt.date(2026, 5, 2), value=8000))
        # warning history: everyone in S3 turned orange in June 2025 (and was orange at the end of 2025)
        for oid in ids["officers"]["S3"]:
            s.add(WarningHistory(officer_id=oid, unit_path=units["S3"].path, level="orange", rules_version="t",
                                 changed_at=dt.datetime(2025, 6, 1)))
        ids["units"] = {c: u.path for c, u in units.items()}
        ids["user_id"] = user.id
        ids["campaign_id"] = campaign.id
        ids["hospital_id"] = hospital.id
    return ids


@pytest.fixture(scope="module")
def force(new_db_url):
    url = new_db_url("small_force")
    return url, build_small_force(url)


def _rows(res):
    return {r["code"]: r for r in res["rows"]}


def test_cmp020_station_counts_and_crude_rates(force):
    url, _ = force
    with session_scope(url) as s:
        res = uq.unit_comparison(s, "/C/", "station", "hypertension", 2026, AS_OF, rate="crude")
    rows = _rows(res)
    assert set(rows) == {"S1", "S2", "S3"}
    assert (rows["S1"]["n"], rows["S1"]["events"]) == (40, 12)
    assert (rows["S2"]["n"], rows["S2"]["events"]) == (40, 8)  # the five without a reading are not counted
    assert rows["S3"]["crude"] == pytest.approx(9 / 20)
    lo, hi = cmp.wilson(12, 40).lo, cmp.wilson(12, 40).hi
    assert (rows["S1"]["crude_lo"], rows["S1"]["crude_hi"]) == (pytest.approx(lo), pytest.approx(hi))
    # force: 30 hypertensive of 103 measured
    assert res["force"]["n"] == 103 and res["force"]["centre"] == pytest.approx(30 / 103)


def test_cmp021_standardised_rate_worked_by_hand(force):
    url, _ = force
    with session_scope(url) as s:
        res = uq.unit_comparison(s, "/C/", "station", "hypertension", 2026, AS_OF)
    s1 = _rows(res)["S1"]
    # standard (whole force roster): young men 20+30+5 = 55, older men 20+10+10+3 = 43, young women 10
    # S1 has no women: weights over the two male strata, 55/98 and 43/98
    assert s1["std"] == pytest.approx((55 * 2 / 20 + 43 * 10 / 20) / 98)
    assert s1["coverage"] == pytest.approx(98 / 108)
    assert s1["value"] == s1["std"] and res["rate"] == "standardised"
    assert s1["std_lo"] < s1["std"] < s1["std_hi"]


def test_cmp022_funnel_and_heterogeneity(force):
    url, _ = force
    with session_scope(url) as s:
        res = uq.unit_comparison(s, "/C/", "station", "hypertension", 2026, AS_OF, rate="crude")
    rows = _rows(res)
    het = cmp.chi_square_proportions([12, 8, 9], [40, 40, 20])
    assert res["heterogeneity"]["statistic"] == pytest.approx(het.statistic)
    assert res["heterogeneity"]["df"] == 2
    expected = cmp.position(9 / 20, 20, "proportion", 30 / 103)
    assert rows["S3"]["position"] == expected
    assert res["funnel"]["n"][0] <= 20 and res["funnel"]["n"][-1] >= 40


def test_cmp023_districts_department_and_drill_down_flags(force):
    url, _ = force
    with session_scope(url) as s:
        levels = uq.level_options(s, "/C/")
        districts = _rows(uq.unit_comparison(s, "/C/", "district", "hypertension", 2026, AS_OF, rate="crude"))
        inside = _rows(uq.unit_comparison(s, "/C/D1/", "station", "hypertension", 2026, AS_OF, rate="crude"))
        crumbs = uq.breadcrumb(s, "/C/", "/C/D1/")
    assert levels[0] == "district" and set(levels) == {"district", "department", "station"}
    assert districts["D1"]["n"] == 80 and districts["D1"]["events"] == 20
    assert districts["D1"]["has_children"] and not inside["S1"]["has_children"]
    assert set(inside) == {"S1", "S2"}
    assert [c["code"] for c in crumbs] == ["C", "D1"]


def test_cmp024_leaders_get_no_small_groups_and_no_counts(force):
    url, _ = force
    with session_scope(url) as s:
        rows = _rows(uq.unit_comparison(s, "/C/", "department", "hypertension", 2026, AS_OF, suppress=True))
        big = _rows(uq.unit_comparison(s, "/C/", "station", "hypertension", 2026, AS_OF, suppress=True))
    dep = rows["DEP"]
    assert dep["suppressed"] and dep["n"] is None and dep["crude"] is None and dep["std"] is None
    assert all(r["events"] is None for r in big.values()) and big["S1"]["n"] == 40


def test_cmp025_past_year_uses_that_years_last_reading(force):
    url, _ = force
    with session_scope(url) as s:
        rows = _rows(uq.unit_comparison(s, "/C/", "station", "hypertension", 2025, AS_OF, rate="crude"))
    # only S1 has 2025 readings: the last one counts, so 6 older men at 150 of 40
    assert rows["S1"]["n"] == 40 and rows["S1"]["events"] == 6
    assert rows["S2"]["n"] == 0 and rows["S2"]["crude"] is None


def test_cmp026_coverage_participation_and_red_orange(force):
    url, _ = force
    with session_scope(url) as s:
        cov = _rows(uq.unit_comparison(s, "/C/", "station", "exam_coverage", 2026, AS_OF, rate="crude"))
        camp = _rows(uq.unit_comparison(s, "/C/", "station", "campaign", 2026, AS_OF, rate="crude"))
        ro_now = _rows(uq.unit_comparison(s, "/C/", "station", "red_orange", 2026, AS_OF, rate="crude"))
        ro_2025 = _rows(uq.unit_comparison(s, "/C/", "station", "red_orange", 2025, AS_OF, rate="crude"))
    assert (cov["S2"]["n"], cov["S2"]["events"]) == (45, 40)
    assert (camp["S1"]["events"], camp["S2"]["events"]) == (12, 0)
    assert (ro_now["S3"]["n"], ro_now["S3"]["events"]) == (20, 9)
    assert (ro_2025["S3"]["n"], ro_2025["S3"]["events"]) == (20, 20) and ro_2025["S1"]["n"] == 0


def test_cmp030_participation_only_over_invited_units_and_no_data_without_campaigns(force):
    """Issue 21: a unit never invited has no participation rate (not 0 %) and is not in the benchmark;
    a year without any campaign has no data at all."""
    url, _ = force
    with session_scope(url) as s:
        res = uq.unit_comparison(s, "/C/", "station", "campaign", 2026, AS_OF, rate="crude")
        camp = _rows(res)
        none = _rows(uq.unit_comparison(s, "/C/", "station", "campaign", 2025, AS_OF, rate="crude"))
    assert camp["S3"]["n"] == 0 and camp["S3"]["crude"] is None
    invited = camp["S1"]["n"] + camp["S2"]["n"]
    assert res["force"]["centre"] == pytest.approx(12 / invited)
    assert all(r["n"] == 0 and r["crude"] is None for r in none.values())


def test_cmp027_mean_china_par(force):
    url, _ = force
    with session_scope(url) as s:
        res = uq.unit_comparison(s, "/C/", "station", "china_par", 2026, AS_OF, rate="crude")
    rows = _rows(res)
    assert rows["S1"]["crude"] == pytest.approx((20 * 2 + 20 * 6) / 40)
    assert rows["S3"]["crude"] == pytest.approx((10 * 2 + 10 * 8) / 20)
    assert res["kind"] == "mean" and res["heterogeneity"]["method"] == "means"
    assert rows["S3"]["position"] in ("above95", "above998")


def test_cmp028_trend_by_year(force):
    url, _ = force
    with session_scope(url) as s:
        trend = uq.unit_trend(s, "/C/", "station", "hypertension", ["S1"], [2025, 2026], AS_OF, rate="crude")
    values = [p["value"] for p in trend["units"]["S1"]]
    assert values == [pytest.approx(6 / 40), pytest.approx(12 / 40)]
    assert len(trend["force"]) == 2


def test_cmp029_every_indicator_runs_on_both_years(force):
    url, _ = force
    with session_scope(url) as s:
        for key in uq.INDICATORS:
            for year in (2025, 2026):
                res = uq.unit_comparison(s, "/C/", "district", key, year, AS_OF)
                assert {r["code"] for r in res["rows"]} == {"D1", "D2"}
        assert uq.data_years(s, AS_OF) == [2026, 2025]
        assert s.scalar(select(Officer.id).limit(1)) is not None
