"""A copied session cookie is refused after logout (issue 15, finding 1), /logout works from the
address bar, and the pages render under the Content-Security-Policy with no console errors."""
import pytest
import requests
from selenium.webdriver.common.by import By

from tests.browser import assert_no_console_errors, click, wait_until
from tests.helpers import start

pytestmark = pytest.mark.browser


def test_br_ses001_copied_cookie_is_refused_after_logout(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("officer")
    dash_duo.wait_for_element("#me-title", timeout=20)
    assert_no_console_errors(dash_duo)  # the portrait renders under the CSP
    driver = dash_duo.driver
    copied = driver.get_cookie("session")
    agent = driver.execute_script("return navigator.userAgent")
    base = dash_duo.server_url
    # the copy works while the officer is signed in (same browser, same address)...
    live = requests.get(base + "/_dash-layout", cookies={"session": copied["value"]}, headers={"User-Agent": agent},
                        timeout=20)
    assert live.status_code == 200
    click(dash_duo, "#user-menu")
    click(dash_duo, "#logout-button")
    wait_until(lambda: "/login" in driver.current_url, 20, "logout did not land on the login page")
    # ...and is refused once they signed out: a fresh client replays it
    replay = requests.get(base + "/_dash-layout", cookies={"session": copied["value"]}, headers={"User-Agent": agent},
                          timeout=20)
    assert replay.status_code == 401
    page = requests.get(base + "/me", cookies={"session": copied["value"]}, headers={"User-Agent": agent},
                        allow_redirects=False, timeout=20)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    # the same in the browser: put the old cookie back and open the portrait
    driver.delete_all_cookies()
    driver.add_cookie({"name": "session", "value": copied["value"], "path": "/"})
    driver.get(base + "/me")
    wait_until(lambda: "/login" in driver.current_url, 20, "the replayed cookie was not refused")
    assert driver.find_element(By.ID, "username")


def test_br_ses002_logout_typed_in_the_address_bar(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("manager_d1", path="/warnings")
    dash_duo.wait_for_element("#warn-map .js-plotly-plot .scatterlayer", timeout=30)
    assert_no_console_errors(dash_duo)  # map, treemap and grid render under the CSP
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/logout")
    question = dash_duo.wait_for_element("#logout-question", timeout=20)
    assert "manager_d1" in question.text
    click(dash_duo, "#logout-confirm")
    wait_until(lambda: "/login" in driver.current_url, 20, "logout did not land on the login page")
    driver.get(dash_duo.server_url + "/warnings")
    wait_until(lambda: "/login" in driver.current_url, 20, "still signed in after logout")
    assert_no_console_errors(dash_duo)
