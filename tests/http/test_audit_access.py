"""/admin/audit, "who looked at my record", take your data and break the glass over HTTP: every
audit callback refuses officers, managers and leaders even when forged; admins and auditors
read the log; auditors see nothing else; downloads and grants are audited."""
import json

import pytest
from sqlalchemy import select

from models.db import session_scope
from models.schema import AuditLog, Officer, Unit, User
from models.users import create_user
from tests.conftest import PASSWORD
from tests.helpers import csrf_cookie, dash_callback

GRID = "..aa-grid-wrap.children...aa-count.children...aa-filter.data.."
PEOPLE = "aa-person.options"
EXPORT = "aa-download-file.data"
LINKS = "aa-data-links.children"
ME = "me-access.children"
BG = "bg-result.children"


def filters(person=None, badge=None, action=None, start=None, end=None, flagged=None):
    return [{"id": "aa-person", "property": "value", "value": person},
            {"id": "aa-badge", "property": "value", "value": badge},
            {"id": "aa-action", "property": "value", "value": action},
            {"id": "aa-dates", "property": "start_date", "value": start},
            {"id": "aa-dates", "property": "end_date", "value": end},
            {"id": "aa-flagged", "property": "value", "value": flagged or []}]


def grid(c, **kw):
    return dash_callback(c, GRID, filters(**kw))


def rows(c, store=None, start=0, end=100):
    ident = {"type": "aa-grid", "v": "x"}
    body = {"output": '{"type":"aa-grid","v":["MATCH"]}.getRowsResponse',
            "outputs": {"id": ident, "property": "getRowsResponse"},
            "inputs": [{"id": ident, "property": "getRowsRequest", "value": {"startRow": start, "endRow": end}}],
            "state": [{"id": "aa-filter", "property": "data", "value": store}],
            "changedPropIds": [json.dumps(ident, separators=(",", ":")) + ".getRowsRequest"]}
    return c.post("/_dash-update-component", json=body, headers={"X-CSRFToken": csrf_cookie(c)})


def export(c, store=None):
    return dash_callback(c, EXPORT, [{"id": "aa-export", "property": "n_clicks", "value": 1}],
                         [{"id": "aa-filter", "property": "data", "value": store}])


def links(c, badge):
    return dash_callback(c, LINKS, [{"id": "aa-data-badge", "property": "value", "value": badge}])


def me_access(c):
    return dash_callback(c, ME, [{"id": "me-access-load", "property": "data", "value": 0}])


def break_glass(c, badge, reason):
    return dash_callback(c, BG, [{"id": "bg-submit", "property": "n_clicks", "value": 1}],
                         [{"id": "bg-reason", "property": "value", "value": reason},
                          {"id": "portrait-badge", "property": "data", "value": badge}])


def text_of(res) -> str:
    return json.dumps(res.get_json(), ensure_ascii=False)


@pytest.fixture(scope="module")
def people(app):
    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        me = s.scalar(select(User).where(User.username == "officer")).officer
        d2 = s.scalar(select(User).where(User.username == "manager_d2")).scope_unit
        if not s.scalar(select(User.id).where(User.username == "bg_manager")):
            create_user(s, "bg_manager", PASSWORD, "manager", scope_unit_code=d2.code)
        foreign = s.scalar(select(Officer).join(Unit).where(~Unit.path.like(f"{d2.path}%"), Officer.id != me.id)
                           .order_by(Officer.id.desc()))
        return {"url": url, "me": me.badge, "me_id": me.id, "foreign": foreign.badge, "foreign_name": foreign.name}


@pytest.mark.parametrize("username", ["officer", "manager_d1", "leader"])
def test_aud101_other_roles_are_refused_on_every_audit_callback(as_user, people, username):
    c = as_user(username)
    assert grid(c).status_code == 403
    assert dash_callback(c, PEOPLE, [{"id": "aa-filter", "property": "id", "value": "aa-filter"}]).status_code == 403
    assert rows(c).status_code == 403
    assert export(c).status_code == 403
    assert links(c, people["me"]).status_code == 403
    page = c.get("/admin/audit")
    assert page.status_code == 200  # the Dash shell; the layout says "no access" (checked in the browser test)


