"""/units callbacks. Each one authorises from the server-side scope, re-checks the unit the
browser names (URL, store, click, grid) with unit_in_scope, whitelists every other value,
calls one function in models.unit_queries and builds figures. Leaders get the
suppressed result (no groups under 5, no event counts) from the model itself."""
from __future__ import annotations

import io
from urllib.parse import parse_qs, urlencode

import plotly.graph_objects as go
from dash import Input, Output, State, ctx, dcc, html, no_update
from openpyxl import Workbook
from openpyxl.styles import Font

from models import prevalence
from models import suppression as sup
from models import unit_queries as uq
from models.vocab import UNIT_LEVEL_GROUPS
from web.clock import today
from web.access import AccessDenied, audit, current_scope, db, security_event, unit_in_scope
from web.cache import cached, cached_answer
from web.exports import too_soon
from web.i18n import label, tr
from web.plot_text import plot_text
from web.inputs import Cell, ClickData, Clicks, Code, Codes, Search, Year, checked

ROLES = ("leader", "manager", "admin")
RATES = ("standardised", "crude")
DEFAULT_INDICATOR = "hypertension"
COMPARED_LEVELS = ("district", "station", "department", "city")  # unit levels one can compare side by side
POSITION_NAMES = {
    "above998": ("显著偏高（>99.8%限）", "well above (99.8%)"),
    "above95": ("偏高（>95%限）", "above (95%)"),
    "within": ("在控制限内", "within limits"),
    "below95": ("偏低（<95%限）", "below (95%)"),
    "below998": ("显著偏低（<99.8%限）", "well below (99.8%)"),
}
WORSE = {"above998": "#c62828", "above95": "#ef6c00"}
BETTER = {"above998": "#1565c0", "above95": "#42a5f5"}
WITHIN = "#8d99a6"
HET_METHODS = {"pearson": ("Pearson 卡方检验（粗率）", "Pearson chi-square (crude rates)"),
               "cochran_q": ("Cochran Q 检验（标化率）", "Cochran's Q (standardised rates)"),
               "means": ("组间卡方检验（均值）", "between-units chi-square (means)")}


def _params(search: str | None) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items() if v}


def _checked(indicator, level, year, rate) -> tuple[str, str, int, str]:
    """Whitelist the pickers' values (they arrive from the browser and may be forged)."""
    if indicator not in uq.INDICATORS or level not in COMPARED_LEVELS or rate not in RATES:
        raise AccessDenied("bad request")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise AccessDenied("bad request") from None
    if not 2000 <= year <= today().year:
        raise AccessDenied("bad request")
    return indicator, level, year, rate


def _comparison(scope, code, level, indicator, year, rate) -> tuple[dict, object]:
    """The (cached) comparison for a unit the caller may see; AccessDenied otherwise."""
    indicator, level, year, rate = _checked(indicator, level, year, rate)
    day = today()
    with db() as s:
        root = unit_in_scope(s, scope, code)
        path = root.path

        def compute():
            return uq.unit_comparison(s, path, level, indicator, year, day, rate=rate,
                                      suppress=scope.role == "leader")

        res = cached("units", scope, {"root": path, "level": level, "ind": indicator, "year": year, "rate": rate,
                                      "today": day.isoformat()}, compute)
    return res, root


# --- formatting -----------------------------------------------------------------------------------
def _fmt(res: dict, v: float | None, digits: int = 1) -> str:
    if v is None:
        return "–"
    return f"{v:.2f}%" if res["kind"] == "mean" else f"{v * 100:.{digits}f}%"


def _scale(res: dict) -> float:
    return 1.0 if res["kind"] == "mean" else 100.0


def _name(row: dict) -> str:
    return tr(row["name"], row["name_en"])


def _colour(res: dict, position: str | None) -> str:
    if position in (None, "within"):
        return WITHIN
    up = position.startswith("above")
    worse = up == res["higher_is_worse"]
    key = "above998" if position.endswith("998") else "above95"
    return (WORSE if worse else BETTER)[key]


def _indicator_name(key: str) -> str:
    ind = uq.INDICATORS[key]
    return tr(ind.zh, ind.en)


def _shown(res: dict, row: dict, which: str) -> tuple:
    return row[which], row[f"{which}_lo"], row[f"{which}_hi"]


