"""/warnings: the four-colour map, counts per colour, the at-risk list and the movement
between colours over a period (``?period=quarter|year|12m`` or ``?from=&to=``). ``?level=red`` preselects the colour; ``?badge=X&new_followup=1``
opens the new-follow-up form for that officer (checked against the scope by its callback)."""
import re

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from models.vocab import LEVELS
from web.followup_forms import followup_modals
from web.access import current_scope
from web.cache import cached, plain
from web.i18n import language, level_name, tr
from web.shell import graph, no_access
from web.warn_filters import READS, filter_choices, levels_of

VIEWERS = ("leader", "manager", "counsellor", "admin")
AGE_OPTIONS = [("lt30", "30岁以下", "under 30"), ("30_39", "30–39岁", "30–39"), ("40_49", "40–49岁", "40–49"),
               ("50p", "50岁及以上", "50 and over")]
PERIOD_OPTIONS = {"quarter": ("本季度（自季度首日）", "This quarter (from its first day)"),
                  "year": ("今年以来（自1月1日）", "This year (from 1 January)"),
                  "12m": ("近12个月", "Last 12 months"), "custom": ("自定义起止日期", "Custom dates")}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EXAM_OPTIONS = [("within12", "12个月内体检过", "examined in the last 12 months"),
                ("12to18", "12–18个月前", "12–18 months ago"), ("over18", "超过18个月或从未", "over 18 months or never"),
                ("over24", "超过24个月或从未", "over 24 months or never"), ("never", "从未体检", "never examined")]


CONFIRMED_OPTIONS = [("confirmed", "已确认", "Confirmed"), ("unconfirmed", "待确认（单次自助读数）", "Unconfirmed (one kiosk reading)")]
SEX_OPTIONS = [("male", "男", "Male"), ("female", "女", "Female")]
FOLLOWUP_OPTIONS = [("none", "无跟进", "None"), ("active", "跟进中（含超期）", "Active (incl. overdue)"),
                    ("overdue", "已超期", "Overdue"), ("closed", "已结案", "Closed"),
                    ("needs_action", "待安排跟进（无进行中的跟进，转红后未开过跟进）",
                     "Needs a follow-up (none open, none since turning red)")]


def _opts(triples):
    return [{"label": tr(zh, en), "value": v} for v, zh, en in triples]


def _select(id, label, options, placeholder=None, value=None):
    return dbc.Col([
        dbc.Label(label, html_for=id, className="small mb-0"),
        dcc.Dropdown(id=id, options=options, placeholder=placeholder or tr("全部", "All"), clearable=True,
                     searchable=False, className="warn-filter", value=value),
    ], xs=6, md=4, xl=2)


def _pick(options, value):
    """The value from the address bar if the control offers it, else nothing (with the text shown)."""
    return value if isinstance(value, str) and any(o["value"] == value for o in options) else None


def _filters(choices: dict, values: dict):
    """The filter bar, built with its choices and the values the address bar names."""
    colour = dbc.Checklist(
        id="warn-f-levels", inline=True, value=values["level"], className="warn-levels",
        options=[{"label": html.Span(level_name(lvl), className=f"badge level-badge level-{lvl}"), "value": lvl}
                 for lvl in LEVELS])
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([dbc.Label(tr("预警颜色", "Colour"), className="small mb-0 d-block"), colour], xs=12, md=6, xl=4),
            dbc.Col([dbc.Label(tr("单位", "Unit"), html_for="warn-f-unit", className="small mb-0"),
                     dcc.Dropdown(id="warn-f-unit", placeholder=tr("全部（本人权限范围）", "All (my scope)"),
                                  clearable=True, options=choices["unit"], value=values["unit"])], xs=12, md=6, xl=4),
            _select("warn-f-rule", tr("预警原因", "Reason"), choices["rule"], value=values["rule"]),
            _select("warn-f-confirmed", tr("是否确认", "Confirmed"), _opts(CONFIRMED_OPTIONS), value=values["confirmed"]),
        ], className="g-2"),
        dbc.Row([
            _select("warn-f-age", tr("年龄段", "Age band"), _opts(AGE_OPTIONS), value=values["age"]),
            _select("warn-f-sex", tr("性别", "Sex"), _opts(SEX_OPTIONS), value=values["sex"]),
            _select("warn-f-post", tr("岗位类别", "Post type"), choices["post"], value=values["post"]),
            _select("warn-f-exam", tr("距上次体检", "Since last exam"), _opts(EXAM_OPTIONS), value=values["exam"]),
            _select("warn-f-followup", tr("跟进状态", "Follow-up"), _opts(FOLLOWUP_OPTIONS), value=values["followup"]),
            dbc.Col(dbc.Button(tr("清除筛选", "Clear filters"), id="warn-reset", color="secondary", outline=True,
                               size="sm", className="mt-4"), xs=6, md=4, xl=2),
        ], className="g-2 mt-1"),
    ]), className="mb-3")


