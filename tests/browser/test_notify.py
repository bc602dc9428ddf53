"""The notification centre and the health plan in headless Chromium (issue 19): an officer sets a weight
target and sees progress; a manager's new follow-up rings the officer's bell, is listed on
/notifications and arrives by e-mail at a real local SMTP server."""
from __future__ import annotations

import datetime as dt

import pytest
from selenium.webdriver.support.ui import Select
from sqlalchemy import delete, select

from models.db import session_scope
from models.schema import FollowUp, FollowUpReply, HealthTarget, MailOutbox, Notification, NotificationPreference, \
    Observation, User
from portal.notify import deliver_mail
from tests.browser import assert_no_console_errors, click, wait_until
from tests.conftest import AS_OF
from tests.helpers import start
from tests.smtp_sink import start_sink, text_of

pytestmark = pytest.mark.browser


def _url(app):
    return app.server.config["DATABASE_URL"]


@pytest.fixture()
def officer(app):
    url = _url(app)
    with session_scope(url) as s:
        user = s.scalar(select(User).where(User.username == "officer"))
        info = {"user_id": user.id, "officer_id": user.officer_id, "badge": user.officer.badge}
        weight = s.execute(select(Observation.value, Observation.observed_at)
                           .where(Observation.officer_id == user.officer_id, Observation.code == "weight_kg")
                           .order_by(Observation.observed_at.desc()).limit(1)).first()
        info["weight"] = weight[0]
        before_fu = set(s.scalars(select(FollowUp.id).where(FollowUp.officer_id == user.officer_id)))
    yield info
    with session_scope(url) as s:  # leave the shared demo database as it was
        s.execute(delete(Observation).where(Observation.officer_id == info["officer_id"], Observation.source_id == "ntb-test"))
        s.execute(delete(HealthTarget).where(HealthTarget.officer_id == info["officer_id"]))
        new_fu = [f for f in s.scalars(select(FollowUp.id).where(FollowUp.officer_id == info["officer_id"]))
                  if f not in before_fu]
        s.execute(delete(FollowUpReply).where(FollowUpReply.follow_up_id.in_(new_fu)))
        s.execute(delete(MailOutbox).where(MailOutbox.user_id == info["user_id"]))
        s.execute(delete(Notification).where(Notification.key.in_([f"followup:{f}" for f in new_fu])))
        s.execute(delete(FollowUp).where(FollowUp.id.in_(new_fu)))
        s.execute(delete(NotificationPreference).where(NotificationPreference.user_id == info["user_id"]))


def test_ntb001_officer_sets_a_weight_target_and_sees_progress(app, dash_duo, login_browser, officer):
    start(dash_duo, app)
    login_browser("officer", path="/me/plan")
    dash_duo.wait_for_element("#plan-empty", timeout=30)
    target = round(officer["weight"] - 4, 1)
    Select(dash_duo.find_element("#plan-item")).select_by_value("weight_kg")
    dash_duo.find_element("#plan-value").send_keys(str(target))
    date = (AS_OF + dt.timedelta(days=90)).isoformat()
    dash_duo.driver.execute_script(
        "const el = arguments[0]; const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
        "set.call(el, arguments[1]); el.dispatchEvent(new Event('input', {bubbles: true}));",
        dash_duo.find_element("#plan-date"), date)
    click(dash_duo, "#plan-save")
    dash_duo.wait_for_element("#plan-saved", timeout=20)
    dash_duo.wait_for_element("#plan-target-weight_kg", timeout=20)
    row = dash_duo.find_element("#plan-target-weight_kg").text
    assert f"{target:.1f}" in row and date in row and "0%" in row
    # two kilograms lost since: halfway there
    with session_scope(_url(app)) as s:
        s.add(Observation(officer_id=officer["officer_id"], code="weight_kg", value=officer["weight"] - 2, unit="kg",
                          observed_at=dt.datetime.combine(AS_OF, dt.time(23, 59, 59)), source_kind="kiosk",
                          source_id="ntb-test"))
    dash_duo.driver.get(dash_duo.server_url + "/me")
    dash_duo.wait_for_contains_text("#me-plan-card", "50%", timeout=30)  # the compact card on /me
    click(dash_duo, "#me-plan-link")
    dash_duo.wait_for_contains_text("#plan-target-weight_kg", "已完成 50%", timeout=30)
    assert f"{officer['weight'] - 2:.1f}" in dash_duo.find_element("#plan-target-weight_kg").text
    assert_no_console_errors(dash_duo)


