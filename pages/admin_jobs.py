"""/admin/jobs : the background jobs (imports, re-processing, accounts from the roster, exports), newest first."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.vocab import JOB_KINDS, JOB_STATUSES
from web.i18n import label, tr
from web.shell import no_access


def layout(**_):
    if current_user.role != "admin":
        return no_access()
    return html.Div([
        html.Div(tr("后台任务", "Background jobs"), className="page-title", id="aj-title"),
        html.Div(tr("导入、重新处理、按名册开通账号和大批量导出在后台运行：这里列出每个任务的状态、发起人、用时和结果。"
                    "任务运行时可以离开或刷新页面。",
                    "Imports, re-processing, accounts from the roster and large exports run in the background: each "
                    "job's status, who started it, how long it took and its result. You may leave or reload a page "
                    "while a job runs."), className="page-sub"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id="aj-kind", placeholder=tr("全部类型", "All kinds"),
                                 options=[{"label": label(JOB_KINDS, k), "value": k} for k in JOB_KINDS]), md=3),
            dbc.Col(dcc.Dropdown(id="aj-status", placeholder=tr("全部状态", "All statuses"),
                                 options=[{"label": label(JOB_STATUSES, k), "value": k} for k in JOB_STATUSES]), md=3),
            dbc.Col(html.Span(id="aj-count", className="text-muted small"), width="auto"),
        ], className="g-2 mb-2 align-items-center"),
        dcc.Interval(id="aj-tick", interval=5000),
        html.Div(id="aj-grid-wrap"),
    ])


dash.register_page(__name__, path="/admin/jobs", title="警康 · 后台任务", layout=layout)
