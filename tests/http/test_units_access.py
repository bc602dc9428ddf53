"""/units and the leaders' overview, called the way any client can: forged units, pickers,
clicks and exports are refused; leaders get no small groups and no event counts."""
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from models.db import session_scope
from models.schema import AuditLog, Officer, OfficerStatus, Unit, User
from models.suppression import HIDDEN
from tests.conftest import AS_OF
from tests.helpers import dash_callback

COMPARE = ("..units-funnel.figure...units-chi2.children...units-grid.rowData...units-grid.columnDefs..."
           "units-method.children...units-alert.children...units-trend-units.options...units-trend-units.value..")
CHOICES = ("..units-root.data...units-level.options...units-level.value...units-indicator.options..."
           "units-indicator.value...units-year.options...units-year.value...units-crumbs.children...units-scope-msg.children..")
HOME = "..home-kpis.children...home-scope.children.."

EXPORT = "..units-download.data...units-export-msg.children.."


def _year(app):
    return AS_OF.year


def _compare(client, code, level="station", indicator="red_orange", year=None, rate="standardised"):
    year = year if year is not None else _year(None)
    inputs = [{"id": "units-root", "property": "data", "value": code},
              {"id": "units-level", "property": "value", "value": level},
              {"id": "units-indicator", "property": "value", "value": indicator},
              {"id": "units-year", "property": "value", "value": year},
              {"id": "units-rate", "property": "value", "value": rate}]
    return dash_callback(client, COMPARE, inputs)


def _rows(res):
    return res.get_json()["response"]["units-grid"]["rowData"]


def _units(app):
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        return {u.code: (u.path, u.level) for u in s.scalars(select(Unit))}


def _scope_code(app, username):
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        user = s.scalar(select(User).where(User.username == username))
        return user.scope_unit.code, user.scope_unit.path


def _other_district(app, username):
    code, path = _scope_code(app, username)
    return next(c for c, (p, lvl) in _units(app).items() if lvl == "district" and p != path)


def test_units001_anonymous_gets_401(client):
    res = client.post("/_dash-update-component", json={
        "output": EXPORT, "outputs": [{"id": "units-download", "property": "data"},
                                  {"id": "units-export-msg", "property": "children"}],
        "inputs": [{"id": "units-export", "property": "n_clicks", "value": 1}], "state": [], "changedPropIds": []})
    assert res.status_code == 401


def test_units002_officer_refused(as_user, app):
    code, _ = _scope_code(app, "leader")
    assert _compare(as_user("officer"), code).status_code == 403


def test_units003_district_manager_forging_other_district_refused(as_user, app):
    other = _other_district(app, "manager_d1")
    res = _compare(as_user("manager_d1"), other)
    assert res.status_code == 403 and "response" not in res.get_data(as_text=True)
    choices = dash_callback(as_user("manager_d1"), CHOICES,
                            [{"id": "units-url", "property": "search", "value": f"?unit={other}"}],
                            [{"id": "units-indicator", "property": "value", "value": None},
                             {"id": "units-year", "property": "value", "value": None}])
    # the page itself says so instead of going blank: the scope's own top, nothing of the other district
    assert choices.status_code == 200
    body = choices.get_json()["response"]
    own, _ = _scope_code(app, "manager_d1")
    assert body["units-root"]["data"] == own and "units-refused" in json.dumps(body)
    assert other not in json.dumps(body)
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        last = s.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert last.action == "access_denied" and last.username == "manager_d1"


def test_units004_leader_d1_sees_only_own_stations(as_user, app):
    code, path = _scope_code(app, "leader_d1")
    res = _compare(as_user("leader_d1"), code)
    assert res.status_code == 200
    rows = _rows(res)
    units = _units(app)
    assert rows and all(units[r["code"]][0].startswith(path) for r in rows)
    assert {r["code"] for r in rows} == {c for c, (p, lvl) in units.items() if p.startswith(path) and lvl == "station"}


