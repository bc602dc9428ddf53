"""/campaigns/<id> : one campaign — progress with projection, team and individual leaderboards,
participation by week, points, and for finished campaigns "did it work?"."""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.inputs import int_id
from web.shell import not_found
from web.shell import graph


def _section(title, body, id=None, sub=None):
    head = [html.Div(title, className="section-title mt-0 mb-1")]
    if sub:
        head.append(html.Div(sub, className="text-muted small mb-2", id=f"{id}-sub" if id else None))
    return dbc.Card(dbc.CardBody(head + [body]), className="shadow-sm mb-3 h-100", id=id)


def layout(campaign_id=None, **_):
    """``campaign_id`` comes from the URL; the callbacks read it from the path and check it on the server.
    A malformed id (not a number, too long) gets the page-not-found answer, and no callback runs."""
    if int_id(campaign_id) is None:
        return not_found()
    officer = current_user.role == "officer"
    hide = dbc.Switch(id="campaign-hide", label=tr("在排行榜上对他人隐藏我的姓名", "Hide my name from others on leaderboards"),
                      value=False, className="mb-2") if officer else None
    individuals = html.Div([hide, dcc.Store(id="campaign-hide-saved"), dcc.Loading(html.Div(id="campaign-individuals"))])
    extra = [_today_card()] if officer else [_manage_card()] if current_user.role in ("manager", "admin") else []
    return html.Div([
        dcc.Location(id="campaign-url", refresh=False),
        html.A(tr("← 全部活动", "← All campaigns"), href="/campaigns", className="small text-decoration-none"),
        html.Div(id="campaign-access"),
        html.Div(_body(individuals, extra), id="campaign-body"),
    ], id="campaign-page")


def _today_card():
    """The officer's own entry of the day (check-in, daily quiz or steps), filled for the campaign's kind."""
    return dbc.Card(dbc.CardBody([
        html.Div(tr("今天", "Today"), className="section-title mt-0 mb-1"),
        dcc.Store(id="campaign-today-refresh", data=0), dcc.Store(id="campaign-entry-token"),
        html.Div(id="campaign-today-msg"),
        dcc.Loading(html.Div(id="campaign-today")),
    ]), className="shadow-sm mb-3", id="campaign-today-card", style={"display": "none"})


def _q_input(fid, title, **kwargs):
    return html.Div([dbc.Label(title, html_for=fid, className="small mb-0"), dbc.Input(id=fid, size="sm", **kwargs)],
                    className="mb-2")


def _question_form():
    letters = "ABCD"
    options = dbc.Row([
        dbc.Col([_q_input(f"cq-opt-zh-{k}", tr(f"选项 {letters[k]}（中文）", f"Option {letters[k]} (Chinese)"), maxLength=200)
                 for k in range(4)], md=6),
        dbc.Col([_q_input(f"cq-opt-en-{k}", tr(f"选项 {letters[k]}（英文）", f"Option {letters[k]} (English)"), maxLength=200)
                 for k in range(4)], md=6),
    ])
    body = dbc.CardBody([
        html.Div(id="cq-title", className="fw-semibold mb-2"),
        dbc.Row([dbc.Col(_q_input("cq-text-zh", tr("题目（中文）", "Question (Chinese)"), maxLength=500), md=6),
                 dbc.Col(_q_input("cq-text-en", tr("题目（英文）", "Question (English)"), maxLength=500), md=6)]),
        options,
        html.Div([dbc.Label(tr("正确答案", "Correct option"), className="small mb-0 me-2"),
                  dbc.RadioItems(id="cq-correct", options=[{"label": c, "value": str(k)} for k, c in enumerate(letters)],
                                 inline=True)], className="mb-2"),
        dbc.Row([dbc.Col(_q_input("cq-expl-zh", tr("解析（中文）", "Explanation (Chinese)"), maxLength=1000), md=6),
                 dbc.Col(_q_input("cq-expl-en", tr("解析（英文）", "Explanation (English)"), maxLength=1000), md=6)]),
        dbc.Switch(id="cq-active", label=tr("启用（参与每日抽题）", "Active (drawn for the daily quiz)"), value=True,
                   className="mb-2"),
        html.Div(id="cq-error", className="text-danger small mb-2"),
        dbc.Button(tr("保存题目", "Save question"), id="cq-save", color="primary", size="sm", className="me-2"),
        dbc.Button(tr("取消", "Cancel"), id="cq-cancel", color="secondary", outline=True, size="sm"),
    ])
    return dbc.Collapse(dbc.Card(body, className="mb-2 border-primary"), id="cq-collapse", is_open=False)


