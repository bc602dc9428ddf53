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
        assert "T-S1" in row.reasons[0]["source"]


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
