"""/admin/audit: every callback is for admins and auditors only (the on-request data export for
admins only); every filter value from the browser is validated again, and reading or exporting
the log is itself audit-logged."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import MATCH, Input, Output, State, html, no_update

from models import audit as audit_model
from models.vocab import AUDIT_ACTIONS, ROLE_WORDS
from web.access import AUDIT_ROLES, AccessDenied, audit, current_scope, db
from web.clock import today
from web.grids import row_range, server_grid
from web.i18n import label, tr
from web.inputs import Clicks, Code, Codes, Date, RowsRequest, StoreRef, Text, checked

PAGE_MAX = 500
FILTERS = [Input("aa-person", "value"), Input("aa-badge", "value"), Input("aa-action", "value"),
           Input("aa-dates", "start_date"), Input("aa-dates", "end_date"), Input("aa-flagged", "value")]


def _text(value, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise AccessDenied("bad filter")
    return value.strip() or None


def _day(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise AccessDenied("bad date")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise AccessDenied("bad date") from None


def parse_filter(person, badge, action, start, end, flagged) -> audit_model.AuditFilter:
    """The browser's filter values, each checked (a forged value is refused with 403)."""
    action = _text(action, 40)
    if action is not None and not audit_model.known_action(action):
        raise AccessDenied("unknown action")
    if flagged not in (None, [], ["flagged"]):
        raise AccessDenied("bad filter")
    since, until = _day(start), _day(end)
    if since and until and since > until:
        since, until = until, since
    return audit_model.AuditFilter(person=_text(person, 60), badge=_text(badge, 20), action=action,
                                   since=since, until=until, flagged=flagged == ["flagged"])


def _filter_from_store(data) -> audit_model.AuditFilter:
    if data is None:
        return audit_model.AuditFilter()
    if not isinstance(data, dict):
        raise AccessDenied("bad filter")
    return parse_filter(data.get("person"), data.get("badge"), data.get("action"), data.get("since"),
                        data.get("until"), ["flagged"] if data.get("flagged") is True else [])


def columns() -> list[dict]:
    return [
        {"field": "at", "headerName": tr("时间", "When"), "width": 165},
        {"field": "username", "headerName": tr("操作人", "Person"), "width": 120},
        {"field": "role_name", "headerName": tr("角色", "Role"), "width": 110},
        {"field": "action_name", "headerName": tr("操作", "Action"), "width": 170,
         "cellStyle": {"function": "params.data && params.data.flagged ? {'color': '#b02a37', 'fontWeight': 600} : {}"}},
        {"field": "target", "headerName": tr("对象", "Whom"), "width": 170, "tooltipField": "target"},
        {"field": "detail", "headerName": tr("详情", "Detail"), "flex": 1, "minWidth": 160, "tooltipField": "detail"},
        {"field": "filters", "headerName": tr("筛选条件", "Filter"), "flex": 1, "minWidth": 160, "tooltipField": "filters"},
        {"field": "subjects", "headerName": tr("名单人数", "Officers listed"), "width": 110, "type": "rightAligned"},
        {"field": "ip", "headerName": tr("来源地址", "From"), "width": 120},
    ]


def label_rows(rows: list[dict]) -> list[dict]:
    for r in rows:
        r["action_name"] = label(AUDIT_ACTIONS, r["action"]) + (tr(" ⚑", " ⚑") if r["flagged"] else "")
        r["role_name"] = label(ROLE_WORDS, r["role"]) if r["role"] else ""
    return rows


def csv_words() -> dict[str, str]:
    words = {"at": tr("时间", "When"), "username": tr("操作人", "Person"), "role": tr("角色", "Role"),
             "action": tr("操作", "Action"), "target": tr("对象", "Whom"), "subjects": tr("名单人数", "Officers listed"),
             "ip": tr("来源地址", "From"), "filters": tr("筛选条件", "Filter"), "detail": tr("详情", "Detail")}
    words.update({f"action:{c}": label(AUDIT_ACTIONS, c) for c in AUDIT_ACTIONS})
    words.update({f"role:{c}": label(ROLE_WORDS, c) for c in ROLE_WORDS})
    return words


def register(app):
    @app.callback(Output("aa-person", "options"), Input("aa-filter", "id"))
    @checked
    def aa_people(_: StoreRef):
        current_scope(*AUDIT_ROLES)
        with db() as s:
            return [{"label": u, "value": u} for u in audit_model.people(s)]

    @app.callback(Output("aa-grid-wrap", "children"), Output("aa-count", "children"), Output("aa-filter", "data"),
                  *FILTERS)
    @checked
    def aa_grid(person: Code, badge: Text, action: Code, start: Date, end: Date, flagged: Codes):
        current_scope(*AUDIT_ROLES)
        f = parse_filter(person, badge, action, start, end, flagged)
        with db() as s:
            # recorded first, so the count and the grid (which lists this very view too) agree
            audit("view_audit", "audit_log", {"filters": f.as_dict()}, session=s)
            total = audit_model.count(s, f)
        version = hashlib.sha1(json.dumps(f.as_dict(), sort_keys=True).encode()).hexdigest()[:12]
        grid = server_grid({"type": "aa-grid", "v": version}, columns(), row_id="id", height="560px",
                           empty_text=tr("没有符合条件的记录", "No matching entries"))
        return grid, tr(f"共 {total:,} 条", f"{total:,} entries"), f.as_dict()

    @app.callback(Output({"type": "aa-grid", "v": MATCH}, "getRowsResponse"),
                  Input({"type": "aa-grid", "v": MATCH}, "getRowsRequest"), State("aa-filter", "data"))
    @checked
    def aa_rows(request: RowsRequest, data: StoreRef):
        current_scope(*AUDIT_ROLES)
        if not isinstance(request, dict):
            return no_update
        f = _filter_from_store(data)
        start, end = row_range(request, PAGE_MAX)
        with db() as s:
            rows = audit_model.page(s, f, start, end)
            total = audit_model.count(s, f)
        return {"rowData": label_rows(rows), "rowCount": total}

    @app.callback(Output("aa-download-file", "data"), Input("aa-export", "n_clicks"), State("aa-filter", "data"),
                  prevent_initial_call=True)
    @checked
    def aa_export(n_clicks: Clicks, data: StoreRef):
        current_scope(*AUDIT_ROLES)
        if not n_clicks:
            return no_update
        f = _filter_from_store(data)
        with db() as s:
            text, rows = audit_model.csv_text(s, f, csv_words())
            audit("export_audit", "audit_log", {"format": "csv", "rows": rows, "filters": f.as_dict()}, session=s)
        return {"content": text, "filename": f"audit_log_{today():%Y%m%d}.csv", "type": "text/csv"}

    @app.callback(Output("aa-data-links", "children"), Input("aa-data-badge", "value"), prevent_initial_call=True)
    @checked
    def aa_data_links(badge: Text):
        current_scope("admin")
        badge = _text(badge, 20)
        if badge is None:
            return None
        href = f"/officers/{quote(badge, safe='')}/data"
        return html.Div([
            html.A(tr("下载 JSON", "Download JSON"), href=href + ".json", className="btn btn-outline-primary btn-sm me-2",
                   id="aa-data-json"),
            html.A(tr("可打印文档", "Printable document"), href=href + ".html", target="_blank",
                   className="btn btn-outline-primary btn-sm", id="aa-data-html"),
            dbc.FormText(tr("警号不存在时下载会被拒绝。", "A badge that does not exist is refused."), className="ms-2"),
        ])
