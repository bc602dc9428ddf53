"""officer_status.measured: the guideline classes a snapshot row holds, as bits (issue 7 speed-up).

The bits must say exactly what reading the ``classes`` JSON said: written on every kind
of insert (ORM, Core executemany as the snapshot does), and filled in by migration 0011
for the rows already there."""
import datetime as dt

import sqlalchemy as sa
from alembic import command
from sqlalchemy import insert, select

from models.db import alembic_config, get_engine, init_db, session_scope
from models.schema import Officer, OfficerStatus, Unit
from models.status_bits import MEASURED_BITS, PHQ9_TEN_BIT, measured_mask

FULL = {"bp": "grade1", "bmi": "normal", "waist": "normal", "glucose": "normal",
        "lipids": {"TC": None, "LDL_C": None, "non_HDL_C": None, "TG": "high", "HDL_C": None},
        "uric_acid": "normal", "phq9": "moderately_severe", "gad7": "minimal"}


def test_cmp030_measured_mask_by_hand():
    assert measured_mask(None) == 0 and measured_mask({}) == 0
    # what classes_for gives an officer without readings: keys present, values None
    empty = {"bp": None, "bmi": None, "waist": None, "glucose": None, "uric_acid": None, "phq9": None,
             "gad7": None, "lipids": {"TC": None, "LDL_C": None, "non_HDL_C": None, "TG": None, "HDL_C": None}}
    assert measured_mask(empty) == 0
    assert measured_mask(FULL) == 1 + 2 + 4 + 8 + 16 + 32 + 64 + 128
    assert measured_mask({"bp": "normal"}) == MEASURED_BITS["hypertension"]
    # lipids count when any of TC, LDL-C, TG, HDL-C has a class (non-HDL alone does not)
    assert measured_mask({"lipids": {"non_HDL_C": "high"}}) == 0
    assert measured_mask({"lipids": {"HDL_C": "low"}}) == MEASURED_BITS["dyslipidemia"]
    # PHQ-9: measured for any band, the 10-or-more bit only from "moderate" up
    assert measured_mask({"phq9": "mild"}) == MEASURED_BITS["phq9"]
    assert measured_mask({"phq9": "moderate"}) == MEASURED_BITS["phq9"] | PHQ9_TEN_BIT
    assert measured_mask({"phq9": "severe"}) == MEASURED_BITS["phq9"] | PHQ9_TEN_BIT


def _force(url):
    with session_scope(url) as s:
        unit = Unit(code="U", name="单位", level="city", path="/U/", depth=0)
        s.add(unit)
        s.flush()
        officers = [Officer(badge=f"B{i}", name=f"民警{i}", sex="male", birth_date=dt.date(1985, 1, 1),
                            unit_id=unit.id, post_type="patrol") for i in range(3)]
        s.add_all(officers)
        s.flush()
        return [o.id for o in officers]


def _row(officer_id, classes):
    return {"officer_id": officer_id, "unit_path": "/U/", "latest": {}, "classes": classes, "level": "green",
            "reasons": [], "rule_ids": ",,", "rules_version": "t"}


def test_cmp031_measured_written_on_orm_and_core_executemany_inserts(new_db_url):
    url = new_db_url("status_bits")
    init_db(url)
    a, b, c = _force(url)
    with session_scope(url) as s:
        s.add(OfficerStatus(**_row(a, FULL)))
        # the snapshot writes with one Core executemany insert: each row gets its own bits
        s.execute(insert(OfficerStatus), [_row(b, {"bp": "normal"}), _row(c, {"phq9": "moderate"})])
    with session_scope(url) as s:
        got = dict(s.execute(select(OfficerStatus.officer_id, OfficerStatus.measured)).all())
    assert got == {a: 255, b: MEASURED_BITS["hypertension"], c: MEASURED_BITS["phq9"] | PHQ9_TEN_BIT}


def test_cmp032_migration_0011_fills_measured_for_existing_rows(new_db_url):
    url = new_db_url("status_bits_migration")
    command.upgrade(alembic_config(url), "0010")
    a, b, c = _force(url)
    table = sa.Table("officer_status", sa.MetaData(), autoload_with=get_engine(url))
    with get_engine(url).begin() as conn:
        conn.execute(table.insert(), [
            {**_row(officer_id, classes), "confirmed": True, "computed_at": dt.datetime(2026, 1, 1),
             **dict.fromkeys(("hypertension", "diabetes", "dyslipidemia", "obesity", "central_obesity",
                              "hyperuricemia"), False)}
            for officer_id, classes in ((a, FULL), (b, {}), (c, {"glucose": "diabetes"}))])
    init_db(url)
    with session_scope(url) as s:
        got = dict(s.execute(select(OfficerStatus.officer_id, OfficerStatus.measured)).all())
    assert got == {a: 255, b: 0, c: MEASURED_BITS["diabetes"]}


def test_cmp033_comparison_counts_measured_and_phq9_from_the_bits(new_db_url):
    from models import unit_queries as uq

    url = new_db_url("status_bits_counts")
    init_db(url)
    a, b, c = _force(url)
    with session_scope(url) as s:
        s.add_all([OfficerStatus(**_row(a, FULL), hypertension=True),
                   OfficerStatus(**_row(b, {"bp": None, "phq9": "mild"})),
                   OfficerStatus(**_row(c, {"glucose": "diabetes"}), diabetes=True)])
    as_of = dt.date(2026, 6, 30)
    # (measured officers, events) per indicator, counted from the classes above by hand
    expected = {"hypertension": (1, 1), "diabetes": (2, 1), "dyslipidemia": (1, 0), "obesity": (1, 0),
                "central_obesity": (1, 0), "hyperuricemia": (1, 0), "phq9": (2, 1)}
    with session_scope(url) as s:
        for indicator, (n, events) in expected.items():
            rows = uq.strata_rows(s, indicator, as_of.year, as_of)
            assert (sum(r[3] for r in rows), sum(r[4] for r in rows)) == (n, events), indicator


def test_cmp034_snapshot_recompute_writes_the_bits_of_its_classes(new_db_url):
    # the recompute writes by COPY on PostgreSQL, where no column default runs
    from models.schema import Observation
    from models.snapshot import recompute_officers

    url = new_db_url("status_bits_snapshot")
    init_db(url)
    a, b, c = _force(url)
    at = dt.datetime(2026, 6, 1, 9)
    with session_scope(url) as s:
        s.add_all([Observation(officer_id=a, code=code, value=value, unit=unit, observed_at=at, source_kind="exam")
                   for code, value, unit in (("sbp", 150, "mmHg"), ("dbp", 95, "mmHg"), ("phq9", 12, "score"))])
        s.add(Observation(officer_id=b, code="ua", value=300, unit="µmol/L", observed_at=at, source_kind="exam"))
    with session_scope(url) as s:
        recompute_officers(s, [a, b, c], as_of=dt.date(2026, 6, 30))
    with session_scope(url) as s:
        rows = {oid: (bits, classes) for oid, bits, classes in
                s.execute(select(OfficerStatus.officer_id, OfficerStatus.measured, OfficerStatus.classes))}
    assert {oid: bits for oid, (bits, _) in rows.items()} == {
        a: MEASURED_BITS["hypertension"] | MEASURED_BITS["phq9"] | PHQ9_TEN_BIT,
        b: MEASURED_BITS["hyperuricemia"], c: 0}
    assert all(bits == measured_mask(classes) for bits, classes in rows.values())