def _filter_values(choices: dict, query: dict) -> tuple[dict, list]:
    """The filters the address bar names, and the names it gave that this viewer cannot use."""
    offered = {"unit": choices["unit"], "rule": choices["rule"], "post": choices["post"],
               "confirmed": _opts(CONFIRMED_OPTIONS), "age": _opts(AGE_OPTIONS), "sex": _opts(SEX_OPTIONS),
               "exam": _opts(EXAM_OPTIONS), "followup": _opts(FOLLOWUP_OPTIONS)}
    values = {"level": levels_of(query.get("level"))}
    refused = []
    for key, options in offered.items():
        values[key] = _pick(options, query.get(key))
        if query.get(key) and values[key] is None:
            refused.append(key)
    return values, refused


FILTER_NAMES = {"unit": ("单位", "Unit"), "rule": ("预警原因", "Reason"), "post": ("岗位类别", "Post type"),
                "confirmed": ("是否确认", "Confirmed"), "age": ("年龄段", "Age band"), "sex": ("性别", "Sex"),
                "exam": ("距上次体检", "Since last exam"), "followup": ("跟进状态", "Follow-up")}


def _active(choices: dict, values: dict, refused: list):
    """One line naming every filter in force (the link's filters are visible, not silently dropped)."""
    offered = {"unit": choices["unit"], "rule": choices["rule"], "post": choices["post"],
               "confirmed": _opts(CONFIRMED_OPTIONS), "age": _opts(AGE_OPTIONS), "sex": _opts(SEX_OPTIONS),
               "exam": _opts(EXAM_OPTIONS), "followup": _opts(FOLLOWUP_OPTIONS)}
    parts = [level_name(lvl) for lvl in values["level"]]
    for key, options in offered.items():
        if values[key]:
            text = next(o["label"] for o in options if o["value"] == values[key]).strip("\u3000")
            parts.append(tr(*FILTER_NAMES[key]) + tr("：", ": ") + text)
    children = [html.Span(tr("当前筛选：", "Filters: "), className="text-muted"),
                html.Span(" · ".join(parts) if parts else tr("无（本人权限范围内全部人员）", "none (everyone in my scope)"),
                          id="warn-active-text", className="fw-semibold")]
    alert = None
    if refused:
        names = tr("、", ", ").join(tr(*FILTER_NAMES[k]) for k in refused)
        alert = dbc.Alert(tr(f"链接中的筛选条件（{names}）不在您的权限范围内或已不存在，未应用；下面显示的是其余条件的结果。",
                             f"The link's filter ({names}) is outside your scope or no longer exists and was not "
                             "applied; the page shows the other filters."),
                          color="warning", className="py-2 small", id="warn-refused")
    return html.Div([html.Div(children, className="small mb-2", id="warn-active"), alert])


def _legend_swatches():
    return html.Div(id="warn-legend", className="warn-legend small")


def _movement_query(query: dict) -> tuple[str, str | None, str | None]:
    """(period, from, to) of ``?period=`` or ``?from=&to=``: a preset, or ISO dates (checked again
    by the callback like any input); anything else is left out."""
    start, end = (query.get(k) if isinstance(query.get(k), str) and ISO_DATE.fullmatch(query.get(k)) else None
                  for k in ("from", "to"))
    period = query.get("period")
    return (period if period in PERIOD_OPTIONS else ("custom" if start or end else "quarter")), start, end


def _movement_card(movement: tuple[str, str | None, str | None]):
    """Colour movement over a period: the presets or a from/to pair, written back to the address
    bar when chosen."""
    period, start, end = movement
    return dbc.Card(dbc.CardBody([
        html.Div(tr("颜色变化", "Colour movement"), className="card-title-sm", id="warn-movement-title"),
        dbc.Row([
            dbc.Col([dbc.Label(tr("时段", "Period"), html_for="warn-move-period", className="small mb-0"),
                     dbc.Select(id="warn-move-period", value=period, size="sm",
                                options=[{"label": tr(zh, en), "value": v} for v, (zh, en) in PERIOD_OPTIONS.items()])],
                    xs=12, md=4, xl=3),
            dbc.Col(dbc.Row([
                dbc.Col([dbc.Label(tr("起始日期", "From"), html_for="warn-move-from", className="small mb-0"),
                         dbc.Input(id="warn-move-from", type="date", min="2000-01-01", value=start, size="sm")], xs=6),
                dbc.Col([dbc.Label(tr("结束日期", "To"), html_for="warn-move-to", className="small mb-0"),
                         dbc.Input(id="warn-move-to", type="date", min="2000-01-01", value=end, size="sm")], xs=6),
            ], className="g-2"), id="warn-move-custom", xs=12, md=6, xl=4,
                style={} if period == "custom" else {"display": "none"}),
        ], className="g-2 mb-2"),
        dcc.Store(id="warn-move-query"),
        dcc.Store(id="warn-move-url"),
        dcc.Loading(html.Div(id="warn-movement"), delay_show=300),
    ]), className="mb-3")


