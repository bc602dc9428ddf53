"""/me/points: the logged-in officer's points ledger — every point with its date, campaign and reason."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.shell import no_access


def layout(**_):
    if current_user.role != "officer":
        return no_access(tr("积分明细只对民警本人开放。", "The points ledger is for officers' own points."))
    return html.Div([
        dcc.Location(id="me-points-url", refresh=False),
        html.A(tr("← 我的健康", "← My health"), href="/me", className="small text-decoration-none"),
        html.Div(tr("我的积分", "My points"), className="page-title", id="me-points-title"),
        html.Div(tr("健康活动按周结算积分：每一笔的日期、活动和原因。",
                    "Campaign points are awarded weekly: each one with its date, campaign and reason."),
                 className="page-sub"),
        dbc.Card(dbc.CardBody(dcc.Loading(html.Div(id="me-points-ledger"))), className="shadow-sm"),
    ])


dash.register_page(__name__, path="/me/points", title="警康 · 我的积分", layout=layout)
