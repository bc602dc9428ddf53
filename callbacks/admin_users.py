"""/admin/users: every callback is for admins only; user names from the grid are looked up again.

The list is a server-paged grid (one page of rows per request, whatever the size of the force); the
from-roster action is a background job with a progress bar (``web.jobs``)."""
import base64
from typing import Any
import hashlib
import json

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update

from models import audit as audit_model
from models.accounts import account_id as _id_of
from models.accounts import (account_page, bulk_create, clear_throttle, reset_with_code, set_role_and_scope,
                             toggle_active, unit_choices)
from models.activation import accounts_from_roster
from models.db import session_scope
from models.users import UserError, create_user, has_psych_access, set_psych_access
from models.vocab import ACCOUNT_ERRORS, ACCOUNT_STATUS
from web import jobs
from web.access import audit, current_scope, db
from web.grids import first_request, row_range, server_grid
from web.i18n import label, role_name, tr
from web.inputs import Clicks, Code, RowsList, RowsRequests, StoreRef, Text, Upload, checked, next_count

GRID = {"type": "au-grid", "v": ALL}
FILTERS = [State("au-search", "value"), State("au-f-role", "value"), State("au-f-status", "value")]


def _columns():
    return [
        {"field": "username", "headerName": tr("用户名", "User name")},
        {"field": "role_name", "headerName": tr("角色", "Role"), "maxWidth": 140},
        {"field": "name", "headerName": tr("姓名", "Name"), "maxWidth": 120},
        {"field": "badge", "headerName": tr("警号", "Badge"), "maxWidth": 120},
        {"field": "unit", "headerName": tr("单位 / 管辖范围", "Unit / scope")},
        {"field": "psych_label", "headerName": tr("心理权限", "Psychological access"), "maxWidth": 150},
        {"field": "state", "headerName": tr("状态", "Status"), "maxWidth": 150},
        {"field": "last_login", "headerName": tr("最近登录", "Last sign-in"), "maxWidth": 160},
    ]


def _rows(rows):
    for a in rows:
        a["role_name"] = role_name(a["role"])
        a["unit"] = tr(a["unit_name"], a["unit_name_en"]) if a["unit_code"] else tr("全局", "whole force")
        a["psych_label"] = (tr("有", "yes") if a["psych"] else tr("无", "no")) if a["role"] == "manager" else \
            (tr("有（角色）", "yes (role)") if a["role"] in ("counsellor", "admin") else "—")
        a["state"] = label(ACCOUNT_STATUS, "delayed" if a["throttled"] and a["status"] != "inactive" else a["status"])
    return rows


def _error(exc: UserError) -> str:
    return label(ACCOUNT_ERRORS, exc.code)


def _clean(value, allowed=None) -> str:
    text = value.strip()[:60] if isinstance(value, str) else ""
    return text if allowed is None or text in allowed else ""


def _unit_options():
    with db() as s:
        units = unit_choices(s)
    return [{"label": "\u3000" * u["depth"] + tr(u["name"], u["name_en"]), "value": u["code"]} for u in units]


