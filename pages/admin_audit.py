"""/admin/audit: the audit log for admins and auditors: who viewed or exported whom, when, from
where, with what filter; filter by person, officer, action and date; server-paged; export.
Admins also export an officer's data on request here."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.vocab import AUDIT_ACTIONS
from web.access import AUDIT_ROLES
from web.i18n import label, tr
from web.shell import no_access


def _filters():
    actions = [{"label": label(AUDIT_ACTIONS, code), "value": code} for code in AUDIT_ACTIONS]
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([dbc.Label(tr("操作人", "Person"), html_for="aa-person"),
                     dcc.Dropdown(id="aa-person", placeholder=tr("全部", "Anyone"), clearable=True)], md=2),
            dbc.Col([dbc.Label(tr("涉及民警（警号）", "Officer (badge)"), html_for="aa-badge"),
                     dbc.Input(id="aa-badge", maxLength=20, debounce=True, placeholder=tr("警号", "Badge"))], md=2),
            dbc.Col([dbc.Label(tr("操作", "Action"), html_for="aa-action"),
                     dcc.Dropdown(id="aa-action", options=actions, placeholder=tr("全部", "Any"), clearable=True)], md=3),
            dbc.Col([dbc.Label(tr("日期", "Dates"), html_for="aa-dates"),
                     html.Div(dcc.DatePickerRange(id="aa-dates", display_format="YYYY-MM-DD", clearable=True,
                                                  start_date_placeholder_text=tr("开始", "From"),
                                                  end_date_placeholder_text=tr("结束", "To")))], md=3),
            dbc.Col([dbc.Label(" "), dbc.Checklist(id="aa-flagged", switch=True, options=[
                {"label": tr("只看需关注事件", "Flagged events only"), "value": "flagged"}], value=[])], md=2),
        ], className="g-2"),
    ]), className="mb-3")


def _on_request():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("应本人申请导出个人数据", "Export an officer's data on request"), className="section-title mt-0"),
        html.Div(tr("民警本人可在“我的健康”中自行下载；无法登录时由管理员代为导出。每次导出都会记入审计日志，"
                    "并显示在该民警的“谁查看了我的档案”中。",
                    "Officers download their own data on “My health”; when they cannot sign in, an administrator "
                    "exports it for them. Every export is audit-logged and shows in the officer's “Who looked at my record”."),
                 className="text-muted small mb-2"),
        dbc.Row([
            dbc.Col(dbc.Input(id="aa-data-badge", maxLength=20, placeholder=tr("警号", "Badge"), debounce=True), md=3),
            dbc.Col(html.Div(id="aa-data-links"), md=9),
        ], className="g-2 align-items-center"),
    ]), className="mb-3", id="aa-on-request")


def layout(**_):
    if current_user.role not in AUDIT_ROLES:
        return no_access()
    return html.Div([
        html.Div(tr("审计日志", "Audit log"), className="page-title", id="aa-title"),
        html.Div(tr("谁在何时、从何处查看或导出了谁的记录，用了什么筛选条件。紧急越权查看（破窗）标为需关注事件。"
                    "查看和导出本日志本身也会被记录。",
                    "Who viewed or exported whose record, when, from where, with what filter. Break-the-glass accesses "
                    "are flagged. Reading and exporting this log is itself recorded."), className="page-sub"),
        dcc.Store(id="aa-filter", data=None),
        dcc.Download(id="aa-download-file"),
        _filters(),
        dbc.Card(dbc.CardBody([
            dbc.Row([
                dbc.Col(html.Div(id="aa-count", className="fw-semibold"), width="auto"),
                dbc.Col(dbc.Button(tr("导出 CSV", "Export CSV"), id="aa-export", color="secondary", outline=True,
                                   size="sm"), width="auto"),
            ], className="g-2 align-items-center mb-2"),
            html.Div(id="aa-grid-wrap"),
        ]), className="mb-3"),
        _on_request() if current_user.role == "admin" else None,
    ])


dash.register_page(__name__, path="/admin/audit", title="警康 · 审计日志", layout=layout)