def _ci(res: dict, row: dict, which: str) -> str:
    _v, lo, hi = _shown(res, row, which)
    if row["suppressed"]:
        return sup.HIDDEN
    if lo is None or hi is None:
        return "–"
    return f"{_fmt(res, lo)} – {_fmt(res, hi)}"


# --- figures -------------------------------------------------------------------------------------
def _empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#6c757d"})
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      plot_bgcolor="white")
    return fig


def funnel_figure(res: dict) -> go.Figure:
    rows = [r for r in res["rows"] if r["n"] and r["value"] is not None and not r["suppressed"]]
    if not rows or not res["funnel"]:
        return _empty_figure(tr("该年份没有这一指标的数据", "No data for this indicator and year"))
    k, f = _scale(res), res["funnel"]
    centre = res["force"]["centre"] * k
    fig = go.Figure()
    for tag, dash_style, name in (("998", "dot", tr("99.8% 控制限", "99.8% limits")),
                                   ("95", "dash", tr("95% 控制限", "95% limits"))):
        for side, show in (("hi", True), ("lo", False)):
            fig.add_scatter(x=f["n"], y=[max(v * k, 0) for v in f[f"{side}{tag}"]], mode="lines", name=name,
                            legendgroup=tag, showlegend=show, hoverinfo="skip",
                            line={"color": "#5c6b7a", "dash": dash_style, "width": 1.2})
    fig.add_scatter(x=[f["n"][0], f["n"][-1]], y=[centre, centre], mode="lines", hoverinfo="skip",
                    name=tr(f"全局 {_fmt(res, res['force']['centre'])}", f"Force {_fmt(res, res['force']['centre'])}"),
                    line={"color": "#1d3f8f", "width": 1.5})
    outside = [r for r in rows if r["position"] not in (None, "within")]
    hover = [f"<b>{plot_text(_name(r))}</b><br>{tr('人数', 'n')} {r['n']:,}<br>{_fmt(res, r['value'])}"
             f" ({tr('95%CI', '95% CI')} {_ci(res, r, 'std' if res['rate'] == 'standardised' else 'crude')})"
             f"<br>{tr(*POSITION_NAMES[r['position']]) if r['position'] else ''}" for r in rows]
    fig.add_scatter(
        x=[r["n"] for r in rows], y=[r["value"] * k for r in rows], mode="markers+text",
        text=[plot_text(_name(r)) if r in outside else "" for r in rows], textposition="top center",
        textfont={"size": 11, "color": [_colour(res, r["position"]) for r in rows]},
        marker={"size": [11 if r in outside else 8 for r in rows], "color": [_colour(res, r["position"]) for r in rows],
                "line": {"color": "white", "width": 1}},
        customdata=[r["code"] for r in rows], hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        name=tr("单位", "Units"), showlegend=False)
    fig.update_layout(
        margin={"l": 50, "r": 10, "t": 10, "b": 40}, plot_bgcolor="white", hovermode="closest",
        legend={"orientation": "h", "y": -0.18, "x": 0}, clickmode="event",
        xaxis={"title": tr("人数（分母）", "Officers (denominator)"), "gridcolor": "#eef1f5"},
        yaxis={"title": _indicator_name(res["indicator"]) + ("" if res["kind"] == "mean" else " (%)"),
               "gridcolor": "#eef1f5", "ticksuffix": "%" if res["kind"] == "mean" else "",
               "rangemode": "nonnegative"})  # a rate never goes below zero
    return fig


def trend_figure(trend: dict, res_kind: str, indicator: str) -> go.Figure:
    years = trend["years"]
    if not any(p["value"] is not None for pts in trend["units"].values() for p in pts):
        return _empty_figure(tr("请在上方选择单位", "Choose units above"))
    k = 1.0 if res_kind == "mean" else 100.0
    fig = go.Figure()
    fig.add_scatter(x=years, y=[v * k if v is not None else None for v in trend["force"]], mode="lines+markers",
                    name=tr("全局", "Force"), line={"color": "#1d3f8f", "dash": "dash"})
    for code, pts in trend["units"].items():
        zh, en = trend["names"].get(code, (code, code))
        vals = [p["value"] * k if p["value"] is not None else None for p in pts]
        fig.add_scatter(
            x=[p["year"] for p in pts], y=vals, mode="lines+markers", name=plot_text(tr(zh, en)),
            error_y={"type": "data", "symmetric": False, "thickness": 1, "width": 3,
                     "array": [(p["hi"] - p["value"]) * k if p["hi"] is not None and p["value"] is not None else None
                               for p in pts],
                     "arrayminus": [(p["value"] - p["lo"]) * k if p["lo"] is not None and p["value"] is not None
                                    else None for p in pts]})
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 40}, plot_bgcolor="white",
                      legend={"orientation": "h", "y": -0.2, "x": 0},
                      xaxis={"tickmode": "array", "tickvals": years, "ticktext": [str(y) for y in years],
                             "gridcolor": "#eef1f5"},
                      yaxis={"title": _indicator_name(indicator) + ("" if res_kind == "mean" else " (%)"),
                             "gridcolor": "#eef1f5", "ticksuffix": "%" if res_kind == "mean" else "",
                             "rangemode": "nonnegative"})
    return fig


