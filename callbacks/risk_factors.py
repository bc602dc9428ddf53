"""/me/risk-factors: fill the form with the officer's newest answers and save new ones. The officer is the
session's (``current_scope("officer")``); nothing the browser sends names whose record is read or written."""
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from models import risk_factors, save_tokens
from models.schema import Officer
from web.access import AccessDenied, audit, current_scope, db
from web.clock import today
from web.i18n import tr
from web.inputs import BadInput, Clicks, Code, StoreRef, Token, checked, new_token, valid_token

FIELDS = risk_factors.FIELDS


def _own_officer():
    scope = current_scope("officer")
    if scope.officer_id is None:
        raise AccessDenied("no officer record")
    return scope


def _when(row: dict | None) -> str | None:
    return tr(f"上次填报：{row['date']}", f"Last reported {row['date']}") if row else None


def register(app):
    @app.callback(*[Output(f"rf-{f}", "value") for f in FIELDS], *[Output(f"rf-{f}-when", "children") for f in FIELDS],
                  Input("rf-load", "data"))
    @checked
    def load(_: StoreRef):
        scope = _own_officer()
        with db() as s:
            now = risk_factors.current(s, scope.officer_id)
        return (*[(now.get(f) or {}).get("code") for f in FIELDS], *[_when(now.get(f)) for f in FIELDS])

    @app.callback(Output("rf-result", "children"), Output("rf-error", "children"), Output("rf-token", "data"),
                  Input("rf-save", "n_clicks"), State("rf-token", "data"), *[State(f"rf-{f}", "value") for f in FIELDS],
                  prevent_initial_call=True)
    @checked
    def save(_n: Clicks, token: Token, smoking: Code, rx_hypertension: Code, dx_diabetes: Code,
             family_history_cvd: Code, physical_activity: Code):
        scope = _own_officer()
        token = valid_token(token)
        if token is None:
            raise BadInput("bad input: a save without its client token")
        answers = dict(zip(FIELDS, (smoking, rx_hypertension, dx_diabetes, family_history_cvd, physical_activity)))
        if any(a is not None and a not in risk_factors.CHOICES[f] for f, a in answers.items()):
            raise BadInput("bad input: an answer the form does not offer")  # the radio buttons send only their own
        try:
            with db() as s:
                if not save_tokens.claim(s, scope.user_id, "risk_factors_submit", token):
                    return no_update, "", no_update  # a replay of a save already made: nothing changes
                saved = risk_factors.save(s, scope.officer_id, answers, today=today())
                badge = s.get(Officer, scope.officer_id).badge
                audit("risk_factors_submit", target=f"officer:{badge}", detail={"fields": sorted(saved)}, session=s)
        except risk_factors.RiskFactorError as exc:
            return no_update, tr(*exc.words), no_update
        done = dbc.Alert([tr("已保存。您的心血管病风险已按新的回答重新计算。",
                             "Saved. Your cardiovascular risk has been recomputed with these answers."), " ",
                          html.A(tr("查看我的健康", "See My health"), href="/me", id="rf-to-me")],
                         color="success", id="rf-saved")
        return done, "", new_token()
