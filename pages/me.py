"""/me : the logged-in officer's own health record."""
import dash
from dash import dcc, html
from flask_login import current_user

from portal.i18n import tr
from portal.shell import no_access


def layout(**_):
    if current_user.role != "officer":
        return no_access(tr("“我的健康”页面只对民警本人开放。", "“My health” is for officers' own records."))
    return html.Div([
        html.Div(tr("我的健康", "My health"), className="page-title", id="me-title"),
        dcc.Loading(html.Div(id="me-body")),
    ])


dash.register_page(__name__, path="/me", title="警康 · 我的健康", layout=layout)
