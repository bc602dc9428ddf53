"""/admin/users : accounts of a whole force (server-paged, searchable); create one, bulk-create managers
and leaders from a CSV, give every officer of the roster an account (with a progress bar); edit role and
scope, reset with a new activation code, clear a sign-in delay, deactivate (admins only)."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.vocab import ACCOUNT_STATUS, ROLE_WORDS
from web.i18n import label, tr
from web.shell import no_access


def _role_options(with_officer=True):
    return [{"label": label(ROLE_WORDS, code), "value": code} for code in ROLE_WORDS if with_officer or code != "officer"]


def _form():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("新建账号", "New account"), className="section-title mt-0"),
        dbc.Row([
            dbc.Col([dbc.Label(tr("用户名", "User name"), html_for="au-username"), dbc.Input(id="au-username", maxLength=60)], md=3),
            dbc.Col([dbc.Label(tr("角色", "Role"), html_for="au-role"),
                     dbc.Select(id="au-role", value="manager", options=_role_options())], md=2),
            dbc.Col([dbc.Label(tr("管辖单位（管理师、咨询师、领导）", "Scope unit (manager, counsellor, leader)"),
                               html_for="au-unit"),
                     dcc.Dropdown(id="au-unit", placeholder=tr("选择单位", "Choose a unit"), clearable=True)], md=3),
            dbc.Col([dbc.Label(tr("警号（民警账号）", "Badge (officer account)"), html_for="au-badge"),
                     dbc.Input(id="au-badge", maxLength=20)], md=2),
            dbc.Col([dbc.Label(tr("初始密码（至少8位）", "Initial password (8+)"), html_for="au-password"),
                     dbc.Input(id="au-password", type="password", maxLength=200)], md=2),
        ], className="g-2"),
        dbc.Button(tr("创建", "Create"), id="au-create", color="primary", className="mt-3"),
        html.Div(id="au-result", className="mt-2"),
    ]), className="mb-3")


def _bulk():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("批量创建管理师、领导账号（CSV）", "Bulk-create managers and leaders (CSV)"), className="section-title mt-0"),
        html.Div(tr("CSV 列：用户名, 角色（manager/leader）, 单位代码。每个账号得到一次性激活码，结果表只下载这一次。",
                    "CSV columns: username, role (manager/leader), unit. Each account gets a one-time activation code; "
                    "the file of codes is downloaded this once."), className="small text-muted mb-2"),
        dcc.Upload(id="au-bulk-upload", children=html.Div(tr("拖入或点击选择 CSV 文件", "Drop or choose a CSV file")),
                   className="upload-box border rounded p-3 text-center", max_size=2 * 1024 * 1024),
        html.Div(id="au-bulk-result", className="mt-2"),
        dcc.Download(id="au-bulk-download"),
    ]), className="mb-3")


def _roster():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("为花名册民警创建账号", "Accounts for the roster's officers"), className="section-title mt-0"),
        html.Div(tr("为所选单位（不选则全局）中每名尚无账号的在职民警创建账号（用户名为警号）和一次性激活码，"
                    "并下载激活码表与按单位打印的激活单。",
                    "Creates an account (user name = badge) with a one-time activation code for every active officer "
                    "without one in the chosen unit (or the whole force), and downloads the codes and printable slips "
                    "per unit."), className="small text-muted mb-2"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id="au-roster-unit", placeholder=tr("全局", "Whole force"), clearable=True), md=5),
            dbc.Col(dbc.Button(tr("创建账号", "Create accounts"), id="au-roster-run", color="primary"), width="auto"),
        ], className="g-2"),
        dbc.Progress(id="au-roster-progress", value=0, max=1, className="mt-2", style={"height": "18px"}),
        html.Div(id="au-roster-result", className="mt-2"),
        dcc.Download(id="au-roster-csv"),
        dcc.Download(id="au-roster-slips"),
    ]), className="mb-3")


def _filters():
    status = [{"label": tr("全部状态", "Any status"), "value": ""}] + [
        {"label": label(ACCOUNT_STATUS, code), "value": code} for code in ACCOUNT_STATUS]
    return dbc.Row([
        dbc.Col(dbc.Input(id="au-search", type="search", debounce=True, maxLength=60,
                          placeholder=tr("搜索：用户名、姓名、警号、单位", "Search: user name, name, badge, unit")), md=4),
        dbc.Col(dbc.Select(id="au-f-role", value="", options=[{"label": tr("全部角色", "Any role"), "value": ""}]
                           + _role_options()), md=2),
        dbc.Col(dbc.Select(id="au-f-status", value="", options=status), md=2),
        dbc.Col(html.Div(id="au-count", className="text-muted small"), className="d-flex align-items-center"),
    ], className="g-2 mb-2")


def _actions():
    return html.Div([
        dbc.Row([
            dbc.Col(dbc.Button(tr("解除所选登录限制", "Clear sign-in delay"), id="au-unlock", color="secondary", outline=True), width="auto"),
            dbc.Col(dbc.Button(tr("停用 / 启用所选", "Deactivate / activate selected"), id="au-toggle", color="danger",
                               outline=True), width="auto"),
            dbc.Col(dbc.Button(tr("重置（发放新激活码）", "Reset (new activation code)"), id="au-reset", color="warning",
                               outline=True), width="auto"),
            dbc.Col(dbc.Button(tr("授予 / 收回心理权限（管理师）", "Grant / revoke psychological access (manager)"),
                               id="au-psych", color="secondary", outline=True), width="auto"),
        ], className="g-2 mb-2"),
        dbc.Row([
            dbc.Col(dbc.Select(id="au-edit-role", value="manager", options=_role_options(with_officer=False)), md=2),
            dbc.Col(dcc.Dropdown(id="au-edit-unit", placeholder=tr("管辖单位", "Scope unit"), clearable=True), md=4),
            dbc.Col(dbc.Button(tr("修改所选的角色和范围", "Set role and scope of selected"), id="au-edit-save",
                               color="primary", outline=True), width="auto"),
        ], className="g-2 mb-2"),
        html.Div(id="au-action-result", className="mb-2"),
    ])


def layout(**_):
    if current_user.role != "admin":
        return no_access()
    return html.Div([
        html.Div(tr("用户管理", "Users"), className="page-title", id="au-title"),
        html.Div(tr("账号、角色与管辖范围。从同一地址连续输错密码会使该地址登录该账号的等待时间逐次加长，可在此解除；"
                    "停用账号会立即结束其所有登录会话。",
                    "Accounts, roles and scopes. Repeated wrong passwords from one address make that address wait longer "
                    "and longer before trying the account again; clear the delay here. Deactivating an account ends "
                    "all its sessions at once."),
                 className="page-sub"),
        dbc.Row([dbc.Col(_form(), lg=12)]),
        dbc.Row([dbc.Col(_roster(), lg=6), dbc.Col(_bulk(), lg=6)]),
        _filters(),
        _actions(),
        dcc.Store(id="au-refresh", data=0),
        html.Div(id="au-grid-wrap"),
    ])


dash.register_page(__name__, path="/admin/users", title="警康 · 用户", layout=layout)
