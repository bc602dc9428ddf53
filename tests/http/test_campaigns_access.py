"""Campaign callbacks under forged requests: anonymous, officers asking for campaigns
outside their unit, district managers reaching into another district, leaders
asking for names, forged ids, forged creates and edits of frozen campaigns."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import delete, func, select

from models.db import session_scope
from models.schema import AuditLog, Campaign, Officer, OfficerPreference, Unit, User
from tests.conftest import AS_OF
from tests.helpers import dash_callback

PROGRESS = "..campaign-header.children...campaign-kpis.children...campaign-progress-graph.figure...campaign-projection.children.."
FIELDS = ["cf-name", "cf-kind", "cf-start", "cf-end", "cf-units", "cf-team-level", "cf-target-day", "cf-target-total",
          "cf-scoring", "cf-pts-active", "cf-pts-target", "cf-pts-week"]


def _url(app):
    return app.server.config["DATABASE_URL"]


def _path(cid):
    return [{"id": "campaign-url", "property": "pathname", "value": f"/campaigns/{cid}"}]


def _body(res) -> str:
    """The response as text with Chinese unescaped (Dash sends JSON with \\u escapes)."""
    data = res.get_json(silent=True)
    return json.dumps(data, ensure_ascii=False) if data is not None else res.get_data(as_text=True)


@pytest.fixture(scope="module")
def d2_campaign(app):
    """A running campaign of district 2 only (the demo's two campaigns span both districts)."""
    url = _url(app)
    with session_scope(url) as s:
        d2 = s.scalar(select(Unit).where(Unit.code.like("%-D2")))
        c = Campaign(name="二分局职场微运动", kind="checkin", start_date=AS_OF - dt.timedelta(days=10),
                     end_date=AS_OF + dt.timedelta(days=20), scope_unit_ids=[d2.id], team_level="station",
                     target_per_day=1, team_scoring="mean")
        s.add(c)
        s.flush()
        cid = c.id
    yield cid
    with session_scope(url) as s:
        s.execute(delete(Campaign).where(Campaign.id == cid))


def _demo_ids(app):
    with session_scope(_url(app)) as s:
        rows = s.execute(select(Campaign.id, Campaign.end_date).where(Campaign.name.like("南江%"))
                         .order_by(Campaign.id)).all()
    finished = next(cid for cid, end in rows if end < AS_OF)
    running = next(cid for cid, end in rows if end >= AS_OF)
    return finished, running


def _save(client, app, values: dict, edit_id=None):
    key = next(k for k in app.callback_map if "cf-error.children" in k)
    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in key.strip(".").split("...")]
    state = [{"id": "cf-edit-id", "property": "data", "value": edit_id},
             {"id": "campaigns-refresh", "property": "data", "value": 0}]
    state += [{"id": f, "property": "value", "value": values.get(f)} for f in FIELDS]
    return dash_callback(client, key, [{"id": "cf-save", "property": "n_clicks", "value": 1}], state,
                         outputs_list=outputs)


def _form(unit_code, name="测试活动", start=None):
    start = start or AS_OF + dt.timedelta(days=5)
    return {"cf-name": name, "cf-kind": "steps", "cf-start": start.isoformat(),
            "cf-end": (start + dt.timedelta(days=27)).isoformat(), "cf-units": [unit_code], "cf-team-level": "station",
            "cf-target-day": 8000, "cf-target-total": None, "cf-scoring": "mean", "cf-pts-active": 0,
            "cf-pts-target": 1, "cf-pts-week": 10}


def test_camh001_anonymous_gets_401(client, d2_campaign):
    assert dash_callback(client, PROGRESS, _path(d2_campaign)).status_code == 401
    res = dash_callback(client, "campaigns-list.children", [
        {"id": "campaigns-url", "property": "pathname", "value": "/campaigns"},
        {"id": "campaigns-refresh", "property": "data", "value": 0}])
    assert res.status_code == 401 and "南江" not in _body(res)


