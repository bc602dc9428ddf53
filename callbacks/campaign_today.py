"""/campaigns/<id>, the officer's "Today" card: check in, answer the daily quiz, enter steps by hand.

The officer is always the caller (``current_scope("officer")``): no argument names whom an entry is
for. The campaign id comes from the URL path and is checked in ``models.campaigns``; every entry
goes through ``models.campaigns.entries`` (the one write path the device files use too). Saves carry
a client token (replay-safe) and are audited.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from models import save_tokens
from models.campaigns.access import CampaignError, NotAllowed, NotVisible, visible_campaign
from models.campaigns.entries import check_in, enter_steps, own_entries
from models.campaigns.quiz import daily_quiz, submit_quiz
from models.campaigns.rules import BACKFILL_DAYS, MAX_HAND_STEPS, lifecycle
from web.access import AccessDenied, audit, current_scope, db
from web.campaign_text import campaign_id_in
from web.clock import today
from web.i18n import label, tr
from web.inputs import BadInput, Clicks, Codes, Date, Number, Path, StoreRef, Token, checked, new_token, next_count, \
    valid_token
from models.vocab import CAMPAIGN_STATUSES

LETTERS = "ABCD"
Steps = Number(-(10**9), 10**9)  # what a person can type; the model holds the caps


def _denied(exc: Exception):
    raise AccessDenied(str(exc)) from exc


def _done(text: str):
    return dbc.Alert(text, color="success", className="py-2 small", id="campaign-today-done")


def _error(exc: CampaignError):
    return dbc.Alert([html.Div(tr(*m)) for m in exc.errors.values()], color="danger", className="py-2 small",
                     id="campaign-today-error")


def _checkin_view(entries: list[dict], day: str):
    if any(e["day"] == day and e["value"] > 0 for e in entries):
        return _done(tr("今天已打卡 ✓ 明天继续！", "Checked in today ✓ See you tomorrow!"))
    return html.Div([
        html.Div(tr("完成今天的微运动后打卡：每天一次，计入队伍成绩和积分。",
                    "Check in once you have done today's exercise: once a day, it counts for your team and points."),
                 className="small text-muted mb-2"),
        dbc.Button(tr("今日打卡", "Check in today"), id="campaign-checkin", color="success"),
    ])


def _quiz_view(q: dict):
    if q["state"] == "empty":
        return html.Div(tr("题库里还没有题目。", "The question bank has no questions yet."), className="text-muted small")
    if q["state"] == "open":
        items = []
        for n, item in enumerate(q["items"], 1):
            opts = [{"label": f"{LETTERS[k]}. {tr(zh, en)}", "value": f"{item['id']}:{k}"}
                    for k, (zh, en) in enumerate(zip(item["options_zh"], item["options_en"]))]
            items.append(html.Div([
                html.Div(f"{n}. {tr(item['text_zh'], item['text_en'])}", className="fw-semibold small"),
                dbc.RadioItems(id={"type": "campaign-quiz-answer", "index": item["id"]}, options=opts,
                               className="small mb-2"),
            ], className="campaign-quiz-question"))
        return html.Div([
            html.Div(tr(f"今日 {len(q['items'])} 题，每天一次机会，提交后显示答案和解析。",
                        f"{len(q['items'])} questions today, one attempt a day; answers and explanations after you "
                        f"submit."), className="small text-muted mb-2"),
            *items,
            dbc.Button(tr("提交答案", "Submit answers"), id="campaign-quiz-submit", color="primary"),
        ], id="campaign-quiz-open")
    rows = []
    for item in q["items"]:
        options = list(zip(item["options_zh"], item["options_en"]))
        mine, right = item["answer"], item["correct"]
        rows.append(html.Li([
            html.Div([html.Span("✓ " if item["right"] else "✗ ", className="text-success" if item["right"] else
                                "text-danger"), tr(item["text_zh"], item["text_en"])], className="fw-semibold"),
            html.Div(tr(f"您的答案：{LETTERS[mine]}. {options[mine][0]}；正确答案：{LETTERS[right]}. {options[right][0]}",
                        f"Your answer: {LETTERS[mine]}. {options[mine][1]}; correct: {LETTERS[right]}. "
                        f"{options[right][1]}")),
            html.Div(tr(f"解析：{item['explanation_zh']}", f"Why: {item['explanation_en']}"), className="text-muted"),
        ], className="small mb-2"))
    return html.Div([
        _done(tr(f"今日答题完成：答对 {q['right']} / {q['asked']} 题，得分 {q['score']}。明天再来！",
                 f"Today's quiz done: {q['right']} of {q['asked']} right, score {q['score']}. Come back tomorrow!")),
        html.Ol(rows, className="ps-3 mb-0", id="campaign-quiz-result", style={"listStyle": "none"}),
    ])


def _steps_view(entries: list[dict], day: str):
    recent = [html.Li(tr(f"{e['day']}：{e['value']:,.0f} 步" + ("（异常，不计入）" if e["flagged"] else ""),
                         f"{e['day']}: {e['value']:,.0f} steps" + (" (implausible, not counted)" if e["flagged"] else "")))
              for e in entries]
    return html.Div([
        html.Div(tr(f"没有计步设备同步时，可手动填报今天或最近 {BACKFILL_DAYS} 天的步数（每天最多 {MAX_HAND_STEPS:,} 步）。"
                    "同一天只保留一个数：设备导入和手动填报中较大的那个。",
                    f"Without a device sync, enter your steps for today or the last {BACKFILL_DAYS} days (at most "
                    f"{MAX_HAND_STEPS:,} a day). One number per day counts: the larger of the device's and yours."),
                 className="small text-muted mb-2"),
        dbc.Row([
            dbc.Col(dbc.Input(id="campaign-steps-day", type="date", value=day, max=day), xs=6, md=4),
            dbc.Col(dbc.Input(id="campaign-steps-value", type="number", min=0, max=MAX_HAND_STEPS, step=1,
                              placeholder=tr("步数", "steps")), xs=6, md=4),
            dbc.Col(dbc.Button(tr("保存", "Save"), id="campaign-steps-save", color="primary"), xs=12, md=4),
        ], className="g-2 mb-2"),
        html.Ul(recent, className="small text-muted mb-0", id="campaign-steps-recent") if recent else None,
    ])


def register(app):
    @app.callback(Output("campaign-today", "children"), Output("campaign-today-card", "style"),
                  Output("campaign-entry-token", "data"),
                  Input("campaign-url", "pathname"), Input("campaign-today-refresh", "data"))
    @checked
    def campaign_today_view(path: Path, _refresh: StoreRef):
        scope = current_scope("officer")
        cid = campaign_id_in(path)
        day = today()
        try:
            with db() as s:
                c = visible_campaign(s, scope, cid)
                state = lifecycle(c, day)
                if state != "running":
                    return (html.Div(tr(f"活动{label(CAMPAIGN_STATUSES, state)}：现在不能记录。",
                                        f"The campaign is {label(CAMPAIGN_STATUSES, state).lower()}: no entries now."),
                                     className="text-muted small"), {}, None)
                entries = own_entries(s, scope, cid, day)
                if c.kind == "checkin":
                    view = _checkin_view(entries, day.isoformat())
                elif c.kind == "quiz":
                    view = _quiz_view(daily_quiz(s, scope, cid, day))
                else:
                    view = _steps_view(entries, day.isoformat())
        except (NotVisible, NotAllowed) as exc:
            _denied(exc)
        return view, {}, new_token()

    def _claim(s, scope, action: str, token) -> bool:
        token = valid_token(token)
        if token is None:
            raise BadInput("bad input: an entry without its client token")
        return save_tokens.claim(s, scope.user_id, action, token)

    def _entry(action: str, path, token, write):
        """Claim the token, write the caller's own entry, audit it; the card reloads."""
        scope = current_scope("officer")
        cid = campaign_id_in(path)
        day = today()
        try:
            with db() as s:
                if not _claim(s, scope, action, token):
                    return None, no_update  # a replay: written once already
                out = write(s, scope, cid, day)
                audit(action, target=f"campaign:{cid}", detail={k: out.get(k) for k in ("day", "value", "kept", "score")
                                                                if k in out}, session=s)
        except (NotVisible, NotAllowed) as exc:
            _denied(exc)
        except CampaignError as exc:
            return _error(exc), no_update
        return None, out

    @app.callback(Output("campaign-today-msg", "children"), Output("campaign-today-refresh", "data"),
                  Input("campaign-checkin", "n_clicks"), State("campaign-url", "pathname"),
                  State("campaign-entry-token", "data"), State("campaign-today-refresh", "data"),
                  prevent_initial_call=True)
    @checked
    def campaign_checkin(n: Clicks, path: Path, token: Token, counter: StoreRef):
        if not n:
            raise PreventUpdate
        msg, out = _entry("campaign_checkin", path, token, check_in)
        return msg, no_update if out is no_update else next_count(counter)

    @app.callback(Output("campaign-today-msg", "children", allow_duplicate=True),
                  Output("campaign-today-refresh", "data", allow_duplicate=True),
                  Input("campaign-quiz-submit", "n_clicks"), State("campaign-url", "pathname"),
                  State("campaign-entry-token", "data"), State("campaign-today-refresh", "data"),
                  State({"type": "campaign-quiz-answer", "index": ALL}, "value"), prevent_initial_call=True)
    @checked
    def campaign_quiz_submit(n: Clicks, path: Path, token: Token, counter: StoreRef, answers: Codes):
        if not n:
            raise PreventUpdate
        given = {}
        for a in answers or []:
            qid, _, choice = (a or "").partition(":")
            if qid and choice:
                given[qid] = choice

        def write(s, scope, cid, day):
            result = submit_quiz(s, scope, cid, given, day)
            return {"score": result["score"], "day": result["day"]}

        msg, out = _entry("campaign_quiz", path, token, write)
        return msg, no_update if out is no_update else next_count(counter)

    @app.callback(Output("campaign-today-msg", "children", allow_duplicate=True),
                  Output("campaign-today-refresh", "data", allow_duplicate=True),
                  Input("campaign-steps-save", "n_clicks"), State("campaign-url", "pathname"),
                  State("campaign-entry-token", "data"), State("campaign-today-refresh", "data"),
                  State("campaign-steps-day", "value"), State("campaign-steps-value", "value"),
                  prevent_initial_call=True)
    @checked
    def campaign_steps_save(n: Clicks, path: Path, token: Token, counter: StoreRef, day: Date, value: Steps):
        if not n:
            raise PreventUpdate

        def write(s, scope, cid, today_):
            return enter_steps(s, scope, cid, day, value, today_)

        msg, out = _entry("campaign_steps", path, token, write)
        if out is no_update:
            return msg, no_update
        kept = out["kept"]
        note = tr(f"已保存：{out['day']} {out['value']:,.0f} 步", f"Saved: {out['day']} {out['value']:,.0f} steps")
        if kept != out["value"]:
            note = tr(f"{out['day']} 已有设备导入的 {kept:,.0f} 步（较大者计入），您填报的 {out['value']:,.0f} 步未改变记录。",
                      f"{out['day']} already has {kept:,.0f} steps from a device (the larger counts); your "
                      f"{out['value']:,.0f} did not change it.")
        return dbc.Alert(note, color="success" if kept == out["value"] else "info", className="py-2 small",
                         id="campaign-steps-saved"), next_count(counter)

