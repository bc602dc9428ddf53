"""/notifications: the signed-in user's messages (newest first, paged on the server), mark one or all
read, and the user's e-mail preferences. Every role has one; the user comes from the session only."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from web.i18n import tr


def _preferences():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("邮件提醒", "E-mail"), className="section-title mt-0"),
        html.Div(tr("选择哪些消息同时发送到您的邮箱（内网邮件服务器）。不填邮箱则只在平台内提醒。",
                    "Choose which messages also go to your e-mail (the intranet mail server). Without an address "
                    "they show in the portal only."), className="text-muted small mb-2"),
        dbc.Label(tr("邮箱地址", "E-mail address"), html_for="nt-email"),
        dbc.Input(id="nt-email", type="email", maxLength=200, placeholder="name@police.example"),
        dbc.Label(tr("同时发邮件的消息", "Also by e-mail"), className="mt-2"),
        dbc.Checklist(id="nt-email-kinds", options=[], value=[]),
        dbc.Button(tr("保存设置", "Save settings"), id="nt-pref-save", color="primary", size="sm", className="mt-2"),
        html.Div(id="nt-pref-msg", className="small mt-2"),
        dcc.Store(id="nt-pref-token"),
    ]), id="nt-pref-card")


def layout(**_):
    return html.Div([
        html.Div(tr("通知", "Notifications"), className="page-title", id="nt-title"),
        dbc.Row([
            dbc.Col([
                html.Div([
                    dbc.Switch(id="nt-unread-only", label=tr("只看未读", "Unread only"), value=False,
                               className="me-3 mb-0"),
                    dbc.Button(tr("全部标为已读", "Mark all read"), id="nt-read-all", color="secondary", outline=True,
                               size="sm"),
                ], className="d-flex align-items-center mb-2"),
                dcc.Store(id="nt-page", data=0),
                dcc.Store(id="nt-changed", data=0),
                dcc.Loading(html.Div(id="nt-list"), delay_show=300),
                html.Div([
                    dbc.Button(tr("上一页", "Previous"), id="nt-prev", size="sm", color="light", className="me-2"),
                    html.Span(id="nt-pager", className="small text-muted me-2"),
                    dbc.Button(tr("下一页", "Next"), id="nt-next", size="sm", color="light"),
                ], className="d-flex align-items-center mt-2"),
            ], lg=8),
            dbc.Col(_preferences(), lg=4),
        ]),
    ])


dash.register_page(__name__, path="/notifications", title="警康 · 通知", layout=layout)
