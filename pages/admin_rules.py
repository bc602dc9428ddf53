"""/admin/rules: the four-colour warning rules (admins only): the version in force, a draft to edit
(thresholds, levels, texts), the impact of the draft, publishing (a background job with a progress
bar) and the versions before. The data comes from callbacks/admin_rules.py."""
import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.vocab import LEVELS
from web.i18n import level_name, tr
from web.shell import no_access

MAX_TEXT, MAX_NOTE = 200, 500  # as models.rule_versions checks them (a page reads no model)
_TEXT = {"editable": True, "cellEditor": "agLargeTextCellEditor", "cellEditorPopup": True,
         "cellEditorParams": {"maxLength": MAX_TEXT, "rows": 4, "cols": 60}, "tooltipField": None}
_NUMBER = {"editable": True, "cellEditor": "agNumberCellEditor", "width": 96, "type": "rightAligned"}


def _text(field: str, header: str, editable_if: str | None = None) -> dict:
    col = {**_TEXT, "field": field, "headerName": header, "tooltipField": field, "flex": 2, "minWidth": 220}
    if editable_if:
        col["editable"] = {"function": editable_if}
    return col


def rule_columns() -> list[dict]:
    return [
        {"field": "rule", "headerName": tr("规则", "Rule"), "width": 170, "pinned": "left"},
        {"field": "name", "headerName": tr("名称", "Name"), "width": 170, "tooltipField": "name"},
        {"field": "level", "headerName": tr("等级", "Level"), "editable": True, "cellEditor": "agSelectCellEditor",
         "cellEditorParams": {"values": [level_name(lvl) for lvl in LEVELS[:-1]]}, "width": 96},
        {**_NUMBER, "field": "param", "headerName": tr("参数", "Setting"),
         "headerTooltip": tr("超期未体检：月数；多项黄色因素：项数", "exam overdue: months; several yellow factors: count"),
         "editable": {"function": "params.data.type == 'exam_overdue' || params.data.type == 'yellow_count'"}},
        _text("text_zh", tr("原因文字（中文）", "Reason text (Chinese)"), "params.data.type != 'threshold'"),
        _text("text_en", tr("原因文字（英文）", "Reason text (English)"), "params.data.type != 'threshold'"),
        _text("text_never_zh", tr("从未体检时（中文）", "Never examined (Chinese)"), "params.data.type == 'exam_overdue'"),
        _text("text_never_en", tr("从未体检时（英文）", "Never examined (English)"), "params.data.type == 'exam_overdue'"),
    ]


def check_columns() -> list[dict]:
    by_sex = "params.data.male != null || params.data.female != null"
    return [
        {"field": "rule", "headerName": tr("规则", "Rule"), "width": 170, "pinned": "left"},
        {"field": "level_label", "headerName": tr("等级", "Level"), "width": 80},
        {"field": "code", "headerName": tr("指标", "Item"), "width": 96},
        {"field": "op", "headerName": tr("比较", "Test"), "width": 70},
        {**_NUMBER, "field": "threshold", "headerName": tr("阈值", "Threshold"), "editable": {"function": f"!({by_sex})"}},
        {**_NUMBER, "field": "male", "headerName": tr("阈值（男）", "Men"), "editable": {"function": by_sex}},
        {**_NUMBER, "field": "female", "headerName": tr("阈值（女）", "Women"), "editable": {"function": by_sex}},
        _text("text_zh", tr("原因文字（中文）", "Reason text (Chinese)")),
        _text("text_en", tr("原因文字（英文）", "Reason text (English)")),
    ]


def _grid(grid_id: str, columns: list[dict], row_id: str, height: str):
    return dag.AgGrid(id=grid_id, columnDefs=columns, rowData=[], getRowId=f"params.data.{row_id}",
                      defaultColDef={"resizable": True, "suppressHeaderMenuButton": True, "sortable": False},
                      dashGridOptions={"singleClickEdit": True, "stopEditingWhenCellsLoseFocus": True,
                                       "tooltipShowDelay": 300,
                                       "localeText": {"noRowsToShow": tr("没有草稿", "No draft")}},
                      className="ag-theme-alpine", style={"height": height})


