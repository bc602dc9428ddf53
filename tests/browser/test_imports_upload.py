"""/admin/imports in headless Chromium (issue 18): upload a GB18030 hospital file, read the dry run,
confirm, watch the background job finish, open its batch, map the "150/96" column and re-process."""
import pytest
from sqlalchemy import func, select

from models.db import session_scope
from models.schema import ImportBatch, Job, Observation
from tests.browser import assert_no_console_errors, click, wait_until
from tests.helpers import start
from tests.http.test_jobs_imports import PASSWORD, up_app  # noqa: F401 - the module's app fixture
from tests.jobs_helpers import GB_CSV

pytestmark = pytest.mark.browser


def choose(dash_duo, dropdown: str, typed: str, starts: str):
    click(dash_duo, dropdown)
    dash_duo.wait_for_element(".dash-dropdown-options", timeout=20)
    dash_duo.driver.switch_to.active_element.send_keys(typed)  # the menu's search box has the focus

    def option():
        return next(o for o in dash_duo.find_elements(".dash-dropdown-option") if o.text.strip().startswith(starts))

    click(dash_duo, option)
    click(dash_duo, "#ai-title")  # close the menu, as a person would


def test_bju001_upload_dry_run_confirm_open_batch_map_split_column_reprocess(up_app, dash_duo, login_browser,  # noqa: F811
                                                                             tmp_path):
    url = up_app.server.config["DATABASE_URL"]
    path = tmp_path / "体检结果.csv"
    path.write_bytes(GB_CSV.replace(b"2026-03-0", b"2026-05-0"))
    start(dash_duo, up_app)
    login_browser("admin", PASSWORD, "/admin/imports")
    dash_duo.wait_for_text_to_equal("#ai-title", "数据导入", timeout=20)
    dash_duo.driver.set_window_size(1400, 2400)
    choose(dash_duo, "#ai-up-target", "H06", "H06")
    dash_duo.find_element("#ai-upload input[type=file]").send_keys(str(path))
    dry = dash_duo.wait_for_element("#ai-dry-summary", timeout=30)
    assert "gb18030" in dry.text and "读取行数" in dry.text and "诊室测量值" in dry.text
    with session_scope(url) as s:
        before = s.scalar(select(func.max(ImportBatch.id)))
    click(dash_duo, "#ai-confirm:not([disabled])")
    done = dash_duo.wait_for_element("#ai-job-done", timeout=90)
    assert "已导入" in done.text and "新增 2" in done.text
    bar = dash_duo.find_element("#ai-job-progress .progress-bar")
    assert bar.get_attribute("aria-valuenow") == bar.get_attribute("aria-valuemax")
    with session_scope(url) as s:
        batch = s.scalar(select(func.max(ImportBatch.id)))
        job = s.scalar(select(Job).order_by(Job.id.desc()).limit(1))
        assert batch == before + 1 and job.status == "done" and job.result["batch_id"] == batch
    row = f'#ai-batches .ag-center-cols-container .ag-row[row-id="{batch}"]'
    dash_duo.wait_for_element(row, timeout=30)
    click(dash_duo, row)
    dash_duo.wait_for_contains_text("#ai-detail-title", f"批次 #{batch}", timeout=20)
    choose(dash_duo, "#ai-map-column", "诊室", "诊室测量值")
    choose(dash_duo, "#ai-map-field", "血压", "血压")
    click(dash_duo, "#ai-map-save")
    dash_duo.wait_for_element("#ai-map-saved", timeout=20)
    click(dash_duo, "#ai-reprocess:not([disabled])")
    alert = dash_duo.wait_for_element("#ai-reprocess-alert", timeout=60)
    assert "2 项原样保留的项目已按映射导入" in alert.text
    with session_scope(url) as s:
        wait_until(lambda: 150.0 in set(s.scalars(select(Observation.value).where(Observation.code == "sbp"))), 10,
                   "the split column was not loaded")
        assert 96.0 in set(s.scalars(select(Observation.value).where(Observation.code == "dbp")))
    assert_no_console_errors(dash_duo)


def test_bju002_admin_jobs_lists_who_status_and_result_newest_first(up_app, dash_duo, login_browser):  # noqa: F811
    from models import jobs as job_model

    url = up_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        failed = job_model.start(s, "export", username="admin", label="all units")
        job_model.fail(s, failed, "disk full")
        done = job_model.start(s, "roster_accounts", username="admin", label="NJ-D1")
        job_model.finish(s, done, {"zh": "开通 12 个账号", "en": "12 accounts created"})
    start(dash_duo, up_app)
    login_browser("admin", PASSWORD, "/admin/jobs")
    dash_duo.wait_for_text_to_equal("#aj-title", "后台任务", timeout=20)
    dash_duo.driver.set_window_size(1600, 1200)
    first = '#aj-grid-wrap .ag-center-cols-container .ag-row[row-index="0"]'
    dash_duo.wait_for_contains_text(first, "开通 12 个账号", timeout=30)
    assert "按名册开通账号" in dash_duo.find_element(first).text and "admin" in dash_duo.find_element(first).text
    second = '#aj-grid-wrap .ag-center-cols-container .ag-row[row-index="1"]'
    dash_duo.wait_for_contains_text(second, "disk full", timeout=20)
    assert "失败" in dash_duo.find_element(second).text
    assert "后台任务" in dash_duo.find_element(".portal-navbar").text
    assert_no_console_errors(dash_duo)