@pytest.fixture()
def small_department(app):
    """A department of three officers under the force root, removed again after the test."""
    import datetime as dt

    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        root = s.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
        unit = Unit(code="T7-SMALL", name="小型测试科", name_en="Small test office", parent_id=root.id,
                    level="department", path=f"{root.path}T7-SMALL/", depth=root.depth + 1)
        s.add(unit)
        s.flush()
        ids = []
        for i in range(3):
            o = Officer(badge=f"T7S{i}", name=f"测试{i}", sex="male", birth_date=dt.date(1980, 1, 1),
                        unit_id=unit.id, post_type="office")
            s.add(o)
            s.flush()
            s.add(OfficerStatus(officer_id=o.id, unit_path=unit.path, latest={}, classes={"bp": "grade2"},
                                level="orange", confirmed=True, reasons=[], rule_ids=",bp_grade2,",
                                rules_version="t", hypertension=True))
            ids.append(o.id)
    yield "T7-SMALL"
    with session_scope(url) as s:
        s.execute(delete(OfficerStatus).where(OfficerStatus.officer_id.in_(ids)))
        s.execute(delete(Officer).where(Officer.id.in_(ids)))
        s.execute(delete(Unit).where(Unit.code == "T7-SMALL"))


def test_units005_leader_gets_no_event_counts_and_small_groups_suppressed(as_user, app, small_department):
    code, _ = _scope_code(app, "leader")
    res = _compare(as_user("leader"), code, level="department", indicator="hypertension", rate="crude")
    body = res.get_json()["response"]
    rows = body["units-grid"]["rowData"]
    assert all(r["events"] is None for r in rows)
    assert "events" not in [c["field"] for c in body["units-grid"]["columnDefs"]]
    small = next(r for r in rows if r["code"] == small_department)
    assert small["suppressed"] and small["n"] is None and small["crude"] is None and small["std"] is None
    assert small["crude_ci"] == HIDDEN and small["position_label"] == HIDDEN
    assert "3" not in [str(v) for v in small.values()]
    assert sum(r["suppressed"] for r in rows) < len(rows)  # complements only where needed, not every row
    # the funnel plots no suppressed unit
    plotted = [c for trace in body["units-funnel"]["figure"]["data"] for c in (trace.get("customdata") or [])]
    assert small_department not in plotted and plotted
    # a manager sees the same unit with its numbers
    manager = _rows(_compare(as_user("manager"), code, level="department", indicator="hypertension", rate="crude"))
    mine = next(r for r in manager if r["code"] == small_department)
    assert (mine["n"], mine["events"], mine["suppressed"]) == (3, 3, False)


def test_units006_forged_pickers_refused(as_user, app):
    code, _ = _scope_code(app, "leader")
    client = as_user("manager")
    assert _compare(client, code, indicator="latest.sbp").status_code == 403
    assert _compare(client, code, level="officer").status_code == 403
    assert _compare(client, code, year="2020; DROP TABLE unit").status_code == 403
    assert _compare(client, code, rate="raw").status_code == 403
    assert _compare(client, None).status_code == 403


def test_units007_drill_down_click_checked_against_scope(as_user, app):
    own, _ = _scope_code(app, "leader")
    units = _units(app)
    district = next(c for c, (p, lvl) in units.items() if lvl == "district")
    click = {"points": [{"customdata": district}]}
    drill = "units-url.search"
    res = dash_callback(as_user("leader"), drill, [{"id": "units-funnel", "property": "clickData", "value": click},
                                                   {"id": "units-grid", "property": "cellClicked", "value": None}],
                        changed=["units-funnel.clickData"])
    assert res.status_code == 200 and res.get_json()["response"]["units-url"]["search"] == f"?unit={district}"
    other = _other_district(app, "leader_d1")
    cell = {"colId": "label", "rowId": other}
    res = dash_callback(as_user("leader_d1"), drill, [{"id": "units-funnel", "property": "clickData", "value": None},
                                                      {"id": "units-grid", "property": "cellClicked", "value": cell}],
                        changed=["units-grid.cellClicked"])
    assert res.status_code == 403


