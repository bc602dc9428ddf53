"""/units: fair comparison of units — standardised rates, funnel plot, trend, table, Excel export.

``?unit=CODE`` compares the sub-units of that unit (checked against the scope by the
callbacks); clicking a unit in the funnel or the table drills down to its sub-units."""
import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.shell import graph, no_access

ROLES = ("leader", "manager", "admin")


def _picker(id, label, width, **kwargs):
    return dbc.Col([dbc.Label(label, html_for=id, className="small mb-0"),
                    dcc.Dropdown(id=id, clearable=False, searchable=False, **kwargs)], xs=6, md=width)


def layout(rate=None, **_):
    if current_user.role not in ROLES:
        return no_access(tr("单位对比只对领导和健康管理师开放。", "Unit comparison is for leaders and health managers."))
    controls = dbc.Card(dbc.CardBody(dbc.Row([
        _picker("units-level", tr("对比层级", "Compare"), 2),
        _picker("units-indicator", tr("指标", "Indicator"), 4),
        _picker("units-year", tr("年份", "Year"), 2),
        dbc.Col([dbc.Label(tr("率", "Rate"), className="small mb-0 d-block"),
                 dbc.RadioItems(id="units-rate", inline=True, value="crude" if rate == "crude" else "standardised",
                                options=[{"label": tr("年龄性别标化率", "Age-sex standardised"), "value": "standardised"},
                                         {"label": tr("粗率", "Crude"), "value": "crude"}])], xs=12, md=4),
    ], className="g-2 align-items-end")), className="mb-2 no-print")
    return html.Div([
        dcc.Location(id="units-url", refresh=False),
        dcc.Store(id="units-url-sync"),
        dcc.Store(id="units-root"),
        html.Div(tr("单位对比", "Unit comparison"), className="page-title", id="units-title"),
        html.Div(id="units-crumbs", className="page-sub"),
        html.Div(id="units-scope-msg"),
        controls,
        html.Div(id="units-method", className="small text-muted mb-2"),
        html.Div(id="units-alert"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                html.Div(tr("漏斗图：各单位的率与人数", "Funnel plot: each unit's rate against its size"),
                         className="section-title mt-0"),
                dcc.Loading(graph("units-funnel", style={"height": "460px"})),
                html.Div(id="units-chi2", className="small mt-1"),
                html.Div(tr("点击图中的单位可查看其下属单位。", "Click a unit to compare its sub-units."),
                         className="small text-muted"),
            ])), lg=7, className="mb-3"),
            dbc.Col(dbc.Card(dbc.CardBody([
                html.Div(tr("历年趋势", "Trend by year"), className="section-title mt-0"),
                dcc.Dropdown(id="units-trend-units", multi=True, placeholder=tr("选择单位", "Choose units")),
                dcc.Loading(graph("units-trend", style={"height": "390px"})),
            ])), lg=5, className="mb-3"),
        ]),
        dbc.Card(dbc.CardBody([
            dbc.Row([
                dbc.Col(html.Div(tr("各单位明细", "All units"), className="section-title mt-0"), width="auto"),
                dbc.Col(dbc.Button(tr("导出 Excel", "Export to Excel"), id="units-export", size="sm",
                                   color="secondary", outline=True, className="no-print"),
                        width="auto", className="ms-auto"),
            ], className="align-items-center"),
            html.Div(id="units-export-msg", className="small text-danger mb-1"),
            dag.AgGrid(id="units-grid", rowData=[], columnDefs=[], className="ag-theme-alpine", getRowId="params.data.code",
                       defaultColDef={"sortable": True, "resizable": True, "filter": False},
                       dashGridOptions={"animateRows": False, "suppressCellFocus": True},
                       columnSize="responsiveSizeToFit", style={"height": "480px", "width": "100%"}),
            html.Div(tr("点击单位名称（带 › 的）查看其下属单位。", "Click a unit name marked › to see its sub-units."),
                     className="small text-muted mt-1"),
            dcc.Download(id="units-download"),
        ])),
    ])


dash.register_page(__name__, path="/units", title="警康 · 单位对比", layout=layout)
