"""The status snapshot: latest values, kiosk-red confirmation, warning history."""
import datetime as dt

import pytest
from sqlalchemy import select

from models.db import init_db, session_scope
from models.schema import Exam, Hospital, Observation, Officer, OfficerStatus, Unit, WarningHistory
from models.snapshot import recompute_officers

TODAY = dt.date(2026, 6, 30)


@pytest.fixture()
def small(new_db_url):
    url = new_db_url("snapshot")
    init_db(url)
    with session_scope(url) as s:
        city = Unit(code="T", name="测试市局", level="city", path="/T/", depth=0)
        s.add(city)
        s.flush()
        station = Unit(code="T-S1", name="测试派出所", level="station", path="/T/T-S1/", depth=1, parent_id=city.id)
        s.add_all([station, Hospital(code="H01", name="第一人民医院")])
        s.flush()
        s.add(Officer(badge="000123", name="李四", sex="male", birth_date=dt.date(1975, 3, 1), unit_id=station.id,
                      post_type="patrol"))
    return url


def _obs(s, code, value, day, kind="exam", source="H01", station=None, exam_id=None):
    officer = s.scalar(select(Officer))
    s.add(Observation(officer_id=officer.id, code=code, value=value, unit="", observed_at=dt.datetime.combine(day, dt.time(8)),
                      source_kind=kind, source_id=source, station=station, exam_id=exam_id))
    s.flush()
    return officer.id


def _exam(s, day, values, findings=()):
    officer = s.scalar(select(Officer))
    exam = Exam(officer_id=officer.id, hospital_id=s.scalar(select(Hospital.id)), exam_date=day, findings=list(findings))
    s.add(exam)
    s.flush()
    for code, value in values.items():
        _obs(s, code, value, day, exam_id=exam.id)
    return officer.id


NORMAL = {"sbp": 118, "dbp": 76, "fpg": 5.0, "tc": 4.5, "hdl": 1.3, "ldl": 2.4, "tg": 1.2, "bmi": 22.5,
          "waist_cm": 80, "ua": 330, "alt": 20}


def test_snap001_healthy_exam_is_green_with_latest_and_classes(small):
    with session_scope(small) as s:
        oid = _exam(s, TODAY - dt.timedelta(days=30), NORMAL)
        counts = recompute_officers(s, [oid], as_of=TODAY)
        row = s.get(OfficerStatus, oid)
        assert counts == {"green": 1}
        assert row.level == "green" and row.confirmed
        assert row.latest["sbp"]["value"] == 118 and row.latest["sbp"]["source"] == "第一人民医院 体检"
        assert row.classes["bp"] == "normal" and row.classes["bmi"] == "normal"
        assert not row.hypertension and row.china_par is not None


def test_snap002_single_kiosk_red_is_unconfirmed(small):
    with session_scope(small) as s:
        oid = _exam(s, TODAY - dt.timedelta(days=60), NORMAL)
        _obs(s, "sbp", 186, TODAY - dt.timedelta(days=1), kind="kiosk", source="kiosk-1", station="T-S1")
        _obs(s, "dbp", 95, TODAY - dt.timedelta(days=1), kind="kiosk", source="kiosk-1", station="T-S1")
        recompute_officers(s, [oid], as_of=TODAY)
        row = s.get(OfficerStatus, oid)
        assert row.level == "red" and row.confirmed is False
        # issue 21: the kiosk is named by its place (the station's name), not by a code
        assert row.reasons[0]["source"] == "测试派出所健康小屋"


def test_snap003_repeat_kiosk_red_within_14_days_confirms(small):
    with session_scope(small) as s:
        oid = _exam(s, TODAY - dt.timedelta(days=60), NORMAL)
        for days_ago, sbp in ((10, 182), (1, 186)):
            _obs(s, "sbp", sbp, TODAY - dt.timedelta(days=days_ago), kind="kiosk", source="kiosk-1", station="T-S1")
        recompute_officers(s, [oid], as_of=TODAY)
        row = s.get(OfficerStatus, oid)
        assert row.level == "red" and row.confirmed is True


def test_snap004_repeat_outside_window_does_not_confirm(small):
    with session_scope(small) as s:
        oid = _exam(s, TODAY - dt.timedelta(days=60), NORMAL)
        for days_ago, sbp in ((20, 182), (1, 186)):
            _obs(s, "sbp", sbp, TODAY - dt.timedelta(days=days_ago), kind="kiosk", source="kiosk-1", station="T-S1")
        recompute_officers(s, [oid], as_of=TODAY)
        assert s.get(OfficerStatus, oid).confirmed is False


def test_snap005_history_records_each_change_only(small):
    with session_scope(small) as s:
        oid = _exam(s, TODAY - dt.timedelta(days=400), NORMAL)
        recompute_officers(s, [oid], as_of=TODAY - dt.timedelta(days=300))
        recompute_officers(s, [oid], as_of=TODAY - dt.timedelta(days=200))  # same level: no new row
        _exam(s, TODAY - dt.timedelta(days=10), {**NORMAL, "fpg": 7.4})
        recompute_officers(s, [oid], as_of=TODAY)
        history = [(h.previous_level, h.level) for h in s.scalars(select(WarningHistory).order_by(WarningHistory.id))]
        assert history == [(None, "green"), ("green", "orange")]


