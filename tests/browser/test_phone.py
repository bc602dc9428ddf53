"""Issue 21 on a phone (375 px wide): a table scrolls sideways inside its card, its words on one line, rather
than squeeze its columns or clip them, and the page itself never scrolls sideways (assets/portal.css)."""
import pytest

from tests.browser import assert_no_console_errors, wait_until
from tests.helpers import start

pytestmark = pytest.mark.browser

# for a table: the page's and the wrapper's widths, the cells whose words broke onto a second line, and
# whether the last header is in view once the wrapper is scrolled to its right end
TABLE_ON_PHONE = """
const table = document.querySelector(arguments[0]);
const wrap = table.parentElement;
const broken = Array.from(table.querySelectorAll('th, td')).filter(c => !c.classList.contains('small')).filter(c => {
  const r = document.createRange(); r.selectNodeContents(c);
  const tops = Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => x.top);
  return tops.length > 0 && Math.max(...tops) - Math.min(...tops) > 0.9 * parseFloat(getComputedStyle(c).fontSize);
}).map(c => c.textContent.trim());
wrap.scrollLeft = wrap.scrollWidth;
const heads = table.querySelectorAll('thead th');
const last = heads[heads.length - 1].getBoundingClientRect();
return {page: document.documentElement.scrollWidth, inner: window.innerWidth, overflow: getComputedStyle(wrap).overflowX,
        wrapScroll: wrap.scrollWidth, wrapWidth: wrap.clientWidth, broken: broken,
        lastInView: last.right <= window.innerWidth + 1 && last.left >= 0};
"""


def test_phn001_workbench_tables_scroll_sideways_on_a_phone(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("manager", path="/workbench")
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": 375, "height": 800, "deviceScaleFactor": 2, "mobile": True})
    dash_duo.driver.get(dash_duo.server_url + "/workbench")
    wait_until(lambda: dash_duo.driver.execute_script("return window.innerWidth <= 400"), message="no phone width")
    dash_duo.wait_for_element("#wb-changes-table tbody tr", timeout=30)
    got = dash_duo.driver.execute_script(TABLE_ON_PHONE, "#wb-changes-table")
    assert got["page"] <= got["inner"], got          # the page does not scroll sideways
    assert got["overflow"] == "auto", got             # the table's card does
    assert got["wrapScroll"] > got["wrapWidth"], got  # the table is wider than a phone: it scrolls, not squeezes
    assert got["broken"] == [], got                   # dates, names, units and levels stay on one line
    assert got["lastInView"], got                     # nothing is clipped: the last column scrolls into view
    dash_duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert_no_console_errors(dash_duo)
