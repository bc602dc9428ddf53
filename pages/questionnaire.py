"""/me/questionnaire/<instrument>: the officer answers PHQ-9 or GAD-7 for themself (issue 19).

The officer is the session's; nothing on the page names whose answers they are. The answers are
scored and stored by callbacks/questionnaire.py (models/questionnaires.py)."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.questionnaires import INSTRUMENTS, OPTIONS, STEM
from models.vocab import INSTRUMENTS as INSTRUMENT_WORDS
from web.i18n import label, tr
from web.inputs import new_token
from web.shell import no_access, not_found


def _item(index: int, words):
    options = [{"label": tr(f"{zh}（{v}）", f"{en} ({v})"), "value": v} for v, (zh, en) in enumerate(OPTIONS)]
    return html.Div([
        html.Div(f"{index + 1}. {tr(*words)}", className="fw-semibold mb-1"),
        dbc.RadioItems(id={"type": "q-item", "index": index}, options=options, value=None, inline=True,
                       className="q-options"),
    ], className="q-item mb-3 pb-2 border-bottom", id=f"q-item-{index + 1}")


def layout(instrument=None, **_):
    if current_user.role != "officer":
        return no_access(tr("问卷只能由民警本人填写。", "Questionnaires are answered by officers themselves."))
    inst = INSTRUMENTS.get(str(instrument or ""))
    if inst is None:
        return not_found()
    return html.Div([
        dcc.Store(id="q-instrument", data=inst.code),
        dcc.Store(id="q-token", data=new_token()),  # the client token the save carries (a replay writes nothing)
        html.Div(label(INSTRUMENT_WORDS, inst.code), className="page-title", id="q-title"),
        html.Div(tr("结果只有您本人、心理咨询师和获授权的健康管理师可以看到。",
                    "The result is seen only by you, the counsellors and authorised health managers."),
                 className="page-sub"),
        html.A(tr("← 返回我的健康", "← Back to My health"), href="/me", className="small d-inline-block mb-3"),
        dbc.Card(dbc.CardBody([
            html.Div(tr(*STEM), className="mb-3"),
            *[_item(i, words) for i, words in enumerate(inst.items)],
            html.Div(id="q-error", className="text-danger small mb-2"),
            dbc.Button(tr("提交", "Submit"), id="q-submit", color="primary"),
        ]), className="mb-3", id="q-form"),
        html.Div(id="q-safety"),
        html.Div(id="q-result"),
        html.Div(tr("我以前的结果", "My earlier results"), className="section-title"),
        dcc.Loading(html.Div(id="q-history"), delay_show=300),
    ])


dash.register_page(__name__, path_template="/me/questionnaire/<instrument>", title="警康 · 心理测评", layout=layout)
