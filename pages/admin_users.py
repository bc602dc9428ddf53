"""/admin/users : accounts, roles, scopes; create, unlock, deactivate (admins only)."""
import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.shell import no_access


def _form():
    return dbc.Card(dbc.CardBody([
        html.Div(tr("新建账号", "New account"), className="section-title mt-0"),
        dbc.Row([
            dbc.Col([dbc.Label(tr("用户名", "User name"), html_for="au-username"), dbc.Input(id="au-username", maxLength=60)], md=3),
            dbc.Col([dbc.Label(tr("角色", "Role"), html_for="au-role"),
                     dbc.Select(id="au-role", value="manager", options=[
                         {"label": tr("民警", "Officer"), "value": "officer"},
                         {"label": tr("健康管理师", "Health manager"), "value": "manager"},
                         {"label": tr("心理咨询师", "Counsellor"), "value": "counsellor"},
                         {"label": tr("领导", "Leader"), "value": "leader"},
                         {"label": tr("系统管理员", "Administrator"), "value": "admin"}])], md=2),
            dbc.Col([dbc.Label(tr("管辖单位（管理师、咨询师、领导）", "Scope unit (manager, counsellor, leader)"), html_for="au-unit"),
                     dcc.Dropdown(id="au-unit", placeholder=tr("选择单位", "Choose a unit"), clearable=True)], md=3),
            dbc.Col([dbc.Label(tr("警号（民警账号）", "Badge (officer account)"), html_for="au-badge"),
                     dbc.Input(id="au-badge", maxLength=20)], md=2),
            dbc.Col([dbc.Label(tr("初始密码（至少8位）", "Initial password (8+)"), html_for="au-password"),
                     dbc.Input(id="au-password", type="password", maxLength=200)], md=2),
        ], className="g-2"),
        dbc.Button(tr("创建", "Create"), id="au-create", color="primary", className="mt-3"),
        html.Div(id="au-result", className="mt-2"),
    ]), className="mb-3")


def layout(**_):
    if current_user.role != "admin":
        return no_access()
    return html.Div([
        html.Div(tr("用户管理", "Users"), className="page-title", id="au-title"),
        html.Div(tr("账号、角色与管辖范围。连续输错密码的账号会被锁定，可在此解锁。",
                    "Accounts, roles and scopes. Accounts locked after repeated wrong passwords can be unlocked here."),
                 className="page-sub"),
        _form(),
        dbc.Row([
            dbc.Col(dbc.Button(tr("解锁所选", "Unlock selected"), id="au-unlock", color="secondary", outline=True), width="auto"),
            dbc.Col(dbc.Button(tr("停用 / 启用所选", "Deactivate / activate selected"), id="au-toggle", color="danger",
                               outline=True), width="auto"),
            dbc.Col(dbc.Button(tr("授予 / 收回心理权限（管理师）", "Grant / revoke psychological access (manager)"),
                               id="au-psych", color="secondary", outline=True), width="auto"),
            dbc.Col(html.Div(id="au-action-result"), className="d-flex align-items-center"),
        ], className="g-2 mb-2"),
        dcc.Store(id="au-refresh", data=0),
        dag.AgGrid(id="au-grid", columnDefs=[], rowData=[], dashGridOptions={"rowSelection": {"mode": "singleRow"}},
                   columnSize="responsiveSizeToFit", style={"height": "520px"}, className="ag-theme-alpine"),
    ])


dash.register_page(__name__, path="/admin/users", title="警康 · 用户", layout=layout)
