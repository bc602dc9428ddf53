"""/me/risk-factors: the officer reports smoking, blood-pressure medicine, diagnosed diabetes, family
history of early cardiovascular disease and physical activity (issue 19). China-PAR and the warning
rules read the answers (models/risk_factors.py); callbacks/risk_factors.py fills and saves the form
for the session's own officer only."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.vocab import ACTIVITY_LEVELS, RISK_FACTOR_FIELDS, SMOKING_STATUS, YES_NO
from web.i18n import label, tr
from web.inputs import new_token
from web.shell import no_access

CHOICES = {"smoking": SMOKING_STATUS, "rx_hypertension": YES_NO, "dx_diabetes": YES_NO, "family_history_cvd": YES_NO,
           "physical_activity": ACTIVITY_LEVELS}


def _field(field: str):
    table = CHOICES[field]
    return html.Div([
        dbc.Label(label(RISK_FACTOR_FIELDS, field), className="fw-semibold mb-1", html_for=f"rf-{field}"),
        dbc.RadioItems(id=f"rf-{field}", options=[{"label": label(table, k), "value": k} for k in table], value=None,
                       inline=field != "physical_activity"),
        html.Div(id=f"rf-{field}-when", className="small text-muted"),
    ], className="mb-3 pb-2 border-bottom")


def layout(**_):
    if current_user.role != "officer":
        return no_access(tr("危险因素由民警本人填报。", "Risk factors are reported by officers themselves."))
    return html.Div([
        dcc.Store(id="rf-token", data=new_token()),  # the client token the save carries (a replay writes nothing)
        dcc.Store(id="rf-load", data=0),
        html.Div(tr("填报危险因素", "Report risk factors"), className="page-title", id="rf-title"),
        html.Div(tr("这些回答用于计算您的心血管病10年发病风险（China-PAR）和健康预警。未填报的项目按“否”或“不吸烟”计算"
                    "（糖尿病按化验结果判断），“我的健康”会注明。",
                    "Your answers go into your 10-year cardiovascular risk (China-PAR) and health warnings. A question "
                    "never answered counts as “no” or “non-smoker” (diabetes: as the lab values show), and My health "
                    "says so."), className="page-sub"),
        html.A(tr("← 返回我的健康", "← Back to My health"), href="/me", className="small d-inline-block mb-3"),
        dbc.Card(dbc.CardBody([
            *[_field(f) for f in CHOICES],
            html.Div(id="rf-error", className="text-danger small mb-2"),
            dbc.Button(tr("保存", "Save"), id="rf-save", color="primary"),
        ]), id="rf-form"),
        html.Div(id="rf-result", className="mt-3"),
    ])


dash.register_page(__name__, path="/me/risk-factors", title="警康 · 危险因素", layout=layout)
