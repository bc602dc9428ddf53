"""The portrait in headless Chromium: the officer's own page, a forged request from the same
session, and a district manager inside and outside their district."""
import json

import pytest
from sqlalchemy import select

from models.db import session_scope
from models.schema import Officer, Unit, User
from tests.browser import assert_no_console_errors, click
from tests.command_post import command_officer
from tests.helpers import start

pytestmark = pytest.mark.browser

FORGE = """
const done = arguments[arguments.length - 1];
const token = (document.cookie.split('; ').find(c => c.startsWith('_csrf_token=')) || '=').split('=')[1];
fetch('/_dash-update-component', {method: 'POST', credentials: 'same-origin',
  headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
  body: JSON.stringify({output: 'pt-header.children', outputs: {id: 'pt-header', property: 'children'},
                        inputs: [{id: 'pt-key', property: 'data', value: arguments[0]}],
                        changedPropIds: ['pt-key.data'], state: []})})
  .then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));
"""


@pytest.fixture(scope="module")
def badges(app):
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        me = s.scalar(select(User).where(User.username == "officer")).officer
        d1 = s.scalar(select(User).where(User.username == "manager_d1")).scope_unit.path
        inside = s.scalar(select(Officer).join(Unit).where(Unit.path.like(f"{d1}%"), Officer.id != me.id)
                          .order_by(Officer.id))
        outside = s.scalar(select(Officer).join(Unit).where(~Unit.path.like(f"{d1}%"), Unit.level == "station")
                           .order_by(Officer.id))
        return {"me": me.badge, "me_name": me.name, "inside": inside.badge, "inside_name": inside.name,
                "outside": outside.badge, "outside_name": outside.name}


def test_por401_officer_sees_own_portrait_with_charts(app, dash_duo, login_browser, badges):
    start(dash_duo, app)
    login_browser("officer")
    dash_duo.wait_for_element("#me-title", timeout=20)
    dash_duo.wait_for_text_to_equal("#pt-name", badges["me_name"], timeout=30)
    dash_duo.wait_for_element("#pt-level", timeout=10)
    dash_duo.wait_for_element("#pt-ind-bp", timeout=30)
    dash_duo.wait_for_element("#pt-trend-sbp .js-plotly-plot", timeout=30)
    dash_duo.wait_for_element("#pt-history-table", timeout=30)
    assert len(dash_duo.find_elements("#pt-trends .js-plotly-plot")) >= 3
    assert "China-PAR" in dash_duo.find_element("#pt-risk").text
    assert dash_duo.find_element("#pt-print").get_attribute("href").endswith("/me/report")
    assert dash_duo.find_elements("#pt-new-followup") == []
    assert_no_console_errors(dash_duo)


def test_por402_same_session_forging_another_badge_gets_nothing(app, dash_duo, login_browser, badges):
    start(dash_duo, app)
    login_browser("officer", path="/me")
    dash_duo.wait_for_text_to_equal("#pt-name", badges["me_name"], timeout=30)
    status, body = dash_duo.driver.execute_async_script(FORGE, badges["inside"])
    assert status == 403 and badges["inside_name"] not in body
    status, body = dash_duo.driver.execute_async_script(FORGE, "")
    assert status == 200                                        # the same request for oneself works
    assert badges["me_name"] in json.dumps(json.loads(body), ensure_ascii=False)
    dash_duo.driver.get(dash_duo.server_url + f"/officers/{badges['inside']}")
    dash_duo.wait_for_element("#no-access", timeout=20)
    assert badges["inside_name"] not in dash_duo.find_element("body").text
    assert_no_console_errors(dash_duo, refused=True)  # the forged request got its 403


def test_por403_district_manager_inside_and_outside(app, dash_duo, login_browser, badges):
    start(dash_duo, app)
    login_browser("manager_d1", path=f"/officers/{badges['inside']}")
    dash_duo.wait_for_text_to_equal("#pt-name", badges["inside_name"], timeout=30)
    dash_duo.wait_for_element("#pt-indicators", timeout=10)
    link = dash_duo.find_element("#pt-new-followup").get_attribute("href")
    assert link.endswith(f"/warnings?badge={badges['inside']}&new_followup=1")
    dash_duo.driver.get(dash_duo.server_url + f"/officers/{badges['outside']}")
    dash_duo.wait_for_element("#no-access", timeout=20)
    assert badges["outside_name"] not in dash_duo.find_element("body").text
    assert dash_duo.find_elements("#pt-name") == []
    assert_no_console_errors(dash_duo)


def test_por404_secondary_trends_unfold_at_full_size(app, dash_duo, login_browser, badges):
    start(dash_duo, app)
    login_browser("officer", path="/me")
    dash_duo.wait_for_element("#pt-more-trends", timeout=30)
    dash_duo.wait_for_element("#pt-history-table", timeout=30)
    folded = dash_duo.find_element("#pt-fold .pt-folded")
    assert folded.size["height"] == 0
    click(dash_duo, "#pt-more-trends")
    dash_duo.wait_for_class_to_equal("#pt-fold", "pt-fold open", timeout=10)
    charts = dash_duo.find_elements("#pt-fold .js-plotly-plot")
    assert charts and all(c.size["height"] >= 200 and c.size["width"] >= 200 for c in charts)
    assert_no_console_errors(dash_duo)


def test_por405_command_centre_officer_reads_in_chinese_on_portrait_and_report(app, dash_duo, login_browser):
    """An officer of the Command Centre: the portrait header and the A4 report name the post 指挥调度,
    and the report shows its own markup (no tags printed as text)."""
    with command_officer(app.server.config["DATABASE_URL"]) as officer:
        start(dash_duo, app)
        login_browser("admin", path=f"/officers/{officer['badge']}")
        dash_duo.wait_for_text_to_equal("#pt-name", officer["name"], timeout=30)
        facts = dash_duo.find_element(".pt-facts").text
        assert "指挥调度" in facts.split(" · ") and "command" not in facts
        href = dash_duo.find_element("#pt-print").get_attribute("href")
        assert href.endswith(f"/officers/{officer['badge']}/report")
        dash_duo.driver.get(href)
        dash_duo.wait_for_element("#report", timeout=20)
        assert dash_duo.find_element("#rp-post").text == "指挥调度"
        text = dash_duo.find_element("#report").text
        assert officer["name"] in text and "<b" not in text and "</" not in text and "command" not in text
        assert dash_duo.driver.find_elements("css selector", "#report svg.spark")
    assert_no_console_errors(dash_duo)