def register(app):
    slips = app.server.extensions["portal_slips"]
    url = app.server.config["DATABASE_URL"]
    secret = app.server.config["SECRET_KEY"]
    days = app.server.config["PORTAL_CONFIG"].activation_days

    @app.callback(Output("au-grid-wrap", "children"), Input("au-search", "value"), Input("au-f-role", "value"),
                  Input("au-f-status", "value"), Input("au-refresh", "data"))
    @checked
    def au_grid(search: Text, role: Code, status: Code, refresh: StoreRef):
        current_scope("admin")
        version = hashlib.sha1(json.dumps([search, role, status, refresh], default=str).encode()).hexdigest()[:12]
        return server_grid({"type": "au-grid", "v": version}, _columns(), row_id="username", height="520px",
                           empty_text=tr("没有符合条件的账号", "No matching accounts"))

    @app.callback(Output(GRID, "getRowsResponse"), Output("au-count", "children"), Input(GRID, "getRowsRequest"),
                  *FILTERS)
    @checked
    def au_rows(requests: RowsRequests, search: Text, role: Code, status: Code):
        current_scope("admin")
        request = first_request(requests)
        if request is None:
            return [no_update] * len(requests if isinstance(requests, list) else []), no_update
        start, end = row_range(request)
        with db() as s:
            page = account_page(s, search=_clean(search), role=_clean(role), status=_clean(status),
                                start=start, end=end)
        count = tr(f"共 {page['total']:,} 个账号", f"{page['total']:,} accounts")
        response = {"rowData": _rows(page["rows"]), "rowCount": page["total"]}
        return [response if r is request else no_update for r in requests], count

    @app.callback(Output("au-unit", "options"), Output("au-edit-unit", "options"), Output("au-roster-unit", "options"),
                  Input("au-refresh", "data"))
    @checked
    def au_units(_: StoreRef):
        current_scope("admin")
        options = _unit_options()
        return options, options, options

    @app.callback(Output("au-result", "children"), Output("au-refresh", "data", allow_duplicate=True),
                  Input("au-create", "n_clicks"),
                  State("au-username", "value"), State("au-role", "value"), State("au-unit", "value"),
                  State("au-badge", "value"), State("au-password", "value"), State("au-refresh", "data"),
                  prevent_initial_call=True)
    @checked
    def au_create(_: Clicks, username: Text, role: Code, unit: Code, badge: Code, password: Text, refresh: StoreRef):
        current_scope("admin")
        username = (username or "").strip()
        if not username:
            return dbc.Alert(label(ACCOUNT_ERRORS, "username_missing"), color="danger"), no_update
        try:
            with db() as s:
                create_user(s, username, password or "", str(role), officer_badge=(badge or "").strip() or None,
                            scope_unit_code=(unit or "").strip() or None)
                audit("create_user", username, {"role": role, "unit": unit, "badge": badge}, session=s)
        except UserError as exc:
            return dbc.Alert(tr("未能创建：", "Not created: ") + _error(exc), color="danger"), no_update
        return dbc.Alert(tr(f"已创建账号 {username}。", f"Account {username} created."), color="success"), next_count(refresh)

    @app.callback(Output("au-action-result", "children"), Output("au-refresh", "data", allow_duplicate=True),
                  Input("au-unlock", "n_clicks"), Input("au-toggle", "n_clicks"), Input("au-reset", "n_clicks"),
                  Input("au-edit-save", "n_clicks"), Input("au-psych", "n_clicks"),
                  State(GRID, "selectedRows"), State("au-edit-role", "value"), State("au-edit-unit", "value"),
                  State("au-refresh", "data"), prevent_initial_call=True)
    @checked
    def au_action(_u: Clicks, _t: Clicks, _r: Clicks, _e: Clicks, _p: Clicks, selected: RowsList, edit_role: Code,
                  edit_unit: Code, refresh: StoreRef):
        scope = current_scope("admin")
        chosen = next((rows for rows in (selected or []) if isinstance(rows, list) and rows), None)
        if not chosen or not isinstance(chosen[0], dict):
            return tr("请先在表格中选择一个账号。", "Select an account in the table first."), no_update
        username = str(chosen[0].get("username", ""))
        trigger = ctx.triggered_id
        try:
            with db() as s:
                if trigger == "au-unlock":
                    cleared = clear_throttle(s, username)
                    audit("clear_login_delay", username, {"pairs": cleared}, session=s)
                    msg = tr(f"已解除 {username} 的登录限制。", f"Sign-in delays of {username} cleared.")
                elif trigger == "au-reset":
                    code = reset_with_code(s, username, secret, days, scope.username)
                    audit("reset_account", username, {"expires_days": days}, session=s)  # never the code itself
                    msg = dbc.Alert([
                        html.Div(tr(f"{username} 的新激活码（只显示这一次，请当面或安全地交给本人）：",
                                    f"New activation code of {username} (shown this once; hand it over in person or "
                                    "safely):")),
                        html.Div(code, id="au-reset-code", className="fs-4 font-monospace fw-bold"),
                        html.Div(tr(f"有效 {days:g} 天；原密码已失效，其登录会话已结束。",
                                    f"Valid {days:g} days; the old password no longer works and its sessions ended."),
                                 className="small"),
                    ], color="warning")
                elif trigger == "au-edit-save":
                    role = _clean(edit_role)
                    user = set_role_and_scope(s, username, role, _clean(edit_unit), scope.username)
                    audit("edit_user", username, {"role": role, "unit": user.scope_unit.code if user.scope_unit else None},
                          session=s)
                    msg = tr(f"{username} 现在是{role_name(role)}。", f"{username} is now {role_name(role)}.")
                elif trigger == "au-psych":
                    user = set_psych_access(s, username, not has_psych_access(s, _id_of(s, username)))
                    audit("grant_psych" if user.psych_access else "revoke_psych", username, None, session=s)
                    msg = tr(f"{username} 的心理权限已{'授予' if user.psych_access else '收回'}。",
                             f"Psychological access {'granted to' if user.psych_access else 'revoked from'} {username}.")
                else:
                    active = toggle_active(s, username, scope.username)
                    audit("activate_user" if active else "deactivate_user", username, None, session=s)
                    msg = tr(f"{username} 已{'启用' if active else '停用'}。", f"{username} {'activated' if active else 'deactivated'}.")
        except LookupError:
            return label(ACCOUNT_ERRORS, "no_user"), no_update
        except UserError as exc:
            return _error(exc), no_update
        except ValueError:
            return label(ACCOUNT_ERRORS, "own_account"), no_update
        return msg, next_count(refresh)

    @app.callback(Output("au-bulk-result", "children"), Output("au-bulk-download", "data"),
                  Output("au-refresh", "data", allow_duplicate=True),
                  Input("au-bulk-upload", "contents"), State("au-bulk-upload", "filename"), State("au-refresh", "data"),
                  prevent_initial_call=True)
    @checked
    def au_bulk(contents: Upload, filename: Text, refresh: StoreRef):
        current_scope("admin")
        try:
            text = base64.b64decode(str(contents).split(",", 1)[1]).decode("utf-8-sig")
        except (IndexError, ValueError, UnicodeDecodeError):
            return dbc.Alert(label(ACCOUNT_ERRORS, "bulk_unreadable"), color="danger"), no_update, no_update
        with db() as s:
            result = bulk_create(s, text, secret, days)
            audit("bulk_create_users", str(filename or "")[:200],
                  {"created": [c["username"] for c in result["created"]],
                   "errors": [{"row": e["row"], "code": e["code"]} for e in result["errors"]]}, session=s)
        errors = [html.Li(tr(f"第 {e['row']} 行（{e['username']}）：", f"Row {e['row']} ({e['username']}): ")
                          + label(ACCOUNT_ERRORS, e["code"])) for e in result["errors"]]
        created = result["created"]
        body = [html.Div(tr(f"已创建 {len(created)} 个账号，激活码表已下载（只此一次）。",
                            f"{len(created)} account(s) created; the file of activation codes was downloaded (this once)."))]
        if errors:
            body.append(html.Ul(errors, className="mb-0 small"))
        download = None
        if created:
            lines = ["username,role,unit,activation_code,expires_utc"] + [
                f"{c['username']},{c['role']},{c['unit']},{c['code']},{c['expires']:%Y-%m-%d %H:%M}" for c in created]
            download = {"content": "\ufeff" + "\n".join(lines) + "\n", "filename": "activation-codes.csv"}
        colour = "danger" if errors and not created else "warning" if errors else "success"
        return dbc.Alert(body, color=colour), download or no_update, next_count(refresh) if created else no_update

    jobs.require("au-roster-result", "admin")

    @app.callback(Output("au-roster-result", "children"), Output("au-roster-csv", "data"),
                  Output("au-roster-slips", "data"), Output("au-refresh", "data", allow_duplicate=True),
                  Input("au-roster-run", "n_clicks"), State("au-roster-unit", "value"), State("au-refresh", "data"),
                  background=True, manager=jobs.manager(app),
                  progress=[Output("au-roster-progress", "value"), Output("au-roster-progress", "max")],
                  running=[(Output("au-roster-run", "disabled"), True, False)],
                  prevent_initial_call=True)
    @checked
    @jobs.recorded("roster_accounts", url, label=lambda _c, unit, _r: _clean(unit) or None)
    def au_roster(set_progress: Any, _: Clicks, unit: Code, refresh: StoreRef):
        who = jobs.caller()  # from the request that started the job, on the server
        if not who or who.get("role") != "admin":  # jobs.require refused the request already: defence in depth
            with session_scope(url) as s:  # the job has no request: the refusal is recorded here
                audit_model.record(s, action="access_denied", target="au-roster-run",
                                   detail={"reason": "only admins create accounts from the roster"},
                                   user_id=(who or {}).get("id"), username=(who or {}).get("username"),
                                   ip=(who or {}).get("ip"))
            return dbc.Alert(jobs.words(who, "无权执行此操作。", "You may not do this."), color="warning"), \
                no_update, no_update, no_update
        unit = _clean(unit) or None
        try:
            with session_scope(url) as s:
                result = accounts_from_roster(s, secret, days=days, unit_code=unit,
                                              progress=lambda done, total: set_progress((done, max(total, 1))))
                audit_model.record(s, action="accounts_from_roster", target=unit or "all",
                                   detail={"created": len(result["created"]), "skipped": len(result["skipped"])},
                                   user_id=who["id"], username=who["username"], ip=who["ip"])
        except LookupError:
            return dbc.Alert(label(ACCOUNT_ERRORS, "unknown_unit"), color="danger"), no_update, no_update, no_update
        created = result["created"]
        jobs.current().outcome(f"开通 {len(created):,} 个账号", f"{len(created):,} accounts created",
                               created=len(created), skipped=len(result["skipped"]))
        if not created:
            return (dbc.Alert(jobs.words(who, "所有在职民警都已有账号。", "Every active officer has an account already."),
                              color="info"), no_update, no_update, no_update)
        text = jobs.words(who, f"已创建 {len(created):,} 个民警账号；激活码表和激活单已下载（只此一次），有效 {days:g} 天。",
                          f"{len(created):,} officer accounts created; the codes and the slips were downloaded "
                          f"(this once), valid {days:g} days.")
        if result["skipped"]:
            text += jobs.words(who, f" {len(result['skipped'])} 个警号已被其他账号用作用户名，未创建。",
                               f" {len(result['skipped'])} badge(s) are another account's user name: not created.")
        return (dbc.Alert(text, color="success", id="au-roster-done"),
                {"content": "\ufeff" + slips["csv"](created), "filename": "activation-codes.csv"},
                {"content": slips["html"](created), "filename": "activation-slips.html"},
                next_count(refresh))