def test_camh002_officer_cannot_open_campaign_outside_own_unit(as_user, d2_campaign):
    officer = as_user("officer")  # district 1
    for output in (PROGRESS, "campaign-teams.children", "campaign-did.children"):
        res = dash_callback(officer, output, _path(d2_campaign))
        assert res.status_code == 403, output
        assert "二分局职场微运动" not in _body(res)
    res = dash_callback(officer, "campaigns-list.children", [
        {"id": "campaigns-url", "property": "pathname", "value": "/campaigns"},
        {"id": "campaigns-refresh", "property": "data", "value": 0}])
    assert res.status_code == 200 and "二分局职场微运动" not in _body(res) and "健步走PK赛" in _body(res)


def test_camh003_district_manager_cannot_reach_other_district(app, as_user, d2_campaign):
    mgr = as_user("manager_d1")
    assert dash_callback(mgr, PROGRESS, _path(d2_campaign)).status_code == 403
    res = dash_callback(mgr, "campaign-individuals.children",
                        _path(d2_campaign) + [{"id": "campaign-hide-saved", "property": "data", "value": None}])
    assert res.status_code == 403
    assert dash_callback(as_user("manager_d2"), PROGRESS, _path(d2_campaign)).status_code == 200
    # editing it with a forged id: refused, and the campaign is unchanged
    d2_code = [c for c in _codes(app) if c.endswith("-D2")][0]
    res = _save(mgr, app, _form(d2_code, name="改名"), edit_id=d2_campaign)
    assert res.status_code == 403
    with session_scope(_url(app)) as s:
        assert s.get(Campaign, d2_campaign).name == "二分局职场微运动"


def _codes(app):
    with session_scope(_url(app)) as s:
        return list(s.scalars(select(Unit.code)))


@pytest.mark.parametrize("forged", ["abc", "999999", "1 OR 1=1", "1/../2", ""])
def test_camh004_forged_ids_refused(as_user, forged):
    res = dash_callback(as_user("manager"), PROGRESS,
                        [{"id": "campaign-url", "property": "pathname", "value": f"/campaigns/{forged}"}])
    assert res.status_code == 403


@pytest.mark.parametrize("username", ["officer", "leader", "leader_d1"])
def test_camh005_only_managers_and_admins_create(app, as_user, username):
    d1 = [c for c in _codes(app) if c.endswith("-D1")][0]
    with session_scope(_url(app)) as s:
        before = s.scalar(select(func.count()).select_from(Campaign))
    res = _save(as_user(username), app, _form(d1, name=f"{username} 的活动"))
    assert res.status_code == 403
    with session_scope(_url(app)) as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == before


def test_camh006_manager_cannot_create_for_units_outside_scope(app, as_user):
    mgr = as_user("manager_d1")
    codes = _codes(app)
    d2 = [c for c in codes if c.endswith("-D2")][0]
    res = _save(mgr, app, _form(d2, name="越权活动"))
    assert res.status_code == 200
    out = res.get_json()["response"]
    assert "范围" in json.dumps(out["cf-units-fb"], ensure_ascii=False)
    with session_scope(_url(app)) as s:
        assert s.scalar(select(Campaign.id).where(Campaign.name == "越权活动")) is None
    # inside the scope it is created, and the creation is audited
    d1_station = [c for c in codes if "-D1-S" in c][0]
    res = _save(mgr, app, _form(d1_station, name="一分局新活动"))
    assert res.status_code == 200 and res.get_json()["response"]["cf-collapse"]["is_open"] is False
    with session_scope(_url(app)) as s:
        cid = s.scalar(select(Campaign.id).where(Campaign.name == "一分局新活动"))
        logged = s.scalar(select(AuditLog).where(AuditLog.action == "campaign_create",
                                                 AuditLog.target == f"campaign:{cid}"))
        assert cid and logged.username == "manager_d1"
        s.execute(delete(Campaign).where(Campaign.id == cid))


