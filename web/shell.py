"""The app shell: brand, role-aware menu, language toggle, user menu; and small shared components."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from models import notifications as notifications_model
from web.access import db
from web.i18n import LEVEL_COLOURS, language, level_name, role_name, tr

BELL_REFRESH_MS = 60_000  # the bell's count is read again every minute (and on each page change)

# (path, zh, en, roles)
PSYCH_PAGES = {"/screenings"}  # pages only for those with psychological access
MENU = [
    ("/", "首页", "Home", ("leader", "manager", "admin")),
    ("/me", "我的健康", "My health", ("officer",)),
    ("/warnings", "四色预警", "Warnings", ("leader", "manager", "counsellor", "admin")),
    ("/units", "单位对比", "Units", ("leader", "manager", "admin")),
    ("/campaigns", "健康活动", "Campaigns", ("officer", "leader", "manager", "counsellor", "admin")),
    ("/screenings", "心理筛查", "Screenings", ("manager", "counsellor", "admin")),
    ("/admin/imports", "数据导入", "Imports", ("admin",)),
    ("/admin/devices", "设备", "Devices", ("admin",)),
    ("/admin/data-health", "数据完整性", "Data health", ("admin",)),
    ("/admin/rules", "预警规则", "Rules", ("admin",)),
    ("/admin/users", "用户", "Users", ("admin",)),
    ("/admin/jobs", "后台任务", "Jobs", ("admin",)),
    ("/admin/audit", "审计日志", "Audit log", ("admin", "auditor")),
]


def _registered_paths() -> set[str]:
    return {p["path"] for p in dash.page_registry.values()}


def menu_items(role: str) -> list[tuple[str, str]]:
    """Menu entries for a role, limited to pages that exist."""
    paths = _registered_paths()
    return [(path, tr(zh, en)) for path, zh, en, roles in MENU
            if role in roles and path in paths and (path not in PSYCH_PAGES or _sees_psych(role))]


def _sees_psych(role: str) -> bool:
    """Psychological pages are listed only for those who may open them (``Scope.sees_psych``)."""
    return role != "manager" or bool(getattr(current_user, "psych_access", False))


def _user_menu():
    return dbc.DropdownMenu(
        label=current_user.username,
        align_end=True,
        nav=True,
        id="user-menu",
        children=[
            dbc.DropdownMenuItem(role_name(current_user.role), header=True),
            dbc.DropdownMenuItem(tr("修改密码", "Change password"), href="/password", external_link=True,
                                 id="password-link"),
            dbc.DropdownMenuItem(divider=True),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf(), id="logout-csrf"),
                    html.Button(tr("退出登录", "Sign out"), type="submit", className="dropdown-item", id="logout-button"),
                ],
                method="POST",
                action="/logout",
            ),
        ],
    )


def _language_toggle():
    """Two small POST forms (a language change is a state change: never a cross-site GET), with the CSRF token."""
    lang = language()
    token = generate_csrf()

    def switch(code: str, text: str):
        return html.Form(
            [dcc.Input(type="hidden", name="csrf_token", value=token, id=f"lang-{code}-csrf"),
             html.Button(text, type="submit", id=f"lang-{code}",
                         className="btn btn-link p-0 border-0 align-baseline lang-link" + (" active" if lang == code else ""))],
            method="POST", action=f"/lang/{code}", className="d-inline m-0")

    return html.Div(
        [switch("zh", "中文"), html.Span("|", className="mx-1 text-white-50"), switch("en", "English")],
        className="d-flex align-items-center me-2 small",
    )


def unread_count_for_current_user() -> int:
    """The signed-in user's unread messages: one indexed count (ix_notification_user_read)."""
    with db() as s:
        return notifications_model.unread_count(s, current_user.id)


def bell_badge_text(count: int) -> str:
    return "" if count <= 0 else ("99+" if count > 99 else str(count))


