"""/admin/imports: every callback is for admins only; batch ids from the browser are looked up again.

Uploads: a file is checked (size, kind, target), kept in the instance folder (``ingest.uploads``) and
dry-run by the same loader as the CLI; "confirm" loads it in a background job (``web.jobs``) recorded
once per upload (a replayed confirm loads nothing). Column mappings are saved on the hospital; a
quarantined row is corrected or rejected one at a time; all of it is audited."""
import base64
import binascii
import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, ctx, html, no_update

from ingest import uploads
from ingest.hospital import Unreadable
from ingest.hospital_load import save_hospital_mapping
from ingest.reprocess import reprocess
from models import audit as audit_model
from models import imports
from models import jobs as job_model
from models import quarantine as quarantine_model
from models.clinical import CANONICAL_UNITS
from models.clock import today as clock_today
from models.db import session_scope
from models.vocab import (IMPORT_KINDS, IMPORT_STATUSES, ITEM_WORDS, JOB_KINDS, MAPPING_FIELDS, QUARANTINE_ERRORS,
                          QUARANTINE_STATUSES, UPLOAD_KINDS)
from web import jobs
from web.access import audit, current_scope, db
from web.grids import quarantine_grid, row_range
from web.i18n import label, tr
from web.inputs import (Cells, Clicks, Code, ImportFile, Key, LongText, Rows, RowsRequest, StoreRef, Text, checked,
                        int_id, next_count)

PAGE_MAX = 500


def _columns():
    def num(field, zh, en, width=96, **more):
        return {"field": field, "headerName": tr(zh, en), "type": "rightAligned", "width": width,
                "valueFormatter": {"function": "d3.format(',')(params.value)"}, **more}

    red = {"function": "params.value > 0 ? {'color': '#b02a37', 'fontWeight': 600} : {}"}
    return [
        {"field": "id", "headerName": tr("批次", "Batch"), "width": 92, "sort": "desc"},
        {"field": "filename", "headerName": tr("文件", "File"), "tooltipField": "filename", "width": 180},
        {"field": "status_name", "headerName": tr("状态", "Status"), "tooltipField": "error", "width": 88,
         "cellStyle": {"function": "params.data.status === 'failed' ? {'color': '#b02a37', 'fontWeight': 600} : {}"}},
        num("quarantined", "隔离", "Quarantined", 92),
        num("open", "待处理", "Open", 92, cellStyle=red),
        num("rows_read", "读取", "Read", 110),
        num("inserted", "新增", "Inserted", 110),
        num("updated", "更新", "Updated", 96),
        num("unchanged", "未变", "Unchanged", 110),
        {"field": "started_at", "headerName": tr("时间", "When"), "width": 165},
        {"field": "kind_name", "headerName": tr("类型", "Kind"), "width": 100},
        {"field": "source", "headerName": tr("来源", "Source"), "width": 110},
        {"field": "format", "headerName": tr("格式", "Format"), "width": 100},
        {"field": "created_by", "headerName": tr("导入人", "By"), "width": 110},
        {"field": "file_hash", "headerName": tr("文件哈希", "File hash"), "width": 130},
    ]


def _batch_id(value) -> int | None:
    return int_id(value)



