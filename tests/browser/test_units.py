"""/units and the overview in headless Chromium: a city leader and a district leader each
see only their scope and drill down."""
import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from models.db import session_scope
from models.schema import Unit, User
from tests.browser import (assert_no_console_errors, click, wait_for_callbacks, wait_until)
from tests.helpers import start

pytestmark = pytest.mark.browser


def _scope(app, username):
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        user = s.scalar(select(User).where(User.username == username))
        root = user.scope_unit
        units = {u.code: (u.name, u.path, u.level) for u in s.scalars(select(Unit).where(Unit.path.like(f"{root.path}%")))}
        everyone = {u.code: (u.name, u.path, u.level) for u in s.scalars(select(Unit))}
        return root.code, root.name, root.path, units, everyone


def _grid_names(dash_duo):
    """Unit names in the table (without the drill-down mark); empty until the table has rows."""
    cells = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#units-grid .ag-center-cols-container .ag-row")
    pinned = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#units-grid .ag-cell[col-id='label']")
    names = [c.text.replace("›", "").strip() for c in pinned if c.text.strip()]
    return names if cells and names else []


def test_br_units001_city_leader_compares_districts_and_drills_down(app, dash_duo, login_browser):
    code, name, path, units, _ = _scope(app, "leader")
    start(dash_duo, app)
    login_browser("leader", path="/units")
    dash_duo.wait_for_element("#units-funnel .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#units-crumbs", name, timeout=30)
    dash_duo.wait_for_contains_text("#units-method", "标化", timeout=30)
    districts = {n for c, (n, p, lvl) in units.items() if lvl == "district"}
    wait_until(lambda: set(_grid_names(dash_duo)) == districts, message="the table does not list the districts")
    dash_duo.wait_for_contains_text("#units-chi2", "单位间差异检验", timeout=30)

    target_code, (target_name, target_path, _) = next((c, v) for c, v in sorted(units.items()) if v[2] == "district")

    def district_cell():
        return next(c for c in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#units-grid .ag-cell[col-id='label']")
                    if c.text.replace("›", "").strip() == target_name)

    wait_until(district_cell, message="the district is not in the table")
    click(dash_duo, district_cell, timeout=30)
    wait_until(lambda: f"unit={target_code}" in dash_duo.driver.current_url, message="no drill-down")
    dash_duo.wait_for_contains_text("#units-crumbs", target_name, timeout=30)
    stations = {n for c, (n, p, lvl) in units.items() if lvl == "station" and p.startswith(target_path)}
    wait_until(lambda: set(_grid_names(dash_duo)) == stations, message="the table does not list the district's stations")
    # back up through the breadcrumb
    click(dash_duo, "#units-crumbs a")
    wait_until(lambda: set(_grid_names(dash_duo)) == districts, message="the breadcrumb does not lead back")
    assert_no_console_errors(dash_duo)


def test_br_units002_district_leader_sees_only_own_district(app, dash_duo, login_browser):
    code, name, path, units, everyone = _scope(app, "leader_d1")
    start(dash_duo, app)
    login_browser("leader_d1", path="/units")
    dash_duo.wait_for_element("#units-funnel .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#units-crumbs", name, timeout=30)
    own = {n for c, (n, p, lvl) in units.items() if lvl == "station"}
    wait_until(lambda: set(_grid_names(dash_duo)) == own, message="the table does not list exactly the own stations")
    city = next(n for c, (n, p, lvl) in everyone.items() if lvl == "city")
    assert city not in dash_duo.find_element("#units-crumbs").text
    # a hand-made URL to another district shows nothing from it
    other_code, (other_name, other_path, _) = next((c, v) for c, v in everyone.items()
                                                   if v[2] == "district" and v[1] != path)
    dash_duo.driver.get(dash_duo.server_url + f"/units?unit={other_code}")
    # not a blank page: it says the unit is outside the scope and shows the own stations instead
    dash_duo.wait_for_contains_text("#units-refused", "不在您的权限范围内", timeout=30)
    wait_for_callbacks(dash_duo)  # and whatever else the page asked for has come back
    wait_until(lambda: set(_grid_names(dash_duo)) == own, message="the own stations are not shown instead")
    foreign = {n for c, (n, p, lvl) in everyone.items() if p.startswith(other_path)}
    assert not foreign & set(n.replace("›", "").strip() for n in
                             [c.text for c in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".ag-cell")])
    assert other_name not in dash_duo.driver.find_element(By.ID, "units-crumbs").text
    assert_no_console_errors(dash_duo)


def test_br_units003_district_leader_drills_down_from_the_overview(app, dash_duo, login_browser):
    code, name, path, units, _ = _scope(app, "leader_d1")
    start(dash_duo, app)
    login_browser("leader_d1")
    dash_duo.wait_for_contains_text("#home-scope", name, timeout=30)
    dash_duo.wait_for_element("#home-subunits .kpi-card", timeout=30)
    cards = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#home-subunits .kpi-title")
    shown = {c.text for c in cards}
    assert shown == {n for c, (n, p, lvl) in units.items() if p != path and p.count("/") == path.count("/") + 1}
    station = sorted(shown)[0]
    click(dash_duo, lambda: next(c for c in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#home-subunits .kpi-title")
                                 if c.text == station))
    dash_duo.wait_for_contains_text("#home-scope", station, timeout=30)
    assert "unit=" in dash_duo.driver.current_url
    dash_duo.wait_for_element("#home-card-officers", timeout=30)
    assert_no_console_errors(dash_duo)
