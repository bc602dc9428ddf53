"""Campaign authoring and officers' entries in headless Chromium: an admin creates a quiz campaign
with two questions; an officer answers the daily quiz and checks in, and the team standings change."""
from __future__ import annotations

import datetime as dt

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import delete, select

from models.campaigns.quiz import draw
from models.db import session_scope
from models.schema import Campaign, CampaignEntry, CampaignQuestion, CampaignQuizAttempt, Officer, Points, Unit, User
from tests.browser import assert_no_console_errors, click, wait_until
from tests.conftest import AS_OF
from tests.helpers import start

pytestmark = pytest.mark.browser


def _url(app):
    return app.server.config["DATABASE_URL"]


def _type(dash_duo, selector, text):
    el = dash_duo.find_element(selector)
    el.clear()
    el.send_keys(text)


def test_brcen001_admin_creates_quiz_campaign_with_two_questions(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("admin", path="/campaigns")
    dash_duo.wait_for_element("#campaigns-cards", timeout=30)
    click(dash_duo, "#campaigns-new")
    dash_duo.wait_for_element("#cf-collapse.show", timeout=10)
    _type(dash_duo, "#cf-name", "浏览器测试知识答题")
    Select(dash_duo.find_element("#cf-kind")).select_by_value("quiz")
    _type(dash_duo, "#cf-target-day", "60")
    dash_duo.select_dcc_dropdown("#cf-units", index=0)
    click(dash_duo, "#cf-title")
    click(dash_duo, "#cf-save")
    dash_duo.wait_for_element("#campaigns-saved", timeout=20)
    with session_scope(_url(app)) as s:
        cid = s.scalar(select(Campaign.id).where(Campaign.name == "浏览器测试知识答题"))
    try:
        dash_duo.driver.get(f"{dash_duo.server_url}/campaigns/{cid}")
        dash_duo.wait_for_contains_text("#campaign-manage-state", "尚未开始", timeout=30)
        for n in (1, 2):
            click(dash_duo, "#cq-new")
            dash_duo.wait_for_element("#cq-collapse.show", timeout=10)
            _type(dash_duo, "#cq-text-zh", f"第{n}题：高血压的诊断标准是多少？")
            _type(dash_duo, "#cq-text-en", f"Question {n}: what defines hypertension?")
            for k, (zh, en) in enumerate([("120/80", "120/80"), ("140/90", "140/90"), ("160/100", "160/100"),
                                          ("180/110", "180/110")]):
                _type(dash_duo, f"#cq-opt-zh-{k}", f"{zh} mmHg（{n}）")
                _type(dash_duo, f"#cq-opt-en-{k}", f"{en} mmHg ({n})")
            click(dash_duo, lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#cq-correct label")[1])
            _type(dash_duo, "#cq-expl-zh", "诊室血压 ≥140/90 mmHg。")
            _type(dash_duo, "#cq-expl-en", "Office BP of 140/90 mmHg or more.")
            click(dash_duo, "#cq-save")
            wait_until(lambda n=n: len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#cq-table tbody tr")) == n,
                       timeout=20, message=f"question {n} listed")
        assert "140/90 mmHg（2）" in dash_duo.find_element("#cq-table").text
        with session_scope(_url(app)) as s:
            qs = list(s.scalars(select(CampaignQuestion).where(CampaignQuestion.campaign_id == cid)))
            assert len(qs) == 2 and all(q.correct == 1 and q.active for q in qs)
        assert_no_console_errors(dash_duo)
    finally:
        with session_scope(_url(app)) as s:
            s.execute(delete(CampaignQuestion).where(CampaignQuestion.campaign_id == cid))
            s.execute(delete(Campaign).where(Campaign.id == cid))


@pytest.fixture()
def running(app):
    """A running quiz campaign (two questions) and a check-in campaign over the officer's district."""
    url = _url(app)
    with session_scope(url) as s:
        officer = s.get(Officer, s.scalar(select(User.officer_id).where(User.username == "officer")))
        path = s.get(Unit, officer.unit_id).path
        district = next(u for u in s.scalars(select(Unit).where(Unit.level == "district")) if path.startswith(u.path))
        ids = {}
        for kind, target in (("quiz", 60), ("checkin", 1)):
            c = Campaign(name=f"浏览器{kind}", kind=kind, start_date=AS_OF - dt.timedelta(days=5),
                         end_date=AS_OF + dt.timedelta(days=20), scope_unit_ids=[district.id], team_level="station",
                         target_per_day=target, team_scoring="total")
            s.add(c)
            s.flush()
            ids[kind] = c.id
        for n in (1, 2):
            s.add(CampaignQuestion(campaign_id=ids["quiz"], text_zh=f"浏览器题{n}", text_en=f"Browser question {n}",
                                   options_zh=["甲", "乙", "丙", "丁"], options_en=["a", "b", "c", "d"], correct=n,
                                   explanation_zh=f"浏览器解析{n}", explanation_en=f"Browser why {n}", active=True))
        officer_id = officer.id
    yield ids, officer_id
    with session_scope(url) as s:
        cids = list(ids.values())
        for table in (Points, CampaignEntry, CampaignQuizAttempt, CampaignQuestion):
            s.execute(delete(table).where(table.campaign_id.in_(cids)))
        s.execute(delete(Campaign).where(Campaign.id.in_(cids)))


def _teams_text(dash_duo):
    return wait_until(lambda: dash_duo.find_element("#campaign-teams-body").text, timeout=30, message="team table")


def test_brcen002_officer_answers_quiz_and_checks_in_standings_change(app, dash_duo, login_browser, running):
    ids, officer_id = running
    with session_scope(_url(app)) as s:
        correct = [q.correct for q in draw(s, ids["quiz"], officer_id, AS_OF)]
    start(dash_duo, app)
    login_browser("officer", path=f"/campaigns/{ids['quiz']}")
    dash_duo.wait_for_element("#campaign-quiz-open", timeout=30)
    before = _teams_text(dash_duo)
    assert "浏览器解析" not in dash_duo.find_element("#campaign-today-card").text  # no key before answering
    for n, right in enumerate(correct):
        click(dash_duo, lambda n=n, right=right: dash_duo.driver.find_elements(
            By.CSS_SELECTOR, ".campaign-quiz-question")[n].find_elements(By.CSS_SELECTOR, "label")[right])
    click(dash_duo, "#campaign-quiz-submit")
    dash_duo.wait_for_contains_text("#campaign-today-card", "得分 100", timeout=20)
    assert "浏览器解析1" in dash_duo.find_element("#campaign-quiz-result").text
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#campaign-today-card", "今日答题完成", timeout=30)
    wait_until(lambda: _teams_text(dash_duo) != before, timeout=30, message="quiz team standings changed")

    dash_duo.driver.get(f"{dash_duo.server_url}/campaigns/{ids['checkin']}")
    dash_duo.wait_for_element("#campaign-checkin", timeout=30)
    before = _teams_text(dash_duo)
    click(dash_duo, "#campaign-checkin")
    dash_duo.wait_for_contains_text("#campaign-today-card", "今天已打卡", timeout=20)
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#campaign-today-card", "今天已打卡", timeout=30)
    wait_until(lambda: _teams_text(dash_duo) != before, timeout=30, message="check-in team standings changed")
    assert_no_console_errors(dash_duo)


def test_brcen003_points_ledger_from_me(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("officer", path="/me")
    click(dash_duo, "#me-points-link")
    dash_duo.wait_for_element("#me-points-total", timeout=30)
    assert "我的积分" in dash_duo.find_element("#me-points-title").text
    with session_scope(_url(app)) as s:
        officer_id = s.scalar(select(User.officer_id).where(User.username == "officer"))
        rows = list(s.scalars(select(Points.points).where(Points.officer_id == officer_id)))
    assert dash_duo.find_element("#me-points-total").text == f"{sum(rows):,}"
    shown = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#me-points-table tbody tr")
    assert len(shown) == len(rows)
    if rows:
        assert any(w in shown[0].text for w in ("活动日", "达标日", "整周达标奖励"))
    assert_no_console_errors(dash_duo)
