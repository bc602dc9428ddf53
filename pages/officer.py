"""/officers/<badge>: one officer's portrait for health managers (full) and leaders (header and
warning only). Who may see which badge is decided by callbacks/portrait.py on the server; this
module only lays out the frame the callbacks fill."""
import dash
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.shell import no_access

PORTRAIT_ROLES = ("officer", "manager", "leader", "admin")


def portrait_frame(badge: str, title: str, title_id: str):
    """The frame both portrait pages share; ``badge`` "" means the caller's own record."""
    return html.Div([
        dcc.Store(id="portrait-badge", data=badge),
        html.Div(title, className="page-title", id=title_id),
        html.Div(id="portrait-body", className="portrait"),  # sections carry their own loading marks
    ], className="portrait-page")


def layout(badge=None, **_):
    if current_user.role not in PORTRAIT_ROLES or not badge:
        return no_access()
    return portrait_frame(str(badge)[:20], tr("个人健康画像", "Health portrait"), "officer-title")


dash.register_page(__name__, path_template="/officers/<badge>", title="警康 · 个人健康画像", layout=layout)
