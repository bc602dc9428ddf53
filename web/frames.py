"""Page frames that more than one page shows: the portrait and the workbench.

A frame is the empty structure its callbacks fill; who may see what is decided by the
callbacks on the server.
"""
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.followup_forms import followup_modals
from web.i18n import tr
from web.shell import no_access


WORKBENCH_LISTS = {
    "queue": ("需处理：红色预警，尚无跟进（按紧急程度排序）",
              "Needs action: red warnings without a follow-up (most urgent first)"),
    "mine": ("我负责的跟进（逾期的标红置顶）", "Follow-ups assigned to me (overdue first, in red)"),
    "closed": ("本辖区最近结案及结案后评估", "Recently closed in my scope, with the next assessment"),
    "changes": ("本辖区近30天预警颜色变化（最新在前）", "Level changes in my scope in the last 30 days (newest first)"),
}


def pager(key: str):
    """"21–40 / 共 104" with previous and next: every list says how much there is and pages on the server."""
    return html.Div([
        html.Span(id=f"wb-{key}-count", className="small text-muted me-2"),
        dbc.ButtonGroup([
            dbc.Button(tr("‹ 上一页", "‹ Previous"), id=f"wb-{key}-prev", size="sm", color="secondary", outline=True,
                       disabled=True),
            dbc.Button(tr("下一页 ›", "Next ›"), id=f"wb-{key}-next", size="sm", color="secondary", outline=True,
                       disabled=True),
        ], size="sm"),
        dcc.Store(id=f"wb-{key}-page", data=0),
    ], className="d-flex align-items-center justify-content-end flex-wrap gap-1 mb-2 wb-pager")


def _list_card(key: str, title: str):
    return dbc.Card(dbc.CardBody([
        html.Div([html.Div(title, className="card-title-sm mb-2 me-auto"), pager(key)],
                 className="d-flex flex-wrap align-items-start"),
        dcc.Loading(html.Div(id=f"wb-{key}-body"), delay_show=300),
    ]), className="mb-3", id=f"wb-{key}")


def workbench_frame():
    """The workbench (its own page, and the top of a manager's home page): the headline figures
    and four lists, each paged on the server."""
    if current_user.role not in ("manager", "admin"):
        return no_access(tr("工作台供健康管理师使用。", "The workbench is for health managers."))
    cards = {k: _list_card(k, tr(*v)) for k, v in WORKBENCH_LISTS.items()}
    return html.Div([
        dcc.Location(id="wb-url", refresh=False),
        html.Div(tr("健康管理工作台", "Health manager's workbench"), className="page-title", id="wb-title"),
        html.Div(tr("需处理的红色预警、我负责的跟进和近期变化。", "Red warnings needing action, my follow-ups and recent changes."),
                 className="page-sub"),
        dcc.Loading(html.Div(id="wb-kpis"), delay_show=300),
        cards["queue"], cards["mine"],
        dbc.Row([dbc.Col(cards["closed"], lg=6), dbc.Col(cards["changes"], lg=6)]),
        followup_modals(),
    ])


def portrait_frame(badge: str, title: str, title_id: str):
    """The frame both portrait pages share; ``badge`` "" means the caller's own record."""
    return html.Div([
        dcc.Store(id="portrait-badge", data=badge),
        html.Div(title, className="page-title", id=title_id),
        html.Div(id="portrait-body", className="portrait"),  # sections carry their own loading marks
    ], className="portrait-page")
