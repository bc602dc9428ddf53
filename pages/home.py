"""/ : role-aware home. Officers go to their own portrait; leaders (and admins) see the
overview of their scope; managers get their own branch (the workbench is wired in there)."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.frames import workbench_frame
from web.i18n import tr


def overview_layout():
    """The leaders' overview: KPI cards, top risk factors, red+orange by month, sub-units.
    ``?unit=CODE`` narrows it to a unit inside the caller's scope (checked by the callback)."""
    return html.Div(
        [
            dcc.Location(id="home-url", refresh=False),
            html.Div(tr("健康总览", "Health overview"), className="page-title", id="home-title"),
            html.Div(id="home-scope", className="page-sub"),
            dcc.Loading(dbc.Row(id="home-kpis", className="g-3")),
        ]
    )


def manager_layout():
    """Health managers' home: their workbench (needs-action queue, follow-ups, recent changes),
    then the overview of their scope with full counts."""
    return html.Div([workbench_frame(), html.Hr(className="my-4"), overview_layout()])


def layout(**_):
    if current_user.role == "officer":
        return dcc.Location(id="home-redirect", href="/me", refresh=True)
    if current_user.role == "counsellor":  # their caseload: the psychological warnings of their scope
        return dcc.Location(id="home-redirect", href="/warnings", refresh=True)
    if current_user.role == "manager":
        return manager_layout()
    if current_user.role == "auditor":
        return dcc.Location(id="home-redirect", href="/admin/audit", refresh=True)
    return overview_layout()


dash.register_page(__name__, path="/", title="警康 · 首页", layout=layout)
