"""Forged callback requests: the scope comes from the server, never from the request."""
import pytest
from sqlalchemy import select

from models.db import session_scope
from models.schema import Officer, Unit, User
from web.access import AccessDenied, Scope, officer_in_scope, unit_in_scope
from tests.helpers import dash_callback

HOME = "..home-kpis.children...home-scope.children.."


def _home(client, search=""):
    return dash_callback(client, HOME, [{"id": "home-url", "property": "search", "value": search}])


def _units(url):
    with session_scope(url) as s:
        return {u.code: u.path for u in s.scalars(select(Unit))}


def test_acc001_manager_sees_own_scope(as_user):
    res = _home(as_user("manager_d1"))
    assert res.status_code == 200
    assert "D1" in res.get_data(as_text=True) or res.get_json()["response"]["home-scope"]["children"]


def test_acc002_district_manager_forging_other_district_refused(app, as_user):
    codes = [c for c in _units(app.server.config["DATABASE_URL"]) if c.endswith("-D2")]
    res = _home(as_user("manager_d1"), f"?unit={codes[0]}")
    assert res.status_code == 403
    assert "response" not in res.get_data(as_text=True)


def test_acc003_district_manager_may_drill_inside_own_district(app, as_user):
    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        scope_path = s.scalar(select(User).where(User.username == "manager_d1")).scope_unit.path
        station = s.scalar(select(Unit).where(Unit.path.like(f"{scope_path}%"), Unit.level == "station"))
        code, name = station.code, station.name
    res = _home(as_user("manager_d1"), f"?unit={code}")
    assert res.status_code == 200
    assert name in res.get_json()["response"]["home-scope"]["children"]


def test_acc004_officer_cannot_call_unit_overview(as_user):
    assert _home(as_user("officer")).status_code == 403


def test_acc005_unknown_unit_code_refused_like_foreign_one(as_user):
    assert _home(as_user("leader_d1"), "?unit=NO-SUCH-UNIT").status_code == 403


def test_acc006_officer_in_scope_rules(app):
    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        me = s.scalar(select(User).where(User.username == "officer"))
        mgr = s.scalar(select(User).where(User.username == "manager_d1"))
        own = me.officer
        other_district = s.scalar(select(Officer).join(Unit).where(~Unit.path.like(f"{mgr.scope_unit.path}%"),
                                                                   Unit.level == "station"))
        same_district = s.scalar(select(Officer).join(Unit).where(Unit.path.like(f"{mgr.scope_unit.path}%"),
                                                                  Officer.id != own.id))
        officer_scope = Scope(me.id, "officer", "officer", own.id, own.unit.path)
        manager_scope = Scope(mgr.id, "manager_d1", "manager", None, mgr.scope_unit.path)
        assert officer_in_scope(s, officer_scope, own.badge).id == own.id
        with pytest.raises(AccessDenied):
            officer_in_scope(s, officer_scope, same_district.badge)
        assert officer_in_scope(s, manager_scope, same_district.badge).id == same_district.id
        with pytest.raises(AccessDenied):
            officer_in_scope(s, manager_scope, other_district.badge)
        with pytest.raises(AccessDenied):
            unit_in_scope(s, officer_scope, own.unit.code)
