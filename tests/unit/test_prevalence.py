"""Prevalence counted two ways agrees: the snapshot's flags (current year, Python) and one
year's readings (past years, SQL), both generated from models/prevalence.py."""
import datetime as dt
import itertools
from collections import defaultdict

import pytest
from sqlalchemy import select

from models import prevalence
from models import unit_queries as uq
from models.clinical import classes_for
from models.db import init_db, session_scope
from models.officers import age_on
from models.schema import Observation, Officer, OfficerStatus, Unit
from models.snapshot import recompute_all
from models.status_bits import MEASURED_BITS, PHQ9_TEN_BIT, measured_mask

YEAR = 2025
YEAR_END = dt.date(YEAR, 12, 31)
LATER = dt.date(YEAR + 1, 6, 30)  # as_of for which YEAR is a past year
PREVALENCE = tuple(prevalence.DEFINITIONS)

# (sex, values, cases): edge values on and just off each threshold of docs/CLINICAL.md
EDGES = [
    ("male", {"sbp": 140, "dbp": 80}, {"hypertension"}),
    ("male", {"sbp": 139, "dbp": 89}, set()),
    ("female", {"sbp": 120, "dbp": 90}, {"hypertension"}),
    ("male", {"sbp": 150}, set()),  # no DBP: no BP class, not measured
    ("female", {"fpg": 7.0}, {"diabetes"}),
    ("male", {"fpg": 6.9, "hba1c": 6.4}, set()),
    ("female", {"fpg": 5.0, "hba1c": 6.5}, {"diabetes"}),
    ("male", {"hba1c": 7.0}, set()),  # HbA1c alone: no glucose class, not measured
    ("male", {"ogtt2h": 11.1}, {"diabetes"}),
    ("female", {"ogtt2h": 11.0}, set()),
    ("male", {"tc": 6.2}, {"dyslipidemia"}),
    ("female", {"tc": 6.19, "ldl": 4.09, "tg": 2.29, "hdl": 1.0}, set()),
    ("male", {"hdl": 0.99}, {"dyslipidemia"}),
    ("female", {"ldl": 4.1}, {"dyslipidemia"}),
    ("male", {"tg": 2.3}, {"dyslipidemia"}),
    ("male", {"bmi": 28.0}, {"obesity"}),
    ("female", {"bmi": 27.9}, set()),
    ("male", {"weight_kg": 80.9, "height_cm": 170}, {"obesity"}),  # derived 27.99 -> 28.0
    ("female", {"weight_kg": 80.7, "height_cm": 170}, set()),  # derived 27.92 -> 27.9
    ("male", {"bmi": 27.9, "weight_kg": 100, "height_cm": 170}, set()),  # the reported BMI wins
    ("male", {"waist_cm": 90}, {"central_obesity"}),
    ("male", {"waist_cm": 89.9}, set()),
    ("female", {"waist_cm": 85}, {"central_obesity"}),
    ("female", {"waist_cm": 84.9}, set()),
    ("male", {"ua": 420}, set()),
    ("female", {"ua": 420.1}, {"hyperuricemia"}),
    ("male", {"phq9": 10}, {"phq9"}),
    ("female", {"phq9": 9}, set()),
    # China-PAR inputs with diabetes from the 2-h value only
    ("male", {"sbp": 150, "dbp": 95, "tc": 6.3, "hdl": 0.9, "waist_cm": 95, "ogtt2h": 12, "bmi": 29}, {
        "hypertension", "diabetes", "dyslipidemia", "obesity", "central_obesity"}),
    ("female", {"sbp": 118, "dbp": 76, "tc": 4.5, "hdl": 1.3, "ldl": 2.4, "tg": 1.2, "waist_cm": 80, "bmi": 22,
                "fpg": 5.0, "ua": 300, "phq9": 3}, set()),
]


@pytest.mark.parametrize("sex, values, cases", EDGES)
def test_prev000_python_predicate_on_the_edges(sex, values, cases):
    assert {k for k, v in prevalence.flags(values, sex).items() if v} == cases


