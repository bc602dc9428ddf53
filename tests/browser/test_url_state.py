"""Issue 21 in headless Chromium: the /warnings filters live in the address bar on every load, Back and
Forward walk through them, and the workbench lists say "N–M / 共 T" and page on the server."""
import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import func, select

from models import followups as fu
from models.db import session_scope
from models.schema import OfficerStatus, Unit, User
from tests.conftest import AS_OF
from tests.browser import assert_no_console_errors, click, wait_until
from tests.helpers import start
from web.access import Scope

pytestmark = pytest.mark.browser


def _db(app):
    return app.server.config["DATABASE_URL"]


def _district(app):
    with session_scope(_db(app)) as s:
        unit = s.scalar(select(Unit).where(Unit.level == "district").order_by(Unit.path))
        reds = s.scalar(select(func.count()).select_from(OfficerStatus)
                        .where(OfficerStatus.unit_path.like(f"{unit.path}%"), OfficerStatus.level == "red"))
        return unit.code, unit.name, reds


def _search(dash_duo) -> str:
    return dash_duo.driver.execute_script("return window.location.search")


def test_brw021_a_link_with_filters_applies_them_on_every_load(app, dash_duo, login_browser):
    code, name, reds = _district(app)
    start(dash_duo, app)
    login_browser("manager", path="/")
    for _ in range(3):  # the same link, loaded again and again in one browser session (and after another page)
        dash_duo.driver.get(dash_duo.server_url + f"/warnings?level=red&unit={code}")
        dash_duo.wait_for_contains_text("#warn-breadcrumb", name, timeout=30)
        dash_duo.wait_for_contains_text("#warn-f-unit", name, timeout=10)
        dash_duo.wait_for_contains_text("#warn-active-text", name, timeout=10)
        dash_duo.wait_for_text_to_equal("#warn-list-count", f"共 {reds:,} 人", timeout=30)
        dash_duo.wait_for_text_to_equal("#warn-count-red", f"{reds:,}", timeout=30)
        assert _search(dash_duo) == f"?level=red&unit={code}"
        dash_duo.driver.get(dash_duo.server_url + "/")
        dash_duo.wait_for_element("#wb-kpi-queue", timeout=30)
    assert_no_console_errors(dash_duo)


def test_brw022_back_and_forward_walk_through_the_filters(app, dash_duo, login_browser):
    code, name, _ = _district(app)
    start(dash_duo, app)
    login_browser("manager", path=f"/warnings?level=red&unit={code}")
    dash_duo.wait_for_contains_text("#warn-breadcrumb", name, timeout=30)
    # ticking orange writes the colours into the address bar
    click(dash_duo, lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#warn-f-levels input")[1])
    wait_until(lambda: _search(dash_duo) == f"?level=red%2Corange&unit={code}", 30, "orange not in the address")
    dash_duo.wait_for_contains_text("#warn-active-text", "橙色", timeout=30)
    # up one level goes to the top of the scope (no unit in the address)
    click(dash_duo, "#warn-up")
    wait_until(lambda: _search(dash_duo) == "?level=red%2Corange", 30, "up did not reach the top")
    dash_duo.wait_for_element_by_css_selector("#warn-up[style*='none']", timeout=30)
    dash_duo.driver.back()
    wait_until(lambda: _search(dash_duo) == f"?level=red%2Corange&unit={code}", 30, "back did not return")
    dash_duo.wait_for_contains_text("#warn-breadcrumb", name, timeout=30)
    dash_duo.wait_for_contains_text("#warn-active-text", "橙色", timeout=30)
    dash_duo.driver.back()
    wait_until(lambda: _search(dash_duo) == f"?level=red&unit={code}", 30, "second back did not return")
    wait_until(lambda: "橙色" not in dash_duo.find_element("#warn-active-text").text, 30, "orange still shown")
    dash_duo.driver.forward()
    wait_until(lambda: _search(dash_duo) == f"?level=red%2Corange&unit={code}", 30, "forward did not return")
    dash_duo.wait_for_contains_text("#warn-active-text", "橙色", timeout=30)
    # a name is a real link: it opens in a new tab too
    link = wait_until(lambda: dash_duo.driver.find_element(By.CSS_SELECTOR, ".ag-row [col-id='name'] a"), 30)
    assert link.get_attribute("href").startswith(dash_duo.server_url + "/officers/")
    assert_no_console_errors(dash_duo)


def test_brw023_workbench_lists_say_how_many_and_page(app, dash_duo, login_browser):
    with session_scope(_db(app)) as s:
        u = s.scalar(select(User).where(User.username == "manager"))
        me = Scope(u.id, u.username, u.role, u.officer_id, None, psych_access=u.psych_access)
        queue = fu.needs_action(s, me, AS_OF, limit=1000)
        changes = fu.recent_changes(s, me, AS_OF, limit=0)["total"]
    start(dash_duo, app)
    login_browser("manager", path="/workbench")
    total = queue["total"]
    dash_duo.wait_for_text_to_equal("#wb-queue-count", f"第 1–{min(total, fu.PAGE)} 条 / 共 {total:,} 条", timeout=30)
    dash_duo.wait_for_contains_text("#wb-kpi-queue", f"{total:,}", timeout=30)
    dash_duo.wait_for_contains_text("#wb-changes-count", f"共 {changes:,} 条", timeout=30)
    # the queue's order: by urgency, as the model ranks it
    names = [r["name"] for r in queue["rows"][:fu.PAGE]]
    wait_until(lambda: [a.text for a in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#wb-queue-table tbody tr td:nth-child(2) a")] == names,
               30, "queue not in urgency order")
    if total > fu.PAGE:
        click(dash_duo, "#wb-queue-next")
        dash_duo.wait_for_text_to_equal("#wb-queue-count",
                                        f"第 {fu.PAGE + 1}–{min(total, 2 * fu.PAGE)} 条 / 共 {total:,} 条", timeout=30)
        click(dash_duo, "#wb-queue-prev")
        dash_duo.wait_for_text_to_equal("#wb-queue-count", f"第 1–{fu.PAGE} 条 / 共 {total:,} 条", timeout=30)
    assert_no_console_errors(dash_duo)


def test_brw024_units_view_is_in_the_address_and_a_reload_reproduces_it(app, dash_duo, login_browser):
    from models import unit_queries as uq

    code, name, _ = _district(app)
    start(dash_duo, app)
    login_browser("manager", path=f"/units?unit={code}&ind=diabetes")
    dash_duo.wait_for_contains_text("#units-crumbs", name, timeout=30)
    dash_duo.wait_for_contains_text("#units-indicator", uq.INDICATORS["diabetes"].zh, timeout=30)
    click(dash_duo, lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#units-rate input")[1])  # crude
    wait_until(lambda: "rate=crude" in _search(dash_duo) and f"unit={code}" in _search(dash_duo), 30,
               "the rate is not in the address")
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#units-crumbs", name, timeout=30)
    dash_duo.wait_for_contains_text("#units-indicator", uq.INDICATORS["diabetes"].zh, timeout=30)
    wait_until(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#units-rate input")[1].is_selected(), 30,
               "the crude rate is not chosen after the reload")
    assert_no_console_errors(dash_duo)
