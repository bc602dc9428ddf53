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
        met: dict[int, dict[str, set]] = defaultdict(lambda: defaultdict(set))  # separate days each criterion met
        for oid, code, value, at, kind in s.execute(
                select(Observation.officer_id, Observation.code, Observation.value, Observation.observed_at,
                       Observation.source_kind)
                .where(Observation.code.in_(codes), Observation.observed_at >= dt.datetime(year, 1, 1),
                       Observation.observed_at < dt.datetime(year + 1, 1, 1))):
            if code not in last[oid] or at > last[oid][code][0]:
                last[oid][code] = (at, value, kind)
            sex = officers[oid][1] if oid in officers else None
            for key, d in prevalence.DEFINITIONS.items():
                for i, c in enumerate(d.criteria):
                    if c.quantity == code and prevalence.meets(c, value, sex):
                        met[oid][prevalence.criterion_id(key, i)].add(at.date())
        assert len(last) > 20  # the demo has readings in the past year
        for key in PREVALENCE:
            expected: dict[tuple, list] = defaultdict(lambda: [0, 0.0])
            for oid, readings in last.items():
                if oid not in officers:
                    continue
                path, sex, birth = officers[oid]
                values = {code: value for code, (_, value, _) in readings.items()}
                evidence = prevalence.Evidence({code: kind for code, (_, _, kind) in readings.items()},
                                               {cid: len(days) for cid, days in met[oid].items()})
                acc = expected[(path, sum(age_on(birth, ref) >= cut for cut in uq.AGE_CUTS), sex)]
                acc[0] += prevalence.measured(key, values)
                acc[1] += prevalence.flag(key, values, sex, evidence)
            want = {k: (n, float(e)) for k, (n, e) in expected.items() if n or e}
            assert _counts(uq.strata_rows(s, key, year, AS_OF)) == want, key


# --- issue 20: cases a clinician would accept ---------------------------------------------------------
def _d(month, day, hour=9, minute=0):
    return dt.datetime(YEAR, month, day, hour, minute)


BP_HIGH = (("sbp", 150), ("dbp", 95))
# (sex, [(code, value, when, kind)], cases among hypertension/diabetes, measured for hypertension)
SCENARIOS = [
    ("male", [("sbp", 120, _d(2, 1), "exam"), ("dbp", 78, _d(2, 1), "exam"),
              *[(c, v, _d(9, 1), "kiosk") for c, v in BP_HIGH]], set(), True),          # one kiosk reading: no
    ("male", [(c, v, when, "kiosk") for when in (_d(9, 1), _d(9, 3)) for c, v in BP_HIGH],
     {"hypertension"}, True),                                                           # two separate days: yes
    ("female", [(c, v, when, "kiosk") for when in (_d(9, 1), _d(9, 1, 9, 30)) for c, v in BP_HIGH],
     set(), True),                                                                      # twice on one day: no
    ("female", [(c, v, _d(9, 1), "exam") for c, v in BP_HIGH], {"hypertension"}, True),  # an exam: yes
    ("male", [("sbp", 145, _d(8, 1), "exam"), ("dbp", 92, _d(8, 1), "exam"),
              ("sbp", 148, _d(9, 1), "kiosk"), ("dbp", 93, _d(9, 1), "kiosk")],
     {"hypertension"}, True),                                                           # exam day + kiosk day
    ("male", [("sbp", 120, _d(3, 1), "exam"), ("dbp", 78, _d(3, 1), "exam"),
              ("dx_hypertension", 1, _d(4, 1), "self")], {"hypertension"}, True),       # reported diagnosis
    ("female", [("rx_hypertension", 1, _d(4, 1), "self")], set(), False),               # no BP: not measured
    ("male", [*[(c, v, _d(9, 1), "kiosk") for c, v in BP_HIGH], *[(c, v, _d(9, 5), "kiosk") for c, v in BP_HIGH],
              ("sbp", 118, _d(9, 10), "kiosk"), ("dbp", 76, _d(9, 10), "kiosk")], set(), True),  # latest normal
    ("female", [("fpg", 7.5, _d(6, 1), "self")], set(), False),                          # one self glucose: no
    ("female", [("fpg", 7.5, _d(6, 1), "self"), ("fpg", 7.6, _d(6, 8), "self")], {"diabetes"}, False),
    ("male", [("fpg", 5.2, _d(5, 1), "exam"), ("rx_diabetes", 1, _d(5, 2), "self")], {"diabetes"}, False),
]