def layout(badge=None, new_followup=None, **query):
    if current_user.role not in VIEWERS:
        return no_access()
    choices = filter_choices()
    values, refused = _filter_values(choices, query)
    movement = _movement_query(query)
    manager = current_user.role in ("manager", "admin")
    opens = badge if manager and new_followup == "1" and isinstance(badge, str) and badge else None
    if opens is not None or refused:  # the follow-up form for one officer, or a filter refused: drawn, not kept
        return _page(choices, values, refused, movement, opens)
    # the page is a function of the viewer's scope, the filters as checked (never the raw address bar, which
    # anyone can fill with endless variations), the language and the data it reads: built once per them,
    # as JSON data, instead of on every view
    params = {"values": values, "movement": movement, "lang": language()}
    return cached("page:warnings:2", current_scope(*VIEWERS), params,
                  lambda: plain(_page(choices, values, refused, movement, None)), READS)


def _page(choices: dict, values: dict, refused: list, movement: tuple, opens: str | None):
    manager = current_user.role in ("manager", "admin")
    counsellor = current_user.role == "counsellor"
    list_tools = [
        dbc.Button(tr("导出 Excel", "Export Excel"), id="warn-export-xlsx", color="secondary", outline=True, size="sm",
                   className="me-2"),
        dbc.Button(tr("导出 CSV", "Export CSV"), id="warn-export-csv", color="secondary", outline=True, size="sm"),
        dcc.Download(id="warn-download"),
        html.Div(id="warn-export-msg", className="small text-danger mt-1"),
    ] if manager else []
    return html.Div([
        dcc.Location(id="warn-nav", refresh="callback-nav"),
        dcc.Location(id="warn-url", refresh="callback-nav"),
        dcc.Store(id="warn-map-codes"),
        dcc.Store(id="warn-parent"),
        html.Div(tr("四色预警", "Four-colour warnings"), className="page-title", id="warn-title"),
        html.Div(id="warn-breadcrumb", className="page-sub"),
        html.Div(id="warn-rules-version", className="small mb-2"),  # callbacks/rules_badge.py
        _filters(choices, values),
        _active(choices, values, refused),
        dcc.Loading(dbc.Row(id="warn-counts", className="g-2 mb-3"), delay_show=300),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                html.Div([html.Span(tr("辖区地图", "Map"), className="card-title-sm"),
                          dbc.Button(tr("↑ 返回上级", "↑ Up one level"), id="warn-up", size="sm", color="link",
                                     className="float-end p-0")]),
                html.Div(tr("颜色：各单位红色+橙色人员占比；点击辖区查看下级单位", "Colour: share of red+orange officers; "
                            "click an area to zoom in"), className="small text-muted"),
                dcc.Loading(graph("warn-map", style={"height": "460px"}), delay_show=300),
                _legend_swatches(),
            ])), lg=7, className="mb-3"),
            dbc.Col(dbc.Card(dbc.CardBody([
                html.Div(tr("单位 → 各颜色人数", "Unit → officers per colour"), className="card-title-sm"),
                html.Div(tr("含无辖区边界的机关部门；点击单位可下钻", "Includes departments without boundaries; click to drill"),
                         className="small text-muted"),
                dcc.Loading(graph("warn-tree", style={"height": "486px"}), delay_show=300),
            ])), lg=5, className="mb-3"),
        ]),
        dbc.Card(dbc.CardBody([
            html.Div([html.Span(tr("预警人员名单", "Officers"), className="card-title-sm me-3"),
                      html.Span(id="warn-list-count", className="small text-muted me-3"), *list_tools],
                     className="d-flex align-items-center flex-wrap mb-2"),
            html.Div(tr("点击姓名查看个人健康画像", "Click a name to open the portrait") +
                     (tr("；点击“新建跟进”安排随访", "; click “New follow-up” to plan one") if manager else
                      tr("（仅显示有心理测评预警原因的人员）", " (officers with a psychological warning reason only)")
                      if counsellor else
                      tr("（仅显示红色、橙色人员，不含检验数值）", " (red and orange officers only, no lab values)")),
                     className="small text-muted mb-2"),
            html.Div(tr("“<5*”：不公开——少于5人，或可据其余数字推算出少于5人的数。",
                        "“<5*”: not shown — under 5, or a number from which a count under 5 could be worked out."),
                     className="small text-muted mb-2", id="warn-suppression-note")
            if current_user.role == "leader" else None,
            html.Div(id="warn-list-wrap"),
        ]), className="mb-3"),
        _movement_card(movement),
        followup_modals(opens),
    ])


dash.register_page(__name__, path="/warnings", title="警康 · 四色预警", layout=layout)
