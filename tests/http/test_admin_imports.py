"""/admin/imports over HTTP: admins only, batches and quarantine, CSV download (audited), mapping and reprocess."""
import json

import pytest
from sqlalchemy import select

from ingest.hospital_load import load_hospital_file
from models.db import session_scope
from models.schema import AuditLog, Hospital, Observation, QuarantineRow
from models.users import create_user
from tests.conftest import TODAY
from tests.helpers import dash_callback, login
from tests.jobs_helpers import run_background
from tests.unit.test_ingest_hospital import D, roster_db

PASSWORD = "imports-pass-1"
QGRID = {"type": "ai-qgrid", "batch": 0}


@pytest.fixture(scope="module")
def imports_app(new_db_url, tmp_path_factory):
    from portal.app import create_app
    from portal.config import Config

    url = roster_db(new_db_url, "admin_imports")
    with session_scope(url) as s:
        create_user(s, "admin", PASSWORD, "admin")
        create_user(s, "mgr", PASSWORD, "manager", scope_unit_code="NJ")
        create_user(s, "off", PASSWORD, "officer", officer_badge="J10001")
    first = load_hospital_file(url, D / "hospital_long.csv", "H07", user="cli:test")
    second = load_hospital_file(url, D / "hospital_problems.csv", "H06", user="cli:test")
    cfg = Config(database_url=url, secret_key="test-secret", testing=True,
                 cache_dir=str(tmp_path_factory.mktemp("imports_cache")), login_rate_limit="1000 per minute",
                 today=TODAY)
    app = create_app(cfg)
    app.batches = (first["batch_id"], second["batch_id"])
    return app


def client_for(app, username):
    c = app.server.test_client()
    assert login(c, username, PASSWORD).status_code == 302
    return c


def batches(c):
    return dash_callback(c, "..ai-batches.rowData...ai-batches.columnDefs...ai-batches.selectedRows..",
                         [{"id": "ai-refresh", "property": "data", "value": 0}],
                         state=[{"id": "ai-batch", "property": "data", "value": None}])


def select_batch(c, batch_id):
    out = ("..ai-detail.children...ai-q-container.children...ai-batch.data...ai-mapping.value...ai-mapping.disabled..."
           "ai-save-mapping.disabled...ai-download.disabled...ai-reprocess.disabled...ai-panel.style..")
    return dash_callback(c, out, [{"id": "ai-batches", "property": "selectedRows", "value": [{"id": batch_id}]}])


def quarantine(c, batch_id, start=0, end=100):
    grid = dict(QGRID, batch=batch_id)
    key = '{"batch":["MATCH"],"type":"ai-qgrid"}.getRowsResponse'
    body = {"output": key, "outputs": {"id": grid, "property": "getRowsResponse"},
            "inputs": [{"id": grid, "property": "getRowsRequest", "value": {"startRow": start, "endRow": end}}],
            "state": [], "changedPropIds": [json.dumps(grid, separators=(",", ":")) + ".getRowsRequest"]}
    from tests.helpers import csrf_cookie

    return c.post("/_dash-update-component", json=body, headers={"X-CSRFToken": csrf_cookie(c)})


def test_ai001_page_and_callbacks_for_admins_only(imports_app):
    for username in ("mgr", "off"):
        c = client_for(imports_app, username)
        assert batches(c).status_code == 403
        assert select_batch(c, imports_app.batches[1]).status_code == 403
        assert quarantine(c, imports_app.batches[1]).status_code == 403
        download = dash_callback(c, "ai-download-file.data", [{"id": "ai-download", "property": "n_clicks", "value": 1}],
                                 state=[{"id": "ai-batch", "property": "data", "value": imports_app.batches[1]}])
        assert download.status_code == 403
    anonymous = imports_app.server.test_client()
    assert batches(anonymous).status_code in (401, 403)


def test_ai002_batches_listed_with_counts(imports_app):
    res = batches(client_for(imports_app, "admin"))
    assert res.status_code == 200
    rows = res.get_json()["response"]["ai-batches"]["rowData"]
    by_id = {r["id"]: r for r in rows}
    long_id, problems_id = imports_app.batches
    p = by_id[problems_id]
    assert (p["kind"], p["source"], p["filename"], p["created_by"], p["status"], p["rows_read"], p["inserted"],
            p["quarantined"], p["open"]) == ("hospital", "H06", "hospital_problems.csv", "cli:test", "loaded", 7, 2, 9, 9)
    assert len(p["file_hash"]) == 12 and p["status_name"] == "已导入" and p["kind_name"] == "医院体检"
    assert {r["kind"] for r in rows} >= {"units", "officers", "hospital"}
    assert res.get_json()["response"]["ai-batches"]["selectedRows"] == [p]  # the newest batch with open rows


