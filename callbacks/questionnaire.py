"""/me/questionnaire/<instrument> and the questionnaire card on /me: the officer answers PHQ-9 or GAD-7
for themself. The officer always comes from the session (``current_scope("officer")``); nothing the
browser sends names whose record is written or read, so a forged request can only ever answer for the
caller. PHQ-9 item 9 ≥ 1 shows the support text and hotline at once (web/self_report.py) and notifies
the counsellors (models/questionnaires.py)."""
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, html, no_update

from models import questionnaires as q
from models import screenings
from models.schema import Officer
from models.vocab import CLASS_WORDS, INSTRUMENTS
from web.access import AccessDenied, audit, current_scope, db
from web.clock import today
from web.i18n import label, tr
from web.inputs import BadInput, ClicksList, Clicks, Code, StoreRef, Token, checked, new_token, valid_token
from web.self_report import support_alert
from models import save_tokens


def _own_officer() -> tuple:
    scope = current_scope("officer")
    if scope.officer_id is None:
        raise AccessDenied("no officer record")
    return scope


def _instrument(code) -> str:
    if code not in q.INSTRUMENTS:
        raise BadInput("bad input: unknown questionnaire")
    return code


def _result(saved: q.Saved):
    sc = saved.scored
    inst = q.INSTRUMENTS[sc.instrument]
    return dbc.Alert([
        html.Div(tr("已提交，谢谢。", "Submitted, thank you."), className="fw-semibold"),
        html.Div(tr(f"总分 {sc.total}（满分 {inst.max_total}）：{label(CLASS_WORDS, sc.band)}",
                    f"Total {sc.total} of {inst.max_total}: {label(CLASS_WORDS, sc.band)}"), id="q-total"),
        html.Div(tr("筛查结果不是诊断。如有需要，心理咨询师会与您联系。",
                    "A screening result is not a diagnosis. A counsellor will contact you if needed."),
                 className="small text-muted"),
    ], color="success", id="q-done")


def history_table(rows: list[dict]):
    if not rows:
        return html.Div(tr("还没有填写过。", "None yet."), className="pt-muted", id="q-history-empty")
    return dbc.Table([html.Thead(html.Tr([html.Th(tr("日期", "Date")), html.Th(tr("问卷", "Questionnaire")),
                                          html.Th(tr("总分", "Total")), html.Th(tr("程度", "Band"))])),
                      html.Tbody([html.Tr([html.Td(r["date"]), html.Td(label(INSTRUMENTS, r["instrument"])),
                                           html.Td(r["total"]), html.Td(label(CLASS_WORDS, r["band"]))])
                                  for r in rows])], size="sm", striped=True, responsive=True, className="small", id="q-history-table")


def due_list(due: list[dict]):
    if not due:
        return html.Div(tr("目前没有待完成的心理测评。", "No screening is due."), className="small text-muted mb-2",
                        id="me-sr-none")
    return dbc.Alert([
        html.Div(tr("单位安排的心理测评，请在截止日期前完成：", "Screening your unit asks you to answer by the due date:"),
                 className="fw-semibold mb-1"),
        html.Ul([html.Li(html.A(tr(f"{label(INSTRUMENTS, d['instrument'])}（{d['end']} 前）",
                                   f"{label(INSTRUMENTS, d['instrument'])} (by {d['end']})"),
                                href=f"/me/questionnaire/{d['instrument']}", className="me-sr-due-link"))
                 for d in due], className="mb-0"),
    ], color="info", className="py-2", id="me-sr-due-list")


def register(app):
    @app.callback(Output("q-result", "children"), Output("q-safety", "children"), Output("q-error", "children"),
                  Output("q-token", "data"), Output("q-form", "style"),
                  Input("q-submit", "n_clicks"), State({"type": "q-item", "index": ALL}, "value"),
                  State("q-instrument", "data"), State("q-token", "data"), prevent_initial_call=True)
    @checked
    def submit(_n: Clicks, answers: ClicksList, instrument: Code, token: Token):
        scope = _own_officer()
        instrument = _instrument(instrument)
        token = valid_token(token)
        if token is None:
            raise BadInput("bad input: a save without its client token")
        try:
            q.score(instrument, answers)
        except q.QuestionnaireError as exc:
            return no_update, no_update, tr(*exc.words), no_update, no_update
        with db() as s:
            if not save_tokens.claim(s, scope.user_id, "questionnaire_submit", token):
                return no_update, no_update, "", no_update, no_update  # a replay of a save already made: nothing changes
            saved = screenings.answer(s, scope.officer_id, scope.user_id, instrument, answers, today=today())
            badge = s.get(Officer, scope.officer_id).badge
            audit("questionnaire_submit", target=f"officer:{badge}",
                  detail={"instrument": instrument, "response": saved.response_id}, session=s)
            # the answered form gives way to the result (and the support text, first, when item 9 asks for it)
            answer = (_result(saved), support_alert() if saved.scored.safety else None, "", new_token(),
                      {"display": "none"})
        return answer

    @app.callback(Output("q-history", "children"), Input("q-token", "data"), State("q-instrument", "data"))
    @checked
    def history(_token: Token, instrument: Code):
        scope = _own_officer()
        instrument = _instrument(instrument)
        with db() as s:
            rows = q.history(s, scope.officer_id, instrument)
        return history_table(rows)

    @app.callback(Output("me-sr-due", "children"), Input("me-sr-load", "data"))
    @checked
    def me_due(_: StoreRef):
        scope = _own_officer()
        with db() as s:
            due = screenings.due_for_officer(s, scope.officer_id, today())
            if due:
                screenings.notify_due(s, today(), officer_id=scope.officer_id)  # once per round: a no-op after
        return due_list(due)