def test_snap006_as_of_ignores_later_data(small):
    with session_scope(small) as s:
        oid = _exam(s, TODAY - dt.timedelta(days=100), NORMAL)
        _exam(s, TODAY - dt.timedelta(days=5), {**NORMAL, "sbp": 190})
        recompute_officers(s, [oid], as_of=TODAY - dt.timedelta(days=50))
        assert s.get(OfficerStatus, oid).level == "green"
        recompute_officers(s, [oid], as_of=TODAY)
        assert s.get(OfficerStatus, oid).level == "red"


def test_snap007_critical_ecg_finding_of_latest_exam_is_red(small):
    with session_scope(small) as s:
        officer = s.scalar(select(Officer))
        exam = Exam(officer_id=officer.id, hospital_id=s.scalar(select(Hospital.id)), exam_date=TODAY - dt.timedelta(days=3),
                    findings=["af"], ecg_text="心房颤动")
        s.add(exam)
        s.flush()
        for code, value in NORMAL.items():
            _obs(s, code, value, exam.exam_date, exam_id=exam.id)
        recompute_officers(s, [officer.id], as_of=TODAY)
        row = s.get(OfficerStatus, officer.id)
        assert row.level == "red"
        assert any(r["value"] == "af" for r in row.reasons)


def test_snap008_newest_two_readings_same_from_either_reader(small, monkeypatch):
    """PostgreSQL keeps the two newest readings on the server (window query); SQLite scans in
    order. On this backend both readers must give the same readings, oldest ones and
    readings after ``as_of`` left out."""
    import models.snapshot as snapshot

    with session_scope(small) as s:
        oid = _exam(s, TODAY - dt.timedelta(days=400), NORMAL)
        _exam(s, TODAY - dt.timedelta(days=200), {"sbp": 150, "dbp": 95})
        _obs(s, "sbp", 165, TODAY - dt.timedelta(days=3), kind="kiosk", source="K1", station="一所")
        _obs(s, "sbp", 171, TODAY + dt.timedelta(days=2), kind="kiosk", source="K1", station="一所")
        expected = {"sbp": [(165, "kiosk"), (150, "exam")], "dbp": [(95, "exam"), (76, "exam")], "fpg": [(5.0, "exam")]}

        def picked(readings):
            return {code: [(v, kind) for v, _at, kind, _src, _st in rows] for code, rows in readings[oid].items()
                    if code in expected}

        monkeypatch.setattr(snapshot, "is_postgresql", lambda _s: False)
        ordered = snapshot.recent_readings(s, [oid], TODAY)
        if s.get_bind().dialect.name == "postgresql":
            window = snapshot._newest_two(s, [oid], dt.datetime.combine(TODAY, dt.time.max))
            assert window == ordered
        assert picked(ordered) == expected
        assert ordered[oid]["sbp"][0][1] == dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(8))


# --- issue 20: the newest result of each test counts, not the newest exam ------------------------
def _exam_at(s, day, hospital_code, values, findings=(), ecg_text=None):
    officer = s.scalar(select(Officer))
    hospital = s.scalar(select(Hospital).where(Hospital.code == hospital_code))
    if hospital is None:
        hospital = Hospital(code=hospital_code, name="第二人民医院")
        s.add(hospital)
        s.flush()
    exam = Exam(officer_id=officer.id, hospital_id=hospital.id, exam_date=day, findings=list(findings),
                ecg_text=ecg_text)
    s.add(exam)
    s.flush()
    for code, value in values.items():
        _obs(s, code, value, day, source=hospital_code, exam_id=exam.id)
    return officer.id


AF_DAY = TODAY - dt.timedelta(days=120)


def test_snap020_af_stays_red_after_a_later_exam_elsewhere_without_ecg(small):
    with session_scope(small) as s:
        oid = _exam_at(s, AF_DAY, "H01", NORMAL, findings=["af"], ecg_text="心房颤动，心室率 96 次/分")
        _exam_at(s, TODAY - dt.timedelta(days=10), "H02", NORMAL)  # another hospital, no ECG done
        recompute_officers(s, [oid], as_of=TODAY)
        row = s.get(OfficerStatus, oid)
        assert row.level == "red"
        (af,) = [r for r in row.reasons if r["rule"] == "ecg_critical"]
        assert af["value"] == "af" and af["date"] == AF_DAY.isoformat()
        assert af["source"] == "第一人民医院 体检"          # the exam that showed it, not the newest one
        assert AF_DAY.isoformat() in af["text"] and "第一人民医院" in af["text"] and "心房颤动" in af["text"]
        assert row.last_exam_date == TODAY - dt.timedelta(days=10)  # the newest exam still counts for overdue