def test_ai003_quarantine_paged_from_server(imports_app):
    c = client_for(imports_app, "admin")
    detail = select_batch(c, imports_app.batches[1])
    assert detail.status_code == 200
    resp = detail.get_json()["response"]
    assert resp["ai-batch"]["data"] == imports_app.batches[1]
    assert resp["ai-download"]["disabled"] is False and resp["ai-reprocess"]["disabled"] is False
    assert resp["ai-panel"]["style"] == {}
    res = quarantine(c, imports_app.batches[1], 0, 4)
    assert res.status_code == 200
    page = next(iter(res.get_json()["response"].values()))["getRowsResponse"]
    assert page["rowCount"] == 9 and len(page["rowData"]) == 4
    assert page["rowData"][0]["reason"] == "no officer with ID number 440604********1113"
    assert page["rowData"][0]["status_name"] == "待处理" and "赵六" in page["rowData"][0]["raw"]
    rest = next(iter(quarantine(c, imports_app.batches[1], 4, 100).get_json()["response"].values()))["getRowsResponse"]
    assert len(rest["rowData"]) == 5


def test_ai004_download_is_audited(imports_app):
    c = client_for(imports_app, "admin")
    res = dash_callback(c, "ai-download-file.data", [{"id": "ai-download", "property": "n_clicks", "value": 1}],
                        state=[{"id": "ai-batch", "property": "data", "value": imports_app.batches[1]}])
    assert res.status_code == 200
    data = res.get_json()["response"]["ai-download-file"]["data"]
    assert data["filename"] == f"quarantine_batch_{imports_app.batches[1]}.csv"
    lines = data["content"].lstrip("\ufeff").splitlines()
    assert lines[0] == "batch,row,field,reason,status,raw" and len(lines) == 10
    url = imports_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "export_quarantine").order_by(AuditLog.id.desc()))
        assert (entry.username, entry.target, entry.detail) == ("admin", f"batch {imports_app.batches[1]}", {"rows": 9})


def test_ai005_fix_mapping_then_reprocess(imports_app):
    c = client_for(imports_app, "admin")
    long_id = imports_app.batches[0]
    bad = dash_callback(c, "ai-mapping-result.children", [{"id": "ai-save-mapping", "property": "n_clicks", "value": 1}],
                        state=[{"id": "ai-mapping", "property": "value", "value": '{"items": {"x": "nope"}}'},
                               {"id": "ai-batch", "property": "data", "value": long_id}])
    assert "'nope' is not a field" in json.dumps(bad.get_json(), ensure_ascii=False)
    mapping = (D / "mapping_long.json").read_text(encoding="utf-8")
    saved = dash_callback(c, "ai-mapping-result.children", [{"id": "ai-save-mapping", "property": "n_clicks", "value": 1}],
                          state=[{"id": "ai-mapping", "property": "value", "value": mapping},
                                 {"id": "ai-batch", "property": "data", "value": long_id}])
    assert "已保存医院 H07 的映射" in json.dumps(saved.get_json(), ensure_ascii=False)
    status, answer = run_background(c, "..ai-action-result.children...ai-refresh.data..",
                                    [{"id": "ai-reprocess", "property": "n_clicks", "value": 1}],
                                    [{"id": "ai-batch", "property": "data", "value": long_id},
                                     {"id": "ai-refresh", "property": "data", "value": 0}])
    assert status == 200  # a background job (issue 18): started, then polled to its end
    text = json.dumps(answer, ensure_ascii=False)
    # the unknown item was kept raw with its exam (issue 20), not quarantined: the mapping places it
    assert "0 行已导入，0 行仍待处理；1 项原样保留的项目已按映射导入" in text
    url = imports_app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        assert s.scalar(select(QuarantineRow.status).where(QuarantineRow.batch_id == long_id)) is None
        assert s.scalar(select(Observation.value).where(Observation.code == "ldl", Observation.source_id == "H07")) == 3.3
        assert s.scalar(select(Hospital.mapping).where(Hospital.code == "H07")) == json.loads(mapping)
        actions = set(s.scalars(select(AuditLog.action).where(AuditLog.username == "admin")))
        assert {"change_mapping", "reprocess_quarantine"} <= actions

