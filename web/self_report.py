"""What the officer's own answering pages share (issue 19): the force's support text and hotline shown
at once when PHQ-9 item 9 is answered 1 or more, and the card on /me that leads to the questionnaires,
the risk-factor form and any screening due.

Configuration (README, "Configuration"): ``PORTAL_SUPPORT_TEXT_ZH``, ``PORTAL_SUPPORT_TEXT_EN`` and
``PORTAL_SUPPORT_HOTLINE``, read from the app's config when set there (tests), else from the environment.
"""
from __future__ import annotations

import os

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app, has_app_context

from web.i18n import tr

DEFAULT_SUPPORT_ZH = ("您并不孤单。如果您有伤害自己的念头，请马上拨打下面的心理援助热线，或告诉一位您信任的人；"
                      "如果有紧急危险，请拨打 110 或 120。单位的心理咨询师已收到通知，会尽快与您联系。")
DEFAULT_SUPPORT_EN = ("You are not alone. If you have thoughts of hurting yourself, call the support line below now, "
                      "or tell someone you trust; in immediate danger call 110 or 120. Your unit's counsellor has "
                      "been told and will contact you soon.")
DEFAULT_HOTLINE = "12356"  # the national mental-health assistance line


def _setting(name: str, default: str) -> str:
    value = current_app.config.get(name) if has_app_context() else None
    if value is None:
        value = os.environ.get(name)
    return (value or "").strip() or default


def support() -> tuple[str, str]:
    """(the support text in the user's language, the hotline)."""
    text = tr(_setting("PORTAL_SUPPORT_TEXT_ZH", DEFAULT_SUPPORT_ZH), _setting("PORTAL_SUPPORT_TEXT_EN", DEFAULT_SUPPORT_EN))
    return text, _setting("PORTAL_SUPPORT_HOTLINE", DEFAULT_HOTLINE)


def support_alert():
    """The safety message: shown at once, never hidden by a timer."""
    text, hotline = support()
    return dbc.Alert([
        html.H5(tr("请马上寻求支持", "Please reach out now"), className="alert-heading"),
        html.P(text, id="support-text", className="mb-2"),
        html.Div([tr("心理援助热线：", "Support line: "),
                  html.A(hotline, href=f"tel:{hotline}", id="support-hotline", className="fw-bold fs-5")]),
    ], color="danger", id="support-alert", className="mt-3")


def me_card():
    """The card on /me: due screenings (filled by callbacks/questionnaire.py) and the links."""
    return dbc.Card(dbc.CardBody([
        html.Div(tr("问卷与危险因素", "Questionnaires and risk factors"), className="section-title mt-0"),
        dcc.Store(id="me-sr-load", data=0),
        html.Div(id="me-sr-due"),
        html.Div([
            html.A(tr("PHQ-9 抑郁症状问卷", "PHQ-9 depression questionnaire"), href="/me/questionnaire/phq9",
                   className="btn btn-outline-primary btn-sm me-2 mb-1", id="me-sr-phq9"),
            html.A(tr("GAD-7 焦虑症状问卷", "GAD-7 anxiety questionnaire"), href="/me/questionnaire/gad7",
                   className="btn btn-outline-primary btn-sm me-2 mb-1", id="me-sr-gad7"),
            html.A(tr("填报危险因素（吸烟、用药、家族史等）", "Report risk factors (smoking, medicines, family history…)"),
                   href="/me/risk-factors", className="btn btn-outline-primary btn-sm mb-1", id="me-sr-risk"),
        ]),
        html.Div(tr("心理问卷结果只有您本人、心理咨询师和获授权的健康管理师可以看到。",
                    "Questionnaire results are seen only by you, the counsellors and authorised health managers."),
                 className="text-muted small mt-1"),
    ]), className="mt-4 no-print", id="me-sr-card")
