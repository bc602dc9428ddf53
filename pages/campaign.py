"""/campaigns/<id> : one campaign — progress with projection, team and individual leaderboards,
participation by week, points, and for finished campaigns "did it work?"."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.inputs import int_id
from web.shell import not_found
from web.shell import graph


def _section(title, body, id=None, sub=None):
    head = [html.Div(title, className="section-title mt-0 mb-1")]
    if sub:
        head.append(html.Div(sub, className="text-muted small mb-2", id=f"{id}-sub" if id else None))
    return dbc.Card(dbc.CardBody(head + [body]), className="shadow-sm mb-3 h-100", id=id)


def layout(campaign_id=None, **_):
    """``campaign_id`` comes from the URL; the callbacks read it from the path and check it on the server.
    A malformed id (not a number, too long) gets the page-not-found answer, and no callback runs."""
    if int_id(campaign_id) is None:
        return not_found()
    officer = current_user.role == "officer"
    hide = dbc.Switch(id="campaign-hide", label=tr("在排行榜上对他人隐藏我的姓名", "Hide my name from others on leaderboards"),
                      value=False, className="mb-2") if officer else None
    individuals = html.Div([hide, dcc.Store(id="campaign-hide-saved"), dcc.Loading(html.Div(id="campaign-individuals"))])
    return html.Div([
        dcc.Location(id="campaign-url", refresh=False),
        html.A(tr("← 全部活动", "← All campaigns"), href="/campaigns", className="small text-decoration-none"),
        html.Div(id="campaign-access"),
        html.Div(_body(individuals), id="campaign-body"),
    ], id="campaign-page")


def _body(individuals):
    return [
        dcc.Loading(html.Div(id="campaign-header")),
        dbc.Row(id="campaign-kpis", className="g-3 mb-3"),
        dbc.Row([
            dbc.Col(_section(tr("累计进度与预测", "Progress and projection"),
                             html.Div([graph("campaign-progress-graph", style={"height": "430px"}),
                                       html.Div(id="campaign-projection", className="small")]),
                             id="campaign-progress-card",
                             sub=tr("上：累计完成量与目标进度；虚线为按当前趋势（含周末效应）的预测及 95% 区间。下：每日合计。",
                                    "Top: cumulative total against the target pace; dashed: projection at the "
                                    "current trend (with the weekend effect) and its 95% interval. Bottom: daily totals.")),
                    lg=8),
            dbc.Col(_section(tr("每周参与", "Participation by week"),
                             html.Div([graph("campaign-weekly-graph", style={"height": "300px"}),
                                       html.Div(id="campaign-weekly-note", className="small text-muted")]),
                             id="campaign-weekly-card",
                             sub=tr("每周至少有一天记录的成员占比", "Share of members with at least one day recorded "
                                                                 "in the week")), lg=4),
        ], className="g-3"),
        dbc.Row([
            dbc.Col(_section(tr("队伍排行", "Team leaderboard"), dcc.Loading(html.Div(id="campaign-teams")),
                             id="campaign-teams-card"), lg=7),
            dbc.Col(_section(tr("个人排行", "Individual leaderboard"), individuals, id="campaign-individuals-card"),
                    lg=5),
        ], className="g-3 mt-0"),
        dbc.Row([
            dbc.Col(_section(tr("积分发放", "Points awarded"), dcc.Loading(html.Div(id="campaign-points")),
                             id="campaign-points-card"), lg=4),
            dbc.Col(_section(tr("效果评估：活动有用吗？", "Did it work?"), dcc.Loading(html.Div(id="campaign-did")),
                             id="campaign-did-card"), lg=8),
        ], className="g-3 mt-0"),
    ]


dash.register_page(__name__, path_template="/campaigns/<campaign_id>", title="警康 · 活动详情", layout=layout)
