"""Every answer that shows named officers with health data is audited, and every refused forged
request is a security event (issue 15, finding 7)."""
import json

from sqlalchemy import func, select

from models.db import session_scope
from models.schema import AuditLog, FollowUp, Officer, Unit, User
from tests.helpers import dash_callback
from tests.http.test_warnings_access import call, rows


def _db(app):
    return app.server.config["DATABASE_URL"]


def _last(app, action):
    with session_scope(_db(app)) as s:
        row = s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc())).first()
        return None if row is None else {"username": row.username, "target": row.target, "detail": row.detail,
                                         "ip": row.ip}


def test_aud001_warnings_grid_page_is_audited_with_filter_and_rows(app, as_user):
    c = as_user("manager_d1")
    c.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.66"
    res = rows(app, c, {"startRow": 0, "endRow": 50}, {"warn-f-levels": ["red", "orange"]})
    assert res.status_code == 200
    shown = res.get_json()["response"]
    grid = next(v for v in shown.values() if "getRowsResponse" in v)["getRowsResponse"]
    grid = grid[0] if isinstance(grid, list) else grid
    row = _last(app, "view_warnings_list")
    assert row["username"] == "manager_d1" and row["ip"] == "127.0.0.1"
    assert row["detail"]["filters"]["levels"] == ["red", "orange"]
    assert row["detail"]["rows"] == len(grid["rowData"]) and row["detail"]["total"] == grid["rowCount"]
    assert row["detail"]["start"] == 0


def test_aud002_followup_details_are_audited(app, as_user):
    with session_scope(_db(app)) as s:
        path = s.scalar(select(Unit.path).join(User, User.scope_unit_id == Unit.id).where(User.username == "manager_d1"))
        fid, badge = s.execute(select(FollowUp.id, Officer.badge).join(Officer).join(Unit, Officer.unit_id == Unit.id)
                               .where(Unit.path.like(f"{path}%")).order_by(FollowUp.id)).first()
    c = as_user("manager_d1")
    res = call(app, c, "fu-detail-id", [{"id": "fu-detail-id", "property": "data", "value": {"id": fid}},
                                        {"id": "fu-changed", "property": "data", "value": 0}])
    assert res.status_code == 200
    row = _last(app, "view_followup")
    assert row["target"] == f"followup:{fid}" and row["detail"] == {"officer": badge}
    opened = call(app, c, "fu-new-badge", [{"id": "fu-new-badge", "property": "data", "value": {"badge": badge}}])
    assert opened.status_code == 200
    assert _last(app, "view_followup_context")["target"] == f"officer:{badge}"


def test_aud003_a_refused_forged_callback_is_a_security_event(app, as_user):
    c = as_user("officer")
    with session_scope(_db(app)) as s:
        before = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "access_denied"))
    res = dash_callback(c, "au-grid-wrap.children", [{"id": i, "property": "value", "value": None}
                                                      for i in ("au-search", "au-f-role", "au-f-status")]
                        + [{"id": "au-refresh", "property": "data", "value": 0}], changed=["au-refresh.data"])
    assert res.status_code == 403 and res.get_json() == {"error": "forbidden"}  # uniform: no reason to the client
    row = _last(app, "access_denied")
    assert row["username"] == "officer" and row["ip"] == "127.0.0.1"
    assert row["target"] == "au-grid-wrap.children"
    assert row["detail"]["callback"] == row["target"] and "officer" in row["detail"]["reason"]
    assert row["detail"]["changed"] == ["au-refresh.data"]
    with session_scope(_db(app)) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "access_denied")) == before + 1


def test_aud004_refusals_read_the_same_whatever_the_reason(app, as_user):
    """A forged unit, a forbidden role and a foreign badge: the same 403 body; the reasons only in the log."""
    leader = as_user("leader_d1")
    foreign = rows(app, leader, {"startRow": 0, "endRow": 10}, {"warn-f-unit": "NOT-A-UNIT"})
    role = dash_callback(as_user("manager"), "..au-unit.options...au-edit-unit.options...au-roster-unit.options..",
                         [{"id": "au-refresh", "property": "data", "value": 0}])
    assert foreign.status_code == role.status_code == 403
    assert foreign.get_data() == role.get_data()
    report = as_user("manager_d2").get("/officers/NO-SUCH-BADGE/report")
    assert report.status_code == 403
    assert _last(app, "access_denied")["target"] == "/officers/NO-SUCH-BADGE/report"


def test_aud005_forged_x_forwarded_for_never_reaches_the_audit_log(app, as_user):
    c = as_user("manager_d1")
    c.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.66"
    dash_callback(c, "..au-unit.options...au-edit-unit.options...au-roster-unit.options..", [{"id": "au-refresh", "property": "data", "value": 0}])
    rows(app, c, {"startRow": 0, "endRow": 10})
    with session_scope(_db(app)) as s:
        assert not s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.ip.like("%203.0.113.66%")))
    assert json.dumps(_last(app, "access_denied"))


def test_aud010_workbench_view_is_audited_with_what_it_listed(app, as_user):
    """The workbench names officers with their warning reasons: each page of each list is on record,
    with the officers it showed."""
    c = as_user("manager_d1")
    for key in ("queue", "mine", "closed", "changes"):
        res = call(app, c, f"wb-{key}-prev", [{"id": f"wb-{key}-prev", "property": "n_clicks", "value": None},
                                              {"id": f"wb-{key}-next", "property": "n_clicks", "value": None},
                                              {"id": "fu-changed", "property": "data", "value": 0}],
                   [{"id": f"wb-{key}-page", "property": "data", "value": 0}])
        assert res.status_code == 200
        row = _last(app, "view_workbench")
        assert row["username"] == "manager_d1" and row["target"] == "workbench"
        assert row["detail"]["list"] == key and set(row["detail"]) == {"list", "start", "rows", "total"}
        table = _find(res.get_json(), f"wb-{key}-table")
        shown = len(_find(table, None, "Tbody")["props"]["children"]) if table else 0
        assert row["detail"]["rows"] == shown and row["detail"]["total"] >= shown


def _find(node, component_id, component_type=None):
    """The first component in a Dash answer with this id (or, with an id of None, of this type)."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and (props.get("id") == component_id if component_id is not None
                                        else node.get("type") == component_type):
            return node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find(child, component_id, component_type)
        if found is not None:
            return found
    return None
