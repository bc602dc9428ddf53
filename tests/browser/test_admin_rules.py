"""An admin edits a threshold of the warning rules, sees the impact, publishes, and /warnings names
the new version (issue 18). On a tiny demo of its own: publishing recomputes every officer."""
import pytest
from selenium.webdriver.common.keys import Keys

from models import rule_versions as rv
from models.db import session_scope
from tests.browser import click, console_errors, wait_for_callbacks, wait_until
from tests.conftest import AS_OF, PASSWORD, TODAY
from tests.helpers import start

pytestmark = pytest.mark.browser

CELL = '#rules-checks .ag-center-cols-container .ag-row[row-id="bp_grade3#0"] .ag-cell[col-id="threshold"]'


@pytest.fixture(scope="module")
def rules_app(new_db_url, tmp_path_factory):
    from ingest.demo import build_demo
    from portal.app import create_app
    from portal.config import Config

    url = new_db_url("rules-browser")
    build_demo(url, scale="tiny", seed=23, as_of=AS_OF, password=PASSWORD)
    cfg = Config(database_url=url, secret_key="rules-browser", testing=True, cache_dir=str(tmp_path_factory.mktemp("cache")),
                 login_rate_limit="1000 per minute", today=TODAY, login_delay_seconds=60, export_interval_seconds=0)
    return create_app(cfg)


def test_br_rul001_edit_a_threshold_see_the_impact_publish_and_warnings_names_it(rules_app, dash_duo, login_browser):
    start(dash_duo, rules_app)
    login_browser("admin", path="/admin/rules")
    label = dash_duo.wait_for_element("#rules-current-label", timeout=30)
    assert "warning_v2" in label.text
    click(dash_duo, "#rules-new-draft")
    dash_duo.wait_for_element(CELL, timeout=30)
    wait_until(lambda: dash_duo.find_element(CELL).text == "180", 20, "the draft's thresholds did not load")
    click(dash_duo, CELL)  # one click opens the editor
    editor = wait_until(lambda: dash_duo.find_element(f"{CELL} input"), 20, "no editor opened")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys("100", Keys.ENTER)
    wait_until(lambda: dash_duo.find_element(CELL).text == "100", 20, "the edit did not stay")
    click(dash_duo, "#rules-impact-run")
    count = dash_duo.wait_for_element("#rules-impact-count", timeout=90)
    assert "rules_v2" in count.text and "的预警等级将改变" in count.text
    assert dash_duo.find_elements("#rules-impact-moves tbody tr")  # by level change
    assert dash_duo.find_elements("#rules-impact-units tbody tr")  # by unit
    with session_scope(rules_app.server.config["DATABASE_URL"]) as s:
        assert rv.draft(s).body["rules"][0]["checks"][0]["threshold"] == 100  # saved as shown
    click(dash_duo, "#rules-publish")
    done = dash_duo.wait_for_element("#rules-published", timeout=120)
    assert "rules_v2" in done.text
    bar = dash_duo.find_element("#rules-publish-progress .progress-bar")
    assert bar.get_attribute("aria-valuenow") == bar.get_attribute("aria-valuemax")
    wait_until(lambda: "rules_v2" in dash_duo.find_element("#rules-current-label").text, 30,
               "the page did not show the new version in force")
    dash_duo.driver.get(dash_duo.server_url + "/warnings")
    badge = dash_duo.wait_for_element("#warn-rules-version-label", timeout=30)
    assert "v2" in badge.text and "rules_v2" in badge.text
    wait_for_callbacks(dash_duo)
    assert not console_errors(dash_duo), console_errors(dash_duo)