# --- table and text ---------------------------------------------------------------------------------
def grid_columns(res: dict, show_events: bool) -> list[dict]:
    fmt = (f"params.data.suppressed ? '{sup.HIDDEN}' : (params.value == null ? '–' : "
           + ("d3.format('.2f')(params.value) + '%')" if res["kind"] == "mean" else "d3.format('.1%')(params.value))"))
    cols = [
        {"field": "label", "headerName": tr("单位", "Unit"), "minWidth": 150, "pinned": "left",
         "cellClass": "units-name"},
        {"field": "n", "headerName": tr("人数", "n"), "type": "numericColumn", "maxWidth": 110,
         "valueFormatter": {"function": f"params.data.suppressed ? '{sup.HIDDEN}' : d3.format(',')(params.value)"}},
    ]
    if show_events:
        cols.append({"field": "events", "headerName": tr("分子（人）", "Events"), "type": "numericColumn",
                     "maxWidth": 130})
    cols += [
        {"field": "crude", "headerName": tr("粗率", "Crude") if res["kind"] != "mean" else tr("均值", "Mean"),
         "type": "numericColumn", "valueFormatter": {"function": fmt}, "maxWidth": 120},
        {"field": "crude_ci", "headerName": tr("粗率 95%CI（Wilson）", "Crude 95% CI (Wilson)")
         if res["kind"] != "mean" else tr("95%CI", "95% CI"), "sortable": False, "minWidth": 140},
        {"field": "std", "headerName": tr("标化率", "Standardised") if res["kind"] != "mean"
         else tr("标化均值", "Standardised mean"), "type": "numericColumn", "valueFormatter": {"function": fmt},
         "maxWidth": 130},
        {"field": "std_ci", "headerName": tr("标化 95%CI", "Standardised 95% CI"), "sortable": False,
         "minWidth": 140},
        {"field": "position_label", "headerName": tr("相对控制限", "Against the limits"), "minWidth": 170,
         "cellStyle": {"function": "params.data.colour ? {color: params.data.colour, fontWeight: 600} : {}"}},
    ]
    return cols


def grid_rows(res: dict) -> list[dict]:
    """Table rows, worst first (units without a number last)."""
    sign = -1 if res["higher_is_worse"] else 1
    ordered = sorted(res["rows"], key=lambda r: (r["value"] is None, sign * (r["value"] or 0)))
    out = []
    for r in ordered:
        outside = r["position"] not in (None, "within")
        out.append({
            "code": r["code"], "label": _name(r) + (" ›" if r["has_children"] else ""), "n": r["n"],
            "events": r["events"], "suppressed": r["suppressed"], "crude": r["crude"], "std": r["std"],
            "crude_ci": _ci(res, r, "crude"), "std_ci": _ci(res, r, "std"),
            "position_label": sup.HIDDEN if r["suppressed"] else (tr(*POSITION_NAMES[r["position"]]) if r["position"]
                                                             else "–"),
            "colour": _colour(res, r["position"]) if outside else None,
        })
    return out