def test_aud102_auditor_reads_filters_pages_and_exports_and_is_audited(as_user, people):
    c = as_user("auditor")
    res = grid(c, action="login")
    assert res.status_code == 200
    store = res.get_json()["response"]["aa-filter"]["data"]
    assert store == {"action": "login"}
    page = rows(c, store).get_json()["response"]
    data = next(iter(page.values()))["getRowsResponse"]
    assert data["rowCount"] >= 1 and all(r["action"] == "login" for r in data["rowData"])
    assert data["rowData"][0]["action_name"] in ("登录", "Sign-in")
    out = export(c, store).get_json()["response"]["aa-download-file"]["data"]
    assert out["filename"].startswith("audit_log_") and "登录" in out["content"]
    with session_scope(people["url"]) as s:
        mine = [a for a, in s.execute(select(AuditLog.action).where(AuditLog.username == "auditor"))]
    assert {"view_audit", "export_audit"} <= set(mine)
    assert dash_callback(c, PEOPLE, [{"id": "aa-filter", "property": "id", "value": "aa-filter"}]).status_code == 200
    assert links(c, people["me"]).status_code == 403  # on-request exports are for admins


@pytest.mark.parametrize("forged", [
    {"action": "drop_table"}, {"start": "not-a-date"}, {"badge": "x" * 200}, {"flagged": ["everything"]},
    {"person": {"$ne": None}},
])
def test_aud103_forged_filters_are_refused(as_user, forged):
    assert grid(as_user("admin"), **forged).status_code == 403


def test_aud104_forged_store_is_refused_on_rows_and_export(as_user):
    c = as_user("admin")
    assert rows(c, {"action": "nope"}).status_code == 403
    assert export(c, ["not", "a", "dict"]).status_code == 403


def test_aud105_auditor_sees_nothing_but_the_audit_log(as_user, people):
    c = as_user("auditor")
    header = dash_callback(c, "pt-header.children", [{"id": "pt-key", "property": "data", "value": people["me"]}])
    assert header.status_code == 403
    assert c.get(f"/officers/{people['me']}/report").status_code == 403
    assert c.get(f"/officers/{people['me']}/data.json").status_code == 403
    assert c.get("/me/data.json").status_code == 403
    camp = dash_callback(c, "campaigns-list.children", [{"id": "campaigns-url", "property": "pathname", "value": "/campaigns"},
                                                        {"id": "campaigns-refresh", "property": "data", "value": 0}])
    assert camp.status_code == 403


def test_aud106_officer_downloads_own_data_audited_and_nobody_elses(as_user, people):
    c = as_user("officer")
    res = c.get("/me/data.json")
    assert res.status_code == 200 and "attachment" in res.headers["Content-Disposition"]
    data = res.get_json()
    assert data["officer"]["badge"] == people["me"] and data["exams"] and data["readings"]
    html = c.get("/me/data.html")
    assert html.status_code == 200 and people["me"] in html.get_data(as_text=True)
    assert c.get(f"/officers/{people['foreign']}/data.json").status_code == 403
    assert c.get(f"/officers/{people['me']}/data.json").status_code == 403  # the admin route, even for oneself
    for username in ("manager", "leader"):
        other = as_user(username)
        assert other.get(f"/officers/{people['me']}/data.json").status_code == 403
        assert other.get("/me/data.json").status_code == 403
    with session_scope(people["url"]) as s:
        fmts = [d["format"] for d, in s.execute(select(AuditLog.detail).where(
            AuditLog.action == "export_own_data", AuditLog.target == f"officer:{people['me']}"))]
    assert {"json", "html"} <= set(fmts)


def test_aud107_admin_exports_on_request_and_the_officer_sees_it(as_user, people):
    admin = as_user("admin")
    got = links(admin, people["me"]).get_json()["response"]["aa-data-links"]["children"]
    assert f"/officers/{people['me']}/data.json" in json.dumps(got)
    res = admin.get(f"/officers/{people['me']}/data.json")
    assert res.status_code == 200 and res.get_json()["generated_for"] == "admin"
    assert admin.get("/officers/NO-SUCH/data.json").status_code == 403
    seen = text_of(me_access(as_user("officer")))
    assert "admin" in seen and ("代为导出个人数据" in seen or "Exported an officer" in seen)