def _build_scenarios(url: str) -> None:
    init_db(url)
    with session_scope(url) as s:
        city = Unit(code="T", name="测试市局", level="city", path="/T/", depth=0)
        s.add(city)
        s.flush()
        station = Unit(code="T-S1", name="派出所1", level="station", path="/T/T-S1/", depth=1, parent_id=city.id)
        s.add(station)
        s.flush()
        for n, (sex, readings, _, _) in enumerate(SCENARIOS):
            officer = Officer(badge=f"{n:06d}", name=f"警员{n}", sex=sex, birth_date=dt.date(1975, 5, 1),
                              unit_id=station.id, post_type="patrol", hire_date=dt.date(2020, 1, 1))
            s.add(officer)
            s.flush()
            for code, value, when, kind in readings:
                s.add(Observation(officer_id=officer.id, code=code, value=value, unit="", observed_at=when,
                                  source_kind=kind, source_id=f"{kind}-1"))
        s.flush()
        recompute_all(s, as_of=YEAR_END)


def test_prev010_one_kiosk_reading_is_not_a_case_two_days_are(new_db_url):
    url = new_db_url("prevalence_cases")
    _build_scenarios(url)
    with session_scope(url) as s:
        status = {int(b): st for b, st in s.execute(select(Officer.badge, OfficerStatus)
                                                    .join(OfficerStatus, OfficerStatus.officer_id == Officer.id))}
        for n, (_, readings, cases, _) in enumerate(SCENARIOS):
            got = {k for k in ("hypertension", "diabetes") if getattr(status[n], k)}
            assert got == cases, (n, readings)
        for key in ("hypertension", "diabetes"):
            current = _counts(uq.strata_rows(s, key, YEAR, YEAR_END))  # the snapshot's flags
            past = _counts(uq.strata_rows(s, key, YEAR, LATER))  # SQL on YEAR's readings
            assert current == past, key
        strata = _counts(uq.strata_rows(s, "hypertension", YEAR, LATER)).values()
        n_bp, cases_bp = sum(n for n, _ in strata), sum(e for _, e in strata)
        assert n_bp == sum(m for *_, m in SCENARIOS) and cases_bp == sum("hypertension" in c for _, _, c, _ in SCENARIOS)


def test_prev011_reported_codes_have_words_units_and_ranges():
    from models import vocab
    from models.clinical import CANONICAL_UNITS
    from models.items import plausible_range

    for code in prevalence.REPORTED_CODES:
        assert all(vocab.ITEM_WORDS[code]) and CANONICAL_UNITS[code] == "flag" and plausible_range(code) == (0, 1)
    assert {c for d in prevalence.DEFINITIONS.values() for c in d.reported} == set(prevalence.REPORTED_CODES)


def test_prev012_demo_hypertension_changes_only_where_one_kiosk_reading_counted(demo_url):
    """Against counting from the latest values alone, the only officers who change are ones whose
    high latest BP is a kiosk reading: they leave; nobody joins."""
    with session_scope(demo_url) as s:
        rows = s.execute(select(OfficerStatus, Officer.sex).join(Officer, Officer.id == OfficerStatus.officer_id)).all()
    changed = 0
    for status, sex in rows:
        values = {code: r["value"] for code, r in status.latest.items()}
        before = prevalence.flag("hypertension", values, sex)  # the latest values alone, as before issue 20
        if before == status.hypertension:
            continue
        changed += 1
        assert before and not status.hypertension
        high = [c for c, t in (("sbp", 140), ("dbp", 90)) if (values.get(c) or 0) >= t]
        assert high and all(status.latest[c]["kind"] == "kiosk" for c in high)
    assert changed > 0 and changed < sum(st.hypertension for st, _ in rows)
