"""/ : role-aware home. Officers go to their own portrait; others see their scope's overview."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from portal.i18n import tr


def layout(**_):
    if current_user.role == "officer":
        return dcc.Location(id="home-redirect", href="/me", refresh=True)
    return html.Div(
        [
            dcc.Location(id="home-url", refresh=False),
            html.Div(tr("健康总览", "Health overview"), className="page-title", id="home-title"),
            html.Div(id="home-scope", className="page-sub"),
            dcc.Loading(dbc.Row(id="home-kpis", className="g-3")),
        ]
    )


dash.register_page(__name__, path="/", title="警康 · 首页", layout=layout)
