"""The bell in the shell and /notifications (issue 19). Every callback reads and writes only the
signed-in user's own messages: the user id comes from the session (``current_user``), never from the
browser; a message id the browser sends is matched with that user (``models.notifications``)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from models import notifications as nt
from models import save_tokens
from models.devices import to_local
from models.vocab import NOTIFICATION_KINDS
from web.access import AccessDenied, audit, db
from web.i18n import label, tr
from web.inputs import BadInput, Clicks, ClicksList, Codes, Count, Flag, Path, Text, Token, checked, new_token, \
    next_count, valid_token
from web.shell import bell_badge_text

PAGE = 20
BELL_CLASS = "badge rounded-pill bg-danger bell-count"


def _me() -> int:
    if not getattr(current_user, "is_authenticated", False):
        raise AccessDenied("not logged in")
    return current_user.id


def _bell(count: int):
    return bell_badge_text(count), BELL_CLASS + ("" if count else " d-none")


def _page_of(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6 else 0


def _item(n):
    at = to_local(n.created_at).strftime("%Y-%m-%d %H:%M")
    title = tr(n.title_zh, n.title_en)
    head = [html.Span(className="nt-dot") if n.read_at is None else None,
            html.A(title, href=n.link, className="fw-semibold nt-link") if n.link else html.Span(title, className="fw-semibold")]
    actions = [html.Span(f"{label(NOTIFICATION_KINDS, n.kind)} · {at}", className="nt-time me-2")]
    if n.read_at is None:
        actions.append(dbc.Button(tr("标为已读", "Mark read"), id={"type": "nt-read", "id": n.id}, size="sm",
                                  color="link", className="p-0 nt-read"))
    return dbc.ListGroupItem([
        html.Div(head),
        html.Div(tr(n.body_zh, n.body_en), className="small mt-1 nt-body") if (n.body_zh or n.body_en) else None,
        html.Div(actions, className="d-flex align-items-center mt-1"),
    ], className="nt-item" + (" nt-unread" if n.read_at is None else ""))


def register(app):
    @app.callback(Output("bell-count", "children"), Output("bell-count", "className"),
                  Input("bell-interval", "n_intervals"), Input("_pages_location", "pathname"))
    @checked
    def bell(_n: Clicks, _path: Path):
        user = _me()
        with db() as s:
            return _bell(nt.unread_count(s, user))

    @app.callback(Output("nt-list", "children"), Output("nt-pager", "children"), Output("nt-prev", "disabled"),
                  Output("nt-next", "disabled"), Output("nt-page", "data"),
                  Input("nt-page", "data"), Input("nt-unread-only", "value"), Input("nt-changed", "data"),
                  Input("nt-prev", "n_clicks"), Input("nt-next", "n_clicks"))
    @checked
    def nt_list(page: Count, unread_only: Flag, _changed: Count, _prev: Clicks, _next: Clicks):
        user = _me()
        page = _page_of(page)
        if ctx.triggered_id == "nt-unread-only":
            page = 0
        elif ctx.triggered_id == "nt-prev":
            page = max(0, page - 1)
        elif ctx.triggered_id == "nt-next":
            page += 1
        with db() as s:
            rows, total = nt.recent(s, user, limit=PAGE, offset=page * PAGE, unread_only=bool(unread_only))
            pages = max(1, -(-total // PAGE))
            if page >= pages:
                page = pages - 1
                rows, total = nt.recent(s, user, limit=PAGE, offset=page * PAGE, unread_only=bool(unread_only))
            body = dbc.ListGroup([_item(n) for n in rows], id="nt-items") if rows else \
                html.Div(tr("暂无消息。", "No messages."), className="pt-muted", id="nt-empty")
        pager = tr(f"第 {page + 1} / {pages} 页，共 {total} 条", f"Page {page + 1} of {pages}, {total} in all")
        return body, pager, page == 0, page >= pages - 1, page

    @app.callback(Output("nt-changed", "data"), Output("bell-count", "children", allow_duplicate=True),
                  Output("bell-count", "className", allow_duplicate=True),
                  Input({"type": "nt-read", "id": ALL}, "n_clicks"), Input("nt-read-all", "n_clicks"),
                  State("nt-changed", "data"), prevent_initial_call=True)
    @checked
    def nt_mark(clicks: ClicksList, _all: Clicks, changed: Count):
        user = _me()
        trigger = ctx.triggered_id
        if trigger == "nt-read-all":
            if not _all:
                return no_update, no_update, no_update
            ids = None
        elif isinstance(trigger, dict) and isinstance(trigger.get("id"), int) and not isinstance(trigger["id"], bool) \
                and any(clicks or []):
            ids = [trigger["id"]]
        else:
            return no_update, no_update, no_update
        with db() as s:
            nt.mark_read(s, user, ids)
            count = nt.unread_count(s, user)
        return (next_count(changed), *_bell(count))

    @app.callback(Output("nt-email", "value"), Output("nt-email-kinds", "options"), Output("nt-email-kinds", "value"),
                  Output("nt-pref-token", "data"), Input("nt-title", "id"))
    @checked
    def nt_prefs(_: Text):
        user = _me()
        kinds = nt.KINDS_BY_ROLE.get(current_user.role, ())
        with db() as s:
            pref = nt.preferences(s, user)
        options = [{"label": label(NOTIFICATION_KINDS, k), "value": k} for k in kinds]
        return pref["email"], options, [k for k in pref["email_kinds"] if k in kinds], new_token()

    @app.callback(Output("nt-pref-msg", "children"), Output("nt-pref-token", "data", allow_duplicate=True),
                  Input("nt-pref-save", "n_clicks"), State("nt-email", "value"), State("nt-email-kinds", "value"),
                  State("nt-pref-token", "data"), prevent_initial_call=True)
    @checked
    def nt_pref_save(n: Clicks, email: Text, kinds: Codes, token: Token):
        user = _me()
        if not n:
            return no_update, no_update
        token = valid_token(token)
        if token is None:
            raise BadInput("bad input: a save without its client token")
        allowed = set(nt.KINDS_BY_ROLE.get(current_user.role, ()))
        if any(k not in allowed for k in kinds or []):
            raise BadInput("bad input: a kind this role does not receive")
        done = html.Span(tr("已保存", "Saved"), className="text-success", id="nt-pref-done")
        try:
            with db() as s:
                if save_tokens.claim(s, user, "notification_prefs", token):
                    nt.set_preferences(s, user, email, kinds or [])
                    audit("notification_prefs", f"user:{current_user.username}",
                          {"email": bool((email or "").strip()), "kinds": sorted(kinds or [])}, session=s)
        except nt.PreferenceError as exc:
            return html.Span(_pref_error(str(exc)), className="text-danger", id="nt-pref-error"), no_update
        return done, new_token()


PREF_ERRORS = {
    "bad e-mail address": ("邮箱地址格式不正确", "The e-mail address is not valid"),
    "an e-mail address is needed": ("要通过邮件接收消息，请先填写邮箱地址", "Enter an e-mail address to get messages by e-mail"),
}


def _pref_error(text: str) -> str:
    return tr(*next((v for k, v in PREF_ERRORS.items() if text.startswith(k)), (text, text)))