def _build(url: str) -> None:
    """A city with two stations; every EDGES officer twice (one per station, a different age band),
    each reading dated in YEAR."""
    init_db(url)
    with session_scope(url) as s:
        city = Unit(code="T", name="测试市局", level="city", path="/T/", depth=0)
        s.add(city)
        s.flush()
        stations = [Unit(code=f"T-S{i}", name=f"派出所{i}", level="station", path=f"/T/T-S{i}/", depth=1,
                         parent_id=city.id) for i in (1, 2)]
        s.add_all(stations)
        s.flush()
        for n, ((sex, values, _), (unit, birth)) in enumerate(itertools.product(
                EDGES, ((stations[0], dt.date(1970, 5, 1)), (stations[1], dt.date(1998, 5, 1))))):
            officer = Officer(badge=f"{n:06d}", name=f"警员{n}", sex=sex, birth_date=birth, unit_id=unit.id,
                              post_type="patrol", hire_date=dt.date(2020, 1, 1))
            s.add(officer)
            s.flush()
            # an older reading first, so the year's last one must win
            for code, value in values.items():
                for day, v in ((dt.date(YEAR, 2, 1), 0.5 * value), (dt.date(YEAR, 9, 1), value)):
                    s.add(Observation(officer_id=officer.id, code=code, value=v, unit="",
                                      observed_at=dt.datetime.combine(day, dt.time(9)), source_kind="exam"))
        s.flush()
        recompute_all(s, as_of=YEAR_END)


def _counts(rows) -> dict[tuple, tuple[int, float]]:
    """{(unit path, band, sex): (n, events)}, empty strata left out."""
    return {(p, int(b), sex): (int(n or 0), float(e or 0)) for p, b, sex, n, e, _ in rows if n or e}


