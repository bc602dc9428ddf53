"""/admin/imports: every callback is for admins only; batch ids from the browser are looked up again."""
import json

import dash_bootstrap_components as dbc
from dash import MATCH, Input, Output, State, ctx, html, no_update
from flask import current_app

from ingest.hospital import Unreadable
from ingest.hospital_load import save_hospital_mapping
from ingest.reprocess import reprocess
from models import imports
from models.vocab import IMPORT_KINDS, IMPORT_STATUSES, QUARANTINE_STATUSES
from web.access import audit, current_scope, db
from web.grids import quarantine_grid
from web.i18n import label, tr
from web.inputs import Clicks, Key, LongText, Rows, RowsRequest, StoreRef, checked, int_id, next_count

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
        can_reprocess = d["open"] > 0 and d["kind"] in ("hospital", "units", "officers")
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
        start = max(0, int(request.get("startRow") or 0))
        end = min(start + PAGE_MAX, max(start, int(request.get("endRow") or start + 100)))
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

    @app.callback(Output("ai-action-result", "children"), Output("ai-refresh", "data", allow_duplicate=True),
                  Input("ai-reprocess", "n_clicks"), State("ai-batch", "data"), State("ai-refresh", "data"),
                  prevent_initial_call=True)
    @checked
    def ai_reprocess(_: Clicks, batch_id: Key, refresh: StoreRef):
        scope = current_scope("admin")
        batch_id = _batch_id(batch_id)
        if batch_id is None:
            return no_update, no_update
        try:
            summary = reprocess(current_app.config["DATABASE_URL"], batch_id, user=scope.username,
                                secret=current_app.config["SECRET_KEY"])
        except Unreadable as exc:
            return dbc.Alert(tr("未能重新处理：", "Not re-processed: ") + str(exc), color="danger"), no_update
        audit("reprocess_quarantine", f"batch {batch_id}", {"new_batch": summary["batch_id"],
                                                             "resolved": summary.get("resolved", 0)})
        resolved, still = summary.get("resolved", 0), summary.get("still_open", 0)
        placed = summary.get("kept_raw_placed", 0)
        return dbc.Alert(tr(f"已在新批次 #{summary['batch_id']} 中重新处理：{resolved} 行已导入，{still} 行仍待处理"
                            + (f"；{placed} 项原样保留的项目已按映射导入。" if placed else "。"),
                            f"Re-processed in new batch #{summary['batch_id']}: {resolved} row(s) loaded, {still} still open"
                            + (f"; {placed} item(s) kept raw now placed by the mapping." if placed else ".")),
                         color="success" if still == 0 else "warning", id="ai-reprocess-alert"), next_count(refresh)

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
