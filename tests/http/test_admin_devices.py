"""/admin/devices over HTTP: admins only, forged callbacks refused, assignment audit-logged.

Uses its own small database (roster + gateway frames) so the shared demo stays untouched."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ingest.gateway import drivers
from ingest.gateway.forwarder import Forwarder, LiveStatus
from ingest.gateway.journal import Journal, utcnow
from models.db import session_scope
from models.schema import AuditLog, Observation, OfficerStatus, RawFrame
from models.users import create_user
from tests.conftest import TODAY
from tests.helpers import dash_callback, login
from tests.unit.test_gateway_forwarder import DEVICES, STATION, journal_frames, make_roster

PASSWORD = "devices-pass-1"
REFRESH = ("..dev-summary.children...dev-cards.children...dev-queue.children...dev-queue-count.children..."
           "dev-assign-frame.options...dev-rejected.children...dev-updated.children..")
ASSIGN = "..dev-assign-result.children...dev-refresh.data...dev-assign-badge.value.."


def seed_devices(url: str, tmp) -> None:
    """Frames from a gateway: good, rejected (checksum), unassigned (unknown badge, no ID)."""
    j = Journal(tmp / "journal.db")
    t0 = utcnow() - dt.timedelta(minutes=3)
    journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "81.0", "Hm": "175"}, ident="12345"), t0)
    journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "81.0"}, bad_checksum=True), t0)
    journal_frames(j, "tanita-1", "tanita", STATION, drivers.tanita_frame({"Wk": "66.6", "Hm": "168"}, ident="31337"),
                   t0 + dt.timedelta(minutes=1))
    journal_frames(j, "tanita-2", "tanita", "GW-S02", drivers.tanita_frame({"Wk": "59.5", "Hm": "160"}),
                   t0 + dt.timedelta(minutes=2))
    live = {name: LiveStatus(connected=True, last_frame_at=utcnow() - dt.timedelta(minutes=2)) for name in DEVICES}
    live["card-1"] = LiveStatus(connected=False, error="[Errno 2] No such file or directory: '/dev/ttyUSB2'")
    Forwarder(j, url, "gw-http", DEVICES, live=live).drain()
    j.close()


@pytest.fixture(scope="module")
def devices_app(new_db_url, tmp_path_factory):
    from portal.app import create_app
    from portal.config import Config

    url = new_db_url("devices_http")
    make_roster(url)
    with session_scope(url) as s:
        create_user(s, "gwadmin", PASSWORD, "admin")
        create_user(s, "gwmanager", PASSWORD, "manager", scope_unit_code="GW")
        create_user(s, "gwofficer", PASSWORD, "officer", officer_badge="012345")
    seed_devices(url, tmp_path_factory.mktemp("devices_journal"))
    cfg = Config(database_url=url, secret_key="test-secret", testing=True,
                 cache_dir=str(tmp_path_factory.mktemp("devices_cache")), login_rate_limit="1000 per minute",
                 today=TODAY)
    return create_app(cfg)


def _client(app, username):
    c = app.server.test_client()
    assert login(c, username, PASSWORD).status_code == 302
    return c


def _refresh(client):
    return dash_callback(client, REFRESH, [{"id": "dev-interval", "property": "n_intervals", "value": 1},
                                           {"id": "dev-refresh", "property": "data", "value": 0}])


def _assign(client, frame_id, badge):
    return dash_callback(client, ASSIGN, [{"id": "dev-assign", "property": "n_clicks", "value": 1}],
                         state=[{"id": "dev-assign-frame", "property": "value", "value": frame_id},
                                {"id": "dev-assign-badge", "property": "value", "value": badge},
                                {"id": "dev-refresh", "property": "data", "value": 0}])


def _text(res) -> str:
    """The callback response as readable text (Dash escapes non-ASCII characters)."""
    return json.dumps(res.get_json(), ensure_ascii=False)


def _waiting(app):
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        return {f.id: f for f in s.scalars(select(RawFrame).where(RawFrame.status == "unassigned"))}


def test_gw030_admin_sees_devices_rejected_frames_and_queue(devices_app):
    res = _refresh(_client(devices_app, "gwadmin"))
    assert res.status_code == 200
    body = res.get_json()["response"]
    text = json.dumps(body, ensure_ascii=False)
    for name in ("tanita-1", "tanita-2", "card-1", "hl7-1"):
        assert name in text
    assert "校验和错误" in text  # the checksum reason, in Chinese
    assert "未知警号 31337" in text and "读数无警号" in text
    assert "串口断开" in text and "ttyUSB2" in text
    assert "一号派出所（GW-S01）" in text
    options = body["dev-assign-frame"]["options"]
    assert len(options) == 2 and all(isinstance(o["value"], int) for o in options)


def test_gw031_non_admins_are_refused(devices_app):
    for user in ("gwmanager", "gwofficer"):
        client = _client(devices_app, user)
        assert _refresh(client).status_code == 403
        frame_id = next(iter(_waiting(devices_app)))
        res = _assign(client, frame_id, "12345")
        assert res.status_code == 403 and "response" not in res.get_data(as_text=True)
    assert len(_waiting(devices_app)) == 2  # nothing was assigned
    anonymous = devices_app.server.test_client()
    assert _refresh(anonymous).status_code in (302, 401, 403)


def test_gw032_forged_assign_inputs_change_nothing(devices_app):
    client = _client(devices_app, "gwadmin")
    url = devices_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        rejected_id = s.scalar(select(RawFrame.id).where(RawFrame.status == "rejected"))
        ok_id = s.scalar(select(RawFrame.id).where(RawFrame.status == "ok"))
        obs_before = len(s.scalars(select(Observation.id)).all())
    waiting = next(iter(_waiting(devices_app)))
    for frame_id, badge in [(rejected_id, "12345"), (ok_id, "12345"), (999999, "12345"), ("1 OR 1=1", "12345"),
                            ([waiting], "12345"), (waiting, "99999"), (waiting, ""), (waiting, ["12345"]),
                            (None, "12345")]:
        res = _assign(client, frame_id, badge)
        assert res.status_code == 200, (frame_id, badge)
        text = _text(res)
        assert '"color": "success"' not in text and "已将读数分配" not in text, text
        assert '"color": "danger"' in text or '"color": "warning"' in text
    with session_scope(url) as s:
        assert len(s.scalars(select(Observation.id)).all()) == obs_before
        assert s.scalar(select(AuditLog.id).where(AuditLog.action == "assign_reading")) is None
    assert len(_waiting(devices_app)) == 2


def test_gw033_assign_lands_observations_and_is_audited(devices_app):
    client = _client(devices_app, "gwadmin")
    url = devices_app.server.config["DATABASE_URL"]
    frame_id, frame = next((i, f) for i, f in _waiting(devices_app).items() if f.parsed["values"]["weight_kg"] == 66.6)
    res = _assign(client, frame_id, "0000777")
    assert res.status_code == 200
    assert "已将读数分配给 王强（警号 000777）" in _text(res)
    with session_scope(url) as s:
        row = s.get(RawFrame, frame_id)
        assert row.status == "assigned"
        officer_id = row.officer_id
        weights = s.scalars(select(Observation.value).where(Observation.officer_id == officer_id,
                                                            Observation.code == "weight_kg")).all()
        assert weights == [66.6]
        assert s.get(OfficerStatus, officer_id).latest["weight_kg"]["value"] == 66.6
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "assign_reading"))
        assert entry.username == "gwadmin" and entry.target == f"raw_frame:{frame_id}"
        assert entry.detail["badge"] == "000777" and "weight_kg" in entry.detail["codes"]
    again = _assign(client, frame_id, "12345")  # a second click on a stale option
    assert "已不在待分配队列" in _text(again)
    assert len(_waiting(devices_app)) == 1
