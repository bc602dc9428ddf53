"""Campaign pages in headless Chromium as an officer, a health manager and a leader."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from models.db import session_scope
from models.schema import Campaign, Unit
from tests.browser import assert_no_console_errors, click
from tests.conftest import AS_OF
from tests.helpers import start

pytestmark = pytest.mark.browser


def _finished_id(app) -> int:
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        return s.scalar(select(Campaign.id).where(Campaign.end_date < AS_OF, Campaign.name.like("南江%")))


def test_brcam001_officer_sees_own_standing_and_rank(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("officer", path="/campaigns")
    dash_duo.wait_for_element(".mine-card", timeout=60)
    mine = dash_duo.find_element("#campaigns-mine").text
    assert "我的排名" in mine and "积分" in mine
    assert not dash_duo.driver.find_elements("css selector", "#campaigns-new")  # officers do not run campaigns
    dash_duo.driver.get(f"{dash_duo.server_url}/campaigns/{_finished_id(app)}")
    dash_duo.wait_for_contains_text("#campaign-individuals-body", "（我）", timeout=30)
    dash_duo.wait_for_element("#campaign-progress-graph .main-svg", timeout=30)
    assert "在排行榜上对他人隐藏我的姓名" in dash_duo.find_element("#campaign-individuals-card").text
    dash_duo.wait_for_contains_text("#campaign-title", "健步走", timeout=20)
    assert_no_console_errors(dash_duo)


def test_brcam002_manager_creates_campaign_with_clear_errors(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("manager_d1", path="/campaigns")
    dash_duo.wait_for_element("#campaigns-cards", timeout=30)
    click(dash_duo, "#campaigns-new")
    dash_duo.wait_for_element("#cf-collapse.show", timeout=10)
    click(dash_duo, "#cf-save")
    dash_duo.wait_for_contains_text("#cf-name-fb", "名称", timeout=20)
    dash_duo.wait_for_contains_text("#cf-units-fb", "单位", timeout=5)
    dash_duo.find_element("#cf-name").send_keys("浏览器测试健步走")
    dash_duo.select_dcc_dropdown("#cf-units", index=0)
    click(dash_duo, "#cf-title")  # close the dropdown menu, as a person would
    click(dash_duo, "#cf-save")
    dash_duo.wait_for_element("#campaigns-saved", timeout=20)
    dash_duo.wait_for_contains_text("#campaigns-cards", "浏览器测试健步走", timeout=20)
    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        c = s.scalar(select(Campaign).where(Campaign.name == "浏览器测试健步走"))
        scope_paths = [s.get(Unit, i).path for i in c.scope_unit_ids]
        assert all("-D1" in p for p in scope_paths)
        s.execute(delete(Campaign).where(Campaign.id == c.id))
    assert_no_console_errors(dash_duo)


def test_brcam003_leader_sees_teams_not_names(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("leader", path=f"/campaigns/{_finished_id(app)}")
    dash_duo.wait_for_element("#campaign-teams-table", timeout=30)
    dash_duo.wait_for_element("#campaign-ind-withheld", timeout=30)
    dash_duo.wait_for_element("#campaign-did-headline", timeout=60)
    assert "★" in dash_duo.find_element("#campaign-teams-table").text
    assert not dash_duo.driver.find_elements("css selector", "#campaigns-new")
    assert_no_console_errors(dash_duo)


def test_brcam004_other_district_campaign_shows_no_access(app, dash_duo, login_browser):
    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        d2 = s.scalar(select(Unit).where(Unit.code.like("%-D2")))
        c = Campaign(name="二分局专属活动", kind="steps", start_date=AS_OF - dt.timedelta(days=3),
                     end_date=AS_OF + dt.timedelta(days=10), scope_unit_ids=[d2.id], team_level="station",
                     target_per_day=8000, team_scoring="mean")
        s.add(c)
        s.flush()
        cid = c.id
    try:
        start(dash_duo, app)
        login_browser("manager_d1", path=f"/campaigns/{cid}")
        dash_duo.wait_for_element("#no-access", timeout=30)
        assert "二分局专属活动" not in dash_duo.find_element("#campaign-page").text
        assert_no_console_errors(dash_duo, refused=True)  # the page's callbacks for the campaign get 403
    finally:
        with session_scope(url) as s:
            s.execute(delete(Campaign).where(Campaign.id == cid))