def _draft_card():
    return dbc.Card(dbc.CardBody([
        html.Div(id="rules-draft-title", className="fw-semibold mb-1"),
        html.Div(tr("在表格中直接修改阈值、等级和原因文字（点击单元格）。文字中的 {value}、{threshold} 等占位符会换成读数和阈值。"
                    "保存时整套规则会重新校验；校验不通过时什么也不会保存，表格中的修改仍然保留。",
                    "Edit thresholds, levels and reason texts in the tables (click a cell). Placeholders such as "
                    "{value} and {threshold} in a text become the reading and the threshold. Saving checks the whole "
                    "rule set; when it does not pass nothing is saved and your edits stay in the tables."),
                 className="text-muted small mb-2"),
        dbc.Row([
            dbc.Col(dbc.Button(tr("复制生效版本为草稿", "Copy the version in force to a draft"), id="rules-new-draft",
                               color="primary", size="sm"), width="auto"),
            dbc.Col(dbc.Button(tr("放弃草稿", "Discard the draft"), id="rules-discard", color="secondary", outline=True,
                               size="sm"), width="auto"),
        ], className="g-2 mb-2"),
        html.Div(tr("阈值", "Thresholds"), className="section-title mt-2"),
        _grid("rules-checks", check_columns(), "key", "360px"),
        html.Div(tr("规则", "Rules"), className="section-title"),
        _grid("rules-rules", rule_columns(), "rule", "300px"),
        dbc.Label(tr("修改说明", "What changed and why"), html_for="rules-note", className="small mt-2 mb-0"),
        dbc.Textarea(id="rules-note", maxLength=MAX_NOTE, rows=2,
                     placeholder=tr("例如：按2024年新指南调整LDL-C阈值", "e.g. LDL-C threshold per the 2024 guideline")),
        dbc.Row([
            dbc.Col(dbc.Button(tr("保存草稿", "Save the draft"), id="rules-save", color="primary"), width="auto"),
            dbc.Col(dbc.Button(tr("保存并查看影响", "Save and see the impact"), id="rules-impact-run", color="info"),
                    width="auto"),
        ], className="g-2 mt-2"),
        html.Div(id="rules-save-result", className="mt-2"),
        dbc.Progress(id="rules-impact-progress", value=0, max=1, className="mt-2", style={"height": "14px"}),
        html.Div(id="rules-impact", className="mt-2"),
        html.Hr(),
        html.Div(tr("发布后，草稿成为生效版本，所有民警的预警等级按新规则重新计算；由此发生的等级变化在预警历史中记为“规则变更”，"
                    "不计入好转或加重。", "Publishing puts the draft in force and recomputes every officer's level under it; "
                    "the level changes this causes are recorded as “rule change” in the warning history, not as "
                    "officers getting better or worse."), className="text-muted small mb-2"),
        dbc.Button(tr("保存并发布", "Save and publish"), id="rules-publish", color="danger"),
        dbc.Progress(id="rules-publish-progress", value=0, max=1, className="mt-2", style={"height": "14px"}),
        html.Div(id="rules-publish-result", className="mt-2"),
    ]), className="mb-3", id="rules-draft-card")


def layout(**_):
    if current_user.role != "admin":
        return no_access()
    return html.Div([
        dcc.Store(id="rules-refresh", data=0),
        dcc.Store(id="rules-draft-id"),
        html.Div(tr("预警规则", "Warning rules"), className="page-title", id="rules-title"),
        html.Div(tr("四色预警规则的版本：生效版本、可编辑的草稿、发布前的影响预览和历史版本。每次操作都记入审计日志。",
                    "Versions of the four-colour warning rules: the version in force, a draft to edit, its impact "
                    "before publishing, and the versions before. Every action is audit-logged."), className="page-sub"),
        html.Div(id="rules-current", className="mb-3"),
        _draft_card(),
        html.Div(tr("版本历史", "Versions"), className="section-title"),
        html.Div(id="rules-versions"),
        dbc.Row([
            dbc.Col([dbc.Label(tr("再次发布已停用的版本", "Publish a retired version again"), html_for="rules-republish-pick",
                               className="small mb-0"),
                     dcc.Dropdown(id="rules-republish-pick", options=[], clearable=True, searchable=False,
                                  placeholder=tr("选择版本", "Pick a version"))], xs=8, md=4),
            dbc.Col(dbc.Button(tr("再次发布", "Publish again"), id="rules-republish", color="warning", outline=True),
                    xs=4, md=2, className="d-flex align-items-end"),
        ], className="g-2 mt-2"),
        html.Div(tr("再次发布会以下一个版本号复制所选版本并发布，同样重新计算所有民警。",
                    "Publishing again copies the chosen version under the next number and publishes it, recomputing "
                    "every officer the same way."), className="text-muted small mt-1"),
        dbc.Progress(id="rules-republish-progress", value=0, max=1, className="mt-2", style={"height": "14px"}),
        html.Div(id="rules-republish-result", className="mt-2 mb-4"),
    ])


dash.register_page(__name__, path="/admin/rules", title="警康 · 预警规则", layout=layout)
