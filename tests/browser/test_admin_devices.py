"""/admin/devices in headless Chromium: device cards, queue, assigning a reading through the form."""
import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from models.db import session_scope
from models.schema import AuditLog, RawFrame
from tests.browser import assert_no_console_errors, click
from tests.helpers import start
from tests.http.test_admin_devices import PASSWORD, devices_app  # noqa: F401 - the module's app fixture

pytestmark = pytest.mark.browser


def test_br_gw001_admin_assigns_a_waiting_reading(devices_app, dash_duo, login_browser):  # noqa: F811
    start(dash_duo, devices_app)
    login_browser("gwadmin", PASSWORD, "/admin/devices")
    dash_duo.wait_for_text_to_equal("#dev-title", "设备", timeout=20)
    dash_duo.wait_for_element(".device-card", timeout=20)
    cards = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".device-card")
    assert len(cards) == 4
    assert "异常" in cards[0].text and "串口断开" in cards[0].text  # problems first
    dash_duo.wait_for_element("#dev-queue-table", timeout=20)
    rows_before = len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#dev-queue-table tbody tr"))
    assert rows_before >= 1
    assert "校验和错误" in dash_duo.find_element("#dev-rejected-table").text
    dash_duo.driver.set_window_size(1400, 2200)
    dash_duo.select_dcc_dropdown("#dev-assign-frame", index=0)
    badge = dash_duo.find_element("#dev-assign-badge")
    badge.send_keys("12345")
    click(dash_duo, "#dev-assign")
    dash_duo.wait_for_contains_text("#dev-assign-result", "已将读数分配给 张伟", timeout=20)
    dash_duo.wait_for_text_to_equal("#dev-queue-count", str(rows_before - 1), timeout=20)
    url = devices_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        assert s.scalar(select(AuditLog.id).where(AuditLog.action == "assign_reading",
                                                   AuditLog.username == "gwadmin")) is not None
        assert s.scalar(select(RawFrame.id).where(RawFrame.status == "assigned")) is not None
    assert_no_console_errors(dash_duo)


def test_br_gw002_manager_sees_no_access(devices_app, dash_duo, login_browser):  # noqa: F811
    start(dash_duo, devices_app)
    login_browser("gwmanager", PASSWORD, "/admin/devices")
    dash_duo.wait_for_element("#no-access", timeout=20)
    assert "设备" not in dash_duo.find_element(".portal-navbar").text
    assert_no_console_errors(dash_duo)
