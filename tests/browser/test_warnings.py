"""/warnings and /workbench in headless Chromium, as a manager and a leader would use them."""
import pytest
from selenium.webdriver.support.ui import Select
from sqlalchemy import func, select

from models.db import session_scope
from models.schema import FollowUp, Officer, OfficerStatus, Unit, User
from models.suppression import HIDDEN, counts_table
from models.vocab import LEVELS
from tests.browser import assert_no_console_errors, click, wait_until
from tests.helpers import start

pytestmark = pytest.mark.browser


def _db(app):
    return app.server.config["DATABASE_URL"]


def _scope_path(app, username):
    with session_scope(_db(app)) as s:
        return s.scalar(select(User).where(User.username == username)).scope_unit.path


def test_brw001_manager_filters_red_opens_and_closes_a_followup(app, dash_duo, login_browser):
    path = _scope_path(app, "manager_d1")
    with session_scope(_db(app)) as s:
        reds = s.scalar(select(func.count()).select_from(OfficerStatus)
                        .where(OfficerStatus.unit_path.like(f"{path}%"), OfficerStatus.level == "red"))
    start(dash_duo, app)
    login_browser("manager_d1", path="/warnings?level=red")
    dash_duo.wait_for_text_to_equal("#warn-count-red", f"{reds:,}", timeout=30)
    dash_duo.wait_for_element(".ag-row[row-index='0'] [col-id='action']", timeout=30)
    rows = dash_duo.find_elements(".ag-center-cols-container .ag-row")
    assert len(rows) == min(reds, len(rows)) and rows, "the list shows the district's red officers"
    # the rows draw their name links a moment later (a lazily loaded cell renderer): read them once drawn
    wait_until(lambda: all("红色" in r.text for r in dash_duo.find_elements(".ag-center-cols-container .ag-row")),
               20, "a row that is not red")
    badge = dash_duo.find_element(".ag-row[row-index='0']").get_attribute("row-id")
    click(dash_duo, ".ag-row[row-index='0'] [col-id='action']")
    dash_duo.wait_for_element("#fu-new-modal", timeout=20)
    dash_duo.wait_for_contains_text("#fu-new-officer", badge, timeout=20)
    Select(dash_duo.find_element("#fu-new-kind")).select_by_value("recheck")
    dash_duo.find_element("#fu-new-note").send_keys("电话通知一周内复查血压")
    click(dash_duo, "#fu-new-save")
    dash_duo.wait_for_element("#fu-toast", timeout=20)
    with session_scope(_db(app)) as s:
        fid = s.scalar(select(FollowUp.id).join(Officer).where(Officer.badge == badge, FollowUp.status == "open"))
    assert fid, "the follow-up was saved"

    dash_duo.driver.get(dash_duo.server_url + "/workbench")
    dash_duo.wait_for_element("#wb-mine-table", timeout=30)
    click(dash_duo, f"[id*='\"id\":{fid}'][id*='wb-open']")
    dash_duo.wait_for_contains_text("#fu-d-facts", badge, timeout=20)
    Select(dash_duo.find_element("#fu-d-outcome")).select_by_value("improved")
    dash_duo.find_element("#fu-d-note").send_keys("复查血压已降至正常")
    click(dash_duo, "#fu-d-close")
    dash_duo.wait_for_text_to_equal("#fu-d-done", "已结案", timeout=20)
    dash_duo.wait_for_contains_text("#fu-d-facts", "好转", timeout=20)
    with session_scope(_db(app)) as s:
        row = s.get(FollowUp, fid)
        assert (row.status, row.outcome) == ("closed", "improved")
    assert_no_console_errors(dash_duo)


