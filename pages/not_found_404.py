"""Shown for any path no page claims."""
import dash
import dash_bootstrap_components as dbc
from dash import html

from web.i18n import tr


def layout(**_):
    return dbc.Alert([html.H4(tr("页面不存在", "Page not found")),
                      html.A(tr("返回首页", "Back to the home page"), href="/")], color="light", className="mt-4")


dash.register_page(__name__, path="/404", title="警康 · 404", layout=layout)
