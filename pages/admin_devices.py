"""/admin/devices : station devices (last frame, frames today, journal backlog), rejected frames,
and the queue of kiosk readings that found no officer, with an assign action (admins only)."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.shell import no_access

REFRESH_SECONDS = 15


def _assign_card():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("分配读数", "Assign a reading"), className="section-title mt-0"),
        html.Div(tr("没有警号或刷卡记录的读数在此等待。核实本人后，选择读数并填写其警号（前导零可省略）。每次分配都记入审计日志。",
                    "Readings with no badge or card swipe wait here. Once you know whose it is, pick the reading and "
                    "enter the officer's badge (leading zeros optional). Every assignment is audit-logged."),
                 className="text-muted small mb-2"),
        dbc.Row([
            dbc.Col([dbc.Label(tr("读数", "Reading"), html_for="dev-assign-frame", className="small mb-0"),
                     dcc.Dropdown(id="dev-assign-frame", options=[], placeholder=tr("选择待分配读数", "Pick a reading"),
                                  clearable=True, searchable=False)], xs=12, md=7),
            dbc.Col([dbc.Label(tr("警号", "Badge"), html_for="dev-assign-badge", className="small mb-0"),
                     dbc.Input(id="dev-assign-badge", maxLength=20, placeholder=tr("例如 012345", "e.g. 012345"))],
                    xs=8, md=3),
            dbc.Col(dbc.Button(tr("分配", "Assign"), id="dev-assign", color="primary", className="w-100"),
                    xs=4, md=2, className="d-flex align-items-end"),
        ], className="g-2"),
        html.Div(id="dev-assign-result", className="mt-2"),
    ]), className="mb-3", id="dev-assign-card")


def layout(**_):
    if current_user.role != "admin":
        return no_access()
    return html.Div([
        html.Div(tr("设备", "Devices"), className="page-title", id="dev-title"),
        html.Div(tr("各派出所健康小屋的串口设备：最近一帧的时间、今日帧数、网关日志积压，以及被拒收的帧和待分配的读数。",
                    "Serial devices of the station health kiosks: last frame, frames today, gateway journal backlog, "
                    "rejected frames and readings waiting for an officer."), className="page-sub"),
        html.Div(dcc.Link(tr("各医院的体检完整性与超时医院、设备汇总见“数据完整性”页", "Hospital completeness, stale hospitals and kiosks "
                             "in one place: Data health"), href="/admin/data-health", id="dev-data-health-link"),
                 className="small mb-2"),
        dcc.Interval(id="dev-interval", interval=REFRESH_SECONDS * 1000),
        dcc.Store(id="dev-refresh", data=0),
        dbc.Row(id="dev-summary", className="g-3 mb-3"),
        html.Div(tr("设备状态", "Device status"), className="section-title"),
        dbc.Row(id="dev-cards", className="g-3"),  # no spinner: the 15-s refresh must not make the page jump
        html.Div(id="dev-updated", className="text-muted small mt-2"),
        html.Div([tr("待分配读数", "Unassigned readings"), html.Span(id="dev-queue-count", className="ms-2")],
                 className="section-title"),
        html.Div(id="dev-queue", className="mb-2"),
        _assign_card(),
        html.Div(tr("最近被拒收的帧", "Recently rejected frames"), className="section-title"),
        html.Div(id="dev-rejected"),
    ])


dash.register_page(__name__, path="/admin/devices", title="警康 · 设备", layout=layout)
