"""/admin/data-health in the browser: the completeness grid, the item heatmap and the derived-hospital
note render, and the link leads to /admin/devices (issue 18)."""
import pytest

from tests.browser import click, console_errors, wait_for_callbacks, wait_until
from tests.helpers import start

pytestmark = pytest.mark.browser


def test_br_dhe001_admin_reads_data_health_and_follows_the_link_to_devices(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("admin", path="/admin/data-health")
    dash_duo.wait_for_element("#dh-completeness .ag-row", timeout=30)
    assert "最近一次体检的医院" in dash_duo.find_element("#dh-derived-note").text
    assert dash_duo.find_elements("#dh-items .main-svg")
    int(dash_duo.find_element("#dh-kpi-expected .kpi-value").text.replace(",", ""))  # a number, not a placeholder
    wait_for_callbacks(dash_duo)
    assert not console_errors(dash_duo), console_errors(dash_duo)
    click(dash_duo, "#dh-devices-link")
    wait_until(lambda: dash_duo.driver.current_url.endswith("/admin/devices"), 20, "the link did not lead to devices")
    dash_duo.wait_for_element("#dev-data-health-link", timeout=30)
