"""Imports in the browser over HTTP (issue 18): uploads are dry-run first and loaded as a background job
once per upload; forged uploads, confirms, mappings and quarantine decisions by non-admins are refused."""
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from models import jobs as job_model
from models.db import session_scope
from models.schema import AuditLog, Exam, Hospital, ImportBatch, Job, Observation, QuarantineRow
from models.users import create_user
from tests.conftest import TODAY
from tests.helpers import callback_key, dash_callback, login
from tests.jobs_helpers import GB_CSV, data_url, run_background
from tests.unit.test_ingest_hospital import D, roster_db

PASSWORD = "imports-pass-1"


@pytest.fixture(scope="module")
def up_app(new_db_url, tmp_path_factory):
    from ingest.hospital_load import load_hospital_file
    from portal.app import create_app
    from portal.config import Config

    url = roster_db(new_db_url, "jobs_imports")
    with session_scope(url) as s:
        create_user(s, "admin", PASSWORD, "admin")
        create_user(s, "mgr", PASSWORD, "manager", scope_unit_code="NJ")
        create_user(s, "off", PASSWORD, "officer", officer_badge="J10001")
    problems = load_hospital_file(url, D / "hospital_problems.csv", "H06", user="cli:test")
    cfg = Config(database_url=url, secret_key="test-secret", testing=True,
                 cache_dir=str(tmp_path_factory.mktemp("jobs_imports") / "cache"), login_rate_limit="1000 per minute",
                 today=TODAY, upload_max_mb=0.01)
    app = create_app(cfg)
    app.problems_batch = problems["batch_id"]
    return app


def client_for(app, username):
    c = app.server.test_client()
    assert login(c, username, PASSWORD).status_code == 302
    return c


def upload(c, data: bytes, filename="exam.csv", kind="hospital", target="H06"):
    return dash_callback(c, "..ai-dry.children...ai-upload-token.data...ai-confirm.disabled..",
                         [{"id": "ai-upload", "property": "contents", "value": data_url(data)}],
                         state=[{"id": "ai-upload", "property": "filename", "value": filename},
                                {"id": "ai-up-kind", "property": "value", "value": kind},
                                {"id": "ai-up-target", "property": "value", "value": target}])


def confirm(c, token):
    return run_background(c, "..ai-job-result.children...ai-refresh.data..",
                          [{"id": "ai-confirm", "property": "n_clicks", "value": 1}],
                          [{"id": "ai-upload-token", "property": "data", "value": token},
                           {"id": "ai-refresh", "property": "data", "value": 0}])


def counts(url):
    with session_scope(url) as s:
        return (s.scalar(select(func.count()).select_from(ImportBatch)), s.scalar(select(func.count()).select_from(Exam)),
                s.scalar(select(func.count()).select_from(Observation)))


def test_jbi001_non_admins_are_refused_uploads_confirms_mappings_and_quarantine_work(up_app):
    url = up_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        q_id = s.scalar(select(QuarantineRow.id).where(QuarantineRow.batch_id == up_app.problems_batch).limit(1))
    before = counts(url)
    for who in ("mgr", "off"):
        c = client_for(up_app, who)
        assert upload(c, GB_CSV).status_code == 403
        assert confirm(c, "0" * 32)[0] == 403
        res = dash_callback(c, "..ai-map-result.children...ai-mapping.value..",
                            [{"id": "ai-map-save", "property": "n_clicks", "value": 1}],
                            state=[{"id": "ai-map-column", "property": "value", "value": "诊室测量值"},
                                   {"id": "ai-map-field", "property": "value", "value": "bp"},
                                   {"id": "ai-map-unit", "property": "value", "value": None},
                                   {"id": "ai-batch", "property": "data", "value": up_app.problems_batch}])
        assert res.status_code == 403
        res = dash_callback(c, "..ai-qresult.children...ai-refresh.data..",
                            [{"id": "ai-qcorrect", "property": "n_clicks", "value": None},
                             {"id": "ai-qreject", "property": "n_clicks", "value": 1}],
                            state=[{"id": "ai-qrow", "property": "data", "value": q_id},
                                   {"id": "ai-qcell", "property": "value", "value": None},
                                   {"id": "ai-qvalue", "property": "value", "value": None},
                                   {"id": "ai-qnote", "property": "value", "value": "forged"},
                                   {"id": "ai-refresh", "property": "data", "value": 0}], changed=["ai-qreject.n_clicks"])
        assert res.status_code == 403
        assert c.get("/admin/jobs").status_code == 200  # the page answers, with the no-access frame inside
        res = dash_callback(c, callback_key(c, "aj-grid-wrap"), [{"id": "aj-kind", "property": "value", "value": None},
                                                                 {"id": "aj-status", "property": "value", "value": None}])
        assert res.status_code == 403
    assert counts(url) == before
    with session_scope(url) as s:
        assert s.get(QuarantineRow, q_id).status == "open"
        assert s.scalar(select(Hospital.mapping).where(Hospital.code == "H06")) is None


