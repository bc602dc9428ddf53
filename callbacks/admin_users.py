"""/admin/users: every callback is for admins only; usernames from the grid are looked up again."""
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, no_update

from models.accounts import account_id as _id_of
from models.accounts import list_accounts, toggle_active, unit_choices, unlock
from models.users import UserError, create_user, has_psych_access, set_psych_access
from web.access import audit, current_scope, db
from web.i18n import role_name, tr


def _columns():
    return [
        {"field": "username", "headerName": tr("用户名", "User name")},
        {"field": "role_name", "headerName": tr("角色", "Role")},
        {"field": "scope", "headerName": tr("管辖范围", "Scope")},
        {"field": "officer", "headerName": tr("警号", "Badge")},
        {"field": "psych_label", "headerName": tr("心理权限", "Psychological access")},
        {"field": "state", "headerName": tr("状态", "State")},
        {"field": "last_login", "headerName": tr("最近登录", "Last sign-in")},
    ]


def _rows(accounts):
    for a in accounts:
        a["role_name"] = role_name(a["role"])
        a["scope"] = a["scope"] or tr("全局", "whole force")
        a["psych_label"] = (tr("有", "yes") if a["psych"] else tr("无", "no")) if a["role"] == "manager" else \
            (tr("有（角色）", "yes (role)") if a["role"] in ("counsellor", "admin") else "—")
        a["state"] = (tr("已锁定", "locked") if a["locked"] else tr("正常", "active")) if a["active"] else tr("已停用", "inactive")
    return accounts


def register(app):
    @app.callback(Output("au-grid", "rowData"), Output("au-grid", "columnDefs"), Input("au-refresh", "data"))
    def au_list(_):
        current_scope("admin")
        with db() as s:
            return _rows(list_accounts(s)), _columns()

    @app.callback(Output("au-unit", "options"), Input("au-refresh", "data"))
    def au_units(_):
        current_scope("admin")
        with db() as s:
            units = unit_choices(s)
        return [{"label": "\u3000" * u["depth"] + tr(u["name"], u["name_en"]), "value": u["code"]} for u in units]

    @app.callback(Output("au-result", "children"), Output("au-refresh", "data", allow_duplicate=True),
                  Input("au-create", "n_clicks"),
                  State("au-username", "value"), State("au-role", "value"), State("au-unit", "value"),
                  State("au-badge", "value"), State("au-password", "value"), State("au-refresh", "data"),
                  prevent_initial_call=True)
    def au_create(_, username, role, unit, badge, password, refresh):
        current_scope("admin")
        username = (username or "").strip()
        if not username:
            return dbc.Alert(tr("请填写用户名。", "Enter a user name."), color="danger"), no_update
        try:
            with db() as s:
                create_user(s, username, password or "", str(role), officer_badge=(badge or "").strip() or None,
                            scope_unit_code=(unit or "").strip() or None)
                audit("create_user", username, {"role": role, "unit": unit, "badge": badge}, session=s)
        except UserError as exc:
            return dbc.Alert(tr("未能创建：", "Not created: ") + str(exc), color="danger"), no_update
        return dbc.Alert(tr(f"已创建账号 {username}。", f"Account {username} created."), color="success"), (refresh or 0) + 1

    @app.callback(Output("au-action-result", "children"), Output("au-refresh", "data", allow_duplicate=True),
                  Input("au-unlock", "n_clicks"), Input("au-toggle", "n_clicks"), Input("au-psych", "n_clicks"),
                  State("au-grid", "selectedRows"), State("au-refresh", "data"), prevent_initial_call=True)
    def au_action(_u, _t, _p, selected, refresh):
        scope = current_scope("admin")
        if not selected:
            return tr("请先在表格中选择一个账号。", "Select an account in the table first."), no_update
        username = str(selected[0].get("username", ""))
        try:
            with db() as s:
                if ctx.triggered_id == "au-unlock":
                    unlock(s, username)
                    audit("unlock_user", username, None, session=s)
                    msg = tr(f"已解锁 {username}。", f"{username} unlocked.")
                elif ctx.triggered_id == "au-psych":
                    try:
                        user = set_psych_access(s, username, not has_psych_access(s, _id_of(s, username)))
                    except UserError:
                        return tr("只有健康管理师可以授予心理权限（心理咨询师因角色已有）。",
                                  "Only health managers are granted psychological access (counsellors have it by role)."), \
                            no_update
                    audit("grant_psych" if user.psych_access else "revoke_psych", username, None, session=s)
                    msg = tr(f"{username} 的心理权限已{'授予' if user.psych_access else '收回'}。",
                             f"Psychological access {'granted to' if user.psych_access else 'revoked from'} {username}.")
                else:
                    active = toggle_active(s, username, scope.username)
                    audit("activate_user" if active else "deactivate_user", username, None, session=s)
                    msg = tr(f"{username} 已{'启用' if active else '停用'}。", f"{username} {'activated' if active else 'deactivated'}.")
        except LookupError:
            return tr("没有这个账号。", "No such account."), no_update
        except ValueError:
            return tr("不能停用自己的账号。", "You cannot deactivate your own account."), no_update
        return msg, (refresh or 0) + 1