def _manage_card():
    """For the campaign's editors: close, archive and, for a quiz, the question bank."""
    confirm_close = tr("关闭后活动今天结束，民警不能再打卡、答题或填报。确定关闭？",
                       "Closing ends the campaign today: officers can no longer check in, answer or enter steps. Close it?")
    confirm_archive = tr("归档后活动不再出现在默认列表中，但仍可查看。确定归档？",
                         "Archived campaigns leave the default lists but stay readable. Archive it?")
    return dbc.Card(dbc.CardBody([
        html.Div(tr("活动管理", "Manage the campaign"), className="section-title mt-0 mb-1"),
        dcc.Store(id="campaign-manage-token"), dcc.Store(id="campaign-manage-refresh", data=0),
        html.Div(id="campaign-manage-state", className="small text-muted mb-2"),
        html.Div([
            html.Div(dcc.ConfirmDialogProvider(dbc.Button(tr("关闭活动", "Close campaign"), color="warning", outline=True,
                                                          size="sm"), id="campaign-close", message=confirm_close),
                     id="campaign-close-wrap", style={"display": "none"}),
            html.Div(dcc.ConfirmDialogProvider(dbc.Button(tr("归档", "Archive"), color="secondary", outline=True, size="sm"),
                                               id="campaign-archive", message=confirm_archive),
                     id="campaign-archive-wrap", style={"display": "none"}),
        ], className="d-flex gap-2 mb-2"),
        html.Div(id="campaign-manage-msg"),
        html.Div([
            html.Div([html.Span(tr("题库", "Question bank"), className="fw-semibold me-2"),
                      dbc.Button(tr("＋ 新增题目", "+ Add question"), id="cq-new", color="primary", size="sm")],
                     className="mb-2 mt-2"),
            dcc.Store(id="cq-edit-id"), dcc.Store(id="cq-token"), dcc.Store(id="cq-refresh", data=0),
            _question_form(),
            dcc.Loading(html.Div(id="cq-list")),
        ], id="cq-section", style={"display": "none"}),
    ]), className="shadow-sm mb-3", id="campaign-manage-card", style={"display": "none"})


def _body(individuals, extra):
    return [
        dcc.Loading(html.Div(id="campaign-header")),
        *extra,
        dbc.Row(id="campaign-kpis", className="g-3 mb-3"),
        dbc.Row([
            dbc.Col(_section(tr("累计进度与预测", "Progress and projection"),
                             html.Div([graph("campaign-progress-graph", style={"height": "430px"}),
                                       html.Div(id="campaign-projection", className="small")]),
                             id="campaign-progress-card",
                             sub=tr("上：累计完成量与目标进度；虚线为按当前趋势（含周末效应）的预测及 95% 区间。下：每日合计。",
                                    "Top: cumulative total against the target pace; dashed: projection at the "
                                    "current trend (with the weekend effect) and its 95% interval. Bottom: daily totals.")),
                    lg=8),
            dbc.Col(_section(tr("每周参与", "Participation by week"),
                             html.Div([graph("campaign-weekly-graph", style={"height": "300px"}),
                                       html.Div(id="campaign-weekly-note", className="small text-muted")]),
                             id="campaign-weekly-card",
                             sub=tr("每周至少有一天记录的成员占比", "Share of members with at least one day recorded "
                                                                 "in the week")), lg=4),
        ], className="g-3"),
        dbc.Row([
            dbc.Col(_section(tr("队伍排行", "Team leaderboard"), dcc.Loading(html.Div(id="campaign-teams")),
                             id="campaign-teams-card"), lg=7),
            dbc.Col(_section(tr("个人排行", "Individual leaderboard"), individuals, id="campaign-individuals-card"),
                    lg=5),
        ], className="g-3 mt-0"),
        dbc.Row([
            dbc.Col(_section(tr("积分发放", "Points awarded"), dcc.Loading(html.Div(id="campaign-points")),
                             id="campaign-points-card"), lg=4),
            dbc.Col(_section(tr("效果评估：活动有用吗？", "Did it work?"), dcc.Loading(html.Div(id="campaign-did")),
                             id="campaign-did-card"), lg=8),
        ], className="g-3 mt-0"),
    ]


dash.register_page(__name__, path_template="/campaigns/<campaign_id>", title="警康 · 活动详情", layout=layout)
