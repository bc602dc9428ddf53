"""The personal health plan (issue 19): /me/plan, /plan/<badge> (a manager's view) and the compact card on /me.

Who the plan belongs to is decided here, on the server: key "" is the caller's own plan (officers
only); a badge is a health manager's (or admin's) officer in scope (``web.access.officer_in_scope``).
Officers reply only to their own follow-ups (``models.health_plan.reply`` checks the follow-up
belongs to the session's officer). Saves carry a client token (replay-safe)."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from pydantic import Field

from models import health_plan as hp
from models import save_tokens
from models.schema import Officer
from models.vocab import FOLLOWUP_KINDS, FOLLOWUP_REPLIES, FOLLOWUP_STATUSES, PLAN_ITEMS
from web.access import AccessDenied, audit, client_ip, current_scope, db
from web.clock import today
from web.i18n import label, tr
from web.inputs import MAX_LIST, BadInput, Clicks, ClicksList, Code, Count, Date, Number, StoreRef, Token, checked, \
    new_token, next_count, valid_token
from web.inputs import Text as TextIn
from web.portrait import own_or_in_scope, unit_word

Reasons = Annotated[list[TextIn], Field(max_length=MAX_LIST)] | None  # the reason fields of the follow-ups


def _officer(session, scope, key) -> Officer:
    """The plan's officer: the officer's own, or one in a manager's or admin's scope (else AccessDenied)."""
    if key != "" and scope.role not in ("manager", "admin"):
        raise AccessDenied("no access")
    return own_or_in_scope(session, scope, key)


def _fmt(value, decimals: int) -> str:
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}"


def _target_row(t: dict, compact: bool = False):
    unit = unit_word(t["unit"])
    d = t["decimals"]
    share = t["share"]
    if t["reached"]:
        bar = dbc.Progress(value=100, color="success", className="plan-progress", label="")
        state = html.Span(tr("已达成，太棒了！", "Reached — well done!"), className="text-success small")
    elif share is None:
        bar = dbc.Progress(value=0, className="plan-progress")
        state = html.Span(tr("等待新的测量", "Waiting for a new reading"), className="text-muted small")
    else:
        bar = dbc.Progress(value=round(share * 100), className="plan-progress", color="info")
        state = html.Span(tr(f"已完成 {share:.0%}", f"{share:.0%} of the way"), className="small")
    head = html.Div([html.Span(label(PLAN_ITEMS, t["code"]), className="fw-semibold me-2"),
                     html.Span(tr(f"目标 {_fmt(t['target'], d)} {unit}，{t['target_date']} 前",
                                  f"target {_fmt(t['target'], d)} {unit} by {t['target_date']}"), className="small"),
                     html.Span(tr("（与健康管理师商定）", " (agreed with the health manager)"),
                               className="small text-muted") if t["agreed"] else None])
    facts = html.Div(tr(f"起点 {_fmt(t['baseline'], d)}（{t['baseline_date'] or '无记录'}） → 最新 {_fmt(t['latest'], d)}"
                        f"（{t['latest_date'] or '无记录'}）",
                        f"start {_fmt(t['baseline'], d)} ({t['baseline_date'] or 'none'}) → latest {_fmt(t['latest'], d)} "
                        f"({t['latest_date'] or 'none'})"), className="small text-muted")
    return html.Div([head, bar, html.Div([state, html.Span(" · ", className="text-muted") if not compact else None,
                                          facts if not compact else None])],
                    className="mb-3 plan-target", id=f"plan-target-{t['code']}")


def _next(n: dict):
    if not n["date"]:
        return html.Div(tr("下次检查：暂无安排", "Next check: nothing scheduled"), className="small", id="plan-next-date")
    what = tr("跟进预约", "follow-up appointment") if n["what"] == "followup" else tr("年度体检", "yearly exam")
    return html.Div(tr(f"下次检查：{n['date']}（{what}）", f"Next check: {n['date']} ({what})"), className="small fw-semibold",
                    id="plan-next-date")


def _followups(rows: list[dict]):
    if not rows:
        return dbc.Card(dbc.CardBody([
            html.Div(tr("我的随访", "My follow-ups"), className="section-title mt-0"),
            html.Div(tr("目前没有随访安排。", "No follow-ups at present."), className="pt-muted", id="plan-fu-empty")]))
    items = []
    for r in rows:
        kind = label(FOLLOWUP_KINDS, r["kind"])
        status = label(FOLLOWUP_STATUSES, "overdue" if r["overdue"] else r["status"])
        body = [html.Div([html.Span(kind, className="fw-semibold me-2"), html.Span(status, className="badge bg-light text-dark"),
                          html.Span(tr(f" 预约/期限：{r['due']}", f" appointment/due: {r['due']}") if r["due"] else "",
                                    className="small ms-2")]),
                html.Div(tr(f"原因：{r['reason']}", f"Reason: {r['reason']}"), className="small") if r["reason"] else None]
        for n in r["notes"]:
            body.append(html.Div(f"{n.get('at', '')} · {n.get('text', '')}", className="small text-muted"))
        if r["reply"]:
            body.append(html.Div(tr(f"您的回复：{label(FOLLOWUP_REPLIES, r['reply'])}", f"Your reply: "
                                    f"{label(FOLLOWUP_REPLIES, r['reply'])}") + (f" — {r['reply_reason']}" if r["reply_reason"]
                                                                                  else ""),
                                 className="small text-success", id={"type": "plan-replied", "id": r["id"]}))
        if r["status"] != "closed":
            body.append(dbc.Row([
                dbc.Col(dbc.Input(id={"type": "plan-reason", "id": r["id"]}, maxLength=hp.MAX_REASON, size="sm",
                                  placeholder=tr("改期理由（申请改期时必填）", "Reason (needed to reschedule)")), md=6),
                dbc.Col(dbc.Button(tr("确认", "Confirm"), id={"type": "plan-reply", "id": r["id"], "a": "confirm"},
                                   size="sm", color="success", outline=True), width="auto"),
                dbc.Col(dbc.Button(tr("申请改期", "Ask to reschedule"), id={"type": "plan-reply", "id": r["id"], "a": "reschedule"},
                                   size="sm", color="warning", outline=True), width="auto"),
            ], className="g-2 mt-1 no-print"))
        items.append(dbc.ListGroupItem(body, className="plan-fu", id={"type": "plan-fu", "id": r["id"]}))
    return dbc.Card(dbc.CardBody([
        html.Div(tr("我的随访", "My follow-ups"), className="section-title mt-0"),
        html.Div(tr("健康管理师和您商定的安排。可以确认，或说明理由申请改期。",
                    "What your health manager agreed with you. Confirm it, or ask for another date with a reason."),
                 className="small text-muted mb-2"),
        dbc.ListGroup(items), html.Div(id="plan-reply-msg", className="small mt-2")]), id="plan-followups")


ERRORS = {
    "choose an item": "请选择项目", "enter a target value": "请填写目标值", "the target lies outside": "目标值超出合理范围",
    "enter a target date": "请填写目标日期", "the target date must lie in the future": "目标日期须晚于今天",
    "the target date is more than three years ahead": "目标日期不能超过三年",
    "choose confirm or reschedule": "请选择确认或申请改期", "the follow-up is closed": "该随访已结案",
    "give a reason for the new date": "申请改期请填写理由",
}


def _error(exc: Exception):
    text = str(exc)
    zh = next((v for k, v in ERRORS.items() if text.startswith(k)), text)
    return html.Span(tr(zh, text), className="text-danger", id="plan-error")


def _token(value) -> str:
    token = valid_token(value)
    if token is None:
        raise BadInput("bad input: a save without its client token")
    return token


def register(app):
    @app.callback(Output("plan-targets", "children"), Output("plan-next", "children"),
                  Output("plan-followups-wrap", "children"), Output("plan-who", "children"),
                  Output("plan-token", "data"), Output("plan-reply-token", "data"),
                  Input("plan-key", "data"), Input("plan-changed", "data"))
    @checked
    def plan_view(key: StoreRef, _changed: Count):
        scope = current_scope("officer", "manager", "admin")
        day = today()
        with db() as s:
            officer = _officer(s, scope, key)
            if scope.officer_id != officer.id:
                audit("view_health_plan", f"officer:{officer.badge}", None, session=s)
            targets = hp.targets(s, officer.id, day)
            nxt = hp.next_check(s, officer.id, day)
            fus = hp.my_followups(s, officer.id, day) if scope.role == "officer" else None
            who = "" if key == "" else html.Span([f"{officer.name} · {officer.badge} · ",
                                                   html.A(tr("返回健康画像", "Back to the portrait"),
                                                          href=f"/officers/{quote(officer.badge)}")])
        shown = [_target_row(t) for t in targets] or [html.Div(
            tr("还没有目标。在下面设定一个，例如三个月内体重减少 3 公斤。",
               "No targets yet. Set one below, for example 3 kg less in three months."), className="pt-muted",
            id="plan-empty")]
        return shown, _next(nxt), _followups(fus) if fus is not None else None, who, new_token(), new_token()

    @app.callback(Output("plan-msg", "children"), Output("plan-changed", "data"),
                  Output("plan-token", "data", allow_duplicate=True),
                  Input("plan-save", "n_clicks"), State("plan-key", "data"), State("plan-item", "value"),
                  State("plan-value", "value"), State("plan-date", "value"), State("plan-token", "data"),
                  State("plan-changed", "data"), prevent_initial_call=True)
    @checked
    def plan_save(n: Clicks, key: StoreRef, code: Code, value: Number(-1e9, 1e9), date: Date, token: Token,
                  changed: Count):
        scope = current_scope("officer", "manager", "admin")
        if not n:
            return no_update, no_update, no_update
        token = _token(token)
        try:
            with db() as s:
                officer = _officer(s, scope, key)
                if save_tokens.claim(s, scope.user_id, "set_health_target", token):
                    hp.set_target(s, officer.id, scope.user_id, scope.role, code, value, date, today())
                    audit("set_health_target", f"officer:{officer.badge}", {"item": code, "target": value, "by": date},
                          session=s)
        except hp.PlanError as exc:
            return _error(exc), no_update, no_update
        return html.Span(tr("目标已保存", "Target saved"), className="text-success", id="plan-saved"), \
            next_count(changed), new_token()

    @app.callback(Output("plan-reply-msg", "children"), Output("plan-changed", "data", allow_duplicate=True),
                  Input({"type": "plan-reply", "id": ALL, "a": ALL}, "n_clicks"),
                  State({"type": "plan-reason", "id": ALL}, "value"), State("plan-reply-token", "data"),
                  State("plan-changed", "data"), prevent_initial_call=True)
    @checked
    def plan_reply(clicks: ClicksList, reasons: Reasons, token: Token, changed: Count):
        scope = current_scope("officer")
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks or []):
            return no_update, no_update
        fid, answer = trigger.get("id"), trigger.get("a")
        if not isinstance(fid, int) or isinstance(fid, bool) or answer not in FOLLOWUP_REPLIES:
            raise BadInput("bad input: plan_reply")
        token = _token(token)
        reason = None
        for spec, value in zip(ctx.states_list[0] if ctx.states_list else [], reasons or []):
            if isinstance(spec, dict) and isinstance(spec.get("id"), dict) and spec["id"].get("id") == fid:
                reason = value
        if scope.officer_id is None:
            raise AccessDenied("no officer record")
        try:
            with db() as s:
                if save_tokens.claim(s, scope.user_id, "followup_reply", token):
                    hp.reply(s, scope.officer_id, scope.user_id, scope.username, fid, answer, reason, ip=client_ip())
        except hp.PlanDenied:
            raise AccessDenied("no access") from None
        except hp.PlanError as exc:
            return _error(exc), no_update
        done = tr("已确认，谢谢！", "Confirmed — thank you!") if answer == "confirm" else \
            tr("已提交改期申请，健康管理师会与您联系。", "Request sent: your health manager will be in touch.")
        return html.Span(done, className="text-success", id="plan-replied-msg"), next_count(changed)

    @app.callback(Output("me-plan-body", "children"), Input("me-plan-load", "data"))
    @checked
    def me_plan_card(_: StoreRef):
        scope = current_scope("officer")
        if scope.officer_id is None:
            raise AccessDenied("no officer record")
        day = today()
        with db() as s:
            targets = hp.targets(s, scope.officer_id, day)
            nxt = hp.next_check(s, scope.officer_id, day)
        rows = [_target_row(t, compact=True) for t in targets[:3]] or [html.Div(
            tr("还没有健康目标。", "No health targets yet."), className="pt-muted small")]
        return [*rows, _next(nxt)]