def _detail(d: dict):
    summary = d["summary"]
    facts = [
        (tr("文件", "File"), d["filename"] or "–"),
        (tr("文件哈希 (SHA-256)", "File hash (SHA-256)"), d["file_hash"] or "–"),
        (tr("导入人", "By"), d["created_by"] or "–"),
        (tr("开始", "Started"), f"{d['started_at']:%Y-%m-%d %H:%M:%S}" if d["started_at"] else "–"),
        (tr("结束", "Finished"), f"{d['finished_at']:%Y-%m-%d %H:%M:%S}" if d["finished_at"] else "–"),
        (tr("状态", "Status"), label(IMPORT_STATUSES, d["status"])),
    ]
    if summary.get("encoding"):
        facts.append((tr("编码", "Encoding"), summary["encoding"]))
    if summary.get("reprocess_of"):
        facts.append((tr("重新处理自", "Re-processes batch"), f"#{summary['reprocess_of']}"))
    items = dbc.Row([dbc.Col([html.Span(k + "：", className="text-muted"), html.Span(v, className="text-break")],
                             className="small", xs=12, md=6 if len(v) < 40 else 12) for k, v in facts], className="g-1")
    extra = []
    if summary.get("error"):
        extra.append(dbc.Alert(tr("无法读取：", "Could not be read: ") + summary["error"], color="danger",
                               className="mt-2 mb-0 py-2"))
    if summary.get("hospital_registered"):
        extra.append(dbc.Alert(tr(f"医院 {d['source']} 首次出现，已自动登记。", f"Hospital {d['source']} was new and has been "
                                  "registered."), color="info", className="mt-2 mb-0 py-2"))
    if summary.get("unplaced_columns"):
        extra.append(html.Div(tr("无法识别的列（数值已隔离）：", "Columns not placed (values quarantined): ")
                              + "、".join(summary["unplaced_columns"]), className="small text-danger mt-1"))
    if summary.get("duplicates"):
        extra.append(html.Div(tr(f"重复行 {len(summary['duplicates'])} 行，只计一次。",
                                 f"{len(summary['duplicates'])} duplicated row(s) counted once."), className="small mt-1"))
    return dbc.Card(dbc.CardBody([
        html.Div(tr(f"批次 #{d['id']}", f"Batch #{d['id']}") + f" · {label(IMPORT_KINDS, d['kind'])}"
                 + (f" · {d['source']}" if d["source"] else ""), className="section-title mt-0", id="ai-detail-title"),
        items, *extra,
        html.Div(tr(f"读取 {summary.get('rows_read', 0):,} 行：新增 {summary.get('inserted', 0):,}，更新 "
                    f"{summary.get('updated', 0):,}，未变 {summary.get('unchanged', 0):,}；"
                    f"隔离 {summary.get('quarantined', 0):,} 条，"
                    f"其中待处理 {d['open']:,} 条。",
                    f"{summary.get('rows_read', 0):,} rows read: {summary.get('inserted', 0):,} inserted, "
                    f"{summary.get('updated', 0):,} updated, {summary.get('unchanged', 0):,} unchanged; "
                    f"{summary.get('quarantined', 0):,} quarantined, {d['open']:,} still open."),
                 className="mt-2", id="ai-detail-counts"),
    ]), className="mb-3")


