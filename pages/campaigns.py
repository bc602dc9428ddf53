"""/campaigns : the campaigns in the caller's scope; the officer's own standing; the create/edit form."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.vocab import CAMPAIGN_KIND_DAILY, CAMPAIGN_KINDS, TEAM_SCORING, UNIT_LEVEL_GROUPS
from web.i18n import label, tr


def _field(title, control, fid, help_text=None):
    parts = [dbc.Label(title, html_for=fid, className="fw-semibold small mb-1"), control,
             dbc.FormFeedback(id=f"{fid}-fb", type="invalid")]
    if help_text:
        parts.append(dbc.FormText(help_text))
    return html.Div(parts, className="mb-3")


def _form():
    """Create/edit form (managers and administrators; the server checks every field again)."""
    kinds = [{"label": tr(f"{zh}（{CAMPAIGN_KIND_DAILY[k][0]}）", f"{en} ({CAMPAIGN_KIND_DAILY[k][1]})"), "value": k}
             for k, (zh, en) in CAMPAIGN_KINDS.items()]
    hints = {"mean": ("，推荐", "; fair"), "total": ("（大单位占优）", " (favours large units)")}
    scoring = [{"label": tr(zh + hints.get(k, ("", ""))[0], en + hints.get(k, ("", ""))[1]), "value": k}
               for k, (zh, en) in TEAM_SCORING.items()]
    levels = [{"label": label(UNIT_LEVEL_GROUPS, k), "value": k} for k in ("station", "district")]
    body = dbc.CardBody([
        html.Div(id="cf-title", className="section-title mt-0"),
        dbc.Alert(id="cf-locked-note", color="info", is_open=False, className="small py-2"),
        dbc.Row([
            dbc.Col(_field(tr("活动名称", "Name"), dbc.Input(id="cf-name", maxLength=120,
                                                           placeholder=tr("例：春季健步走PK赛", "e.g. Spring step PK")),
                           "cf-name"), md=6),
            dbc.Col(_field(tr("活动类型", "Kind"), dbc.Select(id="cf-kind", options=kinds, value="steps"), "cf-kind"),
                    md=6),
        ]),
        dbc.Row([
            dbc.Col(_field(tr("开始日期", "Start date"), dbc.Input(id="cf-start", type="date"), "cf-start"), md=3, xs=6),
            dbc.Col(_field(tr("结束日期", "End date"), dbc.Input(id="cf-end", type="date"), "cf-end"), md=3, xs=6),
            dbc.Col(_field(tr("参赛单位", "Units taking part"),
                           dcc.Dropdown(id="cf-units", multi=True, options=[],
                                        placeholder=tr("选择分局或派出所", "Choose districts or stations")),
                           "cf-units", tr("只能选择您管辖范围内的单位", "Only units inside your scope")), md=6),
        ]),
        dbc.Row([
            dbc.Col(_field(tr("队伍层级", "Teams are"), dbc.RadioItems(id="cf-team-level", options=levels,
                                                                    value="station", inline=True), "cf-team-level"),
                    md=3),
            dbc.Col(_field(tr("每人每日目标", "Daily target per person"),
                           dbc.Input(id="cf-target-day", type="number", min=0, value=8000), "cf-target-day",
                           tr("步数 1–60000；得分 1–100；打卡为 1", "steps 1–60,000; score 1–100; check-in 1")),
                    md=3, xs=6),
            dbc.Col(_field(tr("总目标（可空）", "Overall target (optional)"),
                           dbc.Input(id="cf-target-total", type="number", min=0), "cf-target-total",
                           tr("留空：每日目标 × 人数 × 天数", "empty: daily target × members × days")), md=3, xs=6),
            dbc.Col(_field(tr("队伍计分", "Team score"), dbc.Select(id="cf-scoring", options=scoring, value="mean"),
                           "cf-scoring"), md=3),
        ]),
        html.Div(tr("积分规则", "Points rule"), className="fw-semibold small mb-1"),
        dbc.Row([
            dbc.Col(_field(tr("每个活动日", "Per active day"), dbc.Input(id="cf-pts-active", type="number", min=0,
                                                                     value=0, step=1), "cf-pts-active"), xs=4),
            dbc.Col(_field(tr("每个达标日", "Per day on target"), dbc.Input(id="cf-pts-target", type="number", min=0,
                                                                        value=1, step=1), "cf-pts-target"), xs=4),
            dbc.Col(_field(tr("整周达标奖励", "Full week on target"), dbc.Input(id="cf-pts-week", type="number", min=0,
                                                                           value=10, step=1), "cf-pts-week"), xs=4),
        ]),
        html.Div(id="cf-error", className="text-danger small mb-2"),
        html.Div([
            dbc.Button(tr("保存", "Save"), id="cf-save", color="primary", className="me-2"),
            dbc.Button(tr("取消", "Cancel"), id="cf-cancel", color="secondary", outline=True),
        ]),
    ])
    return dbc.Collapse(dbc.Card(body, className="mb-3 shadow-sm"), id="cf-collapse", is_open=False)


def layout(**_):
    role = current_user.role
    runs = role in ("manager", "admin")
    head = [html.Div(tr("健康活动", "Health campaigns"), className="page-title", id="campaigns-title"),
            html.Div(tr("健步走、知识答题、运动打卡：进度、排行和积分。",
                        "Step challenges, quizzes and exercise check-ins: progress, rankings and points."),
                     className="page-sub")]
    top = dbc.Row([
        dbc.Col(head),
        dbc.Col(dbc.Button(tr("＋ 新建活动", "+ New campaign"), id="campaigns-new", color="primary"),
                width="auto", className="align-self-center") if runs else None,
    ])
    children = [dcc.Location(id="campaigns-url", refresh=False), dcc.Store(id="campaigns-refresh", data=0), top]
    if runs:
        children += [dcc.Store(id="cf-edit-id"), dcc.Store(id="cf-token"), _form()]
    children.append(html.Div(id="campaigns-feedback"))
    if role == "officer":
        children += [html.Div(tr("我的活动", "My campaigns"), className="section-title"),
                     dcc.Loading(html.Div(id="campaigns-mine"))]
    children += [html.Div(tr("活动列表", "All campaigns"), className="section-title"),
                 dcc.Loading(html.Div(id="campaigns-list")),
                 dbc.Switch(id="campaigns-show-archived", label=tr("显示已归档的活动", "Show archived campaigns"),
                            value=False, className="mt-2"),
                 dcc.Loading(html.Div(id="campaigns-archived"))]
    return html.Div(children)


dash.register_page(__name__, path="/campaigns", title="警康 · 健康活动", layout=layout)
