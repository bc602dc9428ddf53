"""/me: who looked at my record (the portrait itself is ``callbacks/portrait.py``). The officer
comes from the session only; nothing the browser sends names whose log is read."""
import dash_bootstrap_components as dbc
from dash import Input, Output, html

from models import audit as audit_model
from models.vocab import AUDIT_ACTIONS, ROLE_WORDS
from web.access import AccessDenied, current_scope, db
from web.i18n import label, tr
from web.inputs import StoreRef, checked

SHOWN = 200


def access_table(entries: list[dict]):
    if not entries:
        return html.Div(tr("还没有人查看过您的档案。", "Nobody has looked at your record yet."), className="pt-muted",
                        id="me-access-empty")
    head = html.Thead(html.Tr([html.Th(tr("时间", "When")), html.Th(tr("角色", "Role")), html.Th(tr("用户", "User")),
                               html.Th(tr("操作", "Action"))]))
    body = html.Tbody([html.Tr([
        html.Td(e["at"]), html.Td(label(ROLE_WORDS, e["role"]) if e["role"] else "–"),
        html.Td(e["user"] if e["named"] else html.Span(tr("（名单）", "(a list)"), className="pt-muted")),
        html.Td(label(AUDIT_ACTIONS, e["action"])),
    ], className="me-access-row") for e in entries])
    return dbc.Table([head, body], size="sm", striped=True, responsive=True, className="small mb-0", id="me-access-table")


def register(app):
    @app.callback(Output("me-access", "children"), Input("me-access-load", "data"))
    @checked
    def me_access(_: StoreRef):
        scope = current_scope("officer")
        if scope.officer_id is None:
            raise AccessDenied("no officer record")
        with db() as s:
            entries = audit_model.officer_access_log(s, scope.officer_id, limit=SHOWN, exclude_user_id=scope.user_id)
        return access_table(entries)
