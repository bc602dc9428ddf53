"""Home page: the leaders' overview from models.overview, cut to the caller's scope.

Every card links to the page that explains it, for the same unit. What a leader sees of the
numbers is decided once, by ``models.overview.overview_table`` (``models.suppression``): a
count of 1–4 and any number it could be worked out from read "<5*", a share appears only
where its numerator and denominator do, and hidden months are left out of the chart."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, html

from models import psych
from models.overview import LEVELS, leader_overview, overview_table
from models import suppression as sup
from models.suppression import rate
from models import rule_versions
from web.clock import today
from web.access import current_scope, db, unit_in_scope
from web.cache import cached, cached_answer
from web.i18n import LEVEL_COLOURS, level_name, tr
from web.inputs import Search, checked
from web.shell import graph, kpi_card


class View:
    """The overview's numbers as the caller may see them: exact for managers, through the
    suppression table for leaders (``value`` None when hidden)."""

    def __init__(self, o: dict, leader: bool):
        self.o, self.table = o, overview_table(o) if leader else None

    def value(self, key, exact):
        return exact if self.table is None else self.table.value(key)

    def text(self, key, exact) -> str:
        return f"{exact:,}" if self.table is None else self.table.text(key)

    def share(self, num_key, num, den_key, den) -> str:
        r = rate(self.value(num_key, num), self.value(den_key, den))
        return "" if r is None else f"{r:.1%}"


def _change(view: View, level: str, now: int, change: int, rules: dict | None = None, since: str = "") -> str:
    """The change since the quarter start (``since``, its date), measured from the colours in force then."""
    before = view.value(("before", level), now - change)
    if view.value(level, now) is None or before is None:
        return tr(f"较季度初（{since}）：变化不公开", f"vs quarter start ({since}): not shown")
    text = tr(f"较季度初（{since}）{change:+,}", f"{change:+,} since the quarter start ({since})")
    if rules and rules.get(level):
        if view.table is None:  # exact counts: the part a new rules version made, apart from health
            text += tr(f"（其中规则变更 {rules[level]:+,}）", f" (rule change {rules[level]:+,})")
        else:  # a leader's suppressed view: no extra number, only that a rule change is part of it
            text += tr("（含规则变更）", " (incl. a rule change)")
    return text


def _link(path: str, **params) -> str:
    params = {k: v for k, v in params.items() if v}
    return path + ("?" + urlencode(params) if params else "")


MONTHLY_DEFINITION = ("每月月末（本月为今天）处于红色、橙色预警的在册民警人数，按预警历史计算；预警历史开始之前的月份无数据（不是 0）。",
                      "Serving officers in red and in orange at the end of each month (this month: today), from the "
                      "warning history; months before the history began have no data (not zero).")


def _monthly_figure(monthly: list[dict], view: View) -> go.Figure:
    """Red and orange as two stacked series over the last twelve months; a month without data is a gap
    marked 无数据 (never a zero bar), a count a leader may not see a gap marked <5*."""
    months = [m["month"] for m in monthly]
    fig = go.Figure()
    notes: dict[str, str] = {}
    for level in ("red", "orange"):
        ys = []
        for i, m in enumerate(monthly):
            if m["count"] is None:
                ys.append(None)
                notes[m["month"]] = tr("无数据", "no data")
                continue
            v = view.value(("month", i, level), m[level])
            if v is None:
                notes.setdefault(m["month"], sup.HIDDEN)
            ys.append(v)
        fig.add_trace(go.Bar(x=months, y=ys, name=level_name(level), marker_color=LEVEL_COLOURS[level],
                             hovertemplate=f"%{{x}} {level_name(level)}: %{{y:,}}<extra></extra>"))
    for month, text in notes.items():
        fig.add_annotation(x=month, y=0, text=text, showarrow=False, yanchor="bottom", textangle=-90,
                           font={"size": 11, "color": "#6c757d"})
    fig.update_layout(margin={"l": 45, "r": 10, "t": 30, "b": 40}, plot_bgcolor="white", height=280, barmode="stack",
                      legend={"orientation": "h", "y": 1.12, "x": 0},
                      xaxis={"type": "category", "tickangle": -45, "categoryorder": "array", "categoryarray": months},
                      yaxis={"title": tr("人数", "Officers"), "gridcolor": "#eef1f5", "rangemode": "tozero"})
    return fig


def _factors(o: dict, view: View, unit_code: str, sees_psych: bool):
    items = []
    total = o["officers"]
    with db() as s:
        psych_ids = rule_versions.psych_rule_ids(s)
    for f in o["risk_factors"]:
        share = view.share(("factor", f["rule"]), f["count"], "officers", total)
        item = dbc.ListGroupItem([
            html.Span(tr(f["name_zh"], f["name_en"])),
            html.Span([html.Span(view.text(("factor", f["rule"]), f["count"]), className="fw-semibold"),
                       html.Span(f" · {share}" if share else "", className="text-muted small")],
                      className="float-end"),
        ])
        if psych.rule_filter_allowed(f["rule"], psych_ids, sees_psych):
            items.append(html.A(item, href=_link("/warnings", rule=f["rule"], unit=unit_code),
                                className="text-decoration-none"))
        else:  # a count only: the list of names behind a psychological rule is not for this viewer
            items.append(item)
    body = dbc.ListGroup(items, flush=True) if items else html.Div(tr("暂无风险因素", "No risk factors"),
                                                                    className="text-muted")
    return dbc.Card(dbc.CardBody([html.Div(tr("最常见的五项风险因素", "Five most common risk factors"),
                                           className="section-title mt-0"), body]), className="h-100",
                    id="home-factors")


def _sub_units(o: dict, view: View):
    cards = []
    for u in o["sub_units"]:
        key = ("sub", u["code"])
        share = view.share((*key, "red_orange"), u["red_orange"], (*key, "officers"), u["officers"])
        href = _link("/units", unit=u["code"]) if u["has_children"] else _link("/", unit=u["code"])
        cards.append(dbc.Col(kpi_card(tr(u["name"], u["name_en"]), view.text((*key, "officers"), u["officers"]),
                                      tr(f"红橙占比 {share}", f"red+orange {share}") if share else None,
                                      href=href), xs=6, md=4, xl=2))
    if not cards:
        return None
    return dbc.Col([html.Div(tr("下属单位（点击查看详情）", "Sub-units (click for details)"),
                             className="section-title"), dbc.Row(cards, className="g-3", id="home-subunits")],
                   xs=12)


def _psych_rules() -> list:
    with db() as s:
        return sorted(rule_versions.psych_rule_ids(s))


def register(app):
    @app.callback(Output("home-kpis", "children"), Output("home-scope", "children"), Input("home-url", "search"))
    @checked
    @cached_answer("home_kpis", extra=_psych_rules)  # the whole answer, per scope, unit, language and data version
    def home_kpis(search: Search):
        scope = current_scope("leader", "manager", "admin")
        code = (parse_qs((search or "").lstrip("?")).get("unit") or [None])[0]
        day = today()
        with db() as s:
            unit = unit_in_scope(s, scope, code)  # a forged ?unit= outside the scope is refused here
            path = unit.path
            o = cached("overview", scope, {"unit": path, "today": day.isoformat()},
                       lambda: leader_overview(s, path, day, psych=scope.sees_psych))
            unit_name = tr(unit.name, unit.name_en or unit.name)
            unit_code = None if unit.path == scope.unit_path else unit.code
        view = View(o, scope.role == "leader")
        coverage = rate(view.value("examined", o["examined"]), view.value("officers", o["officers"]))
        examined = view.text("examined", o["examined"])
        cards = [
            kpi_card(tr("民警人数", "Officers"), view.text("officers", o["officers"]), unit_name,
                     href=_link("/units", unit=unit_code), id="home-card-officers"),
            kpi_card(tr(f"{o['year']}年体检覆盖率", f"Exam coverage {o['year']}"),
                     f"{coverage:.0%}" if coverage is not None else "–",
                     tr(f"已体检 {examined} 人", f"{examined} examined"),
                     href=_link("/units", unit=unit_code, ind="exam_coverage"), id="home-card-coverage"),
        ]
        for level in LEVELS:
            n = o["levels"][level]
            sub = [view.share(level, n, "officers", o["officers"])]
            if o["level_change"] is not None:
                sub.append(_change(view, level, n, o["level_change"][level], o.get("rule_change"), o["quarter_start"]))
            cards.append(kpi_card(level_name(level) + tr("预警", " warning"), view.text(level, n), " · ".join(x for x in sub if x),
                                  href=_link("/warnings", level=level, unit=unit_code), colour=LEVEL_COLOURS[level],
                                  id=f"home-card-{level}"))
        fu = o["follow_ups"]
        overdue = view.text("overdue", fu["overdue"])
        cards.append(kpi_card(tr("本辖区未结跟进（全部负责人）", "Open follow-ups in scope (all assignees)"),
                              view.text("open", fu["open"]),
                              tr(f"其中逾期 {overdue}", f"{overdue} overdue"),
                              href="/workbench" if scope.role == "manager" else _link("/warnings", unit=unit_code),
                              id="home-card-followups",
                              colour="#c62828" if fu["overdue"] else None))
        camp = o["campaign"]
        took = view.text("participants", camp["participants"])
        invited = camp.get("invited", camp["officers"])
        share = rate(view.value("participants", camp["participants"]), view.value("invited", invited))
        if not invited:  # no unit of the scope was invited this year: nothing to rate, not 0 %
            value, sub = tr("无数据", "no data"), tr("本年没有受邀参加的活动", "not invited to a campaign this year")
        else:
            value = f"{share:.0%}" if share is not None else "–"
            sub = tr(f"受邀 {view.text('invited', invited)} 人中参与 {took} 人",
                     f"{took} of {view.text('invited', invited)} invited took part")
        cards.append(kpi_card(tr(f"{o['year']}年健康活动参与率", f"Campaign participation {o['year']}"), value, sub,
                              href="/campaigns", id="home-card-campaign"))
        cols = [dbc.Col(c, xs=6, md=4, xl=3) for c in cards]
        if o["level_change"] is None and o["history_start"]:
            cols.append(dbc.Col(html.Div(tr(f"预警历史自 {o['history_start']} 起记录，本季度初（{o['quarter_start']}）尚无记录，暂不显示变化。",
                                            f"Warning history begins {o['history_start']}: no change since the quarter "
                                            f"start ({o['quarter_start']}) can be shown yet."),
                                         className="small text-muted", id="home-quarter-note"), xs=12))
        elif o["level_change"] is not None and o.get("quarter_start_recorded"):
            cols.append(dbc.Col(html.Div(tr(f"“较季度初”以 {o['quarter_start']} 零时的预警颜色为起点（该时点的颜色最后记录于 "
                                            f"{o['quarter_start_recorded']}）。",
                                            f"“Since the quarter start” starts from the colours in force at 0:00 on "
                                            f"{o['quarter_start']} (as last recorded on {o['quarter_start_recorded']})."),
                                         className="small text-muted", id="home-quarter-note"), xs=12))
        cols.append(dbc.Col(_factors(o, view, unit_code, scope.sees_psych), lg=5))
        cols.append(dbc.Col(dbc.Card(dbc.CardBody([
            html.Div(tr("红色、橙色预警人数（按月）", "Red and orange officers by month"), className="section-title mt-0"),
            graph("home-monthly", figure=_monthly_figure(o["monthly"], view), style={"height": "280px"}),
            html.Div(tr(*MONTHLY_DEFINITION) + (tr(f"预警历史自 {o['history_start']} 起记录。",
                                                  f" The warning history begins {o['history_start']}.")
                                               if o["history_start"] else ""),
                     className="small text-muted", id="home-monthly-caption"),
        ]), className="h-100"), lg=7))
        sub = _sub_units(o, view)
        if sub is not None:
            cols.append(sub)
        return cols, tr(f"范围：{unit_name}", f"Scope: {unit_name}")
