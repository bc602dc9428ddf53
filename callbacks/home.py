"""Home page: the leaders' overview from models.overview, cut to the caller's scope.

Every card links to the page that explains it, for the same unit. Leaders get "<5"
for any count under 5 officers, and such counts are left out of the chart."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, html

from models.overview import LEVELS, SMALL_GROUP, leader_overview, suppress_small
from web.clock import today
from web.access import current_scope, db, unit_in_scope
from web.cache import cached
from web.i18n import LEVEL_COLOURS, level_name, tr
from web.inputs import Search, checked
from web.shell import graph, kpi_card



def _share(n: int | None, total: int | None, leader: bool) -> str:
    if not total or n is None or (leader and (total < SMALL_GROUP or 0 < n < SMALL_GROUP)):
        return ""
    return f"{n / total:.1%}"


def _change(now: int, before: int, leader: bool) -> str:
    if leader and any(0 < x < SMALL_GROUP for x in (now, before)):
        return tr("较季度初：<5 人变化不显示", "vs quarter start: not shown (<5)")
    diff = now - before
    return tr(f"较季度初 {diff:+,}", f"{diff:+,} since quarter start")


def _link(path: str, **params) -> str:
    params = {k: v for k, v in params.items() if v}
    return path + ("?" + urlencode(params) if params else "")


def _monthly_figure(monthly: list[dict], history_start: str | None, leader: bool) -> go.Figure:
    months = [m["month"] for m in monthly]
    counts = [None if m["count"] is None or (leader and 0 < m["count"] < SMALL_GROUP) else m["count"]
              for m in monthly]
    fig = go.Figure(go.Bar(x=months, y=counts, marker_color=LEVEL_COLOURS["orange"],
                           hovertemplate="%{x}: %{y:,}<extra></extra>", name=tr("红+橙", "red + orange")))
    if history_start and any(m["count"] is None for m in monthly):
        fig.add_annotation(text=tr(f"预警历史自 {history_start} 起记录，之前月份无数据",
                                   f"Warning history begins {history_start}; no data before"),
                           x=0, y=1.08, xref="paper", yref="paper", showarrow=False, xanchor="left",
                           font={"size": 11, "color": "#6c757d"})
    fig.update_layout(margin={"l": 45, "r": 10, "t": 30, "b": 40}, plot_bgcolor="white", height=280,
                      xaxis={"type": "category", "tickangle": -45},
                      yaxis={"title": tr("人数", "Officers"), "gridcolor": "#eef1f5", "rangemode": "tozero"})
    return fig


def _factors(o: dict, fmt, leader: bool, unit_code: str):
    items = []
    total = o["officers"]
    for f in o["risk_factors"]:
        share = _share(f["count"], total, leader)
        items.append(html.A(dbc.ListGroupItem([
            html.Span(tr(f["name_zh"], f["name_en"])),
            html.Span([html.Span(fmt(f["count"]), className="fw-semibold"),
                       html.Span(f" · {share}" if share else "", className="text-muted small")],
                      className="float-end"),
        ]), href=_link("/warnings", rule=f["rule"], unit=unit_code), className="text-decoration-none"))
    body = dbc.ListGroup(items, flush=True) if items else html.Div(tr("暂无风险因素", "No risk factors"),
                                                                    className="text-muted")
    return dbc.Card(dbc.CardBody([html.Div(tr("最常见的五项风险因素", "Five most common risk factors"),
                                           className="section-title mt-0"), body]), className="h-100",
                    id="home-factors")


def _sub_units(o: dict, fmt, leader: bool):
    cards = []
    for u in o["sub_units"]:
        share = _share(u["red_orange"], u["officers"], leader)
        href = _link("/units", unit=u["code"]) if u["has_children"] else _link("/", unit=u["code"])
        cards.append(dbc.Col(kpi_card(tr(u["name"], u["name_en"]), fmt(u["officers"]),
                                      tr(f"红橙占比 {share}", f"red+orange {share}") if share else None,
                                      href=href), xs=6, md=4, xl=2))
    if not cards:
        return None
    return dbc.Col([html.Div(tr("下属单位（点击查看详情）", "Sub-units (click for details)"),
                             className="section-title"), dbc.Row(cards, className="g-3", id="home-subunits")],
                   xs=12)


def register(app):
    @app.callback(Output("home-kpis", "children"), Output("home-scope", "children"), Input("home-url", "search"))
    @checked
    def home_kpis(search: Search):
        scope = current_scope("leader", "manager", "admin")
        code = (parse_qs((search or "").lstrip("?")).get("unit") or [None])[0]
        day = today()
        with db() as s:
            unit = unit_in_scope(s, scope, code)  # a forged ?unit= outside the scope is refused here
            path = unit.path
            o = cached("overview", scope, {"unit": path, "today": day.isoformat()},
                       lambda: leader_overview(s, path, day))
            unit_name = tr(unit.name, unit.name_en or unit.name)
            unit_code = None if unit.path == scope.unit_path else unit.code
        leader = scope.role == "leader"
        fmt = suppress_small if leader else (lambda n: f"{n:,}")
        cards = [
            kpi_card(tr("民警人数", "Officers"), fmt(o["officers"]), unit_name, href=_link("/units", unit=unit_code),
                     id="home-card-officers"),
            kpi_card(tr(f"{o['year']}年体检覆盖率", f"Exam coverage {o['year']}"),
                     f"{o['coverage']:.0%}" if o["coverage"] is not None else "–",
                     tr(f"已体检 {fmt(o['examined'])} 人", f"{fmt(o['examined'])} examined"),
                     href=_link("/units", unit=unit_code, ind="exam_coverage"), id="home-card-coverage"),
        ]
        total = sum(o["levels"].values())
        for level in LEVELS:
            n = o["levels"][level]
            sub = [_share(n, total, leader)]
            if o["level_change"] is not None:
                sub.append(_change(n, n - o["level_change"][level], leader))
            cards.append(kpi_card(level_name(level) + tr("预警", " warning"), fmt(n), " · ".join(x for x in sub if x),
                                  href=_link("/warnings", level=level, unit=unit_code), colour=LEVEL_COLOURS[level],
                                  id=f"home-card-{level}"))
        fu = o["follow_ups"]
        cards.append(kpi_card(tr("未结随访", "Open follow-ups"), fmt(fu["open"]),
                              tr(f"其中超期 {fmt(fu['overdue'])}", f"{fmt(fu['overdue'])} overdue"),
                              href="/workbench" if scope.role == "manager" else _link("/warnings", unit=unit_code),
                              id="home-card-followups",
                              colour="#c62828" if fu["overdue"] else None))
        camp = o["campaign"]
        cards.append(kpi_card(tr(f"{o['year']}年健康活动参与率", f"Campaign participation {o['year']}"),
                              f"{camp['share']:.0%}" if camp["share"] is not None else "–",
                              tr(f"参与 {fmt(camp['participants'])} 人", f"{fmt(camp['participants'])} took part"),
                              href="/campaigns", id="home-card-campaign"))
        cols = [dbc.Col(c, xs=6, md=4, xl=3) for c in cards]
        if o["level_change"] is None and o["history_start"]:
            cols.append(dbc.Col(html.Div(tr(f"预警历史自 {o['history_start']} 起记录，本季度初（{o['quarter_start']}）尚无记录，暂不显示变化。",
                                            f"Warning history begins {o['history_start']}: no change since the quarter "
                                            f"start ({o['quarter_start']}) can be shown yet."),
                                         className="small text-muted"), xs=12))
        cols.append(dbc.Col(_factors(o, fmt, leader, unit_code), lg=5))
        cols.append(dbc.Col(dbc.Card(dbc.CardBody([
            html.Div(tr("红橙预警人数（按月）", "Red + orange officers by month"), className="section-title mt-0"),
            graph("home-monthly", figure=_monthly_figure(o["monthly"], o["history_start"], leader),
                  style={"height": "280px"}),
        ]), className="h-100"), lg=7))
        sub = _sub_units(o, fmt, leader)
        if sub is not None:
            cols.append(sub)
        return cols, tr(f"范围：{unit_name}", f"Scope: {unit_name}")
