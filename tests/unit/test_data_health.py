"""Hospital completeness (issue 18, models/data_health.py): expected vs received, on time, late,
missing and open per hospital and month; item shares; stale hospitals."""
import datetime as dt

import pytest

from models import data_health as dh
from models.db import init_db, session_scope
from models.schema import Exam, Hospital, ImportBatch, Observation, Officer, Unit

TODAY = dt.date(2026, 11, 18)


@pytest.fixture(scope="module")
def url(new_db_url):
    """Four officers and two hospitals, written by hand so every count can be told from the rows."""
    url = new_db_url("data-health")
    init_db(url)
    with session_scope(url) as s:
        unit = Unit(code="T", name="测试局", level="city", path="/T/", depth=0)
        s.add(unit)
        s.flush()
        h1, h2 = Hospital(code="HA", name="甲医院"), Hospital(code="HB", name="乙医院")
        s.add_all([h1, h2])
        old = ImportBatch(kind="hospital", source="HB", status="loaded", finished_at=dt.datetime(2026, 7, 1))
        new = ImportBatch(kind="hospital", source="HA", status="loaded", finished_at=dt.datetime(2026, 11, 10))
        s.add_all([old, new])
        s.flush()
        officers = [Officer(badge=f"T{i}", name=f"民警{i}", sex="male", birth_date=dt.date(1980, 1, 1), unit_id=unit.id,
                            post_type="patrol") for i in range(4)]
        s.add_all(officers)
        s.flush()
        a, b, c, d = (o.id for o in officers)

        def exam(officer, hospital, day, batch, items=("sbp", "dbp")):
            e = Exam(officer_id=officer, hospital_id=hospital.id, exam_date=day, batch_id=batch.id,
                     ecg_text="窦性心律" if "ecg" in items else None)
            s.add(e)
            s.flush()
            for code in items:
                if code != "ecg":
                    s.add(Observation(officer_id=officer, code=code, value=120, unit="mmHg", exam_id=e.id,
                                      observed_at=dt.datetime.combine(day, dt.time(9)), source_kind="exam",
                                      source_id=hospital.code))
        # a: due 2026-03 at HA, came 2026-03-20: on time
        exam(a, h1, dt.date(2025, 3, 10), new)
        exam(a, h1, dt.date(2026, 3, 20), new, items=("sbp", "dbp", "ecg"))
        # b: due 2026-02 at HA, came 2026-05-02 at HB: late (and received by HB in 2026-05)
        exam(b, h1, dt.date(2025, 2, 5), new)
        exam(b, h2, dt.date(2026, 5, 2), old, items=("sbp",))
        # c: due 2026-04 at HB, nothing since: missing
        exam(c, h2, dt.date(2025, 4, 1), old)
        # d: due 2026-11 at HA (this month), not yet: open
        exam(d, h1, dt.date(2025, 11, 30), new)
    return url


def test_dhe001_expected_received_late_missing_open_per_hospital_and_month(url):
    with session_scope(url) as s:
        c = dh.completeness(s, TODAY)
    assert c["months"][0] == "2025-12" and c["months"][-1] == "2026-11" and len(c["months"]) == 12
    ha, hb = c["hospitals"]
    assert ha["months"]["2026-03"] == {"expected": 1, "received": 1, "on_time": 1, "late": 0, "missing": 0, "open": 0}
    assert ha["months"]["2026-02"]["expected"] == 1 and ha["months"]["2026-02"]["late"] == 1
    assert ha["months"]["2026-11"]["open"] == 1
    assert hb["months"]["2026-04"]["missing"] == 1
    assert hb["months"]["2026-05"] == {"expected": 0, "received": 1, "on_time": 0, "late": 0, "missing": 0, "open": 0}
    assert ha["totals"] == {"expected": 3, "received": 1, "on_time": 1, "late": 1, "missing": 0, "open": 1}
    # an officer's hospital is that of their latest exam: a and d at HA; b (now HB) and c at HB
    assert (ha["officers"], hb["officers"]) == (2, 2)


def test_dhe002_item_share_is_the_share_of_the_hospitals_exams_carrying_it(url):
    with session_scope(url) as s:
        items = dh.item_shares(s, TODAY)
    ha = next(h for h in items["hospitals"] if h["code"] == "HA")
    hb = next(h for h in items["hospitals"] if h["code"] == "HB")
    # HA's exams of the last 12 months: a 2026-03-20 (with an ECG) and d 2025-11-30
    assert ha["exams"] == 2 and ha["shares"]["sbp"] == 1.0 and ha["shares"]["ecg"] == 0.5
    assert hb["exams"] == 1 and hb["shares"]["sbp"] == 1.0 and hb["shares"]["dbp"] == 0.0


def test_dhe003_a_hospital_without_a_file_for_longer_than_n_days_is_stale(url):
    with session_scope(url) as s:
        rows = {r["code"]: r for r in dh.hospital_staleness(s, dt.datetime(2026, 11, 18, 12))}
        page = dh.data_health(s, TODAY, dt.datetime(2026, 11, 18, 12))
    assert rows["HB"]["stale"] and rows["HB"]["days"] == 140 and not rows["HA"]["stale"]
    assert page["kiosks"] == [] and page["stale_days"] == dh.STALE_HOSPITAL_DAYS
    assert set(dh.DEFINITIONS) >= {"hospital", "expected", "received", "late", "missing", "item_share",
                                   "stale_hospital", "stale_kiosk"}