def test_prev001_python_and_sql_agree(new_db_url):
    url = new_db_url("prevalence")
    _build(url)
    with session_scope(url) as s:
        officers = {o.id: o for o in s.scalars(select(Officer))}
        paths = dict(s.execute(select(Unit.id, Unit.path)).all())
        for key in PREVALENCE:
            current = _counts(uq.strata_rows(s, key, YEAR, YEAR_END))  # the snapshot's flags
            past = _counts(uq.strata_rows(s, key, YEAR, LATER))  # SQL on YEAR's readings
            expected: dict[tuple, list] = defaultdict(lambda: [0, 0.0])
            for o in officers.values():
                values = EDGES[int(o.badge) // 2][1]  # badges count EDGES x stations
                band = sum(age_on(o.birth_date, YEAR_END) >= cut for cut in uq.AGE_CUTS)
                acc = expected[(paths[o.unit_id], band, o.sex)]
                acc[0] += prevalence.measured(key, values)
                acc[1] += prevalence.flag(key, values, o.sex)
            expected_counts = {k: (n, float(e)) for k, (n, e) in expected.items() if n or e}
            assert current == past == expected_counts, key
        # China-PAR recomputed from the year's readings matches the snapshot's (diabetes from OGTT included)
        cur = {k: (n, round(sm, 6)) for k, n, sm in
               ((r[:3], r[3], r[4]) for r in uq.strata_rows(s, "china_par", YEAR, YEAR_END)) if n}
        old = {k: (n, round(sm, 6)) for k, n, sm in
               ((r[:3], r[3], r[4]) for r in uq.strata_rows(s, "china_par", YEAR, LATER)) if n}
        assert set(cur) == set(old) and cur
        for k in cur:
            assert cur[k][0] == old[k][0] and cur[k][1] == pytest.approx(old[k][1], abs=0.05 * cur[k][0]), k


def test_prev002_snapshot_flags_follow_the_definitions(new_db_url):
    url = new_db_url("prevalence_flags")
    _build(url)
    with session_scope(url) as s:
        for status, sex in s.execute(select(OfficerStatus, Officer.sex)
                                     .join(Officer, Officer.id == OfficerStatus.officer_id)):
            values = {code: r["value"] for code, r in status.latest.items()}
            for key in PREVALENCE:
                if key in OfficerStatus.__table__.c:
                    assert getattr(status, key) == prevalence.flag(key, values, sex), (key, values)


VALUES = {"sbp": 140, "dbp": 90, "fpg": 7.0, "ogtt2h": 11.1, "hba1c": 6.5, "tc": 6.2, "ldl": 4.1, "tg": 2.3,
          "hdl": 0.99, "bmi": 28.0, "weight_kg": 81, "height_cm": 170, "waist_cm": 85, "ua": 420.1, "phq9": 10}


def test_prev003_measured_is_the_guideline_class_existing():
    """The denominator matches the snapshot's ``measured`` bits for every set of readings present."""
    codes = sorted(VALUES)
    for r in range(len(codes) + 1):
        for present in itertools.combinations(codes, r):
            values = {c: VALUES[c] for c in present}
            for sex in ("male", "female"):
                bits = measured_mask(classes_for(values, sex))
                for key in PREVALENCE:
                    assert prevalence.measured(key, values) == bool(bits & MEASURED_BITS[key]), (key, present)
                assert prevalence.flag("phq9", values, sex) == bool(bits & PHQ9_TEN_BIT)


@pytest.mark.parametrize("sex", ["male", "female"])
def test_prev004_cases_follow_the_guideline_classes(sex):
    """On a grid around every threshold, a case is the guideline class of models.clinical."""
    grid = {"sbp": (119, 139, 139.9, 140, 141), "dbp": (79, 89, 89.9, 90, 91), "fpg": (6.9, 6.99, 7.0, 7.1),
            "ogtt2h": (11.0, 11.09, 11.1, 11.2), "tc": (6.19, 6.2, 6.21), "ldl": (4.09, 4.1, 4.11),
            "tg": (2.29, 2.3, 2.31), "hdl": (0.99, 1.0, 1.01), "bmi": (27.9, 27.99, 28.0, 28.1),
            "waist_cm": (79.9, 80, 84.9, 85, 89.9, 90), "ua": (416.4, 420, 420.1), "phq9": (9, 10)}
    high = {"TC", "LDL_C", "TG"}
    for code, points in grid.items():
        partner = {"sbp": {"dbp": 70}, "dbp": {"sbp": 110}}.get(code, {})
        for value in points:
            values = {code: value, **partner}
            c = classes_for(values, sex)
            lipids = c["lipids"]
            by_class = {
                "hypertension": c["bp"] in ("grade1", "grade2", "grade3"),
                "diabetes": c["glucose"] == "diabetes",
                "dyslipidemia": any(lipids[a] == "high" for a in high) or lipids["HDL_C"] == "low",
                "obesity": c["bmi"] == "obese",
                "central_obesity": c["waist"] == "central_obesity",
                "hyperuricemia": c["uric_acid"] == "hyperuricemia",
                "phq9": c["phq9"] in ("moderate", "moderately_severe", "severe"),
            }
            assert prevalence.flags(values, sex) == by_class, values


def test_prev005_demo_past_year_sql_matches_python(demo_url):
    """On the demo force, the past-year SQL counts what the Python predicate counts on the
    same readings (each officer's last reading per code in the year)."""
    from tests.conftest import AS_OF

    year = AS_OF.year - 1
    ref = dt.date(year, 12, 31)
    codes = sorted({c for d in prevalence.DEFINITIONS.values() for c in d.codes})
    with session_scope(demo_url) as s:
        officers = {oid: (path, sex, birth) for oid, path, sex, birth, hired in s.execute(
            select(Officer.id, Unit.path, Officer.sex, Officer.birth_date, Officer.hire_date)
            .join(Unit, Officer.unit_id == Unit.id).where(Officer.active)) if hired is None or hired <= ref}
        last: dict[int, dict[str, tuple]] = defaultdict(dict)
        for oid, code, value, at in s.execute(
                select(Observation.officer_id, Observation.code, Observation.value, Observation.observed_at)
                .where(Observation.code.in_(codes), Observation.observed_at >= dt.datetime(year, 1, 1),
                       Observation.observed_at < dt.datetime(year + 1, 1, 1))):
            if code not in last[oid] or at > last[oid][code][0]:
                last[oid][code] = (at, value)
        assert len(last) > 20  # the demo has readings in the past year
        for key in PREVALENCE:
            expected: dict[tuple, list] = defaultdict(lambda: [0, 0.0])
            for oid, readings in last.items():
                if oid not in officers:
                    continue
                path, sex, birth = officers[oid]
                values = {code: value for code, (_, value) in readings.items()}
                acc = expected[(path, sum(age_on(birth, ref) >= cut for cut in uq.AGE_CUTS), sex)]
                acc[0] += prevalence.measured(key, values)
                acc[1] += prevalence.flag(key, values, sex)
            want = {k: (n, float(e)) for k, (n, e) in expected.items() if n or e}
            assert _counts(uq.strata_rows(s, key, year, AS_OF)) == want, key
