"""The audit viewer, "who looked at my record" and the data download in headless Chromium."""
import json

import pytest
from selenium.webdriver.common.keys import Keys
from sqlalchemy import func, select

from models import audit as audit_model
from models import break_glass
from models.db import session_scope
from models.schema import AuditLog, Officer, Unit, User
from models.users import create_user
from tests.browser import assert_no_console_errors, click, console_errors, wait_until
from tests.conftest import PASSWORD
from tests.helpers import start

pytestmark = pytest.mark.browser

FETCH_JSON = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text().then(t => done([r.status, t])))
  .catch(e => done([0, String(e)]));
"""


@pytest.fixture(scope="module")
def world(app):
    """The officer's record opened by a district manager, and a flagged break-the-glass event."""
    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        me = s.scalar(select(User).where(User.username == "officer")).officer
        mgr = s.scalar(select(User).where(User.username == "manager_d1"))
        d2 = s.scalar(select(User).where(User.username == "manager_d2")).scope_unit
        audit_model.record(s, action="view_officer", target=f"officer:{me.badge}", detail={"section": "header"},
                           user_id=mgr.id, username=mgr.username, ip="10.9.8.7")
        glass = s.scalar(select(User).where(User.username == "bg_browser")) or \
            create_user(s, "bg_browser", PASSWORD, "manager", scope_unit_code=d2.code)
        foreign = s.scalar(select(Officer).join(Unit).where(~Unit.path.like(f"{d2.path}%")).order_by(Officer.id))
        break_glass.grant(s, user_id=glass.id, badge=foreign.badge, reason="执勤受伤送医，需要查看既往病史", ip="10.1.2.3")
        return {"url": url, "me": me.badge, "me_name": me.name, "foreign": foreign.badge}


def _count_text(dash_duo) -> str:
    return dash_duo.find_element("#aa-count").text


def test_aud401_auditor_filters_the_log_sees_flagged_events_and_exports(app, dash_duo, login_browser, world):
    start(dash_duo, app)
    login_browser("auditor")  # home sends an auditor to the audit log
    dash_duo.wait_for_element("#aa-title", timeout=30)
    menu = dash_duo.find_element(".portal-navbar").text
    assert "审计日志" in menu and "四色预警" not in menu and "数据导入" not in menu
    dash_duo.wait_for_element("#aa-grid-wrap .ag-row", timeout=30)
    assert dash_duo.find_elements("#aa-on-request") == []  # on-request exports are for admins
    everything = _count_text(dash_duo)
    box = dash_duo.find_element("#aa-badge")
    box.send_keys(world["me"], Keys.ENTER)
    wait_until(lambda: _count_text(dash_duo) != everything, message="the badge filter did not narrow the log")
    wait_until(lambda: all(w in dash_duo.find_element("#aa-grid-wrap").text for w in ("manager_d1", "查看健康画像", "header")),
               message="no portrait view by manager_d1 in the filtered log")
    box.clear()
    box.send_keys(Keys.ENTER)
    click(dash_duo, "#aa-flagged input")

    def flagged_row():
        text = dash_duo.find_element("#aa-grid-wrap").text  # the grid is rebuilt as each filter lands
        return all(w in text for w in ("bg_browser", "紧急越权查看", "⚑", "执勤受伤"))

    wait_until(flagged_row, message="no flagged break-the-glass row with its reason")
    with session_scope(world["url"]) as s:
        before = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export_audit"))
    click(dash_duo, "#aa-export")

    def exported():
        with session_scope(world["url"]) as s:
            return s.scalars(select(AuditLog).where(AuditLog.action == "export_audit", AuditLog.username == "auditor")
                             .order_by(AuditLog.id.desc())).first() if s.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "export_audit")) > before else None

    row = wait_until(exported, message="the export was not audited")
    assert row.detail["filters"] == {"flagged": True} and row.detail["rows"] >= 1
    assert_no_console_errors(dash_duo)


def test_aud402_others_get_no_access_to_the_audit_log(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("manager", path="/admin/audit")
    dash_duo.wait_for_element("#no-access", timeout=20)
    assert dash_duo.find_elements("#aa-grid-wrap") == []
    assert "审计日志" not in dash_duo.find_element(".portal-navbar").text
    assert_no_console_errors(dash_duo)


def test_aud403_officer_sees_who_looked_and_downloads_their_data(app, dash_duo, login_browser, world):
    start(dash_duo, app)
    login_browser("officer", path="/me")
    dash_duo.wait_for_element("#me-access-table", timeout=30)
    rows = [r.text for r in dash_duo.find_elements("#me-access-table .me-access-row")]
    assert any("manager_d1" in r and "健康管理师" in r and "查看健康画像" in r for r in rows), rows
    assert dash_duo.find_element("#me-data-json").get_attribute("href").endswith("/me/data.json")
    status, body = dash_duo.driver.execute_async_script(FETCH_JSON, "/me/data.json")
    assert status == 200
    data = json.loads(body)
    assert data["officer"]["badge"] == world["me"] and data["readings"] and data["exams"]
    assert any(a["user"] == "manager_d1" for a in data["access_log"])
    href = dash_duo.find_element("#me-data-html").get_attribute("href")
    assert_no_console_errors(dash_duo)
    dash_duo.driver.get(href)  # the printable document is a plain page, not a Dash one
    dash_duo.wait_for_text_to_equal("#data-badge", world["me"], timeout=20)
    doc = dash_duo.find_element("#data-doc").text
    assert world["me_name"] in doc and "谁查看了我的档案" in doc and "manager_d1" in doc
    assert dash_duo.driver.find_elements("css selector", "#data-readings tbody tr")
    blocked = [e for e in console_errors(dash_duo) if "Content Security Policy" in e.get("message", "")]
    assert not blocked, blocked  # the print button is bound by /static/doc_actions.js, no inline handler
    with session_scope(world["url"]) as s:
        formats = {d["format"] for d, in s.execute(select(AuditLog.detail).where(
            AuditLog.action == "export_own_data", AuditLog.target == f"officer:{world['me']}"))}
    assert {"json", "html"} <= formats