def register(app):
    register_uploads(app)

    @app.callback(Output("ai-batches", "rowData"), Output("ai-batches", "columnDefs"),
                  Output("ai-batches", "selectedRows"), Input("ai-refresh", "data"), State("ai-batch", "data"))
    @checked
    def ai_batches(_: StoreRef, current: Key):
        current_scope("admin")
        with db() as s:
            rows = imports.batch_list(s, PAGE_MAX)
        for r in rows:
            r["kind_name"] = label(IMPORT_KINDS, r["kind"])
            r["status_name"] = label(IMPORT_STATUSES, r["status"])
        # keep the batch in view; on first load open the newest batch that still has open rows
        chosen = next((r for r in rows if r["id"] == current), None) or next(
            (r for r in rows if r["open"] > 0), None) or (rows[0] if rows else None)
        return rows, _columns(), [chosen] if chosen else []

    @app.callback(Output("ai-detail", "children"), Output("ai-q-container", "children"), Output("ai-batch", "data"),
                  Output("ai-mapping", "value"), Output("ai-mapping", "disabled"), Output("ai-save-mapping", "disabled"),
                  Output("ai-download", "disabled"), Output("ai-reprocess", "disabled"), Output("ai-panel", "style"),
                  Input("ai-batches", "selectedRows"), prevent_initial_call=True)
    @checked
    def ai_select(selected: Rows):
        current_scope("admin")
        row = (selected or [None])[0] if isinstance(selected, list) else None
        batch_id = _batch_id(row.get("id")) if isinstance(row, dict) else None
        hidden = {"display": "none"}
        if batch_id is None:
            return no_update, None, None, "", True, True, True, True, hidden
        with db() as s:
            d = imports.batch_detail(s, batch_id)
        if d is None:
            return (dbc.Alert(tr("没有这个批次。", "No such batch."), color="warning"), None, None, "", True, True, True,
                    True, hidden)
        mapping = json.dumps(d["mapping"], ensure_ascii=False, indent=1) if d["mapping"] else ""
        can_reprocess = (d["open"] > 0 or bool(d["summary"].get("unplaced_columns"))) and \
            d["kind"] in ("hospital", "units", "officers")
        no_hospital = not d["has_hospital"]
        return (_detail(d), quarantine_grid(batch_id), batch_id, mapping, no_hospital, no_hospital,
                d["summary"].get("quarantined", 0) == 0 and d["open"] == 0, not can_reprocess, {})

    @app.callback(Output({"type": "ai-qgrid", "batch": MATCH}, "getRowsResponse"),
                  Input({"type": "ai-qgrid", "batch": MATCH}, "getRowsRequest"))
    @checked
    def ai_quarantine_rows(request: RowsRequest):
        current_scope("admin")
        batch_id = _batch_id((ctx.triggered_id or {}).get("batch"))
        if batch_id is None or not isinstance(request, dict):
            return no_update
        start, end = row_range(request, PAGE_MAX)
        with db() as s:
            rows = imports.quarantine_page(s, batch_id, start, end)
            total = imports.quarantine_count(s, batch_id)
        for r in rows:
            r["status_name"] = label(QUARANTINE_STATUSES, r["status"])
        return {"rowData": rows, "rowCount": total}

    @app.callback(Output("ai-download-file", "data"), Input("ai-download", "n_clicks"), State("ai-batch", "data"),
                  prevent_initial_call=True)
    @checked
    def ai_download(_: Clicks, batch_id: Key):
        current_scope("admin")
        batch_id = _batch_id(batch_id)
        if batch_id is None:
            return no_update
        with db() as s:
            text = imports.quarantine_csv(s, batch_id)
            audit("export_quarantine", f"batch {batch_id}", {"rows": text.count("\n") - 1}, session=s)
        return {"content": text, "filename": f"quarantine_batch_{batch_id}.csv", "type": "text/csv"}

    url = app.server.config["DATABASE_URL"]
    secret = app.server.config["SECRET_KEY"]
    jobs.require("ai-action-result", "admin")

    @app.callback(Output("ai-action-result", "children"), Output("ai-refresh", "data", allow_duplicate=True),
                  Input("ai-reprocess", "n_clicks"), State("ai-batch", "data"), State("ai-refresh", "data"),
                  background=True, manager=jobs.manager(app),
                  progress=[Output("ai-reprocess-progress", "value"), Output("ai-reprocess-progress", "max")],
                  running=[(Output("ai-reprocess", "disabled"), True, False)], prevent_initial_call=True)
    @checked
    @jobs.recorded("reprocess", url, label=lambda _c, batch_id, _r: f"batch {_batch_id(batch_id)}")
    def ai_reprocess(set_progress: Any, _: Clicks, batch_id: Key, refresh: StoreRef):
        who = jobs.caller() or {}
        batch_id = _batch_id(batch_id)
        if who.get("role") != "admin" or batch_id is None:  # jobs.require refused non-admins already
            jobs.current().outcome("未执行", "Not run")
            return no_update, no_update
        steps: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            steps.setdefault(step, len(steps))
            set_progress((min(len(steps), 4) - 1 + (done / total if total else 1), 4))

        try:
            summary = reprocess(url, batch_id, user=who.get("username"), secret=secret, progress=progress)
        except Unreadable as exc:
            jobs.current().outcome("未能重新处理：" + str(exc)[:200], "Not re-processed: " + str(exc)[:200])
            return dbc.Alert(jobs.words(who, "未能重新处理：", "Not re-processed: ") + str(exc), color="danger"), no_update
        set_progress((4, 4))
        with session_scope(url) as s:
            audit_model.record(s, action="reprocess_quarantine", target=f"batch {batch_id}",
                               detail={"new_batch": summary["batch_id"], "resolved": summary.get("resolved", 0)},
                               user_id=who.get("id"), username=who.get("username"), ip=who.get("ip"))
        resolved, still = summary.get("resolved", 0), summary.get("still_open", 0)
        placed = summary.get("kept_raw_placed", 0)
        zh = (f"已在新批次 #{summary['batch_id']} 中重新处理：{resolved} 行已导入，{still} 行仍待处理"
              + (f"；{placed} 项原样保留的项目已按映射导入。" if placed else "。"))
        en = (f"Re-processed in new batch #{summary['batch_id']}: {resolved} row(s) loaded, {still} still open"
              + (f"; {placed} item(s) kept raw now placed by the mapping." if placed else "."))
        jobs.current().outcome(zh, en, batch_id=summary["batch_id"], resolved=resolved, still_open=still)
        return dbc.Alert(jobs.words(who, zh, en), color="success" if still == 0 else "warning",
                         id="ai-reprocess-alert"), next_count(refresh)

    @app.callback(Output("ai-mapping-result", "children"), Input("ai-save-mapping", "n_clicks"),
                  State("ai-mapping", "value"), State("ai-batch", "data"), prevent_initial_call=True)
    @checked
    def ai_save_mapping(_: Clicks, text: LongText, batch_id: Key):
        current_scope("admin")
        batch_id = _batch_id(batch_id)
        if batch_id is None:
            return no_update
        try:
            mapping = json.loads(text) if (text or "").strip() else None
        except json.JSONDecodeError as exc:
            return dbc.Alert(tr(f"不是有效的 JSON：{exc.msg}（第 {exc.lineno} 行）",
                                f"Not valid JSON: {exc.msg} (line {exc.lineno})"), color="danger")
        try:
            with db() as s:
                d = imports.batch_detail(s, batch_id)
                if d is None or not d["has_hospital"]:
                    return dbc.Alert(tr("此批次不是医院数据，没有映射。", "This batch has no hospital mapping."), color="warning")
                save_hospital_mapping(s, d["source"], mapping)
                audit("change_mapping", f"hospital {d['source']}", {"mapping": mapping}, session=s)
        except Unreadable as exc:
            return dbc.Alert(tr("映射有误：", "Mapping refused: ") + str(exc), color="danger")
        return dbc.Alert(tr(f"已保存医院 {d['source']} 的映射。现在可以重新处理。",
                            f"Mapping of hospital {d['source']} saved. You can re-process now."), color="success",
                         id="ai-mapping-saved")


