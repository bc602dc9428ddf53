"""/admin/imports : import batches, their quarantine (browse, download, re-process), hospital mappings (admins only)."""
import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.vocab import UPLOAD_KINDS
from web.i18n import label, tr
from web.shell import no_access


def _upload():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("上传文件", "Upload a file"), className="section-title mt-0"),
        html.Div(tr("医院体检文件（CSV、XLSX、HL7、FHIR JSON）、单位或民警名册、活动数据。先试运行（不写入任何数据），"
                    "确认后在后台导入，可以离开或刷新本页。",
                    "Hospital exam files (CSV, XLSX, HL7, FHIR JSON), unit or officer rosters, campaign activity. A dry "
                    "run comes first (it writes nothing); once confirmed the file loads in the background — you may "
                    "leave or reload this page."), className="text-muted small mb-2"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id="ai-up-kind", value="hospital", clearable=False,
                                 options=[{"label": label(UPLOAD_KINDS, k), "value": k} for k in UPLOAD_KINDS]), md=4),
            dbc.Col(dcc.Dropdown(id="ai-up-target", placeholder=tr("选择医院", "Choose the hospital")), md=4),
        ], className="g-2 mb-2"),
        dcc.Upload(id="ai-upload", multiple=False, className="border border-2 rounded p-3 text-center text-muted",
                   style={"borderStyle": "dashed", "cursor": "pointer"},
                   children=html.Div(id="ai-upload-text", children=tr("拖放文件到这里，或点击选择文件",
                                                                       "Drop a file here, or click to choose one"))),
        dcc.Store(id="ai-upload-token", data=None),
        dcc.Loading(html.Div(id="ai-dry", className="mt-2"), delay_show=200),
        dbc.Button(tr("确认导入", "Confirm and load"), id="ai-confirm", color="primary", disabled=True,
                   className="mt-2"),
        dbc.Progress(id="ai-job-progress", value=0, max=1, className="mt-2", style={"height": "18px"}),
        html.Div(id="ai-job-result", className="mt-2"),
        html.Div(id="ai-running", className="mt-2"),
        dcc.Interval(id="ai-tick", interval=3000),
    ]), className="mb-3")


def _mapping_form():
    return html.Div([
        html.Div(tr("把无法识别的列映射到项目和单位（保存在该医院，之后的文件自动使用），然后重新处理。",
                    "Map a column that was not placed to an item and unit (kept for this hospital and used by its "
                    "later files), then re-process."), className="text-muted small mb-2"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id="ai-map-column", placeholder=tr("无法识别的列", "Column not placed")), md=4),
            dbc.Col(dcc.Dropdown(id="ai-map-field", placeholder=tr("项目", "Item")), md=4),
            dbc.Col(dbc.Input(id="ai-map-unit", placeholder=tr("单位（可空）", "Unit (optional)"), maxLength=20), md=2),
            dbc.Col(dbc.Button(tr("保存列映射", "Save column mapping"), id="ai-map-save", color="secondary", size="sm"),
                    width="auto"),
        ], className="g-2 align-items-center"),
        html.Div(id="ai-map-result", className="mt-2 mb-3"),
    ])


def _quarantine_row():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("隔离行处理", "Work on a quarantined row"), className="section-title mt-0"),
        dcc.Store(id="ai-qrow", data=None),
        html.Div(id="ai-qrow-detail", children=tr("点击上面表格中的一行。", "Click a row in the table above."),
                 className="small"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id="ai-qcell", placeholder=tr("要修正的列", "Column to correct")), md=4),
            dbc.Col(dbc.Input(id="ai-qvalue", placeholder=tr("正确的值", "Correct value"), maxLength=400), md=4),
            dbc.Col(dbc.Button(tr("修正", "Correct"), id="ai-qcorrect", color="secondary", size="sm"), width="auto"),
        ], className="g-2 align-items-center mt-2"),
        dbc.Row([
            dbc.Col(dbc.Input(id="ai-qnote", placeholder=tr("驳回原因", "Reason for rejecting"), maxLength=400), md=8),
            dbc.Col(dbc.Button(tr("驳回（不导入）", "Reject (do not load)"), id="ai-qreject", color="danger",
                               outline=True, size="sm"), width="auto"),
        ], className="g-2 align-items-center mt-2"),
        html.Div(id="ai-qresult", className="mt-2"),
    ]), className="mb-3", id="ai-qrow-card")


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
        _upload(),
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
            dbc.Progress(id="ai-reprocess-progress", value=0, max=1, className="mb-2", style={"height": "12px"}),
            html.Div(id="ai-action-result"),
            html.Div(id="ai-q-container"),
        ]), className="mb-3", id="ai-q-card"),
        _quarantine_row(),
        dbc.Card(dbc.CardBody([
            html.Div(tr("医院映射", "Hospital mapping"), className="section-title mt-0"),
            _mapping_form(),
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
