"""/campaigns/<id>, the editors' "Manage" card: close, archive and a quiz campaign's question bank.

Only those who may edit the campaign (``models.campaigns.access.may_edit``: health managers for
campaigns wholly inside their scope, administrators for any) see the card; every callback checks it
again on the server. Saves carry a client token (replay-safe) and are audited.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from models import save_tokens
from models.campaigns.access import CampaignError, NotAllowed, NotVisible, may_edit, unit_rows, visible_campaign
from models.campaigns.quiz import question_bank, save_question
from models.campaigns.rules import MAX_QUESTIONS, lifecycle
from models.campaigns.writes import archive_campaign, close_campaign
from models.vocab import CAMPAIGN_STATUSES
from web.access import AccessDenied, audit, current_scope, db
from web.campaign_text import campaign_id_in
from web.clock import today
from web.i18n import label, tr
from web.inputs import (BadInput, Clicks, ClicksList, Code, Flag, Path, StoreRef, Text, Token, checked, int_id,
                        new_token, next_count, valid_token)

LETTERS = "ABCD"
TEXT_FIELDS = ["cq-text-zh", "cq-text-en", *[f"cq-opt-zh-{k}" for k in range(4)], *[f"cq-opt-en-{k}" for k in range(4)],
               "cq-expl-zh", "cq-expl-en"]


def _denied(exc: Exception):
    raise AccessDenied(str(exc)) from exc


def _editable(s, scope, cid):
    c = visible_campaign(s, scope, cid)
    if not may_edit(scope, c, unit_rows(s)):
        raise NotAllowed("no access")
    return c


def _claim(s, scope, action: str, token) -> bool:
    token = valid_token(token)
    if token is None:
        raise BadInput("bad input: a save without its client token")
    return save_tokens.claim(s, scope.user_id, action, token)


def _bank_table(rows: list[dict], frozen: bool):
    if not rows:
        return html.Div(tr("题库为空：请新增题目（每天为每位民警抽取最多 5 道启用的题目）。",
                           "The bank is empty: add questions (each officer gets up to 5 active ones a day)."),
                        className="text-muted small", id="cq-empty")
    body = []
    for n, q in enumerate(rows, 1):
        buttons = [] if frozen else [
            dbc.Button(tr("编辑", "Edit"), id={"type": "cq-edit", "index": q["id"]}, size="sm", color="secondary",
                       outline=True, className="me-1"),
            dbc.Button(tr("停用", "Deactivate") if q["active"] else tr("启用", "Activate"),
                       id={"type": "cq-toggle", "index": f"{q['id']}:{0 if q['active'] else 1}"}, size="sm", color="warning" if q["active"] else "success",
                       outline=True)]
        body.append(html.Tr([
            html.Td(n), html.Td(tr(q["text_zh"], q["text_en"])),
            html.Td(f"{LETTERS[q['correct']]}. {tr(q['options_zh'][q['correct']], q['options_en'][q['correct']])}"),
            html.Td(dbc.Badge(tr("启用", "Active"), color="success") if q["active"] else
                    dbc.Badge(tr("已停用", "Inactive"), color="secondary")),
            html.Td(buttons),
        ], className=None if q["active"] else "text-muted"))
    head = [tr("#", "#"), tr("题目", "Question"), tr("正确答案", "Correct"), tr("状态", "State"), ""]
    return html.Div([
        dbc.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], size="sm", className="mb-1",
                  responsive=True, id="cq-table"),
        html.Div(tr(f"共 {len(rows)} 题，启用 {sum(q['active'] for q in rows)} 题（最多 {MAX_QUESTIONS} 题）。",
                    f"{len(rows)} questions, {sum(q['active'] for q in rows)} active (at most {MAX_QUESTIONS})."),
                 className="small text-muted"),
    ])


def register(app):
    @app.callback(Output("campaign-manage-card", "style"), Output("campaign-manage-state", "children"),
                  Output("campaign-close-wrap", "style"), Output("campaign-archive-wrap", "style"),
                  Output("cq-section", "style"),
                  Output("campaign-manage-token", "data"),
                  Input("campaign-url", "pathname"), Input("campaign-manage-refresh", "data"))
    @checked
    def campaign_manage_view(path: Path, _refresh: StoreRef):
        scope = current_scope("manager", "admin")
        cid = campaign_id_in(path)
        day = today()
        hidden = {"display": "none"}
        try:
            with db() as s:
                c = visible_campaign(s, scope, cid)
                if not may_edit(scope, c, unit_rows(s)):
                    return hidden, None, hidden, hidden, hidden, None
                state, kind = lifecycle(c, day), c.kind
        except NotVisible as exc:
            _denied(exc)
        text = {
            "upcoming": tr("活动尚未开始：可在活动列表中编辑全部设置；未开始的活动可直接归档。",
                           "Not started: every setting can be edited from the list; it can be archived as it is."),
            "running": tr("活动进行中：可关闭（今天结束，不再接受填报）。", "Running: it can be closed (ends today, no more "
                                                               "entries)."),
            "finished": tr("活动已结束：可归档。", "Finished: it can be archived."),
            "closed": tr("活动已关闭：可归档。", "Closed: it can be archived."),
            "archived": tr("活动已归档：不在默认列表中，仍可查看。", "Archived: out of the default lists, still readable."),
        }[state]
        close = {} if state == "running" else hidden  # the one action each state allows
        archive = {} if state in ("upcoming", "finished", "closed") else hidden
        return {}, [dbc.Badge(label(CAMPAIGN_STATUSES, state), className="me-2"), text], close, archive, \
            {} if kind == "quiz" else hidden, new_token()

    @app.callback(Output("campaign-manage-msg", "children"), Output("campaign-manage-refresh", "data"),
                  Input("campaign-close", "submit_n_clicks"), Input("campaign-archive", "submit_n_clicks"),
                  State("campaign-url", "pathname"), State("campaign-manage-token", "data"),
                  State("campaign-manage-refresh", "data"), prevent_initial_call=True)
    @checked
    def campaign_close_archive(_close: Clicks, _archive: Clicks, path: Path, token: Token, counter: StoreRef):
        scope = current_scope("manager", "admin")
        action = {"campaign-close": "campaign_close", "campaign-archive": "campaign_archive"}.get(ctx.triggered_id)
        if action is None:
            raise PreventUpdate
        cid = campaign_id_in(path)
        try:
            with db() as s:
                if not _claim(s, scope, action, token):
                    return no_update, no_update
                fn = close_campaign if action == "campaign_close" else archive_campaign
                c = fn(s, scope, cid, today())
                audit(action, target=f"campaign:{c.id}", detail={"name": c.name}, session=s)
        except (NotVisible, NotAllowed) as exc:
            _denied(exc)
        except CampaignError as exc:
            return dbc.Alert(tr(*exc.errors["_"]), color="danger", className="py-2 small"), no_update
        done = tr("活动已关闭。", "The campaign is closed.") if action == "campaign_close" else \
            tr("活动已归档。", "The campaign is archived.")
        return dbc.Alert(done, color="success", className="py-2 small", id="campaign-manage-done"), next_count(counter)

    @app.callback(Output("cq-list", "children"), Input("campaign-url", "pathname"), Input("cq-refresh", "data"))
    @checked
    def question_list(path: Path, _refresh: StoreRef):
        scope = current_scope("manager", "admin")
        cid = campaign_id_in(path)
        try:
            with db() as s:
                c = visible_campaign(s, scope, cid)
                if c.kind != "quiz" or not may_edit(scope, c, unit_rows(s)):
                    return None  # the card is hidden: nothing to list (and no answer key for a non-editor)
                rows = question_bank(s, scope, cid)
                frozen = lifecycle(c, today()) not in ("upcoming", "running")
        except (NotVisible, NotAllowed) as exc:
            _denied(exc)
        return _bank_table(rows, frozen)

    form_values = [Output(f, "value") for f in TEXT_FIELDS] + [Output("cq-correct", "value"), Output("cq-active", "value")]

    @app.callback(Output("cq-collapse", "is_open"), Output("cq-edit-id", "data"), Output("cq-title", "children"),
                  Output("cq-token", "data"), Output("cq-error", "children"), *form_values,
                  Input("cq-new", "n_clicks"), Input({"type": "cq-edit", "index": ALL}, "n_clicks"),
                  Input("cq-cancel", "n_clicks"), State("campaign-url", "pathname"), prevent_initial_call=True)
    @checked
    def question_form(_new: Clicks, edits: ClicksList, _cancel: Clicks, path: Path):
        scope = current_scope("manager", "admin")
        trigger = ctx.triggered_id
        blank = [""] * len(TEXT_FIELDS) + [None, True]
        if trigger == "cq-cancel":
            return (False, None, no_update, None, None, *[no_update] * len(blank))
        if trigger == "cq-new":
            return (True, None, tr("新增题目", "New question"), new_token(), None, *blank)
        if isinstance(trigger, dict) and trigger.get("type") == "cq-edit":
            if not any(edits or []):
                raise PreventUpdate  # the buttons were re-rendered, not clicked
            qid = int_id(trigger.get("index"))
            try:
                with db() as s:
                    bank = {q["id"]: q for q in question_bank(s, scope, campaign_id_in(path))}
            except (NotVisible, NotAllowed) as exc:
                _denied(exc)
            q = bank.get(qid)
            if q is None:
                raise AccessDenied("no such question in this campaign")
            values = [q["text_zh"], q["text_en"], *q["options_zh"], *q["options_en"], q["explanation_zh"],
                      q["explanation_en"], str(q["correct"]), q["active"]]
            return (True, qid, tr(f"编辑题目 {qid}", f"Edit question {qid}"), new_token(), None, *values)
        raise PreventUpdate

    @app.callback(Output("cq-error", "children", allow_duplicate=True),
                  Output("cq-collapse", "is_open", allow_duplicate=True), Output("cq-refresh", "data"),
                  Input("cq-save", "n_clicks"), State("campaign-url", "pathname"), State("cq-edit-id", "data"),
                  State("cq-token", "data"), State("cq-refresh", "data"), *[State(f, "value") for f in TEXT_FIELDS],
                  State("cq-correct", "value"), State("cq-active", "value"), prevent_initial_call=True)
    @checked
    def question_save(n: Clicks, path: Path, edit_id: StoreRef, token: Token, counter: StoreRef, text_zh: Text,
                      text_en: Text, o_zh0: Text, o_zh1: Text, o_zh2: Text, o_zh3: Text, o_en0: Text, o_en1: Text,
                      o_en2: Text, o_en3: Text, expl_zh: Text, expl_en: Text, correct: Code, active: Flag):
        if not n:
            raise PreventUpdate
        scope = current_scope("manager", "admin")
        if edit_id is not None and int_id(edit_id) is None:
            raise BadInput("bad input: question id")
        data = {"text_zh": text_zh, "text_en": text_en, "options_zh": [o_zh0, o_zh1, o_zh2, o_zh3],
                "options_en": [o_en0, o_en1, o_en2, o_en3], "explanation_zh": expl_zh, "explanation_en": expl_en,
                "correct": correct, "active": active is not False}
        action = "campaign_question_update" if edit_id else "campaign_question_create"
        cid = campaign_id_in(path)
        try:
            with db() as s:
                if not _claim(s, scope, action, token):
                    return None, False, no_update
                q = save_question(s, scope, cid, data, today(), int_id(edit_id))
                audit(action, target=f"campaign:{cid}", detail={"question": q.id, "active": q.active}, session=s)
        except (NotVisible, NotAllowed) as exc:
            _denied(exc)
        except CampaignError as exc:
            return html.Ul([html.Li(tr(*m)) for m in exc.errors.values()], className="mb-0"), no_update, no_update
        return None, False, next_count(counter)

    @app.callback(Output("cq-refresh", "data", allow_duplicate=True),
                  Output("campaign-manage-msg", "children", allow_duplicate=True),
                  Input({"type": "cq-toggle", "index": ALL}, "n_clicks"), State("campaign-url", "pathname"),
                  State("cq-refresh", "data"), prevent_initial_call=True)
    @checked
    def question_toggle(clicks: ClicksList, path: Path, counter: StoreRef):
        """Deactivate (or activate again) a question: the button names the state it sets ("<id>:0" or
        "<id>:1"), so a replayed request sets the same state again and changes nothing."""
        scope = current_scope("manager", "admin")
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks or []):
            raise PreventUpdate
        raw_id, _, raw_state = str(trigger.get("index")).partition(":")
        qid = int_id(raw_id)
        if qid is None or raw_state not in ("0", "1"):
            raise BadInput("bad input: question toggle")
        cid = campaign_id_in(path)
        try:
            with db() as s:
                bank = {q["id"]: q for q in question_bank(s, scope, cid)}
                q = bank.get(qid)
                if q is None:
                    raise AccessDenied("no such question in this campaign")
                if q["active"] == (raw_state == "1"):
                    return no_update, None  # already so (a replay)
                saved = save_question(s, scope, cid, {**q, "active": raw_state == "1"}, today(), qid)
                audit("campaign_question_update", target=f"campaign:{cid}",
                      detail={"question": saved.id, "active": saved.active}, session=s)
        except (NotVisible, NotAllowed) as exc:
            _denied(exc)
        except CampaignError as exc:
            return no_update, dbc.Alert(tr(*exc.errors["_"]) if "_" in exc.errors else tr("无法保存。", "Not saved."),
                                        color="danger", className="py-2 small")
        return next_count(counter), None
