"""/screenings: psychological screening rounds (issue 19). A manager with psychological access, a
counsellor or an admin schedules PHQ-9 or GAD-7 for a unit subtree in their scope and follows the
completion per unit (suppressed counts). callbacks/screenings.py fills and checks everything again."""
import datetime as dt

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.vocab import INSTRUMENTS
from web.access import AccessDenied, current_scope
from web.clock import today
from web.i18n import label, tr
from web.inputs import new_token
from web.shell import no_access


DEFAULT_DAYS = 14  # a new round's window, from today


def _field(title, control, help_text=None):
    parts = [dbc.Label(title, className="fw-semibold small mb-1"), control]
    if help_text:
        parts.append(dbc.FormText(help_text))
    return html.Div(parts, className="mb-3")


def _form():
    first = today()
    last = first + dt.timedelta(days=DEFAULT_DAYS - 1)
    return dbc.Card(dbc.CardBody([
        html.Div(tr("安排一轮筛查", "Schedule a round"), className="section-title mt-0"),
        dbc.Row([
            dbc.Col(_field(tr("单位（含下属单位）", "Unit (with the units under it)"),
                           dcc.Dropdown(id="scr-unit", options=[], placeholder=tr("选择单位", "Choose a unit"))), md=4),
            dbc.Col(_field(tr("问卷", "Questionnaire"),
                           dbc.Select(id="scr-instrument", value="phq9",
                                      options=[{"label": label(INSTRUMENTS, k), "value": k} for k in INSTRUMENTS])),
                    md=3),
            dbc.Col(_field(tr("开始日期", "Start"), dbc.Input(id="scr-start", type="date", value=first.isoformat())),
                    md="auto"),
            dbc.Col(_field(tr("结束日期", "End"), dbc.Input(id="scr-end", type="date", value=last.isoformat())),
                    md="auto"),
            dbc.Col(_field(tr("提醒日", "Reminder day"), dbc.Input(id="scr-reminder", type="date"),
                           tr("尚未完成的民警在这天收到提醒（空：开始日）", "Officers still due are reminded that day "
                              "(empty: the start)")), md="auto"),
        ]),
        html.Div(id="scr-error", className="text-danger small mb-2"),
        dbc.Button(tr("保存", "Save"), id="scr-save", color="primary"),
        html.Div(id="scr-saved", className="mt-2"),
    ]), className="mb-3 shadow-sm", id="scr-form")


def layout(**_):
    try:
        scope = current_scope("manager", "counsellor", "admin")
    except AccessDenied:
        scope = None
    if scope is None or not scope.sees_psych:
        return no_access(tr("心理筛查只对心理咨询师和获授权的健康管理师开放。",
                            "Screening rounds are for counsellors and health managers with psychological access."))
    return html.Div([
        dcc.Store(id="scr-token", data=new_token()),  # the client token the save carries (a replay writes nothing)
        dcc.Store(id="scr-refresh", data=0),
        html.Div(tr("心理筛查", "Psychological screening"), className="page-title", id="scr-title"),
        html.Div(tr("为管辖范围内的单位安排 PHQ-9 或 GAD-7 筛查；民警在“我的健康”中看到待完成的测评。",
                    "Schedule PHQ-9 or GAD-7 for units in your scope; officers see it as due on their “My health”."),
                 className="page-sub"),
        _form(),
        html.Div(tr("筛查轮次", "Rounds"), className="section-title"),
        dcc.Loading(html.Div(id="scr-rounds"), delay_show=300),
        html.Div(tr("完成情况", "Completion"), className="section-title"),
        dbc.Select(id="scr-round", options=[], placeholder=tr("选择一轮筛查", "Choose a round"), className="mb-2",
                   style={"maxWidth": "32rem"}),
        dcc.Loading(html.Div(id="scr-completion"), delay_show=300),
    ])


dash.register_page(__name__, path="/screenings", title="警康 · 心理筛查", layout=layout)