def _summary_view(summary: dict, filename: str, kind: str) -> html.Div:
    """The dry run's facts: rows, inserted / updated / unchanged / quarantined, unplaced columns, encoding."""
    facts = [
        (tr("文件", "File"), filename),
        (tr("类型", "Kind"), label(UPLOAD_KINDS, kind)),
        (tr("格式", "Format"), str(summary.get("format") or "–")),
        (tr("编码", "Encoding"), str(summary.get("encoding") or "–")),
        (tr("读取行数", "Rows read"), f"{summary.get('rows_read', 0):,}"),
        (tr("将新增", "Would insert"), f"{summary.get('inserted', 0):,}"),
        (tr("将更新", "Would update"), f"{summary.get('updated', 0):,}"),
        (tr("未变", "Unchanged"), f"{summary.get('unchanged', 0):,}"),
        (tr("将隔离", "Would quarantine"), f"{summary.get('quarantined', 0):,}"),
    ]
    body = [html.Table(html.Tbody([html.Tr([html.Th(k, className="pe-3 fw-normal text-muted"), html.Td(v)])
                                   for k, v in facts]), className="small", id="ai-dry-facts")]
    if summary.get("unplaced_columns"):
        body.append(html.Div(tr("无法识别的列：", "Columns not placed: ") + "、".join(map(str, summary["unplaced_columns"])),
                             className="small text-danger", id="ai-dry-unplaced"))
    errors = summary.get("errors") or []
    if errors:
        body.append(html.Ul([html.Li(f"{tr('第', 'Row ')}{e.get('row')}{tr(' 行', '')} · {e.get('field') or ''}: "
                                     f"{e.get('reason')}") for e in errors[:10]], className="small mb-0"))
    body.append(html.Div(tr("试运行，未写入任何数据。确认后导入。", "Dry run: nothing was written. Confirm to load."),
                         className="small text-muted mt-1"))
    return dbc.Alert(body, color="light", className="mb-0", id="ai-dry-summary")


