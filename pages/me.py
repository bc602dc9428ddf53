"""/me: the logged-in officer's own health portrait (the officer comes from the session only),
who looked at it, and the download of everything held about them."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.frames import portrait_frame
from web.i18n import tr
from web.self_report import me_card
from web.shell import no_access


def _my_data():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("我的数据", "My data"), className="section-title mt-0"),
        html.Div(tr("下载本平台保存的关于您的全部数据（体检、测量、问卷、预警及原因、随访、健康活动、查看记录）。"
                    "每次下载都会记入审计日志。",
                    "Download everything this portal holds about you (exams, readings, questionnaires, warnings with "
                    "their reasons, follow-ups, campaigns, who looked at your record). Each download is audit-logged."),
                 className="text-muted small mb-2"),
        html.A(tr("下载 JSON", "Download JSON"), href="/me/data.json", className="btn btn-outline-primary btn-sm me-2",
               id="me-data-json"),
        html.A(tr("可打印文档", "Printable document"), href="/me/data.html", target="_blank",
               className="btn btn-outline-primary btn-sm", id="me-data-html"),
    ]), className="mt-4 no-print", id="me-data-card")


def _my_plan():
    """The compact card of the personal health plan (issue 19); filled by callbacks/plan.py."""
    return dbc.Card(dbc.CardBody([
        html.Div([html.Span(tr("我的健康计划", "My health plan"), className="section-title mt-0 me-2"),
                  html.A(tr("查看和设定目标 →", "See and set targets →"), href="/me/plan", id="me-plan-link",
                         className="small")]),
        dcc.Store(id="me-plan-load", data=0),
        dcc.Loading(html.Div(id="me-plan-body"), delay_show=300),
    ]), className="mt-4 no-print", id="me-plan-card")


def _who_looked():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("谁查看了我的档案", "Who looked at my record"), className="section-title mt-0"),
        html.Div(tr("健康管理师、领导和管理员打开您的健康画像或报告、处理您的随访，或导出含有您的名单时，都会记录在此。"
                    "名单只显示角色。",
                    "Every time a health manager, leader or administrator opened your portrait or report, worked on "
                    "your follow-ups, or exported a list you were in, it shows here. Lists show the role only."),
                 className="text-muted small mb-2"),
        dcc.Store(id="me-access-load", data=0),
        dcc.Loading(html.Div(id="me-access"), delay_show=300),
    ]), className="mt-4", id="me-access-card")


def _my_points():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("我的积分", "My points"), className="section-title mt-0"),
        html.Div(tr("健康活动中获得的每一笔积分：日期、活动和原因。", "Every point from health campaigns: date, campaign and "
                                                          "reason."), className="text-muted small mb-2"),
        html.A(tr("查看积分明细", "See my points"), href="/me/points", className="btn btn-outline-primary btn-sm",
               id="me-points-link"),
    ]), className="mt-4 no-print", id="me-points-card")


def layout(**_):
    if current_user.role != "officer":
        return no_access(tr("“我的健康”页面只对民警本人开放。", "“My health” is for officers' own records."))
    return html.Div([portrait_frame("", tr("我的健康", "My health"), "me-title"), me_card(), _my_plan(), _my_points(), _who_looked(),
                     _my_data()])


dash.register_page(__name__, path="/me", title="警康 · 我的健康", layout=layout)
