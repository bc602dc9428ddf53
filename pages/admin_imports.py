"""/admin/imports : import batches, their quarantine (browse, download, re-process), hospital mappings (admins only)."""
import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.shell import no_access


def layout(**_):
    if current_user.role != "admin":
        return no_access()
    return html.Div([
        html.Div(tr("数据导入", "Imports"), className="page-title", id="ai-title"),
        html.Div(tr("每次导入（名册、医院体检文件、HL7/FHIR 消息）都是一个批次。未能导入的行不会丢弃，"
                    "而是连同原始内容和原因保存在隔离区：可在此查看、下载，修正映射后重新处理。",
                    "Every import (roster, hospital file, HL7/FHIR message) is a batch. Rows that could not be loaded are "
                    "never dropped: they are kept in quarantine with their raw content and the reason. Browse and "
                    "download them here, and re-process them after fixing a mapping."),
                 className="page-sub"),
        dcc.Store(id="ai-refresh", data=0),
        dcc.Store(id="ai-batch", data=None),
        dcc.Download(id="ai-download-file"),
        dbc.Card(dbc.CardBody([
            html.Div([html.Span(tr("导入批次", "Batches"), className="section-title mt-0 me-2"),
                      html.Span(tr("点击一行查看其隔离行", "Click a row to see its quarantine"),
                                className="text-muted small")], className="mb-2"),
            dag.AgGrid(id="ai-batches", columnDefs=[], rowData=[], getRowId="params.data.id",
                       dashGridOptions={"rowSelection": {"mode": "singleRow", "checkboxes": False,
                                                         "enableClickSelection": True},
                                        "localeText": {"noRowsToShow": tr("还没有导入批次", "No imports yet")}},
                       defaultColDef={"resizable": True, "sortable": True, "minWidth": 70},
                       style={"height": "300px"}, className="ag-theme-alpine"),
        ]), className="mb-3"),
        html.Div(id="ai-detail", children=dbc.Alert(
            tr("选择上面的一个批次，查看其隔离行、下载或重新处理。", "Select a batch above to browse, download or re-process "
               "its quarantine."), color="light", id="ai-hint")),
        html.Div(id="ai-panel", style={"display": "none"}, children=[
        dbc.Card(dbc.CardBody([
            dbc.Row([
                dbc.Col(html.Div(tr("隔离行", "Quarantined rows"), className="section-title mt-0"), width="auto"),
                dbc.Col(dbc.Button(tr("下载 CSV", "Download CSV"), id="ai-download", color="secondary", outline=True,
                                   size="sm", disabled=True), width="auto"),
                dbc.Col(dbc.Button(tr("重新处理未解决的行", "Re-process open rows"), id="ai-reprocess", color="primary",
                                   size="sm", disabled=True), width="auto"),
            ], className="g-2 align-items-center mb-2"),
            dcc.Loading(html.Div(id="ai-action-result"), delay_show=200),
            html.Div(id="ai-q-container"),
        ]), className="mb-3", id="ai-q-card"),
        dbc.Card(dbc.CardBody([
            html.Div(tr("医院映射", "Hospital mapping"), className="section-title mt-0"),
            html.Div(tr("JSON 格式：columns（表头 → 字段，或 {field, unit}）、items（长表项目名/消息代码 → 字段）、"
                        "units（字段 → 单位）、ignore（忽略的表头）。保存后点“重新处理”。",
                        "JSON: columns (header → field, or {field, unit}), items (long-form item or message code → field), "
                        "units (field → unit), ignore (headers to skip). Save, then press “Re-process”."),
                     className="text-muted small mb-2"),
            dbc.Textarea(id="ai-mapping", rows=6, className="font-monospace small", disabled=True,
                         placeholder='{"columns": {"血糖值": {"field": "fpg", "unit": "mg/dL"}}, "items": {"GLU": "fpg"}}'),
            dbc.Button(tr("保存映射", "Save mapping"), id="ai-save-mapping", color="secondary", size="sm",
                       className="mt-2", disabled=True),
            html.Div(id="ai-mapping-result", className="mt-2"),
        ]), className="mb-3", id="ai-mapping-card"),
        ]),
    ])


dash.register_page(__name__, path="/admin/imports", title="警康 · 数据导入", layout=layout)