def _bell(dash_duo) -> int:
    text = dash_duo.find_element("#bell-count").get_attribute("textContent").strip()
    return int(text) if text else 0


def test_ntb002_managers_follow_up_rings_the_bell_and_arrives_by_email(app, dash_duo, login_browser, officer):
    controller, box, port = start_sink()
    try:
        start(dash_duo, app)
        # the officer chooses e-mail for follow-ups on /notifications
        login_browser("officer", path="/notifications")
        dash_duo.wait_for_element("#nt-email-kinds input[value='followup_scheduled']", timeout=30)
        dash_duo.find_element("#nt-email").send_keys("officer@police.example")
        click(dash_duo, "#nt-email-kinds input[value='followup_scheduled']")
        click(dash_duo, "#nt-pref-save")
        dash_duo.wait_for_element("#nt-pref-done", timeout=20)
        before = _bell(dash_duo)
        click(dash_duo, "#user-menu")
        click(dash_duo, "#logout-button")
        wait_until(lambda: "/login" in dash_duo.driver.current_url, 20, "logout did not land on the login page")

        # the manager opens a follow-up from the officer's portrait link
        login_browser("manager_d1", path=f"/warnings?badge={officer['badge']}&new_followup=1")
        dash_duo.wait_for_contains_text("#fu-new-officer", officer["badge"], timeout=30)
        Select(dash_duo.find_element("#fu-new-kind")).select_by_value("recheck")
        dash_duo.find_element("#fu-new-note").send_keys("约下周三复查血压")
        click(dash_duo, "#fu-new-save")
        dash_duo.wait_for_element("#fu-toast", timeout=20)
        click(dash_duo, "#user-menu")
        click(dash_duo, "#logout-button")
        wait_until(lambda: "/login" in dash_duo.driver.current_url, 20, "logout did not land on the login page")

        # the officer's bell rings and /notifications lists it
        login_browser("officer", path="/me")
        wait_until(lambda: _bell(dash_duo) == before + 1, 30, "the bell count did not rise")
        click(dash_duo, "#bell-link")
        dash_duo.wait_for_contains_text("#nt-list", "健康管理师为您安排了跟进：复查", timeout=30)
        first = dash_duo.find_element("#nt-items .nt-item")
        assert "nt-unread" in first.get_attribute("class")
        click(dash_duo, "#nt-items .nt-read")
        wait_until(lambda: _bell(dash_duo) == before, 30, "marking read did not lower the bell count")

        # the worker's mail pass sends it to the local SMTP server
        out = deliver_mail({"database_url": _url(app), "smtp_url": f"smtp://127.0.0.1:{port}?from=portal@police.example"})
        assert out["sent"] == 1
        assert box.arrived.wait(10) and len(box.messages) == 1
        msg = box.messages[0]
        assert msg["To"] == "officer@police.example" and "健康管理师为您安排了跟进：复查" in msg["Subject"]
        assert "/me/plan" in text_of(msg)
        assert_no_console_errors(dash_duo)
    finally:
        controller.stop()


def test_ntb003_manager_agrees_a_target_from_the_portrait(app, dash_duo, login_browser, officer):
    start(dash_duo, app)
    login_browser("manager_d1", path=f"/officers/{officer['badge']}")
    click(dash_duo, "#pt-plan")
    dash_duo.wait_for_element("#plan-empty", timeout=30)
    assert dash_duo.driver.current_url.endswith(f"/plan/{officer['badge']}")
    assert dash_duo.find_elements("#plan-followups") == []  # the officer's own replies are theirs
    Select(dash_duo.find_element("#plan-item")).select_by_value("sbp")
    dash_duo.find_element("#plan-value").send_keys("130")
    dash_duo.driver.execute_script(
        "const el = arguments[0]; const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
        "set.call(el, arguments[1]); el.dispatchEvent(new Event('input', {bubbles: true}));",
        dash_duo.find_element("#plan-date"), (AS_OF + dt.timedelta(days=60)).isoformat())
    click(dash_duo, "#plan-save")
    dash_duo.wait_for_contains_text("#plan-target-sbp", "与健康管理师商定", timeout=30)
    with session_scope(_url(app)) as s:
        row = s.scalar(select(HealthTarget).where(HealthTarget.officer_id == officer["officer_id"]))
        assert (row.code, row.target_value, row.set_by_role) == ("sbp", 130.0, "manager")
    assert_no_console_errors(dash_duo)
