"""Store and forward without serial ports: officer matching, card sessions, exactly once, outages, assignment.

The helpers here (a small roster, an outage switch for either backend) are shared with
test_gateway_serial.py.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from dash.testing.wait import until
from sqlalchemy import func, select

from ingest import idcard
from ingest.gateway import drivers
from ingest.gateway.forwarder import AssignError, DeviceInfo, Forwarder, JournalMismatch, LiveStatus, assign_frame
from models.devices import device_overview, recent_rejected, unassigned_queue
from ingest.gateway.journal import Journal, utcnow
from models.db import dispose, get_meta, init_db, session_scope, set_meta
from models.schema import Device, Observation, Officer, OfficerStatus, RawFrame, Unit
from tests.helpers import free_port

KEY = "gw-test-id-key"
ID_NUMBER = idcard.make("440602", dt.date(1985, 3, 4), 123, "female")
STATION, STATION2 = "GW-S01", "GW-S02"


# --------------------------------------------------------------------------- shared helpers
def make_roster(url: str) -> dict[str, int]:
    """Schema + two stations + three officers (one with an ID-card hash); returns badge -> id."""
    init_db(url)
    with session_scope(url) as s:
        set_meta(s, "id_hash_key", KEY)
        city = Unit(code="GW", name="测试市公安局", name_en="Test City PSB", level="city", path="/GW/", depth=0)
        s.add(city)
        s.flush()
        for code, name in ((STATION, "一号派出所"), (STATION2, "二号派出所")):
            s.add(Unit(code=code, name=name, name_en=code, level="station", path=f"/GW/{code}/", depth=1,
                       parent_id=city.id))
        s.flush()
        st = {u.code: u.id for u in s.scalars(select(Unit))}
        s.add_all([
            Officer(badge="012345", name="张伟", sex="male", birth_date=dt.date(1980, 5, 1), unit_id=st[STATION],
                    post_type="patrol"),
            Officer(badge="200001", name="李娜", sex="female", birth_date=dt.date(1985, 3, 4), unit_id=st[STATION],
                    post_type="office", id_hash=idcard.keyed_hash(ID_NUMBER, KEY), id_masked=idcard.mask(ID_NUMBER)),
            Officer(badge="000777", name="王强", sex="male", birth_date=dt.date(1975, 9, 9), unit_id=st[STATION2],
                    post_type="traffic"),
        ])
        s.flush()
        return {o.badge: o.id for o in s.scalars(select(Officer))}


class Outage:
    """A database URL that cannot be reached until ``restore()``.

    SQLite: the database lives in a directory that only appears (by rename) on restore.
    PostgreSQL: the URL points at a free port where a socat TCP proxy to 5432 starts on restore."""

    def __init__(self, real_url: str, tmp: Path):
        self.real_url = real_url
        self.proxy: subprocess.Popen | None = None
        if real_url.startswith("sqlite"):
            self.staging = Path(real_url.split("///", 1)[1]).parent
            self.later = tmp / "appears-later"
            self.url = f"sqlite:///{self.later / 'portal.db'}"
        else:
            self.port = free_port()
            self.url = real_url.replace("127.0.0.1:5432", f"127.0.0.1:{self.port}")
            assert self.url != real_url

    def restore(self) -> None:
        if self.real_url.startswith("sqlite"):
            dispose(self.real_url)
            os.rename(self.staging, self.later)
        else:
            self.proxy = subprocess.Popen(
                ["socat", f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork", "TCP:127.0.0.1:5432"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            until(self._listening, 10, msg=f"socat does not listen on port {self.port}")

    def _listening(self) -> bool:
        import socket

        if self.proxy.poll() is not None:
            raise RuntimeError(f"socat exited with {self.proxy.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def close(self) -> None:
        dispose(self.url)
        if self.proxy is not None:
            self.proxy.terminate()
            self.proxy.wait(5)


def journal_frames(j: Journal, device: str, driver: str, station: str | None, data: bytes,
                   at: dt.datetime | None = None, protocol=None) -> list[int]:
    """Feed bytes through a driver and journal the outcomes like a reader does."""
    proto = protocol or drivers.make_protocol(driver)
    return [j.append(device, driver, station, o.raw, o.status, o.reason, o.parsed, received_at=at,
                     noise_bytes=o.noise_bytes) for o in proto.feed(data) + proto.idle(1.0)]


def central_frames(url: str, gateway: str | None = None) -> list[RawFrame]:
    with session_scope(url) as s:
        q = select(RawFrame).order_by(RawFrame.journal_seq)
        if gateway:
            q = q.where(RawFrame.gateway == gateway)
        return list(s.scalars(q))


def count(url: str, model) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model))


DEVICES = {"tanita-1": DeviceInfo("tanita-1", "tanita", STATION, "/dev/null", 1440),
           "card-1": DeviceInfo("card-1", "card_reader", STATION, "/dev/null", 1440),
           "tanita-2": DeviceInfo("tanita-2", "tanita", STATION2, "/dev/null", 1440),
           "hl7-1": DeviceInfo("hl7-1", "hl7", STATION, "/dev/null", 1440)}


@pytest.fixture()
def central(new_db_url):
    url = new_db_url("gwfwd")
    return url, make_roster(url)


# --------------------------------------------------------------------------- tests
def test_gw011_readings_land_with_badge_and_id_card_matching(central, tmp_path):
    url, ids = central
    j = Journal(tmp_path / "j.db")
    t0 = utcnow() - dt.timedelta(minutes=5)
    journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "81.5", "Hm": "176", "FW": "24.0"},
                                                                          ident="0000012345"), t0)
    journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "58.0", "Hm": "162"},
                                                                          ident=ID_NUMBER), t0 + dt.timedelta(seconds=1))
    journal_frames(j, "hl7-1", "hl7", STATION, drivers.hl7_oru("777", [("8480-6", 182, "mm[Hg]"),
                                                                      ("8462-4", 112, "mm[Hg]")]),
                   t0 + dt.timedelta(seconds=2), protocol=drivers.Hl7())
    with session_scope(url) as s:
        version = int(get_meta(s, "data_version", "0"))
    fw = Forwarder(j, url, "gw-a", DEVICES, secret_key="unused")
    assert fw.forward_once() == 3 and fw.forward_once() == 0
    frames = central_frames(url)
    assert [f.status for f in frames] == ["ok", "ok", "ok"]
    assert [f.officer_id for f in frames] == [ids["012345"], ids["200001"], ids["000777"]]
    assert ID_NUMBER.encode() not in frames[1].raw and idcard.mask(ID_NUMBER).encode() in frames[1].raw
    with session_scope(url) as s:
        obs = s.execute(select(Observation.officer_id, Observation.code, Observation.value, Observation.source_kind,
                               Observation.source_id, Observation.station, Observation.observed_at)).all()
        assert {(o.code, o.value) for o in obs if o.officer_id == ids["012345"]} == {
            ("weight_kg", 81.5), ("height_cm", 176.0), ("body_fat_pct", 24.0), ("bmi", round(81.5 / 1.76 ** 2, 1))}
        assert {o.source_kind for o in obs} == {"kiosk"} and {o.station for o in obs} == {STATION}
        assert {o.source_id for o in obs} == {"tanita-1", "hl7-1"}
        status = s.get(OfficerStatus, ids["000777"])
        assert status is not None and status.latest["sbp"]["value"] == 182.0 and status.level == "red"
        assert int(get_meta(s, "data_version")) > version
        devices = {d.name: d for d in s.scalars(select(Device))}
        assert set(devices) == set(DEVICES) and devices["tanita-1"].backlog == 0
        assert devices["tanita-1"].last_frame_at is not None and devices["tanita-1"].station == STATION


def test_gw012_card_sessions_assign_readings_without_an_id(central, tmp_path):
    url, ids = central
    j = Journal(tmp_path / "j.db")
    t0 = utcnow() - dt.timedelta(hours=1)
    m = dt.timedelta(minutes=1)
    no_id = drivers.tanita_frame({"Wk": "60.0", "Hm": "165"})
    journal_frames(j, "card-1", "card_reader", STATION, f"{ID_NUMBER}\r\n".encode(), t0)
    journal_frames(j, "tanita-1", "tanita", STATION, no_id, t0 + 2 * m)  # in the session
    journal_frames(j, "tanita-2", "tanita", STATION2, no_id, t0 + 3 * m)  # other station: no session there
    journal_frames(j, "tanita-1", "tanita", STATION, no_id, t0 + 11 * m)  # session over
    journal_frames(j, "card-1", "card_reader", STATION, b"0099999\r\n", t0 + 12 * m)  # unknown card ends sessions
    journal_frames(j, "tanita-1", "tanita", STATION, no_id, t0 + 13 * m)
    journal_frames(j, "card-1", "card_reader", STATION, b"12345\n", t0 + 20 * m)
    journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "90.0"}, ident="777"), t0 + 21 * m)
    Forwarder(j, url, "gw-b", DEVICES, session_minutes=10).drain()
    frames = central_frames(url)
    got = [(f.device, f.status, f.officer_id) for f in frames]
    assert got == [("card-1", "ok", ids["200001"]), ("tanita-1", "ok", ids["200001"]),
                   ("tanita-2", "unassigned", None), ("tanita-1", "unassigned", None),
                   ("card-1", "rejected", None), ("tanita-1", "unassigned", None),
                   ("card-1", "ok", ids["012345"]), ("tanita-1", "ok", ids["000777"])]  # its own ID wins
    assert frames[1].parsed["matched_by"].startswith("session:")
    assert "no card swipe" in frames[2].reason and "no card swipe" in frames[3].reason
    assert frames[4].reason == "card: unknown badge 0099999"
    assert frames[5].reason.startswith("card session: unknown badge")
    # the session length is configurable
    j2 = Journal(tmp_path / "j2.db")
    journal_frames(j2, "card-1", "card_reader", STATION, b"12345\r\n", t0)
    journal_frames(j2, "tanita-1", "tanita", STATION, no_id, t0 + 11 * m)
    Forwarder(j2, url, "gw-b2", DEVICES, session_minutes=20).drain()
    assert [f.officer_id for f in central_frames(url, "gw-b2")] == [ids["012345"], ids["012345"]]


def test_gw013_exactly_once_when_the_gateway_dies_between_commit_and_cursor(central, tmp_path, monkeypatch):
    url, ids = central
    j = Journal(tmp_path / "j.db")
    for i in range(12):
        journal_frames(j, "tanita-1", "tanita", STATION,
                       drivers.tanita_frame({"Wk": f"{70 + i / 10:.1f}"}, ident="12345"))
    fw = Forwarder(j, url, "gw-c", DEVICES, batch=5)
    real = j.set_cursor
    calls = {"n": 0}

    def dying(seq):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("power cut after the central commit")
        real(seq)

    monkeypatch.setattr(j, "set_cursor", dying)
    fw.forward_once()
    with pytest.raises(OSError):
        fw.forward_once()  # rows 6-10 are central, the cursor still says 5
    assert j.cursor == 5 and len(central_frames(url)) == 10
    fresh = Forwarder(Journal(tmp_path / "j.db"), url, "gw-c", DEVICES, batch=5)  # "restart"
    fresh.drain()
    frames = central_frames(url)
    assert [f.journal_seq for f in frames] == list(range(1, 13))
    weights = [f.parsed["values"]["weight_kg"] for f in frames]
    assert weights == [70 + i / 10 for i in range(12)]
    assert count(url, Observation) == 12  # one weight per frame, none twice
    # replaying the whole journal again changes nothing
    again = Journal(tmp_path / "j.db")
    again.set_cursor(0)
    Forwarder(again, url, "gw-c", DEVICES).drain()
    assert len(central_frames(url)) == 12 and count(url, Observation) == 12


def test_gw014_replaced_journal_is_refused_not_swallowed(central, tmp_path):
    url, _ = central
    first = Journal(tmp_path / "a.db")
    journal_frames(first, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "70.0"}, ident="12345"),
                   utcnow() - dt.timedelta(hours=2))
    Forwarder(first, url, "gw-d", DEVICES).drain()
    second = Journal(tmp_path / "b.db")  # a new, empty journal under the same gateway name
    journal_frames(second, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "71.0"}, ident="12345"))
    with pytest.raises(JournalMismatch):
        Forwarder(second, url, "gw-d", DEVICES).forward_once()
    assert second.cursor == 0 and len(central_frames(url)) == 1


def test_gw015_database_outage_keeps_everything_and_forwards_in_order(new_db_url, tmp_path):
    real = new_db_url("gwout")
    ids = make_roster(real)
    outage = Outage(real, tmp_path)
    try:
        j = Journal(tmp_path / "j.db")
        fw = Forwarder(j, outage.url, "gw-e", DEVICES)
        for i in range(6):
            journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": f"{60 + i}.0"}, ident="12345"))
            with pytest.raises(OperationalError):  # the central database cannot be reached
                fw.forward_once()
        assert j.cursor == 0 and j.backlog() == {"tanita-1": 6}
        outage.restore()
        fw.drain()
        frames = central_frames(outage.url)
        assert [f.journal_seq for f in frames] == [1, 2, 3, 4, 5, 6]
        assert [f.parsed["values"]["weight_kg"] for f in frames] == [60.0, 61.0, 62.0, 63.0, 64.0, 65.0]
        assert [f.id for f in frames] == sorted(f.id for f in frames)  # landed in journal order
        assert {f.officer_id for f in frames} == {ids["012345"]} and j.backlog() == {}
    finally:
        outage.close()


def test_gw016_assigning_an_unassigned_reading(central, tmp_path):
    url, ids = central
    j = Journal(tmp_path / "j.db")
    journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "95.0", "Hm": "170"}, ident="4242"))
    journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "95.0"}, bad_checksum=True))
    Forwarder(j, url, "gw-f", DEVICES).drain()
    with session_scope(url) as s:
        queue = unassigned_queue(s)
        assert len(queue) == 1 and queue[0]["ident"] == "4242" and queue[0]["values"]["weight_kg"] == 95.0
        rejected = recent_rejected(s)
        assert len(rejected) == 1 and "checksum" in rejected[0]["reason"] and rejected[0]["raw"].startswith("{0,16")
        with pytest.raises(AssignError):
            assign_frame(s, queue[0]["id"], "99999")  # unknown badge
        with pytest.raises(AssignError):
            assign_frame(s, rejected[0]["id"], "12345")  # only waiting readings can be assigned
        with pytest.raises(AssignError):
            assign_frame(s, "1; DROP TABLE officer", "12345")
        done = assign_frame(s, queue[0]["id"], "0012345")
        assert done["officer_id"] == ids["012345"] and done["observations"] == 3
    with session_scope(url) as s:
        frame = s.get(RawFrame, queue[0]["id"])
        assert frame.status == "assigned" and frame.officer_id == ids["012345"]
        assert s.get(OfficerStatus, ids["012345"]).latest["weight_kg"]["value"] == 95.0
        with pytest.raises(AssignError):
            assign_frame(s, queue[0]["id"], "12345")  # twice is refused
        assert unassigned_queue(s) == []
    assert count(url, Observation) == 3


def test_gw017_device_overview_states(central, tmp_path):
    url, _ = central
    j = Journal(tmp_path / "j.db")
    now = utcnow()
    live = {name: LiveStatus(connected=True) for name in DEVICES}
    live["tanita-1"].last_frame_at = now - dt.timedelta(minutes=5)
    live["tanita-2"].last_frame_at = now - dt.timedelta(minutes=90)
    live["hl7-1"].last_frame_at = now - dt.timedelta(minutes=1)
    live["hl7-1"].connected = False
    live["hl7-1"].error = "[Errno 2] could not open port"
    devices = dict(DEVICES)
    devices["tanita-2"] = DeviceInfo("tanita-2", "tanita", STATION2, "/dev/null", 60)
    fw = Forwarder(j, url, "gw-g", devices, live=live)
    fw.report()
    with session_scope(url) as s:
        rows = {d["name"]: d for d in device_overview(s, now=now)}
    assert rows["tanita-1"]["state"] == "ok"
    assert rows["tanita-2"]["state"] == "amber"  # 90 min > 60 min stale time
    assert rows["hl7-1"]["state"] == "red" and "could not open" in rows["hl7-1"]["port_error"]
    assert rows["card-1"]["state"] == "red" and rows["card-1"]["last_frame_at"] is None  # never heard from
    assert rows["tanita-1"]["station_name"] == "一号派出所"
    with session_scope(url) as s:
        later = {d["name"]: d for d in device_overview(s, now=now + dt.timedelta(minutes=30))}
    assert later["tanita-1"]["state"] == "red"  # the gateway has been silent for 30 minutes
    assert shutil.which("socat")
