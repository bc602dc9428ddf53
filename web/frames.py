"""Page frames that more than one page shows: the portrait and the workbench.

A frame is the empty structure its callbacks fill; who may see what is decided by the
callbacks on the server.
"""
from dash import dcc, html
from flask_login import current_user

from web.followup_forms import followup_modals
from web.i18n import tr
from web.shell import no_access


def workbench_frame():
    """The workbench (its own page, and the top of a manager's home page)."""
    if current_user.role not in ("manager", "admin"):
        return no_access(tr("工作台供健康管理师使用。", "The workbench is for health managers."))
    return html.Div([
        dcc.Location(id="wb-url", refresh=False),
        html.Div(tr("健康管理工作台", "Health manager's workbench"), className="page-title", id="wb-title"),
        html.Div(tr("新出现的红色预警、我的跟进任务和近期变化。", "New red warnings, my follow-ups and recent changes."),
                 className="page-sub"),
        dcc.Loading(html.Div(id="wb-body"), delay_show=300),
        followup_modals(),
    ])


def portrait_frame(badge: str, title: str, title_id: str):
    """The frame both portrait pages share; ``badge`` "" means the caller's own record."""
    return html.Div([
        dcc.Store(id="portrait-badge", data=badge),
        html.Div(title, className="page-title", id=title_id),
        html.Div(id="portrait-body", className="portrait"),  # sections carry their own loading marks
    ], className="portrait-page")