def test_units008_export_is_audited_and_suppressed_for_leaders(as_user, app, small_department):
    code, _ = _scope_code(app, "leader")
    state = [{"id": "units-root", "property": "data", "value": code},
             {"id": "units-level", "property": "value", "value": "department"},
             {"id": "units-indicator", "property": "value", "value": "hypertension"},
             {"id": "units-year", "property": "value", "value": _year(app)},
             {"id": "units-rate", "property": "value", "value": "crude"}]
    res = dash_callback(as_user("leader"), EXPORT,
                        [{"id": "units-export", "property": "n_clicks", "value": 1}], state)
    assert res.status_code == 200
    import base64

    data = res.get_json()["response"]["units-download"]["data"]
    wb = load_workbook(io.BytesIO(base64.b64decode(data["content"])))
    header = next(row for row in wb.active.iter_rows(values_only=True) if row and row[0] == "单位编码")
    assert "分子（人）" not in header and "人数" in header
    small = next(row for row in wb.active.iter_rows(values_only=True) if row and row[0] == small_department)
    assert set(small[2:]) == {HIDDEN}
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        last = s.scalars(select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id.desc())).first()
        assert last.username == "leader" and last.target == f"units:{code}"
        assert last.detail["indicator"] == "hypertension"


def test_units009_export_of_a_foreign_district_refused_and_not_logged(as_user, app):
    other = _other_district(app, "manager_d1")
    state = [{"id": "units-root", "property": "data", "value": other},
             {"id": "units-level", "property": "value", "value": "station"},
             {"id": "units-indicator", "property": "value", "value": "hypertension"},
             {"id": "units-year", "property": "value", "value": _year(app)},
             {"id": "units-rate", "property": "value", "value": "crude"}]
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        before = s.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    res = dash_callback(as_user("manager_d1"), EXPORT,
                        [{"id": "units-export", "property": "n_clicks", "value": 1}], state)
    assert res.status_code == 403
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        assert not s.scalars(select(AuditLog).where(AuditLog.id > (before or 0), AuditLog.action == "export")).all()


def test_units010_trend_ignores_units_outside_the_root(as_user, app):
    code, path = _scope_code(app, "leader_d1")
    units = _units(app)
    foreign = next(c for c, (p, lvl) in units.items() if lvl == "station" and not p.startswith(path))
    own = next(c for c, (p, lvl) in units.items() if lvl == "station" and p.startswith(path))
    state = [{"id": "units-root", "property": "data", "value": code},
             {"id": "units-level", "property": "value", "value": "station"},
             {"id": "units-indicator", "property": "value", "value": "hypertension"},
             {"id": "units-rate", "property": "value", "value": "crude"}]
    res = dash_callback(as_user("leader_d1"), "units-trend.figure",
                        [{"id": "units-trend-units", "property": "value", "value": [own, foreign]}], state)
    assert res.status_code == 200
    names = [t.get("name") for t in res.get_json()["response"]["units-trend"]["figure"]["data"]]
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        foreign_name = s.scalar(select(Unit.name).where(Unit.code == foreign))
        own_name = s.scalar(select(Unit.name).where(Unit.code == own))
    assert own_name in names and foreign_name not in names


def test_units011_leader_overview_forging_other_district_refused(as_user, app):
    other = _other_district(app, "leader_d1")
    res = dash_callback(as_user("leader_d1"), HOME, [{"id": "home-url", "property": "search", "value": f"?unit={other}"}])
    assert res.status_code == 403


def test_units012_leader_overview_has_no_lab_values(as_user, app):
    res = dash_callback(as_user("leader"), HOME, [{"id": "home-url", "property": "search", "value": ""}])
    assert res.status_code == 200
    text = res.get_data(as_text=True)
    for word in ("mmol", "mmHg", "\"sbp\"", "\"ldl\"", "µmol"):
        assert word not in text
    assert "home-card-red" in text and "home-monthly" in text