def _refusal(text: str):
    return dbc.Alert(text, color="danger", className="mb-0", id="ai-dry-refused")


def _job_line(j: dict):
    pct = int(round(100 * (j["progress"] or 0)))
    return html.Div([
        html.Div(tr(f"后台任务 #{j['id']}：{label(JOB_KINDS, j['kind'])} {j['label']}（{j['username']}）",
                    f"Job #{j['id']}: {label(JOB_KINDS, j['kind'])} {j['label']} ({j['username']})"), className="small"),
        dbc.Progress(value=pct, label=f"{pct}%", style={"height": "14px"}),
    ], className="mb-1")


def register_uploads(app):
    url = app.server.config["DATABASE_URL"]
    secret = app.server.config["SECRET_KEY"]
    instance = app.server.instance_path
    cfg = app.server.config["PORTAL_CONFIG"]
    limit = int(float(getattr(cfg, "upload_max_mb", 5)) * 1024 * 1024)
    fixed_today = app.server.config.get("PORTAL_TODAY")

    @app.callback(Output("ai-up-target", "options"), Output("ai-up-target", "value"), Output("ai-up-target", "disabled"),
                  Output("ai-up-target", "placeholder"), Input("ai-up-kind", "value"))
    @checked
    def ai_up_targets(kind: Code):
        current_scope("admin")
        kind = kind if kind in UPLOAD_KINDS else "hospital"
        with db() as s:
            targets = imports.upload_targets(s, kind)
        options = [{"label": f"{t['value']} · {t['name']}", "value": t["value"]} for t in targets]
        if kind in ("units", "officers"):
            return [], None, True, tr("名册无需选择", "Nothing to choose for a roster")
        return options, None, False, tr("选择医院", "Choose the hospital") if kind == "hospital" else \
            tr("选择活动", "Choose the campaign")

    @app.callback(Output("ai-dry", "children"), Output("ai-upload-token", "data"), Output("ai-confirm", "disabled"),
                  Input("ai-upload", "contents"), State("ai-upload", "filename"), State("ai-up-kind", "value"),
                  State("ai-up-target", "value"), prevent_initial_call=True)
    @checked
    def ai_upload(contents: ImportFile, filename: Text, kind: Code, target: Code):
        scope = current_scope("admin")
        name = str(filename or "upload")[:200]
        if kind not in UPLOAD_KINDS:
            return _refusal(tr("请选择文件类型。", "Choose the kind of file.")), None, True
        if not contents or "," not in contents:
            return _refusal(tr("没有收到文件。", "No file arrived.")), None, True
        encoded = contents.split(",", 1)[1]
        if len(encoded) * 3 // 4 > limit + 3:
            return _refusal(tr(f"文件太大：最多 {limit / 1048576:g} MB。", f"The file is too large: at most "
                               f"{limit / 1048576:g} MB.")), None, True
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return _refusal(tr("文件无法读取（上传内容损坏）。", "The file cannot be read (the upload is damaged).")), None, True
        if len(data) > limit:
            return _refusal(tr(f"文件太大：最多 {limit / 1048576:g} MB。", f"The file is too large: at most "
                               f"{limit / 1048576:g} MB.")), None, True
        target = str(target) if target not in (None, "") else None
        if kind in ("hospital", "activity"):
            with db() as s:
                known = {t["value"] for t in imports.upload_targets(s, kind)}
            if target not in known:
                return _refusal(tr("请先选择医院或活动。", "Choose the hospital or the campaign first.")), None, True
        try:
            summary = uploads.dry_run(url, kind, target, data, name, secret=secret, today=clock_today(fixed_today))
        except Unreadable as exc:
            audit("upload_import", name, {"kind": kind, "target": target, "size": len(data), "refused": str(exc)[:300]})
            return _refusal(tr("无法读取这个文件：", "This file cannot be read: ") + str(exc)), None, True
        token = uploads.store(instance, data, kind=kind, target=target, filename=name, user=scope.username)
        audit("upload_import", name, {"kind": kind, "target": target, "size": len(data), "token": token,
                                      "rows": summary.get("rows_read", 0), "quarantined": summary.get("quarantined", 0)})
        return _summary_view(summary, name, kind), token, False

    jobs.require("ai-job-result", "admin")

    def _upload_name(_clicks, token, _refresh):
        try:
            return uploads.read(instance, token)[0]["filename"]
        except Unreadable:
            return None

    @app.callback(Output("ai-job-result", "children"), Output("ai-refresh", "data", allow_duplicate=True),
                  Input("ai-confirm", "n_clicks"), State("ai-upload-token", "data"), State("ai-refresh", "data"),
                  background=True, manager=jobs.manager(app),
                  progress=[Output("ai-job-progress", "value"), Output("ai-job-progress", "max")],
                  running=[(Output("ai-confirm", "disabled"), True, False)], prevent_initial_call=True)
    @checked
    @jobs.recorded("import", url, label=_upload_name,
                   key=lambda _c, token, _r: f"upload:{token}" if isinstance(token, str) and uploads.TOKEN.match(token)
                   else None)
    def ai_confirm(set_progress: Any, _: Clicks, token: Code, refresh: StoreRef):
        who = jobs.caller() or {}
        run = jobs.current()
        if who.get("role") != "admin":  # jobs.require refused the request already: defence in depth
            return dbc.Alert(jobs.words(who, "无权执行此操作。", "You may not do this."), color="warning"), no_update
        if run.repeat_of is not None:
            first = run.repeat_of
            batch = (first.get("result") or {}).get("batch_id")
            return dbc.Alert(jobs.words(who, f"这个文件已确认过（后台任务 #{first['id']}" + (f"，批次 #{batch}" if batch else "")
                                        + "），未再次导入。",
                                        f"This upload was confirmed already (job #{first['id']}"
                                        + (f", batch #{batch}" if batch else "") + "); nothing was loaded again."),
                             color="info", id="ai-job-repeat"), no_update
        if not isinstance(token, str) or not uploads.TOKEN.match(token):
            run.outcome("没有上传的文件", "No upload")
            return dbc.Alert(jobs.words(who, "请先上传文件。", "Upload a file first."), color="warning"), no_update
        steps: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            steps.setdefault(step, len(steps))
            set_progress((min(len(steps), 6) - 1 + (done / total if total else 1), 6))

        try:
            summary = uploads.load(url, instance, token, user=who.get("username"), progress=progress, secret=secret,
                                   today=clock_today(fixed_today))
        except Unreadable as exc:
            run.outcome("未能导入：" + str(exc)[:200], "Not loaded: " + str(exc)[:200],
                        batch_id=getattr(exc, "batch_id", None))
            with session_scope(url) as s:
                audit_model.record(s, action="confirm_import", target=f"upload {token}", detail={"error": str(exc)[:300]},
                                   user_id=who.get("id"), username=who.get("username"), ip=who.get("ip"))
            return dbc.Alert(jobs.words(who, "未能导入：", "Not loaded: ") + str(exc), color="danger"), next_count(refresh)
        set_progress((6, 6))
        batch = summary.get("batch_id")
        with session_scope(url) as s:
            audit_model.record(s, action="confirm_import", target=f"batch {batch}",
                               detail={"upload": token, "rows": summary.get("rows_read"),
                                       "inserted": summary.get("inserted"), "quarantined": summary.get("quarantined")},
                               user_id=who.get("id"), username=who.get("username"), ip=who.get("ip"))
        zh = (f"批次 #{batch}：读取 {summary.get('rows_read', 0):,} 行，新增 {summary.get('inserted', 0):,}，"
              f"更新 {summary.get('updated', 0):,}，未变 {summary.get('unchanged', 0):,}，隔离 {summary.get('quarantined', 0):,}")
        en = (f"Batch #{batch}: {summary.get('rows_read', 0):,} rows read, {summary.get('inserted', 0):,} inserted, "
              f"{summary.get('updated', 0):,} updated, {summary.get('unchanged', 0):,} unchanged, "
              f"{summary.get('quarantined', 0):,} quarantined")
        run.outcome(zh, en, batch_id=batch)
        return dbc.Alert(jobs.words(who, "已导入。", "Loaded. ") + jobs.words(who, zh, en), color="success",
                         id="ai-job-done"), next_count(refresh)

    @app.callback(Output("ai-running", "children"), Output("ai-refresh", "data", allow_duplicate=True),
                  Input("ai-tick", "n_intervals"), State("ai-running", "children"), State("ai-refresh", "data"),
                  prevent_initial_call=True)
    @checked
    def ai_running(_: Clicks, shown: Any, refresh: StoreRef):
        current_scope("admin")
        with db() as s:
            running = job_model.running(s, ("import", "reprocess"))
        if not running:
            # a job just ended (shown a moment ago, gone now): refresh the batch list once
            return None, next_count(refresh) if shown else no_update
        return [html.Div(tr("正在进行的导入（刷新页面不影响）：", "Imports running (a page reload does not stop them):"),
                         className="small text-muted")] + [_job_line(j) for j in running], no_update

    @app.callback(Output("ai-map-column", "options"), Output("ai-map-field", "options"), Input("ai-batch", "data"))
    @checked
    def ai_map_options(batch_id: Key):
        current_scope("admin")
        batch_id = int_id(batch_id)
        with db() as s:
            columns = imports.unplaced_columns(s, batch_id) if batch_id else []
        fields = [{"label": label(MAPPING_FIELDS, "bp"), "value": "bp"}] + [
            {"label": f"{label(ITEM_WORDS, code)} ({CANONICAL_UNITS[code]})", "value": code}
            for code in CANONICAL_UNITS if code in ITEM_WORDS] + [{"label": label(MAPPING_FIELDS, "ignore"), "value": "ignore"}]
        return [{"label": c, "value": c} for c in columns], fields

    @app.callback(Output("ai-map-result", "children"), Output("ai-mapping", "value", allow_duplicate=True),
                  Input("ai-map-save", "n_clicks"), State("ai-map-column", "value"), State("ai-map-field", "value"),
                  State("ai-map-unit", "value"), State("ai-batch", "data"), prevent_initial_call=True)
    @checked
    def ai_map_save(_: Clicks, column: Text, field: Code, unit: Code, batch_id: Key):
        current_scope("admin")
        batch_id = int_id(batch_id)
        if batch_id is None:
            return no_update, no_update
        allowed = {"bp", "ignore", *CANONICAL_UNITS}
        column = (column or "").strip()
        if not column or field not in allowed:
            return dbc.Alert(tr("请选择列和项目。", "Choose the column and the item."), color="warning"), no_update
        try:
            with db() as s:
                d = imports.batch_detail(s, batch_id)
                if d is None or not d["has_hospital"]:
                    return dbc.Alert(tr("此批次不是医院数据，没有映射。", "This batch has no hospital mapping."),
                                     color="warning"), no_update
                mapping = json.loads(json.dumps(d["mapping"] or {}))
                target = {"field": field, "unit": unit.strip()} if (unit or "").strip() and field in CANONICAL_UNITS \
                    else field
                mapping.setdefault("columns", {})[column] = target
                save_hospital_mapping(s, d["source"], mapping)
                audit("change_mapping", f"hospital {d['source']}", {"column": column, "target": target}, session=s)
        except Unreadable as exc:
            return dbc.Alert(tr("映射有误：", "Mapping refused: ") + str(exc), color="danger"), no_update
        return (dbc.Alert(tr(f"医院 {d['source']} 的列“{column}”已映射，之后的文件自动使用。现在可以重新处理。",
                             f"Column “{column}” of hospital {d['source']} mapped; its later files use it. You can "
                             "re-process now."), color="success", id="ai-map-saved"),
                json.dumps(mapping, ensure_ascii=False, indent=1))

    @app.callback(Output("ai-qrow", "data"), Output("ai-qrow-detail", "children"), Output("ai-qcell", "options"),
                  Input({"type": "ai-qgrid", "batch": ALL}, "cellClicked"), Input("ai-qresult", "children"),
                  State("ai-qrow", "data"), prevent_initial_call=True)
    @checked
    def ai_qrow(cells: Cells, _result: Any, current: Key):
        current_scope("admin")
        clicked = next((c for c in (cells or []) if isinstance(c, dict) and c.get("rowId")), None)
        row_id = int_id(clicked.get("rowId")) if clicked and ctx.triggered_id != "ai-qresult" else int_id(current)
        if row_id is None:
            return no_update, no_update, no_update
        with db() as s:
            q = quarantine_model.row(s, row_id)
        if q is None:
            return None, label(QUARANTINE_ERRORS, "no_row"), []
        facts = [html.Div([html.Span(tr("行号：", "Row: "), className="text-muted"), str(q["row"] or "–"), " · ",
                           html.Span(tr("状态：", "Status: "), className="text-muted"),
                           label(QUARANTINE_STATUSES, q["status"])]),
                 html.Div([html.Span(tr("原因：", "Reason: "), className="text-muted"), q["reason"]], id="ai-qrow-reason")]
        if q["decision_note"]:
            facts.append(html.Div([html.Span(tr("处理：", "Decision: "), className="text-muted"),
                                   f"{q['decision_note']}（{q['decided_by']}）"]))
        cells_ = q["cells"] or {}
        if cells_:
            facts.append(html.Table(html.Tbody([html.Tr([html.Th(k, className="pe-3 fw-normal text-muted"),
                                                         html.Td(str(v))]) for k, v in cells_.items()]),
                                    className="small mt-1"))
        else:
            facts.append(html.Pre(json.dumps(q["raw"], ensure_ascii=False, indent=1, default=str)[:4000],
                                  className="small mt-1"))
        return q["id"], facts, [{"label": k, "value": k} for k in cells_]

    @app.callback(Output("ai-qresult", "children"), Output("ai-refresh", "data", allow_duplicate=True),
                  Input("ai-qcorrect", "n_clicks"), Input("ai-qreject", "n_clicks"), State("ai-qrow", "data"),
                  State("ai-qcell", "value"), State("ai-qvalue", "value"), State("ai-qnote", "value"),
                  State("ai-refresh", "data"), prevent_initial_call=True)
    @checked
    def ai_qdecide(_c: Clicks, _r: Clicks, row_id: Key, cell: Text, value: Text, note: Text, refresh: StoreRef):
        scope = current_scope("admin")
        row_id = int_id(row_id)
        if row_id is None:
            return dbc.Alert(tr("请先选择一行。", "Select a row first."), color="warning"), no_update
        try:
            with db() as s:
                if ctx.triggered_id == "ai-qcorrect":
                    change = quarantine_model.correct(s, row_id, str(cell or ""), str(value or ""), scope.username)
                    audit("correct_quarantine", f"quarantine {row_id}", change, session=s)
                    msg = tr(f"已修正“{change['cell']}”。重新处理该批次即可导入。",
                             f"“{change['cell']}” corrected. Re-process the batch to load it.")
                else:
                    quarantine_model.reject(s, row_id, str(note or ""), scope.username)
                    audit("reject_quarantine", f"quarantine {row_id}", {"reason": str(note or "")[:400]}, session=s)
                    msg = tr("已驳回，这一行不会导入。", "Rejected: this row will not be loaded.")
        except quarantine_model.QuarantineError as exc:
            return dbc.Alert(label(QUARANTINE_ERRORS, exc.code), color="warning", id="ai-qrefused"), no_update
        return dbc.Alert(msg, color="success", id="ai-qdone"), next_count(refresh)