def test_brw002_leader_sees_map_and_counts_but_no_lab_values(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("leader", path="/warnings")
    dash_duo.wait_for_element("#warn-map .js-plotly-plot .scatterlayer", timeout=30)
    dash_duo.wait_for_element("#warn-tree .js-plotly-plot", timeout=30)
    dash_duo.wait_for_element(".ag-row[row-index='0']", timeout=30)
    with session_scope(_db(app)) as s:
        # a leader's colours are the open levels (without psychological readings, models.psych)
        counts = dict(s.execute(select(OfficerStatus.open_level, func.count()).join(Officer, Officer.id == OfficerStatus.officer_id)
                                .where(Officer.active).group_by(OfficerStatus.open_level)).all())
    table = counts_table({lvl: counts.get(lvl, 0) for lvl in LEVELS})
    dash_duo.wait_for_text_to_equal("#warn-count-orange", table.text("orange"), timeout=20)
    wait_until(lambda: "姓名" in dash_duo.find_element(".ag-header").get_attribute("textContent"), 20,
               message="the grid has no name column")
    headers = dash_duo.find_element(".ag-header").get_attribute("textContent")
    assert "姓名" in headers and "收缩压" not in headers and "警号" not in headers
    assert len(dash_duo.find_elements("#warn-map .js-plotly-plot path.js-fill")) >= 2  # district polygons
    legend = dash_duo.find_element("#warn-legend").text
    assert "红+橙占比" in legend and "无数据或不足5人" in legend
    page = dash_duo.driver.page_source
    assert "mmHg" not in page and "mmol" not in page
    assert not dash_duo.find_elements("#warn-export-csv")
    assert_no_console_errors(dash_duo)


def test_brw003_district_manager_cannot_touch_another_district(app, dash_duo, login_browser):
    other = _scope_path(app, "manager_d2")
    with session_scope(_db(app)) as s:
        badge = s.scalar(select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                         .where(OfficerStatus.unit_path.like(f"{other}%")).limit(1))
        before = s.scalar(select(func.count()).select_from(FollowUp))
    start(dash_duo, app)
    login_browser("manager_d1", path=f"/warnings?badge={badge}&new_followup=1")
    dash_duo.wait_for_element(".ag-row[row-index='0']", timeout=30)
    assert not dash_duo.find_elements("#fu-new-modal.show")
    assert all(badge not in e.text for e in dash_duo.find_elements("#fu-new-officer"))
    assert badge not in dash_duo.find_element(".ag-center-cols-container").text
    with session_scope(_db(app)) as s:
        assert s.scalar(select(func.count()).select_from(FollowUp)) == before
    assert_no_console_errors(dash_duo, refused=True)  # the forged new_followup for another district gets 403


def test_brw004_choosing_this_year_updates_the_movement_heading(app, dash_duo, login_browser):
    start(dash_duo, app)
    login_browser("manager_d1", path="/warnings")
    dash_duo.wait_for_contains_text("#warn-movement-title", "本季度", timeout=30)
    assert "2026-10-01 → 2026-11-18" in dash_duo.find_element("#warn-movement-title").text
    dash_duo.wait_for_element("#warn-movement-matrix", timeout=30)
    Select(dash_duo.find_element("#warn-move-period")).select_by_value("year")
    dash_duo.wait_for_contains_text("#warn-movement-title", "今年以来（2026-01-01 → 2026-11-18）", timeout=30)
    wait_until(lambda: "period=year" in dash_duo.driver.current_url, 10, message="the period is not in the URL")
    dash_duo.driver.get(dash_duo.server_url + "/warnings?period=year")  # the link reproduces the view
    dash_duo.wait_for_contains_text("#warn-movement-title", "今年以来", timeout=30)


def _longjiang_like(app):
    """A unit like 龙江派出所 (139 officers: orange 37, yellow 62, green 37, so red = 3): several
    colours of 5 or more and one of 1–4, as its subtree counts them."""
    with session_scope(_db(app)) as s:
        units = s.execute(select(Unit.code, Unit.path).order_by(Unit.depth.desc(), Unit.path)).all()
        for code, path in units:
            counts = dict(s.execute(select(OfficerStatus.open_level, func.count())  # the colours a leader sees
                                    .join(Officer, Officer.id == OfficerStatus.officer_id)
                                    .where(Officer.active, OfficerStatus.unit_path.like(f"{path}%"))
                                    .group_by(OfficerStatus.open_level)).all())
            small = [lvl for lvl in LEVELS if 0 < counts.get(lvl, 0) < 5]
            big = [lvl for lvl in LEVELS if counts.get(lvl, 0) >= 5]
            if len(small) == 1 and len(big) >= 2:
                return code, {lvl: counts.get(lvl, 0) for lvl in LEVELS}, small[0]
    raise AssertionError("the tiny demo has a unit with one colour under 5")


def test_brw005_leader_cannot_work_out_a_small_colour_from_the_others(app, dash_duo, login_browser):
    """psy020: the 龙江派出所 row. The leader sees the total and the colours that may be shown; the
    small colour reads "<5*", and so does at least one other, so "total minus the rest" has two
    unknowns; the list of fewer than 5 names is not shown either."""
    code, counts, small = _longjiang_like(app)
    start(dash_duo, app)
    login_browser("leader", path=f"/warnings?unit={code}")
    total = sum(counts.values())
    dash_duo.wait_for_text_to_equal("#warn-count-total", f"{total:,}", timeout=30)
    dash_duo.wait_for_text_to_equal(f"#warn-count-{small}", HIDDEN, timeout=20)
    shown = {lvl: dash_duo.find_element(f"#warn-count-{lvl}").text for lvl in LEVELS}
    hidden = [lvl for lvl, text in shown.items() if text == HIDDEN]
    assert small in hidden and len(hidden) >= 2, shown
    visible = sum(int(t.replace(",", "")) for t in shown.values() if t != HIDDEN)
    for lvl in LEVELS:  # what is shown matches the data, and leaves every hidden colour two-way open
        if shown[lvl] != HIDDEN:
            assert int(shown[lvl].replace(",", "")) == counts[lvl]
    assert total - visible == sum(counts[lvl] for lvl in hidden)
    assert all(counts[lvl] < total - visible for lvl in hidden if counts[lvl])  # no hidden colour is the whole rest
    # a share only where its count is shown
    cards = dash_duo.find_elements(".warn-count")
    for card in cards:
        if HIDDEN in card.text:
            assert "%" not in card.text
    # the list filtered to the small colour has fewer than 5 names: not shown to a leader
    with session_scope(_db(app)) as s:
        path = s.scalar(select(Unit.path).where(Unit.code == code))
        named = s.scalar(select(func.count()).select_from(OfficerStatus).join(Officer, Officer.id == OfficerStatus.officer_id)
                         .where(Officer.active, OfficerStatus.unit_path.like(f"{path}%"), OfficerStatus.open_level == small))
    if small in ("red", "orange") and 0 < named < 5:
        dash_duo.driver.get(dash_duo.server_url + f"/warnings?unit={code}&level={small}")
        dash_duo.wait_for_contains_text("#warn-list-count", "不足5人", timeout=30)
        assert not dash_duo.find_elements(".ag-center-cols-container .ag-row")
    assert_no_console_errors(dash_duo)
