"""Workbench and follow-up callbacks (the follow-up forms also serve /warnings).

The officer and the follow-up named by a store or a button id are untrusted: the
models refuse anything outside the manager's scope (FollowUpDenied -> HTTP 403)."""
from __future__ import annotations

import datetime as dt
import functools

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update

from models import followups as fu
from models import save_tokens
from models.vocab import FOLLOWUP_KINDS, FOLLOWUP_OUTCOMES, FOLLOWUP_STATUSES
from web.clock import today
from web.access import AccessDenied, audit, client_ip, current_scope, db
from web.cache import HEALTH_AND_FOLLOWUPS, cached
from web.i18n import label, tr
from web.inputs import BadInput, Clicks, ClicksList, Code, Count, Date, Path, StoreRef, Text, Token, checked, new_token, valid_token
from web.shell import kpi_card, level_badge



def _ip() -> str | None:
    return client_ip()


def denied_as_403(fn):
    """A scope refusal from the models becomes AccessDenied (HTTP 403)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except fu.FollowUpDenied as exc:
            raise AccessDenied(str(exc)) from None
    return wrapper


def _badge_of(data) -> str | None:
    if isinstance(data, dict):
        data = data.get("badge")
    return data if isinstance(data, str) and data else None


def _id_of(data):
    return data.get("id") if isinstance(data, dict) else data


def _officer_link(row) -> html.A:
    """A real link (it opens in a new tab too); the portrait checks the scope and audits the view."""
    return html.A(row["name"], href=f"/officers/{row['badge']}")


URGENCY_COLOURS = {0: "danger", 1: "warning", 2: "secondary"}


def _queue(rows: list[dict]) -> html.Div:
    if not rows:
        return html.Div(tr("没有需处理的红色预警。", "No red warnings waiting."), className="text-muted",
                        id="wb-queue-empty")

    def ago(days):
        return tr("今天", "today") if days == 0 else tr(f"{days}天前", f"{days} d ago")

    body = [html.Tr([
        html.Td(dbc.Badge(tr(r["urgency_zh"], r["urgency_en"]), color=URGENCY_COLOURS[r["urgency"]],
                          className="text-wrap text-start wb-urgency"), style={"minWidth": "10em"}),
        html.Td(_officer_link(r), className="text-nowrap"), html.Td(r["badge"]),
        html.Td(tr(r["unit"], r["unit_en"]), className="text-nowrap"),
        html.Td(level_badge("red", r["confirmed"]), className="text-nowrap"),
        html.Td(f"{r['red_since']}（{ago(r['days'])}）", className="text-nowrap"),
        html.Td("；".join(tr(*pair) for pair in zip(r["reasons"], r["reasons_en"])), className="small"),
        html.Td(dbc.Button(tr("新建跟进", "Follow up"), id={"type": "wb-new", "badge": r["badge"]}, size="sm",
                           color="primary", className="text-nowrap")),
    ]) for r in rows]
    head = html.Tr([html.Th(h, className="text-nowrap") for h in (tr("优先级", "Priority"), tr("姓名", "Name"), tr("警号", "Badge"),
                                         tr("单位", "Unit"), tr("预警", "Level"), tr("转红日期", "Red since"),
                                         tr("原因", "Reasons"), "")])
    return dbc.Table([html.Thead(head), html.Tbody(body)], size="sm", hover=True, responsive=True,
                     id="wb-queue-table")


def _status(r) -> html.Span:
    key = "overdue" if r["overdue"] else r["status"]
    colour = {"overdue": "danger", "open": "primary", "in_progress": "info", "closed": "success"}[key]
    return dbc.Badge(label(FOLLOWUP_STATUSES, key), color=colour)


def _mine(rows: list[dict]) -> html.Div:
    if not rows:
        return html.Div(tr("目前没有分配给我的跟进。", "No follow-ups assigned to me."), className="text-muted",
                        id="wb-mine-empty")
    body = []
    for r in rows:
        last = r["notes"][-1]["text"] if r["notes"] else ""
        body.append(html.Tr([
            html.Td(_status(r)), html.Td(_officer_link(r), className="text-nowrap"),
            html.Td(tr(r["unit"], r["unit_en"]), className="text-nowrap"),
            html.Td(level_badge(r["level"])), html.Td(label(FOLLOWUP_KINDS, r["kind"])),
            html.Td(r["due"] or "–", className="text-nowrap" + (" fw-semibold text-danger" if r["overdue"] else "")),
            html.Td(last, className="small"),
            html.Td(dbc.Button(tr("处理", "Open"), id={"type": "wb-open", "id": r["id"]}, size="sm",
                               color="secondary", outline=True)),
        ], className="table-danger" if r["overdue"] else ""))
    head = html.Tr([html.Th(h) for h in (tr("状态", "Status"), tr("姓名", "Name"), tr("单位", "Unit"),
                                         tr("当前预警", "Level now"), tr("方式", "Type"), tr("期限", "Due"),
                                         tr("最近记录", "Last note"), "")])
    return dbc.Table([html.Thead(head), html.Tbody(body)], size="sm", hover=True, responsive=True, id="wb-mine-table")


def _next_text(nxt):
    if not nxt:
        return html.Span(tr("待下次评估", "awaiting next assessment"), className="text-muted")
    note = tr("（有变化）", " (changed)") if nxt["changed"] else tr("（未变）", " (same)")
    return html.Span([level_badge(nxt["level"], nxt["confirmed"]), f" {nxt['at']}{note}"])


def _closed(rows: list[dict]) -> html.Div:
    if not rows:
        return html.Div(tr("近期没有结案的跟进。", "No closed follow-ups yet."), className="text-muted")
    body = [html.Tr([
        html.Td(_officer_link(r)), html.Td(label(FOLLOWUP_KINDS, r["kind"])), html.Td(r["closed_at"]),
        html.Td(label(FOLLOWUP_OUTCOMES, r["outcome"])), html.Td(_next_text(r["next"])),
        html.Td(dbc.Button(tr("查看", "View"), id={"type": "wb-open", "id": r["id"]}, size="sm", color="link")),
    ]) for r in rows]
    head = html.Tr([html.Th(h) for h in (tr("姓名", "Name"), tr("方式", "Type"), tr("结案日期", "Closed"),
                                         tr("结果", "Outcome"), tr("结案后下次评估", "Next assessment"), "")])
    return dbc.Table([html.Thead(head), html.Tbody(body)], size="sm", responsive=True, id="wb-closed-table")


def _changes(rows: list[dict]) -> html.Div:
    if not rows:
        return html.Div(tr("近30天没有预警颜色变化。", "No changes in the last 30 days."), className="text-muted")
    body = [html.Tr([html.Td(r["at"], className="text-nowrap"), html.Td(_officer_link(r), className="text-nowrap"),
                     html.Td(tr(r["unit"], r["unit_en"])),
                     html.Td([level_badge(r["from"]), " → ", level_badge(r["to"], r["confirmed"])])]) for r in rows]
    head = html.Tr([html.Th(h) for h in (tr("日期", "Date"), tr("姓名", "Name"), tr("单位", "Unit"),
                                         tr("变化", "Change"))])
    return dbc.Table([html.Thead(head), html.Tbody(body)], size="sm", responsive=True, id="wb-changes-table")


def _card(title, body, id=None):
    return dbc.Card(dbc.CardBody([html.Div(title, className="card-title-sm mb-2"), body]), className="mb-3",
                    **({"id": id} if id else {}))


def _detail(r) -> list:
    notes = [html.Li([html.Span(f"{n['at'].replace('T', ' ')} · {n['by']}：", className="text-muted"), n["text"]])
             for n in r["notes"]] or [html.Li(tr("暂无记录", "No notes yet"), className="text-muted")]
    facts = [
        (tr("民警", "Officer"), html.Span([_officer_link(r), f" · {r['badge']} · {tr(r['unit'], r['unit_en'])}"])),
        (tr("当前预警", "Level now"), level_badge(r["level"])),
        (tr("状态", "Status"), _status(r)),
        (tr("方式", "Type"), label(FOLLOWUP_KINDS, r["kind"])),
        (tr("负责人", "Assignee"), r["assignee"] or "–"),
        (tr("期限", "Due"), html.Span(r["due"] or "–", className="text-danger fw-semibold" if r["overdue"] else "")),
        (tr("开立", "Opened"), f"{r['opened_at']} · {r['opened_by']}"),
        (tr("原因", "Reason"), tr(r["reason"], r.get("reason_en") or r["reason"]) if r["reason"] else "–"),
    ]
    if r["status"] == "closed":
        facts += [(tr("结果", "Outcome"), label(FOLLOWUP_OUTCOMES, r["outcome"]) + f" · {r['closed_at']}"),
                  (tr("结案后下次评估", "Next assessment"), _next_text(r["next"]))]
    return [dbc.Table(html.Tbody([html.Tr([html.Th(k, className="text-nowrap"), html.Td(v)]) for k, v in facts]),
                      size="sm", borderless=True, id="fu-d-facts"),
            html.Div(tr("跟进记录", "Notes"), className="fw-semibold"), html.Ul(notes, id="fu-d-notes")]


def register(app):
    @app.callback(Output("wb-kpis", "children"), Input("wb-url", "pathname"), Input("fu-changed", "data"))
    @checked
    @denied_as_403
    def wb_kpis(_path: Path, _changed: StoreRef):
        """The headline figures, each from its one definition in models.followups, each saying whose."""
        scope = current_scope("manager", "admin")
        day = today()
        with db() as s:
            n = cached("wb_counts", scope, {"user": scope.user_id, "today": day.isoformat()},
                       lambda: fu.workbench_counts(s, scope, day), HEALTH_AND_FOLLOWUPS)
        return dbc.Row([
            dbc.Col(kpi_card(tr("需处理的红色预警", "Red warnings needing action"), f"{n['needs_action']:,}",
                             tr("本辖区红色、无进行中的跟进、转红后未开过跟进 →",
                                "red in my scope, no follow-up open or opened since turning red →"),
                             href="/warnings?level=red&followup=needs_action", colour="#d62728", id="wb-kpi-queue"),
                    xs=6, md=3),
            dbc.Col(kpi_card(tr("我负责的跟进", "Follow-ups assigned to me"), f"{n['mine']:,}",
                             tr("待处理和处理中", "open and in progress"), id="wb-kpi-mine"), xs=6, md=3),
            dbc.Col(kpi_card(tr("我负责的逾期跟进", "My overdue follow-ups"), f"{n['my_overdue']:,}",
                             tr("分配给我、超过期限未结案", "assigned to me, past due, not closed"),
                             colour="#b02a37" if n["my_overdue"] else None, id="wb-kpi-overdue"), xs=6, md=3),
            dbc.Col(kpi_card(tr("本辖区逾期跟进（全部负责人）", "Overdue follow-ups in my scope (all assignees)"),
                             f"{n['scope_overdue']:,}", tr("超过期限未结案的跟进 →", "past due, not closed →"),
                             href="/warnings?followup=overdue", colour="#b02a37" if n["scope_overdue"] else None,
                             id="wb-kpi-scope-overdue"), xs=6, md=3),
        ], className="g-3 mb-3")

    lists = {
        "queue": (lambda s, scope, start: fu.needs_action(s, scope, today(), start=start, limit=fu.PAGE), _queue),
        "mine": (lambda s, scope, start: fu.my_followups(s, scope, today(), start=start, limit=fu.PAGE), _mine),
        "closed": (lambda s, scope, start: fu.recently_closed(s, scope, today(), start=start, limit=fu.PAGE), _closed),
        "changes": (lambda s, scope, start: fu.recent_changes(s, scope, today(), start=start, limit=fu.PAGE), _changes),
    }
    for key, (fetch, render) in lists.items():
        _register_list(app, key, fetch, render)

    @app.callback(Output("fu-new-badge", "data", allow_duplicate=True),
                  Input({"type": "wb-new", "badge": ALL}, "n_clicks"), prevent_initial_call=True)
    @checked
    def wb_new(clicks: ClicksList):
        current_scope("manager", "admin")
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks or []) or _badge_of(trigger) is None:
            return no_update
        return {"badge": trigger["badge"], "t": sum(c or 0 for c in clicks)}

    @app.callback(Output("fu-detail-id", "data"), Input({"type": "wb-open", "id": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    @checked
    def wb_open(clicks: ClicksList):
        current_scope("manager", "admin")
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks or []) or not isinstance(trigger.get("id"), int):
            return no_update
        return {"id": trigger["id"], "t": sum(c or 0 for c in clicks)}

    @app.callback(Output("fu-new-modal", "is_open"), Output("fu-new-officer", "children"),
                  Output("fu-new-reason", "children"), Output("fu-new-assignee", "options"),
                  Output("fu-new-assignee", "value"), Output("fu-new-due", "value"), Output("fu-new-msg", "children"),
                  Output("fu-new-note", "value"), Output("fu-new-token", "data"),
                  Input("fu-new-badge", "data"))
    @checked
    @denied_as_403
    def fu_new_open(data: StoreRef):
        scope = current_scope("leader", "manager", "counsellor", "admin")
        badge = _badge_of(data)
        if badge is None:
            return False, no_update, no_update, no_update, no_update, no_update, no_update, no_update, no_update
        if scope.role in ("leader", "counsellor"):
            raise AccessDenied("only health managers open follow-ups")
        with db() as s:
            info = fu.new_followup_context(s, scope, badge)
            audit("view_followup_context", f"officer:{info['badge']}", None, session=s)
        options = [{"label": a["username"], "value": str(a["id"])} for a in info["assignees"]]
        me = str(scope.user_id) if any(a["id"] == scope.user_id for a in info["assignees"]) else \
            (options[0]["value"] if options else None)
        who = html.Span([info["name"], f" · {info['badge']} · {tr(info['unit'], info['unit_en'])} ",
                         level_badge(info["level"], info["confirmed"])])
        reasons = "；".join(tr(*p) for p in zip(info["reasons"], info["reasons_en"])) or \
            tr("无红色或橙色原因", "no red or orange reason")
        due = (today() + dt.timedelta(days=7)).isoformat()
        return True, who, reasons, options, me, due, "", "", new_token()

    @app.callback(Output("fu-new-modal", "is_open", allow_duplicate=True), Input("fu-new-cancel", "n_clicks"),
                  prevent_initial_call=True)
    @checked
    def fu_new_cancel(_: Clicks):
        current_scope("manager", "admin")
        return False

    @app.callback(Output("fu-new-modal", "is_open", allow_duplicate=True),
                  Output("fu-new-msg", "children", allow_duplicate=True),
                  Output("fu-changed", "data", allow_duplicate=True), Output("fu-toast-wrap", "children"),
                  Input("fu-new-save", "n_clicks"), State("fu-new-badge", "data"), State("fu-new-kind", "value"),
                  State("fu-new-assignee", "value"), State("fu-new-due", "value"), State("fu-new-note", "value"),
                  State("fu-new-token", "data"), prevent_initial_call=True)
    @checked
    @denied_as_403
    def fu_new_save(_n: Clicks, data: StoreRef, kind: Code, assignee: Code, due: Date, note: Text, token: Token):
        scope = current_scope("manager", "admin")
        badge = _badge_of(data)
        if badge is None:
            raise AccessDenied("no officer")
        token = _token(token)
        # the whole answer is built before anything is written: the changed-marker is the token itself
        toast = saved_toast(tr("已建立跟进", "Follow-up opened"))
        answer = (False, "", token, toast)
        try:
            with db() as s:
                if save_tokens.claim(s, scope.user_id, "followup_open", token):  # a replay writes nothing again
                    fu.open_followup(s, scope, badge, kind=kind, assignee_id=assignee, due=due, note=note, ip=_ip(),
                                     today=today())
        except fu.FollowUpError as exc:
            return no_update, _error_text(exc), no_update, no_update
        return answer

    @app.callback(Output("fu-detail-modal", "is_open"), Output("fu-d-body", "children"),
                  Output("fu-d-assignee", "options"), Output("fu-d-assignee", "value"),
                  Output("fu-d-actions", "style"), Output("fu-d-token", "data"),
                  Input("fu-detail-id", "data"), Input("fu-changed", "data"))
    @checked
    @denied_as_403
    def fu_detail(data: StoreRef, _changed: StoreRef):
        scope = current_scope("leader", "manager", "counsellor", "admin")
        fid = _id_of(data)
        if fid is None:
            return no_update, no_update, no_update, no_update, no_update, no_update
        if scope.role in ("leader", "counsellor"):
            raise AccessDenied("only health managers see follow-ups")
        with db() as s:
            r = fu.get_followup(s, scope, fid, today())
            audit("view_followup", f"followup:{r['id']}", {"officer": r["badge"]}, session=s, badges=[r["badge"]])
            assignees = fu.eligible_assignees(s, scope, r["badge"]) if r["status"] != "closed" else []
        opened = True if ctx.triggered_id == "fu-detail-id" else no_update
        options = [{"label": a["username"], "value": str(a["id"])} for a in assignees]
        hide = {"display": "none"} if r["status"] == "closed" else {}
        return opened, _detail(r), options, str(r["assignee_id"]) if r["assignee_id"] else None, hide, new_token()

    @app.callback(Output("fu-changed", "data", allow_duplicate=True), Output("fu-d-msg", "children"),
                  Output("fu-d-note", "value"), Output("fu-toast-wrap", "children", allow_duplicate=True),
                  Input("fu-d-addnote", "n_clicks"), Input("fu-d-start", "n_clicks"), Input("fu-d-close", "n_clicks"),
                  Input("fu-d-assign", "n_clicks"), State("fu-detail-id", "data"), State("fu-d-note", "value"),
                  State("fu-d-outcome", "value"), State("fu-d-assignee", "value"), State("fu-d-token", "data"),
                  prevent_initial_call=True)
    @checked
    @denied_as_403
    def fu_action(_a: Clicks, _b: Clicks, _c: Clicks, _d: Clicks, data: StoreRef, note: Text, outcome: Code,
                  assignee: Code, token: Token):
        scope = current_scope("manager", "admin")
        fid, action = _id_of(data), ctx.triggered_id
        done = {"fu-d-addnote": tr("已添加记录", "Note added"), "fu-d-start": tr("已开始处理", "Started"),
                "fu-d-close": tr("已结案", "Closed"), "fu-d-assign": tr("已改派", "Reassigned")}.get(action)
        if done is None:
            return no_update, no_update, no_update, no_update
        token = _token(token)
        answer = (token, html.Span(done, className="text-success", id="fu-d-done"), "", saved_toast(done))  # built before any write
        try:
            with db() as s:
                if not save_tokens.claim(s, scope.user_id, f"followup_{action[5:]}", token):
                    return answer  # a replay of an action already done: nothing changes
                if action == "fu-d-addnote":
                    fu.add_note(s, scope, fid, note, ip=_ip())
                elif action == "fu-d-start":
                    fu.start_progress(s, scope, fid, ip=_ip())
                elif action == "fu-d-close":
                    fu.close_followup(s, scope, fid, outcome, note, ip=_ip())
                else:
                    fu.assign(s, scope, fid, assignee, ip=_ip())
        except fu.FollowUpError as exc:
            return no_update, html.Span(_error_text(exc), className="text-danger"), no_update, no_update
        return answer


def saved_toast(text: str) -> dbc.Toast:
    """The confirmation of a save, in the corner for four seconds."""
    return dbc.Toast(text, header=tr("保存成功", "Saved"), duration=4000, is_open=True, icon="success", id="fu-toast",
                     style={"position": "fixed", "top": 70, "right": 20, "zIndex": 2000})


def page_text(start: int, shown: int, total: int) -> str:
    """"21–40 / 共 104 条": which rows are on screen out of how many."""
    if not total:
        return tr("共 0 条", "0 in all")
    return tr(f"第 {start + 1:,}–{start + shown:,} 条 / 共 {total:,} 条", f"{start + 1:,}–{start + shown:,} of {total:,}")


def _register_list(app, key: str, fetch, render):
    """One workbench list: a page of rows from the server, "N–M / 共 T", previous and next."""
    @app.callback(Output(f"wb-{key}-body", "children"), Output(f"wb-{key}-count", "children"),
                  Output(f"wb-{key}-page", "data"), Output(f"wb-{key}-prev", "disabled"),
                  Output(f"wb-{key}-next", "disabled"),
                  Input(f"wb-{key}-prev", "n_clicks"), Input(f"wb-{key}-next", "n_clicks"),
                  Input("fu-changed", "data"), State(f"wb-{key}-page", "data"))
    @checked
    @denied_as_403
    def wb_list(_prev: Clicks, _next: Clicks, _changed: StoreRef, page: Count):
        scope = current_scope("manager", "admin")
        page = page if isinstance(page, int) and page >= 0 else 0
        if ctx.triggered_id == f"wb-{key}-prev":
            page = max(0, page - 1)
        elif ctx.triggered_id == f"wb-{key}-next":
            page += 1
        with db() as s:
            def rows(start: int) -> dict:
                """A page of the list, kept per manager, day and the versions of statuses and follow-ups
                (every follow-up write moves the latter): a repeated view reads nothing but the audit."""
                return cached(f"wb_{key}", scope, {"user": scope.user_id, "start": start, "today": today().isoformat()},
                              lambda: fetch(s, scope, start), HEALTH_AND_FOLLOWUPS)

            data = rows(page * fu.PAGE)
            if page and not data["rows"] and data["total"]:  # the list shrank under the page: its last page
                page = (data["total"] - 1) // fu.PAGE
                data = rows(page * fu.PAGE)
            # the workbench lists named officers with their warning reasons: every view is on record
            audit("view_workbench", target="workbench", detail={"list": key, "start": page * fu.PAGE,
                                                                 "rows": len(data["rows"]), "total": data["total"]},
                  session=s, badges=sorted({r["badge"] for r in data["rows"] if r.get("badge")}))
        start = page * fu.PAGE
        return (render(data["rows"]), page_text(start, len(data["rows"]), data["total"]), page, page == 0,
                start + len(data["rows"]) >= data["total"])

    wb_list.__name__ = f"wb_{key}"
    return wb_list


def _token(value) -> str:
    """The save's client token; a save without one is not from the portal's own form."""
    token = valid_token(value)
    if token is None:
        raise BadInput("bad input: a save without its client token")
    return token


ERRORS_ZH = {
    "an outcome is required": "请选择结案结果（好转、无变化、已转诊、本人拒绝）",
    "empty note": "请填写记录内容",
    "the due date lies in the past": "完成期限不能早于今天",
    "the assignee must be": "负责人须为管辖该民警的健康管理师",
    "assignee is required": "请选择负责人",
    "unknown follow-up type": "请选择跟进方式",
    "the follow-up is closed": "该跟进已结案",
    "the follow-up is already closed": "该跟进已结案",
    "cannot start": "只有“待处理”的跟进可以开始处理",
    "bad date": "日期格式不正确",
}


def _error_text(exc: Exception) -> str:
    text = str(exc)
    zh = next((v for k, v in ERRORS_ZH.items() if text.startswith(k)), text)
    return tr(zh, text)