def method_note(res: dict, leader: bool) -> list:
    ind = uq.INDICATORS[res["indicator"]]
    if res["rate"] == "standardised":
        shown = tr("图表显示：年龄性别标化率——按年龄组（<30、30–39、40–49、50岁以上）和性别，以全局在职民警为标准人口直接标化；"
                   "95%置信区间：Fay-Feuer 伽马法。",
                   "Showing age-sex standardised rates: direct standardisation by age band (<30, 30–39, 40–49, 50+) "
                   "and sex to the whole force; 95% CI by the Fay-Feuer gamma method. ")
        if ind.kind == "mean":
            shown = tr("图表显示：年龄性别标化均值（以全局在职民警为标准人口），95%置信区间为正态近似。",
                       "Showing age-sex standardised means (whole force as standard), normal 95% CI. ")
    else:
        shown = tr("图表显示：粗率（未按年龄性别调整），95%置信区间：Wilson 法。",
                   "Showing crude rates (not adjusted for age and sex), 95% CI by Wilson's method. ")
        if ind.kind == "mean":
            shown = tr("图表显示：粗均值，95%置信区间为 t 分布。", "Showing crude means with a t-based 95% CI. ")
    funnel = tr("漏斗图中心线为全局水平，控制限为精确二项分布 95% 与 99.8% 限。",
                "Funnel centre line: the whole force; limits: exact binomial 95% and 99.8%. ")
    if ind.kind == "mean":
        funnel = tr("漏斗图中心线为全局均值，控制限为正态 95% 与 99.8% 限。",
                    "Funnel centre line: the force mean; normal 95% and 99.8% limits. ")
    if res["current"]:
        data = tr("数据：每名民警各指标的最新值（健康状态快照）。", "Data: each officer's latest value (status snapshot). ")
    else:
        data = tr(f"数据：{res['year']}年内每名民警最后一次检测值；单位按现编制统计。",
                  f"Data: each officer's last reading in {res['year']}; units as they are today. ")
    parts = [html.Strong(shown), funnel, data]
    if res["indicator"] in prevalence.DEFINITIONS:
        parts.append(tr(*prevalence.COUNTING_NOTE))
    if leader:
        parts.append(tr(f"“{sup.HIDDEN}”：不公开——少于5人，或可据此推算出少于5人的数；这些单位不在图中显示。",
                        f"“{sup.HIDDEN}”: not shown — under 5, or a number from which a count under 5 could be worked "
                        "out; such units are left out of charts."))
    return parts


def chi2_text(res: dict):
    het = res["heterogeneity"]
    if not het:
        return tr("单位数不足，无法做差异检验。", "Too few units for a test of heterogeneity.")
    p = het["p"]
    p_txt = "< 0.001" if p < 0.001 else f"= {p:.3f}"
    verdict = (tr("各单位之间的差异有统计学意义。", "the units differ more than chance would explain.") if p < 0.05
               else tr("未见各单位之间有统计学差异。", "no evidence that the units differ."))
    return [html.Strong(tr("单位间差异检验：", "Heterogeneity: ")),
            tr(f"{HET_METHODS[het['method']][0]} χ² = {het['statistic']:.1f}，自由度 {het['df']}，P {p_txt}。",
               f"{HET_METHODS[het['method']][1]}: χ² = {het['statistic']:.1f}, df {het['df']}, P {p_txt}; "), verdict]


def _crumbs(crumbs: list[dict]):
    items = [tr("范围：", "Scope: ")]
    for i, c in enumerate(crumbs):
        if i:
            items.append(" › ")
        name = tr(c["name"], c["name_en"])
        items.append(html.Span(name, className="fw-semibold") if i == len(crumbs) - 1 else
                     dcc.Link(name, href="/units?" + urlencode({"unit": c["code"]})))
    return items


# --- excel ---------------------------------------------------------------------------------------------
def workbook_bytes(res: dict, unit_name: str, show_events: bool) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = tr("单位对比", "Units")
    ws.append([f"{unit_name} · {_indicator_name(res['indicator'])} · {res['year']}"])
    ws["A1"].font = Font(bold=True)
    ws.append([tr("显示：", "Shown: ") + (tr("年龄性别标化率", "age-sex standardised rate")
                                         if res["rate"] == "standardised" else tr("粗率", "crude rate"))
               + tr(f"；全局 {_fmt(res, res['force']['centre'])}", f"; force {_fmt(res, res['force']['centre'])}")])
    header = [tr("单位编码", "Code"), tr("单位", "Unit"), tr("人数", "n")]
    if show_events:
        header.append(tr("分子（人）", "Events"))
    header += [tr("粗率", "Crude"), tr("粗率下限", "Crude lower"), tr("粗率上限", "Crude upper"),
               tr("标化率", "Standardised"), tr("标化下限", "Std lower"), tr("标化上限", "Std upper"),
               tr("相对控制限", "Against the limits")]
    ws.append([])
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for r in res["rows"]:
        if r["suppressed"]:
            line = [r["code"], _name(r), sup.HIDDEN] + ([sup.HIDDEN] if show_events else []) + [sup.HIDDEN] * 7
        else:
            line = [r["code"], _name(r), r["n"]] + ([r["events"]] if show_events else []) + [
                r["crude"], r["crude_lo"], r["crude_hi"], r["std"], r["std_lo"], r["std_hi"],
                tr(*POSITION_NAMES[r["position"]]) if r["position"] else "–"]
        ws.append(line)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# the unit and the pickers into the address bar (replaceState: the link and a reload reproduce the view)