def test_snap021_a_later_ecg_in_sinus_rhythm_clears_the_af_reason(small):
    with session_scope(small) as s:
        oid = _exam_at(s, AF_DAY, "H01", NORMAL, findings=["af"], ecg_text="心房颤动")
        _exam_at(s, TODAY - dt.timedelta(days=40), "H02", NORMAL)  # no ECG
        _exam_at(s, TODAY - dt.timedelta(days=10), "H02", {}, ecg_text="窦性心律，正常心电图")
        recompute_officers(s, [oid], as_of=TODAY)
        row = s.get(OfficerStatus, oid)
        assert row.level == "green" and not [r for r in row.reasons if r["rule"] == "ecg_critical"]


def test_snap022_a_critical_value_stays_until_a_newer_reading_of_the_same_item(small):
    with session_scope(small) as s:
        oid = _exam_at(s, TODAY - dt.timedelta(days=90), "H01", {**NORMAL, "fpg": 12.4})
        later = {k: v for k, v in NORMAL.items() if k != "fpg"}  # the later exam did no glucose
        _exam_at(s, TODAY - dt.timedelta(days=5), "H02", later)
        recompute_officers(s, [oid], as_of=TODAY)
        row = s.get(OfficerStatus, oid)
        (fpg,) = [r for r in row.reasons if r["rule"] == "fpg_severe"]
        assert row.level == "red" and fpg["date"] == (TODAY - dt.timedelta(days=90)).isoformat()
        assert fpg["source"] == "第一人民医院 体检"
        _exam_at(s, TODAY - dt.timedelta(days=2), "H02", {"fpg": 5.2})  # a newer glucose: resolved
        recompute_officers(s, [oid], as_of=TODAY)
        assert s.get(OfficerStatus, oid).level == "green"


def test_snap023_exam_reports_per_test(small):
    from models.snapshot import exam_reports

    with session_scope(small) as s:
        oid = _exam_at(s, AF_DAY, "H01", {}, findings=["af", "fatty_liver"], ecg_text="房颤")
        _exam_at(s, TODAY - dt.timedelta(days=10), "H02", {}, findings=["gallstone"])
        rep = exam_reports(s, [oid], TODAY)[oid]
        assert rep.last_date == TODAY - dt.timedelta(days=10) and rep.last_hospital == "H02"
        assert rep.tests["ecg"].date == AF_DAY and rep.tests["ecg"].findings == ("af",)
        assert rep.tests["ultrasound"].findings == ("gallstone",)  # the newer ultrasound replaced fatty liver
        assert rep.findings == ["af", "gallstone"]
        assert exam_reports(s, [oid], AF_DAY - dt.timedelta(days=1)) == {}


# --- issue 20: 转红日期 is the date of the reading that turned the officer red ----------------------
def test_snap024_red_since_is_the_reading_date_not_the_recompute_date(small):
    from types import SimpleNamespace

    from models.followups import needs_action

    manager = SimpleNamespace(user_id=1, username="m", role="manager", unit_path=None)
    with session_scope(small) as s:
        oid = _exam_at(s, TODAY - dt.timedelta(days=200), "H01", NORMAL)
        recompute_officers(s, [oid], as_of=TODAY - dt.timedelta(days=100))
        _exam_at(s, TODAY - dt.timedelta(days=40), "H02", {"sbp": 186, "dbp": 100})
        _exam_at(s, TODAY - dt.timedelta(days=12), "H01", {}, findings=["avb3"], ecg_text="三度房室传导阻滞")
        recompute_officers(s, [oid], as_of=TODAY)  # both arrive in one batch, recorded at TODAY
        (turned,) = s.scalars(select(WarningHistory).where(WarningHistory.level == "red")).all()
        assert turned.changed_at.date() == TODAY  # when the portal learned of it
        (row,) = needs_action(s, manager, TODAY)["rows"]
        # the first reading that alone makes red: the grade-3 BP 40 days ago, not the recompute day
        assert row["red_since"] == (TODAY - dt.timedelta(days=40)).isoformat() and row["days"] == 40
        assert row["recorded"] == TODAY.isoformat()


def test_snap025_red_since_falls_back_to_the_record_date_without_dated_reasons():
    from models.followups import red_since

    at = dt.datetime(2026, 6, 30, 23, 59)
    assert red_since([{"level": "red", "date": None}, {"level": "yellow", "date": "2026-01-01"}], at) == at.date()
    assert red_since([{"level": "red", "date": "2026-07-02"}], at) == at.date()  # never after it was recorded
    assert red_since([{"level": "red", "date": "2026-05-02"}, {"level": "red", "date": "2026-03-09"}],
                     at) == dt.date(2026, 3, 9)


def test_snap030_a_recompute_moves_the_data_version_page_caches_key_on(small):
    """A recompute outside an import (a questionnaire answer, a rules publish) changes statuses: the cached
    counts and charts keyed on the data version must not outlive it."""
    from models.db import get_meta

    with session_scope(small) as s:
        oid = _exam(s, TODAY - dt.timedelta(days=30), NORMAL)
        before = int(get_meta(s, "data_version", "0"))
        recompute_officers(s, [oid], as_of=TODAY)
        assert int(get_meta(s, "data_version", "0")) == before + 1
        recompute_officers(s, [], as_of=TODAY)  # nothing recomputed: nothing moves
        assert int(get_meta(s, "data_version", "0")) == before + 1
