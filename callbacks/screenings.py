"""/screenings: schedule a psychological screening round and follow its completion (issue 19).

Only callers who see psychological detail (``Scope.sees_psych``: counsellors, admins, managers with the
``psych`` grant) get an answer; everyone else is refused with 403, whatever they post. A unit or round
outside the caller's scope is refused too (models/screenings.py). Completion counts go through the one
suppression function."""
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from models import save_tokens, screenings
from models.suppression import HIDDEN
from models.vocab import CAMPAIGN_STATUSES, INSTRUMENTS, UNIT_LEVELS
from web.access import AccessDenied, audit, current_scope, db
from web.clock import today
from web.i18n import label, tr
from web.inputs import BadInput, Clicks, Code, Count, Date, Token, checked, int_id, new_token, next_count, valid_token


def _psych_scope():
    scope = current_scope("manager", "counsellor", "admin")
    if not scope.sees_psych:
        raise AccessDenied("screening rounds need psychological access")
    return scope


def rounds_table(rows: list[dict]):
    if not rows:
        return html.Div(tr("还没有安排筛查。", "No round scheduled yet."), className="pt-muted", id="scr-rounds-empty")
    head = html.Thead(html.Tr([html.Th(tr("单位", "Unit")), html.Th(tr("问卷", "Questionnaire")),
                               html.Th(tr("窗口", "Window")), html.Th(tr("提醒日", "Reminder")),
                               html.Th(tr("状态", "Status"))]))
    body = html.Tbody([html.Tr([html.Td(r["unit_name"]), html.Td(label(INSTRUMENTS, r["instrument"])),
                                html.Td(f"{r['start']} – {r['end']}"), html.Td(r["reminder"]),
                                html.Td(label(CAMPAIGN_STATUSES, r["status"]))], className="scr-round-row")
                       for r in rows])
    return dbc.Table([head, body], size="sm", striped=True, responsive=True, className="small", id="scr-rounds-table")


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def completion_table(data: dict):
    head = html.Thead(html.Tr([html.Th(tr("单位", "Unit")), html.Th(tr("应参加", "Invited")),
                               html.Th(tr("已完成", "Completed")), html.Th(tr("完成率", "Rate"))]))
    rows = [html.Tr([html.Td(r.name if r.code != "own" else tr("本级直属", "Directly under the unit")),
                     html.Td(r.invited), html.Td(r.completed), html.Td(_pct(r.rate))], className="scr-unit-row",
                    id=f"scr-unit-{r.code}") for r in data["rows"]]
    t = data["total"]
    total = html.Tr([html.Th(tr(f"合计：{t.name}", f"Total: {t.name}")), html.Th(t.invited), html.Th(t.completed),
                     html.Th(_pct(t.rate))], id="scr-unit-total")
    note = html.Div(tr(f"{HIDDEN}：人数少于5人，或为保护少于5人的单元而一并隐藏。",
                       f"{HIDDEN}: fewer than 5 officers, or hidden to protect such a cell."), className="small text-muted")
    return html.Div([dbc.Table([head, html.Tbody([*rows, total])], size="sm", bordered=True, responsive=True, className="small mb-1",
                               id="scr-completion-table"), note])


def register(app):
    @app.callback(Output("scr-unit", "options"), Output("scr-rounds", "children"), Output("scr-round", "options"),
                  Input("scr-refresh", "data"))
    @checked
    def load(_: Count):
        scope = _psych_scope()
        with db() as s:
            units = screenings.unit_options(s, scope.unit_path)
            rows = screenings.rounds(s, scope.unit_path, today())
        unit_opts = [{"label": f"{'　' * max(0, u['depth'])}{u['name']}（{label(UNIT_LEVELS, u['level'])}）",
                      "value": u["code"]} for u in units]
        round_opts = [{"label": f"{r['unit_name']} · {label(INSTRUMENTS, r['instrument'])} · {r['start']} – {r['end']}",
                       "value": str(r["id"])} for r in rows]
        return unit_opts, rounds_table(rows), round_opts

    @app.callback(Output("scr-error", "children"), Output("scr-saved", "children"), Output("scr-refresh", "data"),
                  Output("scr-token", "data"),
                  Input("scr-save", "n_clicks"), State("scr-token", "data"), State("scr-refresh", "data"),
                  State("scr-unit", "value"), State("scr-instrument", "value"), State("scr-start", "value"),
                  State("scr-end", "value"), State("scr-reminder", "value"), prevent_initial_call=True)
    @checked
    def save(_n: Clicks, token: Token, counter: Count, unit: Code, instrument: Code, start: Date, end: Date,
             reminder: Date):
        scope = _psych_scope()
        token = valid_token(token)
        if token is None:
            raise BadInput("bad input: a save without its client token")
        try:
            with db() as s:
                if not save_tokens.claim(s, scope.user_id, "screening_round_create", token):
                    return "", no_update, no_update, no_update  # a replay of a save already made: nothing changes
                row = screenings.create_round(s, scope_path=scope.unit_path, user_id=scope.user_id, unit_code=unit,
                                              instrument=instrument, start=start, end=end, reminder=reminder,
                                              today=today())
                told = screenings.notify_due(s, today(), round_id=row.id)
                audit("screening_round_create", target=f"screening_round:{row.id}",
                      detail={"unit": unit, "instrument": instrument, "start": start, "end": end}, session=s)
        except screenings.NotAllowed as exc:
            raise AccessDenied(str(exc)) from None
        except screenings.ScreeningError as exc:
            return " ".join(tr(*w) for w in exc.errors.values()), no_update, no_update, no_update
        done = dbc.Alert(tr(f"已安排。已提醒 {told} 名民警。", f"Scheduled. {told} officers reminded."), color="success",
                         dismissable=True, id="scr-saved-alert")
        return "", done, next_count(counter), new_token()

    @app.callback(Output("scr-completion", "children"), Input("scr-round", "value"), prevent_initial_call=True)
    @checked
    def completion(round_id: Code):
        scope = _psych_scope()
        rid = int_id(round_id)
        if rid is None:
            raise BadInput("bad input: round id")
        try:
            with db() as s:
                data = screenings.completion(s, rid, scope.unit_path)
                audit("view_screening_completion", target=f"screening_round:{rid}", session=s)
        except screenings.NotAllowed as exc:
            raise AccessDenied(str(exc)) from None
        return completion_table(data)