def test_aud108_who_looked_is_for_officers_only(as_user):
    for username in ("manager", "leader", "admin", "auditor"):
        assert me_access(as_user(username)).status_code == 403


def test_aud109_manager_breaks_the_glass_with_a_reason_for_a_day(as_user, people):
    c = as_user("bg_manager")
    header = {"id": "pt-key", "property": "data", "value": people["foreign"]}
    assert dash_callback(c, "pt-header.children", [header]).status_code == 403
    frame = text_of(dash_callback(c, "portrait-body.children",
                                  [{"id": "portrait-badge", "property": "data", "value": people["foreign"]}]))
    assert "bg-reason" in frame and people["foreign_name"] not in frame
    short = text_of(break_glass(c, people["foreign"], "看看"))
    assert "bg-refused" in short
    assert dash_callback(c, "pt-header.children", [header]).status_code == 403
    ok = text_of(break_glass(c, people["foreign"], "民警在本辖区执勤时受伤送医，需要了解既往病史"))
    assert "bg-reload" in ok
    res = dash_callback(c, "pt-header.children", [header])
    assert res.status_code == 200 and people["foreign_name"] in text_of(res)
    for username in ("leader", "officer", "admin", "auditor"):  # only managers break the glass
        assert break_glass(as_user(username), people["foreign"], "a reason that is long enough").status_code == 403
    auditor_view = grid(as_user("auditor"), flagged=["flagged"]).get_json()["response"]["aa-filter"]["data"]
    flagged = next(iter(rows(as_user("auditor"), auditor_view).get_json()["response"].values()))["getRowsResponse"]
    assert flagged["rowData"][0]["action"] == "break_glass" and flagged["rowData"][0]["username"] == "bg_manager"


def test_aud110_warnings_export_records_the_officers_listed(app, as_user, people):
    from callbacks.warnings import FILTER_IDS
    from models.schema import AuditSubject

    from tests.http.test_warnings_access import call

    c = as_user("manager")
    states = [{"id": i, "property": "value", "value": ["red"] if i == "warn-f-levels" else None} for i in FILTER_IDS]
    res = call(app, c, "warn-export-csv", [{"id": "warn-export-csv", "property": "n_clicks", "value": 1},
                                           {"id": "warn-export-xlsx", "property": "n_clicks", "value": None}],
               states, changed=["warn-export-csv.n_clicks"])
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    with session_scope(people["url"]) as s:
        last = s.scalars(select(AuditLog).where(AuditLog.action == "export", AuditLog.target == "warnings")
                         .order_by(AuditLog.id.desc())).first()
        n = len(s.scalars(select(AuditSubject.officer_id).where(AuditSubject.audit_id == last.id)).all())
    assert n == last.detail["rows"] and n > 0


def test_aud111_a_page_of_the_warnings_list_records_the_officers_shown(app, as_user, people):
    from models.schema import AuditSubject
    from tests.http.test_warnings_access import rows as warning_rows

    with session_scope(people["url"]) as s:
        station = s.get(Officer, people["me_id"]).unit.code
    res = warning_rows(app, as_user("manager_d1"), {"startRow": 0, "endRow": 100},
                       {"warn-f-levels": ["red", "orange"], "warn-f-unit": station})
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    with session_scope(people["url"]) as s:
        last = s.scalars(select(AuditLog).where(AuditLog.action == "view_warnings_list", AuditLog.username == "manager_d1")
                         .order_by(AuditLog.id.desc())).first()
        shown = s.scalars(select(AuditSubject.officer_id).where(AuditSubject.audit_id == last.id)).all()
        listed = s.scalars(select(AuditSubject.audit_id).where(AuditSubject.officer_id == people["me_id"])).all()
    assert len(shown) == last.detail["rows"] > 0
    assert last.id in listed  # the demo officer is red or orange in that station: the page showed them
    seen = text_of(me_access(as_user("officer")))
    assert "查看预警名单" in seen or "Viewed the warnings list" in seen