PICKERS_URL_JS = """function (level, ind, year, rate, unit) {
    var params = new URLSearchParams(window.location.search);
    var pairs = {unit: unit, level: level, ind: ind, year: year, rate: rate};
    Object.keys(pairs).forEach(function (k) {
        if (pairs[k] === null || pairs[k] === undefined || pairs[k] === '') { params.delete(k); }
        else { params.set(k, String(pairs[k])); }
    });
    if (params.get('rate') === 'standardised') { params.delete('rate'); }
    var s = params.toString();
    var url = window.location.pathname + (s ? '?' + s : '');
    if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, '', url);
    }
    return window.dash_clientside.no_update;
}"""


def register(app):
    app.clientside_callback(PICKERS_URL_JS, Output("units-url-sync", "data"), Input("units-level", "value"),
                            Input("units-indicator", "value"), Input("units-year", "value"), Input("units-rate", "value"),
                            State("units-root", "data"), prevent_initial_call=True)

    @app.callback(
        Output("units-root", "data"), Output("units-level", "options"), Output("units-level", "value"),
        Output("units-indicator", "options"), Output("units-indicator", "value"),
        Output("units-year", "options"), Output("units-year", "value"), Output("units-crumbs", "children"),
        Output("units-scope-msg", "children"),
        Input("units-url", "search"), State("units-indicator", "value"), State("units-year", "value"))
    @checked
    def units_choices(search: Search, indicator: Code, year: Year):
        scope = current_scope(*ROLES)
        q = _params(search)
        refused = None
        with db() as s:
            try:
                root = unit_in_scope(s, scope, q.get("unit"))
            except AccessDenied as exc:  # a link to a unit outside the scope: say so, show the scope's own top
                security_event(exc)  # recorded like any refusal; nothing of that unit is sent
                root = unit_in_scope(s, scope, None)
                refused = html.Div(tr("链接中的单位不在您的权限范围内（或不存在），下面显示的是您权限范围内的单位。",
                                      "The unit in the link is outside your scope (or does not exist); "
                                      "the units of your own scope are shown instead."),
                                   className="alert alert-warning py-2", id="units-refused")
            choices = uq.comparison_choices(s, scope.unit_path, root.path, today())
            code = root.code
        levels = choices["levels"]
        level = q.get("level") if q.get("level") in levels else (levels[0] if levels else None)
        indicator = next((i for i in (q.get("ind"), indicator) if i in uq.INDICATORS), DEFAULT_INDICATOR)
        years = choices["years"]
        year = next((int(y) for y in (q.get("year"), year) if str(y) in {str(x) for x in years}), years[0])
        return (code, [{"label": label(UNIT_LEVEL_GROUPS, lvl), "value": lvl} for lvl in levels], level,
                [{"label": _indicator_name(k), "value": k} for k in uq.INDICATORS], indicator,
                [{"label": str(y), "value": y} for y in years], year, _crumbs(choices["breadcrumb"]), refused)

    @app.callback(
        Output("units-funnel", "figure"), Output("units-chi2", "children"), Output("units-grid", "rowData"),
        Output("units-grid", "columnDefs"), Output("units-method", "children"), Output("units-alert", "children"),
        Output("units-trend-units", "options"), Output("units-trend-units", "value"),
        Input("units-root", "data"), Input("units-level", "value"), Input("units-indicator", "value"),
        Input("units-year", "value"), Input("units-rate", "value"))
    @checked
    @cached_answer("units_compare")  # the whole answer, per scope, choices, language and data version
    def units_compare(code: Code, level: Code, indicator: Code, year: Year, rate: Code):
        scope = current_scope(*ROLES)
        if not code:
            raise AccessDenied("bad request")
        if level is None:  # a unit without sub-units; still only one the caller may see
            with db() as s:
                unit_in_scope(s, scope, code)
            empty = _empty_figure(tr("该单位没有下属单位", "This unit has no sub-units"))
            return empty, "", [], [], "", "", [], []
        res, _root = _comparison(scope, code, level, indicator, year, rate)
        rows = [r for r in res["rows"] if r["n"] and r["value"] is not None]
        alert = ""
        if not rows:
            alert = html.Div(tr("所选年份没有这一指标的数据（例如预警历史和健康活动从开始记录之日起才有）。",
                                "No data for this indicator in the chosen year (warning history and campaigns "
                                "only exist from when they began)."), className="alert alert-info py-2")
        worse = sorted((r for r in rows if r["position"] not in (None, "within")),
                       key=lambda r: -(r["value"] if res["higher_is_worse"] else -r["value"]))
        default = [r["code"] for r in (worse or sorted(rows, key=lambda r: -r["n"]))[:3]]
        options = [{"label": _name(r), "value": r["code"]} for r in rows]
        return (funnel_figure(res), chi2_text(res) if rows else "", grid_rows(res),
                grid_columns(res, scope.role != "leader"), method_note(res, scope.role == "leader"), alert,
                options, default)

    @app.callback(Output("units-trend", "figure"), Input("units-trend-units", "value"),
                  State("units-root", "data"), State("units-level", "value"), State("units-indicator", "value"),
                  State("units-rate", "value"), prevent_initial_call=True)
    @checked
    @cached_answer("units_trend")
    def units_trend(codes: Codes, code: Code, level: Code, indicator: Code, rate: Code):
        scope = current_scope(*ROLES)
        indicator, level, _year, rate = _checked(indicator, level, today().year, rate)
        codes = [c for c in (codes or []) if isinstance(c, str)][:8]
        day = today()
        with db() as s:
            root = unit_in_scope(s, scope, code)
            path = root.path

            def compute():  # codes outside the root's subtree simply find no rows
                return uq.unit_trend(s, path, level, indicator, codes, None, day, rate=rate,
                                     suppress=scope.role == "leader")

            trend = cached("units-trend", scope, {"root": path, "level": level, "ind": indicator, "rate": rate,
                                                  "codes": codes, "today": day.isoformat()}, compute)
        return trend_figure(trend, trend["kind"], indicator)

    @app.callback(Output("units-url", "search"), Input("units-funnel", "clickData"),
                  Input("units-grid", "cellClicked"), prevent_initial_call=True)
    @checked
    def units_drill(click: ClickData, cell: Cell):
        scope = current_scope(*ROLES)
        if ctx.triggered_id == "units-funnel":
            point = ((click or {}).get("points") or [{}])[0]
            code = point.get("customdata")
        else:
            if (cell or {}).get("colId") != "label":
                return no_update
            code = (cell or {}).get("rowId")
        if isinstance(code, list):
            code = code[0] if code else None
        if not isinstance(code, str) or not code:
            return no_update
        with db() as s:
            unit = unit_in_scope(s, scope, code)
            has_children = bool(uq.level_options(s, unit.path))
        if not has_children:
            return no_update
        return "?" + urlencode({"unit": unit.code})

    @app.callback(Output("units-download", "data"), Output("units-export-msg", "children"),
                  Input("units-export", "n_clicks"),
                  State("units-root", "data"), State("units-level", "value"), State("units-indicator", "value"),
                  State("units-year", "value"), State("units-rate", "value"), prevent_initial_call=True)
    @checked
    def units_export(n_clicks: Clicks, code: Code, level: Code, indicator: Code, year: Year, rate: Code):
        scope = current_scope(*ROLES)
        if not n_clicks:
            return no_update, no_update
        res, root = _comparison(scope, code, level, indicator, year, rate)
        with db() as s:
            wait = too_soon(s, scope)
        if wait:
            return no_update, wait
        name = tr(root.name, root.name_en or root.name)
        data = workbook_bytes(res, name, scope.role != "leader")
        audit("export", target=f"units:{root.code}",
              detail={"page": "units", "level": level, "indicator": indicator, "year": res["year"],
                      "rate": res["rate"], "rows": len(res["rows"])})
        return dcc.send_bytes(data, f"units_{root.code}_{indicator}_{res['year']}.xlsx"), ""
