"""The frame of the personal health plan (issue 19): the officer's own (/me/plan, key "") and a
health manager's view of an officer in scope (/plan/<badge>). The callbacks
(callbacks/plan.py) decide on the server who may see and change what."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from models.vocab import PLAN_ITEMS
from web.i18n import tr


def target_form():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("设定或修改目标", "Set or change a target"), className="section-title mt-0"),
        dbc.Row([
            dbc.Col([dbc.Label(tr("项目", "Item"), html_for="plan-item"),
                     dbc.Select(id="plan-item", value="weight_kg",
                                options=[{"label": tr(*v), "value": k} for k, v in PLAN_ITEMS.items()])], md=4),
            dbc.Col([dbc.Label(tr("目标值", "Target value"), html_for="plan-value"),
                     dbc.Input(id="plan-value", type="number", step="any")], md=3),
            dbc.Col([dbc.Label(tr("目标日期", "Target date"), html_for="plan-date"),
                     dbc.Input(id="plan-date", type="date")], md=3),
            dbc.Col(dbc.Button(tr("保存目标", "Save target"), id="plan-save", color="primary", className="mt-md-4"),
                    md=2),
        ], className="g-2"),
        html.Div(tr("以设定当天的最新测量值作为起点；血压目标分别设定收缩压和舒张压，步数为每日平均步数。",
                    "The newest reading on the day you set it is the starting point; blood pressure has a systolic "
                    "and a diastolic target; steps are a daily mean."), className="text-muted small mt-2"),
        html.Div(id="plan-msg", className="small mt-2"),
        dcc.Store(id="plan-token"),
    ]), className="mt-3 no-print", id="plan-form-card")


def plan_frame(badge: str, title: str, title_id: str):
    """``badge`` "" means the caller's own plan (officers only)."""
    return html.Div([
        dcc.Store(id="plan-key", data=badge),
        dcc.Store(id="plan-changed", data=0),
        html.Div(title, className="page-title", id=title_id),
        html.Div(id="plan-who", className="page-sub"),
        dbc.Card(dbc.CardBody([
            html.Div(tr("我的目标与进展", "Targets and progress"), className="section-title mt-0"),
            dcc.Loading(html.Div(id="plan-targets"), delay_show=300),
            html.Div(id="plan-next", className="mt-2"),
        ]), id="plan-targets-card"),
        target_form(),
        html.Div(id="plan-followups-wrap", className="mt-3"),
        dcc.Store(id="plan-reply-token"),
    ], className="plan-page")
