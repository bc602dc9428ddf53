"""/admin/jobs: admins only; a server-paged grid of the job table, newest first."""
import hashlib
import json

from dash import ALL, Input, Output, State, no_update

from models import jobs as job_model
from models.vocab import JOB_KINDS, JOB_STATUSES
from web.access import current_scope, db
from web.grids import first_request, row_range, server_grid
from web.i18n import label, tr
from web.inputs import Clicks, Code, RowsRequests, checked

GRID = {"type": "aj-grid", "v": ALL}


def _columns():
    return [
        {"field": "id", "headerName": tr("任务", "Job"), "maxWidth": 90},
        {"field": "kind_name", "headerName": tr("类型", "Kind"), "maxWidth": 160},
        {"field": "status_name", "headerName": tr("状态", "Status"), "maxWidth": 110,
         "cellStyle": {"function": "params.data && params.data.status === 'failed' ? {'color': '#b02a37', "
                                   "'fontWeight': 600} : {}"}},
        {"field": "result_text", "headerName": tr("结果", "Result"), "minWidth": 260, "flex": 2,
         "tooltipField": "result_text"},
        {"field": "username", "headerName": tr("发起人", "Started by"), "maxWidth": 130},
        {"field": "started", "headerName": tr("开始", "Started"), "maxWidth": 170},
        {"field": "duration", "headerName": tr("用时", "Duration"), "maxWidth": 110},
        {"field": "progress_text", "headerName": tr("进度", "Progress"), "maxWidth": 100},
        {"field": "label", "headerName": tr("对象", "On"), "tooltipField": "label"},
    ]


def _duration(seconds) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def _rows(rows):
    out = []
    for j in rows:
        result = j["result"] or {}
        text = j["error"] if j["status"] == "failed" else tr(result.get("zh", ""), result.get("en", ""))
        out.append({"id": j["id"], "kind": j["kind"], "status": j["status"], "kind_name": label(JOB_KINDS, j["kind"]),
                    "status_name": label(JOB_STATUSES, j["status"]), "progress_text": f"{round(100 * j['progress'])}%",
                    "username": j["username"], "started": f"{j['started_at']:%Y-%m-%d %H:%M:%S}" if j["started_at"] else "",
                    "duration": _duration(j["seconds"]), "label": j["label"], "result_text": text})
    return out


def _clean(value, allowed) -> str | None:
    return value if isinstance(value, str) and value in allowed else None


def register(app):
    @app.callback(Output("aj-grid-wrap", "children"), Input("aj-kind", "value"), Input("aj-status", "value"))
    @checked
    def aj_grid(kind: Code, status: Code):
        current_scope("admin")
        version = hashlib.sha1(json.dumps([kind, status]).encode()).hexdigest()[:12]
        return server_grid({"type": "aj-grid", "v": version}, _columns(), row_id="id", height="560px",
                           empty_text=tr("还没有后台任务", "No background jobs yet"))

    @app.callback(Output(GRID, "getRowsResponse"), Output("aj-count", "children"), Input(GRID, "getRowsRequest"),
                  State("aj-kind", "value"), State("aj-status", "value"))
    @checked
    def aj_rows(requests: RowsRequests, kind: Code, status: Code):
        current_scope("admin")
        request = first_request(requests)
        if request is None:
            return [no_update] * len(requests if isinstance(requests, list) else []), no_update
        start, end = row_range(request)
        kind, status = _clean(kind, JOB_KINDS), _clean(status, JOB_STATUSES)
        with db() as s:
            rows = job_model.page(s, start, end, kind=kind, status=status)
            total = job_model.count(s, kind=kind, status=status)
        response = {"rowData": _rows(rows), "rowCount": total}
        return [response if r is request else no_update for r in requests], tr(f"共 {total:,} 个任务", f"{total:,} jobs")

    @app.callback(Output("aj-kind", "value"), Input("aj-tick", "n_intervals"), State("aj-kind", "value"),
                  prevent_initial_call=True)
    @checked
    def aj_tick(_: Clicks, kind: Code):
        """Every few seconds while a job runs, the grid is rebuilt (same filters) so it shows its progress."""
        current_scope("admin")
        with db() as s:
            busy = bool(job_model.running(s, limit=1))
        return (kind if kind in JOB_KINDS else None) if busy else no_update
