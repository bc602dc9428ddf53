"""Officers take part (issue 19) in headless Chromium: PHQ-9 with item 9 answered shows the support text at
once, the counsellor is told and sees the officer red on /warnings; the risk-factor form moves the
China-PAR figure on /me, and the portrait says what was never reported."""
import pytest
from sqlalchemy import func, select

from models.db import session_scope
from models.officers import age_on
from models.risk import china_par_10y, round1
from models.schema import Notification, Officer, OfficerStatus, User
from tests.browser import assert_no_console_errors, click, wait_until
from tests.conftest import AS_OF
from tests.helpers import start
from tests.http.test_questionnaire_access import clean  # noqa: F401 - the fixture removes what the test wrote
from web.self_report import DEFAULT_HOTLINE, DEFAULT_SUPPORT_ZH

pytestmark = pytest.mark.browser


def _db(app):
    return app.server.config["DATABASE_URL"]


def _answer(dash_duo, item: int, value: int):
    """Tick the answer ``value`` (0-3) of question ``item`` (1-based)."""
    click(dash_duo, lambda: dash_duo.find_elements(f"#q-item-{item} .form-check-input")[value])


def _sign_out(dash_duo):
    dash_duo.driver.delete_all_cookies()


def test_bpq001_item9_support_text_counsellor_told_and_red(app, dash_duo, login_browser, clean):  # noqa: F811
    with session_scope(_db(app)) as s:
        me = s.scalar(select(User).where(User.username == "officer"))
        officer = s.get(Officer, me.officer_id)
        badge, officer_id = officer.badge, officer.id
        counsellor = s.scalar(select(User.id).where(User.username == "counsellor_d1"))
    start(dash_duo, app)
    login_browser("officer", path="/me/questionnaire/phq9")
    dash_duo.wait_for_element("#q-item-9", timeout=30)
    for item in range(1, 9):
        _answer(dash_duo, item, 0)
    _answer(dash_duo, 9, 1)
    click(dash_duo, "#q-submit")
    dash_duo.wait_for_element("#support-alert", timeout=30)
    assert dash_duo.find_element("#support-text").text == DEFAULT_SUPPORT_ZH
    assert dash_duo.find_element("#support-hotline").text == DEFAULT_HOTLINE
    dash_duo.wait_for_contains_text("#q-total", "总分 1", timeout=10)
    dash_duo.wait_for_element("#q-history-table", timeout=20)
    with session_scope(_db(app)) as s:
        note = s.scalar(select(Notification).where(Notification.user_id == counsellor, Notification.kind == "self_harm",
                                                   Notification.officer_id == officer_id))
        assert note is not None and note.link == f"/officers/{badge}" and note.read_at is None
        assert s.get(OfficerStatus, officer_id).level == "red"
    assert_no_console_errors(dash_duo)

    _sign_out(dash_duo)
    login_browser("counsellor_d1", path="/warnings?level=red&rule=phq9_item9")
    level = f".ag-row[row-id='{badge}'] [col-id='level']"
    dash_duo.wait_for_element(level, timeout=30)
    wait_until(lambda: "红色" in dash_duo.find_element(level).text, timeout=20, message="the officer is red")
    assert_no_console_errors(dash_duo)