def test_jbi002_oversize_and_garbage_files_get_a_clear_refusal(up_app):
    c = client_for(up_app, "admin")
    url = up_app.server.config["DATABASE_URL"]
    before = counts(url)
    big = upload(c, b"a,b\n" + b"1,2\n" * 5000).get_json()["response"]
    assert "太大" in json.dumps(big, ensure_ascii=False) and big["ai-upload-token"]["data"] is None
    assert big["ai-confirm"]["disabled"] is True
    junk = upload(c, b"\x00\x01\x02garbage\x00" * 10, filename="x.csv").get_json()["response"]
    text = json.dumps(junk, ensure_ascii=False)
    assert "无法读取这个文件" in text and "binary" in text and junk["ai-upload-token"]["data"] is None
    assert counts(url) == before


def test_jbi003_gb18030_dry_run_writes_nothing_then_confirm_loads_once(up_app):
    c = client_for(up_app, "admin")
    url = up_app.server.config["DATABASE_URL"]
    before = counts(url)
    res = upload(c, GB_CSV).get_json()["response"]
    text = json.dumps(res["ai-dry"]["children"], ensure_ascii=False)
    assert "gb18030" in text and "诊室测量值" in text
    token = res["ai-upload-token"]["data"]
    assert res["ai-confirm"]["disabled"] is False and len(token) == 32
    assert counts(url) == before  # the dry run wrote nothing
    status, answer = confirm(c, token)
    assert status == 200
    done = json.dumps(answer["response"], ensure_ascii=False)
    assert "已导入" in done and "新增 2" in done
    after = counts(url)
    assert after[0] == before[0] + 1 and after[1] == before[1] + 2
    with session_scope(url) as s:
        job = s.scalar(select(Job).where(Job.key == f"upload:{token}"))
        assert job.status == "done" and job.username == "admin" and job.progress == 1.0 and job.label == "exam.csv"
        assert job.result["batch_id"] == s.scalar(select(func.max(ImportBatch.id)))
    # the same confirm again (a double click, a replayed request): nothing is loaded, no new job
    status, answer = confirm(c, token)
    assert status == 200 and "未再次导入" in json.dumps(answer["response"], ensure_ascii=False)
    assert counts(url) == after
    with session_scope(url) as s:
        assert job_model.count(s, kind="import") == 1
        actions = set(s.scalars(select(AuditLog.action).where(AuditLog.username == "admin")))
    assert {"upload_import", "confirm_import"} <= actions