def _bell():
    """The bell: the unread count, refreshed by callbacks/notifications.py on page change and every minute."""
    count = unread_count_for_current_user()
    return html.A([
        html.Img(src=dash.get_asset_url("bell.svg"), height="20", alt=tr("通知", "Notifications")),
        html.Span(bell_badge_text(count), id="bell-count",
                  className="badge rounded-pill bg-danger bell-count" + ("" if count else " d-none")),
        dcc.Interval(id="bell-interval", interval=BELL_REFRESH_MS),
    ], href="/notifications", id="bell-link", className="portal-bell", title=tr("通知", "Notifications"))


def navbar():
    items = [dbc.NavItem(dbc.NavLink(label, href=path, active="exact")) for path, label in menu_items(current_user.role)]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [html.Img(src=dash.get_asset_url("logo.svg"), height="28", className="me-2"),
                     tr("警康健康管理平台", "Jingkang Health Portal")],
                    href="/", className="fw-semibold",
                ),
                dbc.NavbarToggler(id="navbar-toggler"),
                dbc.Collapse(
                    [dbc.Nav(items, navbar=True, className="me-auto"),
                     dbc.Nav([_bell(), _language_toggle(), _user_menu()], navbar=True, className="align-items-lg-center")],
                    id="navbar-collapse", navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="mb-3 portal-navbar",
    )


def shell_layout():
    """Served per request: the logged-in user's shell around the page container."""
    if not getattr(current_user, "is_authenticated", False):
        return html.Div(dcc.Location(id="to-login", href="/login"))
    return html.Div(
        [
            dcc.Store(id="portal-locale", data=language()),
            navbar(),
            dbc.Container(dash.page_container, fluid=True, className="pb-5 portal-main"),
        ],
        lang="en" if language() == "en" else "zh-CN",
    )


def no_access(message: str | None = None):
    """What a page shows to a caller who may not see it."""
    return dbc.Alert(
        [html.H4(tr("无权访问", "No access"), className="alert-heading"),
         html.P(message or tr("您没有查看此页面的权限。如需访问，请联系系统管理员。",
                              "You are not allowed to see this page. Ask an administrator if you need access."))],
        color="warning", className="mt-4", id="no-access",
    )


def not_found():
    """The page-not-found answer: for paths no page claims and for malformed ids in a page's path."""
    return dbc.Alert([html.H4(tr("页面不存在", "Page not found")),
                      html.A(tr("返回首页", "Back to the home page"), href="/")], color="light", className="mt-4",
                     id="page-not-found")


def level_badge(level: str | None, confirmed: bool = True, id=None):
    """The four-colour level as a coloured badge (with 'unconfirmed' where it applies)."""
    if not level:
        return html.Span(tr("无数据", "no data"), className="badge bg-secondary")
    text = level_name(level)
    if not confirmed:
        text += tr("（待确认）", " (unconfirmed)")
    kwargs = {"id": id} if id else {}
    return html.Span(text, className=f"badge level-badge level-{level}", **kwargs)


def graph(id, **kwargs):
    """A dcc.Graph with the portal's locale and no plotly logo/cloud buttons."""
    config = {"locale": "en" if language() == "en" else "zh-CN", "displaylogo": False,
              "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"]}
    config.update(kwargs.pop("config", {}))
    return dcc.Graph(id=id, config=config, **kwargs)


def kpi_card(title: str, value, subtitle: str | None = None, href: str | None = None, colour: str | None = None, id=None):
    body = [html.Div(title, className="kpi-title"), html.Div(value, className="kpi-value")]
    if subtitle:
        body.append(html.Div(subtitle, className="kpi-sub"))
    style = {"borderLeft": f"5px solid {colour}"} if colour else None
    card = dbc.Card(dbc.CardBody(body), className="kpi-card h-100", style=style, **({"id": id} if id else {}))
    return html.A(card, href=href, className="kpi-link") if href else card


__all__ = ["shell_layout", "no_access", "level_badge", "graph", "kpi_card", "LEVEL_COLOURS", "menu_items"]