def test_bpq002_risk_factors_move_china_par_on_me(app, dash_duo, login_browser, clean):  # noqa: F811
    with session_scope(_db(app)) as s:
        officer = s.get(Officer, s.scalar(select(User.officer_id).where(User.username == "officer")))
        status = s.get(OfficerStatus, officer.id)
        v = {c: status.latest[c]["value"] for c in ("sbp", "tc", "hdl", "waist_cm")}
        before = round1(status.china_par)
        sex, age = officer.sex, age_on(officer.birth_date, AS_OF)
    expected = round1(china_par_10y(sex=sex, age=age, sbp=v["sbp"], bp_treated=False, tc=v["tc"], hdl=v["hdl"],
                                    waist=v["waist_cm"], smoker=True, diabetes=False, north=False, urban=True,
                                    family_history=True))
    assert expected != before
    start(dash_duo, app)
    login_browser("officer", path="/me")
    dash_duo.wait_for_contains_text("#pt-risk-now", f"{before:.1f}%", timeout=30)
    assert dash_duo.find_element("#pt-risk-input-smoking").text == "吸烟情况未填报，按不吸烟计算"
    click(dash_duo, "#me-sr-risk")
    dash_duo.wait_for_element("#rf-form", timeout=30)
    click(dash_duo, lambda: dash_duo.find_elements("#rf-smoking .form-check-input")[2])  # current smoker
    click(dash_duo, lambda: dash_duo.find_elements("#rf-family_history_cvd .form-check-input")[0])  # yes
    click(dash_duo, lambda: dash_duo.find_elements("#rf-rx_hypertension .form-check-input")[1])  # no
    click(dash_duo, "#rf-save")
    dash_duo.wait_for_element("#rf-saved", timeout=30)
    click(dash_duo, "#rf-to-me")
    dash_duo.wait_for_contains_text("#pt-risk-now", f"{expected:.1f}%", timeout=30)
    assert "目前吸烟" in dash_duo.find_element("#pt-risk-input-smoking").text
    assert AS_OF.isoformat() in dash_duo.find_element("#pt-risk-input-family_history_cvd").text
    assert dash_duo.find_element("#pt-risk-input-dx_diabetes").text == "糖尿病诊断未填报，按化验结果判断"
    assert_no_console_errors(dash_duo)


def test_bpq003_counsellor_schedules_officer_sees_it_due_and_completes(app, dash_duo, login_browser,
                                                                       clean):  # noqa: F811
    from selenium.webdriver.support.ui import Select

    from models.schema import Unit

    with session_scope(_db(app)) as s:
        unit = s.scalar(select(User).where(User.username == "counsellor_d1")).scope_unit
        name, path = unit.name, unit.path
        invited = s.scalar(select(func.count()).select_from(Officer).join(Unit, Officer.unit_id == Unit.id)
                           .where(Officer.active, Unit.path.like(f"{path}%")))
    start(dash_duo, app)
    login_browser("counsellor_d1", path="/screenings")
    dash_duo.wait_for_element("#scr-form", timeout=30)
    click(dash_duo, "#scr-unit")
    dash_duo.wait_for_element(".dash-dropdown-options", timeout=20)
    dash_duo.driver.switch_to.active_element.send_keys(name)
    click(dash_duo, lambda: next(o for o in dash_duo.find_elements(".dash-dropdown-option")
                                 if o.text.strip("\u3000 ").startswith(name + "（")))
    click(dash_duo, "#scr-title")
    click(dash_duo, "#scr-save")
    dash_duo.wait_for_element("#scr-saved-alert", timeout=30)
    dash_duo.wait_for_element("#scr-rounds-table .scr-round-row", timeout=30)
    wait_until(lambda: len(dash_duo.find_elements("#scr-round option")) > 1, 20, "the round is offered")
    Select(dash_duo.find_element("#scr-round")).select_by_index(1)
    dash_duo.wait_for_element("#scr-completion-table", timeout=30)
    cells = dash_duo.find_elements("#scr-unit-total th")
    assert cells[1].text == f"{invited:,}" and cells[2].text == "0"
    assert_no_console_errors(dash_duo)

    _sign_out(dash_duo)
    login_browser("officer", path="/me")
    dash_duo.wait_for_element("#me-sr-due-list", timeout=30)
    click(dash_duo, "#me-sr-due-list .me-sr-due-link")
    dash_duo.wait_for_element("#q-item-9", timeout=30)
    for item in range(1, 10):
        _answer(dash_duo, item, 0)
    click(dash_duo, "#q-submit")
    dash_duo.wait_for_element("#q-done", timeout=30)
    assert not dash_duo.find_elements("#support-alert")
    dash_duo.driver.get(dash_duo.server_url + "/me")
    dash_duo.wait_for_element("#me-sr-none", timeout=30)  # nothing due any more
    assert not dash_duo.find_elements("#me-sr-due-list")
    with session_scope(_db(app)) as s:
        me = s.scalar(select(User).where(User.username == "officer"))
        assert s.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == me.id, Notification.kind == "screening_due")) == 1
    assert_no_console_errors(dash_duo)