def test_jbi004_map_the_split_column_then_reprocess_places_it(up_app):
    c = client_for(up_app, "admin")
    url = up_app.server.config["DATABASE_URL"]
    token = upload(c, GB_CSV.replace(b"2026-03-0", b"2026-04-0")).get_json()["response"]["ai-upload-token"]["data"]
    answer = confirm(c, token)[1]
    with session_scope(url) as s:
        batch = s.scalar(select(func.max(ImportBatch.id)))
    res = dash_callback(c, "..ai-map-result.children...ai-mapping.value..",
                        [{"id": "ai-map-save", "property": "n_clicks", "value": 1}],
                        state=[{"id": "ai-map-column", "property": "value", "value": "诊室测量值"},
                               {"id": "ai-map-field", "property": "value", "value": "bp"},
                               {"id": "ai-map-unit", "property": "value", "value": None},
                               {"id": "ai-batch", "property": "data", "value": batch}])
    assert "已映射" in json.dumps(res.get_json()["response"], ensure_ascii=False), answer
    status, answer = run_background(c, "..ai-action-result.children...ai-refresh.data..",
                                    [{"id": "ai-reprocess", "property": "n_clicks", "value": 1}],
                                    [{"id": "ai-batch", "property": "data", "value": batch},
                                     {"id": "ai-refresh", "property": "data", "value": 0}])
    assert status == 200 and "项原样保留的项目已按映射导入" in json.dumps(answer, ensure_ascii=False)
    with session_scope(url) as s:
        sbp = sorted(s.scalars(select(Observation.value).where(Observation.code == "sbp", Observation.source_id == "H06")))
        assert 150.0 in sbp and 128.0 in sbp
        assert s.scalar(select(Hospital.mapping).where(Hospital.code == "H06"))["columns"]["诊室测量值"] == "bp"
    # the CLI's loader uses the hospital's mapping too: a later file of H06 places the column at once
    from ingest.hospital_load import load_hospital_bytes

    later = load_hospital_bytes(url, GB_CSV.replace(b"2026-03-0", b"2026-06-0").replace(b"150/96", b"142/91"), "H06",
                                filename="later.csv", user="cli:test", today=dt.date.fromisoformat(TODAY))
    assert later["unplaced_columns"] == [] and later["inserted"] == 2
    with session_scope(url) as s:
        assert 142.0 in set(s.scalars(select(Observation.value).where(Observation.code == "sbp")))


def test_jbi005_quarantine_row_corrected_or_rejected_with_a_reason_all_audited(up_app):
    c = client_for(up_app, "admin")
    url = up_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        rows = list(s.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == up_app.problems_batch,
                                                          QuarantineRow.status == "open").order_by(QuarantineRow.id)))
        cellful = next(q for q in rows if isinstance((q.raw or {}).get("cells"), dict))
        other = next(q for q in rows if q.id != cellful.id)
        cell = next(iter(cellful.raw["cells"]))

    def decide(trigger, row_id, cell=None, value=None, note=None):
        return dash_callback(c, "..ai-qresult.children...ai-refresh.data..",
                             [{"id": "ai-qcorrect", "property": "n_clicks", "value": 1 if trigger == "ai-qcorrect" else None},
                              {"id": "ai-qreject", "property": "n_clicks", "value": 1 if trigger == "ai-qreject" else None}],
                             state=[{"id": "ai-qrow", "property": "data", "value": row_id},
                                    {"id": "ai-qcell", "property": "value", "value": cell},
                                    {"id": "ai-qvalue", "property": "value", "value": value},
                                    {"id": "ai-qnote", "property": "value", "value": note},
                                    {"id": "ai-refresh", "property": "data", "value": 0}], changed=[f"{trigger}.n_clicks"])

    res = decide("ai-qreject", other.id, note="")
    assert "驳回原因" in json.dumps(res.get_json()["response"], ensure_ascii=False)
    res = decide("ai-qcorrect", cellful.id, cell=cell, value="corrected")
    assert "已修正" in json.dumps(res.get_json()["response"], ensure_ascii=False)
    res = decide("ai-qreject", other.id, note="duplicate sent by mistake")
    assert "已驳回" in json.dumps(res.get_json()["response"], ensure_ascii=False)
    res = decide("ai-qreject", other.id, note="again")  # decided already: refused with a reason, nothing changes
    assert "已处理" in json.dumps(res.get_json()["response"], ensure_ascii=False)
    with session_scope(url) as s:
        fixed, gone = s.get(QuarantineRow, cellful.id), s.get(QuarantineRow, other.id)
        assert fixed.raw["cells"][cell] == "corrected" and fixed.status == "open" and fixed.decided_by == "admin"
        assert gone.status == "rejected" and gone.decision_note == "duplicate sent by mistake"
        actions = [a for a in s.scalars(select(AuditLog.action).where(AuditLog.target.like("quarantine %")))]
    assert actions.count("correct_quarantine") == 1 and actions.count("reject_quarantine") == 1