def test_camh007_validation_errors_come_back_per_field(app, as_user):
    bad = {**_form([c for c in _codes(app) if c.endswith("-D1")][0]), "cf-name": "", "cf-end": "2000-01-01",
           "cf-target-day": -5}
    out = _save(as_user("manager_d1"), app, bad).get_json()["response"]
    assert out["cf-name"]["invalid"] and out["cf-end"]["invalid"] and out["cf-target-day"]["invalid"]
    assert "名称" in out["cf-name-fb"]["children"]
    assert not out["cf-scoring"]["invalid"]


def test_camh008_finished_campaign_is_frozen(app, as_user):
    finished, _running = _demo_ids(app)
    with session_scope(_url(app)) as s:
        c = s.get(Campaign, finished)
        units = [s.get(Unit, i).code for i in c.scope_unit_ids]
        name = c.name
    form = {**_form(units[0], name="改个名字"), "cf-units": units}
    out = _save(as_user("admin"), app, form, edit_id=finished).get_json()["response"]
    assert "冻结" in out["cf-error"]["children"]
    with session_scope(_url(app)) as s:
        assert s.get(Campaign, finished).name == name


def test_camh009_leader_gets_no_names(app, as_user):
    finished, _ = _demo_ids(app)
    leader = as_user("leader")
    res = dash_callback(leader, "campaign-individuals.children",
                        _path(finished) + [{"id": "campaign-hide-saved", "property": "data", "value": None}])
    assert res.status_code == 200
    body = _body(res)
    with session_scope(_url(app)) as s:
        names = set(s.scalars(select(Officer.name)))
    assert not any(n in body for n in names)
    assert "campaign-ind-withheld" in body
    # the manager sees the same board with names
    res = dash_callback(as_user("manager"), "campaign-individuals.children",
                        _path(finished) + [{"id": "campaign-hide-saved", "property": "data", "value": None}])
    assert any(n in _body(res) for n in names)


def test_camh010_officer_hides_own_name_only(app, as_user):
    finished, _ = _demo_ids(app)
    officer = as_user("officer")
    with session_scope(_url(app)) as s:
        me = s.scalar(select(User).where(User.username == "officer"))
        my_id, my_name = me.officer_id, me.officer.name
    try:
        res = dash_callback(officer, "campaign-hide-saved.data", [{"id": "campaign-hide", "property": "value",
                                                                   "value": True}])
        assert res.status_code == 200
        with session_scope(_url(app)) as s:
            hidden = set(s.scalars(select(OfficerPreference.officer_id)
                                   .where(OfficerPreference.hide_from_leaderboards.is_(True))))
        assert my_id in hidden
        path = _path(finished) + [{"id": "campaign-hide-saved", "property": "data", "value": 1}]
        own = _body(dash_callback(officer, "campaign-individuals.children", path))
        assert my_name in own and "（我）" in own
        other = _body(dash_callback(as_user("manager"), "campaign-individuals.children", path))
        assert my_name not in other
        # a manager cannot use the officer's switch
        assert dash_callback(as_user("manager"), "campaign-hide-saved.data",
                             [{"id": "campaign-hide", "property": "value", "value": True}]).status_code == 403
    finally:
        dash_callback(officer, "campaign-hide-saved.data", [{"id": "campaign-hide", "property": "value",
                                                             "value": False}])
    with session_scope(_url(app)) as s:
        pref = s.get(OfficerPreference, my_id)
        assert pref is None or not pref.hide_from_leaderboards


def test_camh011_officer_sees_own_rank_and_points(app, as_user):
    res = dash_callback(as_user("officer"), "campaigns-mine.children", [
        {"id": "campaigns-url", "property": "pathname", "value": "/campaigns"},
        {"id": "campaigns-refresh", "property": "data", "value": 0}])
    assert res.status_code == 200
    body = _body(res)
    assert "我的排名" in body and "积分" in body and "健步走PK赛" in body
    assert dash_callback(as_user("manager"), "campaigns-mine.children", [
        {"id": "campaigns-url", "property": "pathname", "value": "/campaigns"},
        {"id": "campaigns-refresh", "property": "data", "value": 0}]).status_code == 403
