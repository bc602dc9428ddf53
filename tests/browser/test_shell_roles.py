"""Each demo role logs in through the real form and lands on its home page."""
import pytest

from tests.browser import assert_no_console_errors, click
from tests.helpers import start

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("username", ["leader", "leader_d1", "manager", "manager_d1", "admin"])
def test_br001_role_home(app, dash_duo, login_browser, username):
    start(dash_duo, app)
    login_browser(username)
    dash_duo.wait_for_text_to_equal("#home-title", "健康总览", timeout=20)
    dash_duo.wait_for_element("#home-kpis .kpi-card", timeout=20)
    menu = dash_duo.find_element(".portal-navbar").text
    assert "首页" in menu and "我的健康" not in menu
    if username.startswith("manager"):  # managers start on their workbench, the overview below it
        dash_duo.wait_for_text_to_equal("#wb-title", "健康管理工作台", timeout=20)
    assert_no_console_errors(dash_duo)


def test_br002_officer_lands_on_own_record(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("officer")
    dash_duo.wait_for_element("#me-title", timeout=20)
    assert dash_duo.driver.current_url.endswith("/me")
    menu = dash_duo.find_element(".portal-navbar").text
    assert "我的健康" in menu and "单位对比" not in menu
    assert_no_console_errors(dash_duo)


def test_br003_language_toggle_switches_to_english(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("leader_d2")
    click(dash_duo, "#lang-en")
    dash_duo.wait_for_text_to_equal("#home-title", "Health overview", timeout=20)
    click(dash_duo, "#lang-zh")
    dash_duo.wait_for_text_to_equal("#home-title", "健康总览", timeout=20)
    assert_no_console_errors(dash_duo)


def test_br004_counsellor_lands_on_psychological_cases_in_scope(app, dash_duo, login_browser):
    """psy030: a counsellor's home is /warnings, listing officers with a psychological reason."""
    start(dash_duo, app)
    login_browser("counsellor_d1")
    dash_duo.wait_for_text_to_equal("#warn-title", "四色预警", timeout=30)
    dash_duo.wait_for_element(".ag-row[row-index='0']", timeout=30)
    menu = dash_duo.find_element(".portal-navbar").text
    assert "四色预警" in menu and "首页" not in menu and "单位对比" not in menu
    reasons = " ".join(e.get_attribute("textContent") for e in dash_duo.find_elements(".ag-row [col-id='reasons']"))
    assert "PHQ-9" in reasons or "GAD-7" in reasons
    assert not dash_duo.find_elements("#warn-export-csv")  # exports are for health managers
    assert_no_console_errors(dash_duo)