def test_jbi006_admin_jobs_lists_jobs_newest_first_with_who_and_result(up_app):
    c = client_for(up_app, "admin")
    url = up_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        first = job_model.start(s, "export", username="admin", label="older")
        job_model.fail(s, first, "disk full")
        second = job_model.start(s, "recompute", username="admin", label="newer")
        job_model.finish(s, second, {"zh": "重新计算 3 人", "en": "3 recomputed"})
    grid = {"type": "aj-grid", "v": "x"}
    res = dash_callback(c, callback_key(c, "getRowsResponse", "aj-count"),
                        [[{"id": grid, "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 100}}]],
                        state=[{"id": "aj-kind", "property": "value", "value": None},
                               {"id": "aj-status", "property": "value", "value": None}],
                        changed=[json.dumps(grid) + ".getRowsRequest"],
                        outputs_list=[[{"id": grid, "property": "getRowsResponse"}],
                                      {"id": "aj-count", "property": "children"}])
    response = res.get_json()["response"]
    rows = next(v for k, v in response.items() if k.startswith("{"))["getRowsResponse"]["rowData"]
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids, reverse=True) and ids.index(second) < ids.index(first)
    by_id = {r["id"]: r for r in rows}
    assert by_id[first]["result_text"] == "disk full" and by_id[first]["status_name"] == "失败"
    assert by_id[second]["result_text"] == "重新计算 3 人" and by_id[second]["username"] == "admin"


def test_jbi007_the_demo_leaves_quarantined_rows_with_reasons_and_a_stale_kiosk(demo_url):
    from models.devices import device_overview
    from models.schema import Device

    with session_scope(demo_url) as s:
        rows = list(s.scalars(select(QuarantineRow).order_by(QuarantineRow.id)))
        reasons = " | ".join(q.reason for q in rows)
        assert len(rows) == 4 and all(q.status == "open" for q in rows)
        assert "no officer with badge 999999" in reasons and "impossible for sbp" in reasons
        assert "qualitative" in reasons and "exam date" in reasons
        batch = s.get(ImportBatch, rows[0].batch_id)
        assert batch.kind == "hospital" and batch.quarantined == 4 and batch.inserted == 0
        last = {d.name: d.last_frame_at for d in s.scalars(select(Device))}
        assert len(last) == 2 and max(last.values()) - min(last.values()) == dt.timedelta(days=3)
        # a few minutes after the demo's last report: one kiosk fine, the other silent for three days
        states = {d["name"]: d["state"] for d in device_overview(s, now=max(last.values()) + dt.timedelta(minutes=5))}
    assert sorted(states.values()) == ["ok", "red"], states


def test_jbi008_a_running_import_shows_after_a_page_reload_from_the_job_table(up_app):
    c = client_for(up_app, "admin")  # a new page load: nothing of the job is in the browser
    url = up_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        job_id = job_model.start(s, "import", username="admin", label="big-roster.xlsx")
    job_model.report_progress(url, job_id, 0.42, "write")

    def tick(shown):
        return dash_callback(c, "..ai-running.children...ai-refresh.data..",
                             [{"id": "ai-tick", "property": "n_intervals", "value": 1}],
                             state=[{"id": "ai-running", "property": "children", "value": shown},
                                    {"id": "ai-refresh", "property": "data", "value": 3}]).get_json()["response"]

    shown = tick(None)
    text = json.dumps(shown, ensure_ascii=False)
    assert f"后台任务 #{job_id}" in text and "big-roster.xlsx" in text and "42%" in text
    with session_scope(url) as s:
        job_model.finish(s, job_id, {"zh": "完成", "en": "done"})
    ended = tick(shown["ai-running"]["children"])  # gone from the table's running jobs: the batch list refreshes
    assert ended["ai-running"]["children"] is None and ended["ai-refresh"]["data"] == 4
