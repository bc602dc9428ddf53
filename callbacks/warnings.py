"""/warnings callbacks. Each one authorises from the server-side scope, re-checks any unit
the browser names with unit_in_scope, lets Filters.parse whitelist the rest, and calls
models.warnings_queries. Leaders get suppressed small counts and never a lab value."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from urllib.parse import parse_qs, quote

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask import g

from models import psych
from models import suppression as sup
from models import warnings_queries as wq
from models import rule_versions
from models.vocab import FOLLOWUP_STATUSES, LEVELS, SMALL_GROUP
from web.clock import today
from web.access import AccessDenied, audit, current_scope, db, unit_in_scope
from web.cache import cached, plain
from web.exports import capped_note, too_soon
from web.figures import figure
from web.grids import warnings_grid
from web.i18n import LEVEL_COLOURS, label, language, level_name, tr
from web.plot_text import plot_text
from web.warn_filters import READS, query_string
from web.inputs import Cells, ClickData, Clicks, Code, Codes, Date, RowsRequests, StoreRef, checked

CLASS_COLOURS = {**{lvl: LEVEL_COLOURS[lvl] for lvl in LEVELS}, "none": "#c8c8c8"}
FILTER_IDS = ("warn-f-levels", "warn-f-confirmed", "warn-f-rule", "warn-f-unit", "warn-f-age", "warn-f-sex",
              "warn-f-post", "warn-f-exam", "warn-f-followup")
FILTER_KEYS = ("levels", "confirmed", "rule", "unit", "age_band", "sex", "post_type", "exam", "followup")
KEY_NAMES = {"sbp": ("收缩压", "SBP"), "dbp": ("舒张压", "DBP"), "fpg": ("空腹血糖", "FPG"), "hba1c": ("糖化血红蛋白", "HbA1c"),
             "ldl": ("LDL-C", "LDL-C"), "bmi": ("BMI", "BMI"), "ua": ("尿酸", "Uric acid"), "phq9": ("PHQ-9", "PHQ-9")}
MD_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+\-.!<>|~]")
HIDDEN_TILE = 2.5  # the area of every hidden treemap tile, whatever its count
LABEL_MIN_AREA = 0.045  # share of the map's area a unit needs for a printed label
# the filters as the controls send them: levels a multi-select, the others one choice each (or nothing)
Filter = Code | Codes
GRID = {"type": "warn-grid", "v": ALL}  # one grid at a time; its id changes with the filters


def rules():
    """The rules version in force (``models.rule_versions``; parsed once per version there), read once
    per request (a map asks for it per area)."""
    if "portal_rules" not in g:
        with db() as s:
            g.portal_rules = rule_versions.in_force(s)
    return g.portal_rules


def psych_ids() -> frozenset:
    return psych.psych_rule_ids(rules())


VIEWERS = ("leader", "manager", "counsellor", "admin")


def resolve(s, scope, values) -> wq.Filters:
    """Filters from the (untrusted) control values; a unit outside the scope raises AccessDenied."""
    raw = dict(zip(FILTER_KEYS, values))
    unit = unit_in_scope(s, scope, raw.get("unit")) if raw.get("unit") else None
    f = wq.Filters.parse(raw, rule_ids=[r["id"] for r in rules().rules], post_types=None,
                         unit_path=unit.path if unit else None)
    if not psych.rule_filter_allowed(f.rule, psych_ids(), scope.sees_psych):
        raise AccessDenied("psychological rules are not for this viewer")  # not offered: forged
    return f


def suppressed_tree(scope, data) -> sup.Table | None:
    """The leader's view of the map and treemap: one table over the root, its sub-units and its own
    officers (see ``models.suppression.unit_tree_table``); None for managers (exact counts)."""
    if scope.role != "leader":
        return None
    root = next(n for n in data["tree"] if n["depth"] == 0)
    children = [n for n in data["tree"] if n["depth"] == 1]
    counts = {n["path"]: n["counts"] for n in [root, *children]}
    return sup.unit_tree_table(root["path"], counts, [n["path"] for n in children], LEVELS,
                               {"red_orange": ("red", "orange")})


def _node_count(scope, table, node, col) -> str:
    if table is None:
        return f"{(node['total'] if col == sup.TOTAL else node['counts'][col]):,}"
    return table.text((node["path"], col))


def _share(table, node) -> float | None:
    """The red+orange share in percent, only where both counts are shown."""
    if table is None:
        return node["share"]
    if node["total"] < SMALL_GROUP:
        return None
    r = table.rate((node["path"], "red_orange"), (node["path"], sup.TOTAL))
    return None if r is None else 100.0 * r


def _share_text(scope, node, table=None) -> str:
    share = _share(table, node)
    if share is None:
        if node["total"] == 0:
            return tr("无数据", "no data")
        if node["total"] < SMALL_GROUP:
            return tr("不足5人", "under 5")
        return tr("不公开", "not shown")
    return f"{share:.1f}%"


def _hover(scope, node, table=None) -> str:
    name = plot_text(tr(node["name"], node["name_en"]))
    total = _node_count(scope, table, node, sup.TOTAL)
    lines = [f"<b>{name}</b>", tr(f"人数 {total}", f"Officers {total}")]
    lines += [f"{level_name(lvl)} {_node_count(scope, table, node, lvl)}" for lvl in LEVELS]
    lines.append(tr(f"红+橙占比 {_share_text(scope, node, table)}", f"Red+orange {_share_text(scope, node, table)}"))
    return "<br>".join(lines)


def map_class(node, table, rules_) -> str:
    """A leader's map colour tells the share band only where the share is shown."""
    if table is None:
        return node["class"]
    share = _share(table, node)
    return "none" if share is None else rules_.legend_level(share)


def _rings(geometry: dict) -> tuple[list, list]:
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    xs, ys = [], []
    for poly in polys:
        for ring in poly[:1]:  # outer ring; holes do not occur in unit boundaries
            xs += [p[0] for p in ring] + [None]
            ys += [p[1] for p in ring] + [None]
    return xs, ys


def map_name(node) -> str:
    """A unit's name on the map: English names break between words, so they stay narrow."""
    return plot_text(tr(node["name"], node["name_en"])).replace(" ", "<br>") if tr("", "en") else \
        plot_text(node["name"])


def label_codes(children: list[dict], total_area: float) -> set:
    """The units whose name is printed on the map: large enough, and not crowding a larger one's label
    (the others show theirs on hover), so labels never overlap in either language."""
    xs = [n["label"][0] for n in children]
    ys = [n["label"][1] for n in children]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    gap = span * (0.16 if tr("", "en") else 0.11)  # English names are wider
    kept: list[dict] = []
    for n in sorted(children, key=lambda n: -n["area"]):
        if n["area"] < LABEL_MIN_AREA * total_area:
            continue
        if all(abs(n["label"][0] - k["label"][0]) > gap or abs(n["label"][1] - k["label"][1]) > gap / 2 for k in kept):
            kept.append(n)
    return {n["code"] for n in kept}


def map_figure(scope, data) -> tuple[dict, list]:
    """Polygons drawn as filled scatter traces (no geo subplot, so nothing is fetched from a tile or topojson server);
    a plain dict (``web.figures``): the polygons' coordinates go out as they are, without Plotly's validation."""
    traces, codes, annotations = [], [], []
    table = suppressed_tree(scope, data)
    children = data["children"]
    total_area = sum(n["area"] for n in children)  # small areas: hover only, so labels never overlap
    rules_ = rules()
    for n in children:
        xs, ys = _rings(n["geometry"])
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself",
                       "fillcolor": CLASS_COLOURS[map_class(n, table, rules_)],
                       "line": {"color": "#ffffff", "width": 1.5}, "hoveron": "fills", "hoverinfo": "text",
                       "text": _hover(scope, n, table), "showlegend": False, "opacity": 0.9})
        codes.append(n["code"])
    if children:
        printed = label_codes(children, total_area)
        traces.append({
            "type": "scatter", "x": [n["label"][0] for n in children], "y": [n["label"][1] for n in children],
            "mode": "text",
            "text": [f"<b>{map_name(n)}</b><br>{_share_text(scope, n, table)}" if n["code"] in printed else ""
                     for n in children],
            "textfont": {"size": 12, "color": "#1b1b1b"}, "customdata": [n["code"] for n in children],
            "hovertext": [_hover(scope, n, table) for n in children], "hovertemplate": "%{hovertext}<extra></extra>",
            "showlegend": False})
        codes.append(None)
        lat0 = sum(n["label"][1] for n in children) / len(children)
        ratio = 1 / max(0.2, math.cos(math.radians(lat0)))
    else:
        ratio = 1
        annotations.append({"text": tr("该单位没有下级辖区边界，见右侧树图", "No sub-unit boundaries here: see the treemap"),
                            "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper"})
    layout = {"margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "plot_bgcolor": "#ffffff", "paper_bgcolor": "#ffffff",
              "hoverlabel": {"bgcolor": "#ffffff", "font": {"size": 12}}, "dragmode": "pan",
              "xaxis": {"visible": False}, "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": ratio}}
    if annotations:
        layout["annotations"] = annotations
    return figure(traces, layout), codes


def tree_figure(scope, data) -> dict:
    table = suppressed_tree(scope, data)
    rules_ = rules()
    ids, labels, parents, values, colours, texts, custom = [], [], [], [], [], [], []
    children_of: dict[str, list] = {}
    for n in data["tree"]:
        if n["parent_path"]:
            children_of.setdefault(n["parent_path"], []).append(n)
    for n in data["tree"]:
        ids.append(n["path"])
        labels.append(plot_text(tr(n["name"], n["name_en"])))
        parents.append(n["parent_path"] or "")
        values.append(0)
        colours.append(CLASS_COLOURS[map_class(n, table, rules_)])
        total = _node_count(scope, table, n, sup.TOTAL)
        texts.append(tr(f"{total} 人 · 红橙 {_share_text(scope, n, table)}",
                        f"{total} · red+orange {_share_text(scope, n, table)}"))
        custom.append(n["code"])
        own = dict(n["counts"])  # officers directly in this unit, not in a shown sub-unit
        for child in children_of.get(n["path"], []):
            for lvl in LEVELS:
                own[lvl] -= child["counts"][lvl]
        own_key = "own" if n["depth"] == 0 else n["path"]  # the table's row of these tiles
        for lvl in LEVELS:
            if own[lvl] <= 0:
                continue
            hidden = table is not None and not table.shown((own_key, lvl))
            ids.append(f"{n['path']}|{lvl}")
            labels.append(level_name(lvl))
            parents.append(n["path"])
            values.append(HIDDEN_TILE if hidden else own[lvl])  # a hidden tile's area tells nothing
            colours.append(LEVEL_COLOURS[lvl])
            texts.append((sup.HIDDEN if hidden else f"{own[lvl]:,}") + tr(" 人", ""))
            custom.append(n["code"])
    trace = {"type": "treemap", "ids": ids, "labels": labels, "parents": parents, "values": values,
             "branchvalues": "remainder", "marker": {"colors": colours, "line": {"color": "#ffffff", "width": 1}},
             "text": texts, "customdata": custom, "textinfo": "label+text",
             "hovertemplate": "<b>%{label}</b><br>%{text}<extra></extra>", "maxdepth": 3,
             "root": {"color": "#f4f6f8"}, "tiling": {"pad": 2}}
    return figure([trace], {"margin": {"l": 0, "r": 0, "t": 24, "b": 0}, "uniformtext": {"minsize": 10, "mode": "hide"}})


def swatch(colour: str) -> dict:
    return {"display": "inline-block", "width": "14px", "height": "14px", "background": colour, "borderRadius": "3px",
            "marginRight": "4px", "verticalAlign": "-2px"}


def legend(data) -> list:
    items, low = [], 0
    for band in data["legend"]:
        below = band["below_pct"]
        text = f"< {below:g}%" if low == 0 and below is not None else (f"≥ {low:g}%" if below is None else f"{low:g}–{below:g}%")
        items.append(html.Span([html.Span(style=swatch(CLASS_COLOURS[band["level"]])),
                                text], className="me-3 text-nowrap", id=f"warn-legend-{band['level']}"))
        low = below if below is not None else low
    items.append(html.Span([html.Span(style=swatch(CLASS_COLOURS["none"])),
                            tr("无数据或不足5人", "no data or under 5 officers")], className="text-nowrap"))
    return [html.Span(tr("红+橙占比：", "Red+orange share: "), className="me-2")] + items


def breadcrumb(scope, data, values: dict | None = None) -> list:
    """Where the map stands, each level above it a link (the other filters kept)."""
    out = [tr("范围：", "Scope: ")]
    ancestors = data["ancestors"]
    for i, a in enumerate(ancestors):
        if i:
            out.append(" › ")
        name = tr(a["name"], a["name_en"])
        if i == len(ancestors) - 1:
            out.append(html.B(name))
        else:  # every ancestor shown lies inside the scope (the first is its top)
            href = "/warnings" + query_string({**(values or {}), "warn-f-unit": a["code"] if i else None})
            out.append(dcc.Link(name, href=href, className="warn-crumb"))
    return out


def count_cards(scope, counts) -> list:
    """The count per colour; a leader's row goes through the suppression rule as one table
    (total = the four colours), so a hidden colour cannot be worked out from the others."""
    total = sum(counts.values())
    table = sup.counts_table({lvl: counts[lvl] for lvl in LEVELS}) if scope.role == "leader" else None

    def text(key):
        return table.text(key) if table is not None else f"{(total if key == sup.TOTAL else counts[key]):,}"

    cards = [dbc.Col(html.Div([html.Div(tr("四色合计", "All colours"), className="kpi-title"),
                               html.Div(text(sup.TOTAL), className="kpi-value", id="warn-count-total")],
                              className="warn-count"), xs=4, md=2)]
    for lvl in LEVELS:
        n = counts[lvl]
        r = table.rate(lvl, sup.TOTAL) if table is not None else sup.rate(n, total)
        share = f"{r:.1%}" if r is not None else ""
        cards.append(dbc.Col(html.Div([
            html.Div(level_name(lvl), className="kpi-title"),
            html.Div(text(lvl), className="kpi-value", id=f"warn-count-{lvl}"),
            html.Div(share, className="kpi-sub")],
            className="warn-count", style={"borderLeft": f"5px solid {LEVEL_COLOURS[lvl]}"}), xs=4, md=2))
    return cards


def columns(scope) -> list[dict]:
    level_style = {"styleConditions": [
        {"condition": f"params.data && params.data.level == '{lvl}'",
         "style": {"color": "#ffffff" if lvl != "yellow" else "#1b1b1b", "backgroundColor": LEVEL_COLOURS[lvl],
                   "fontWeight": "600"}} for lvl in LEVELS]}
    name = {"headerName": tr("姓名", "Name"), "field": "name_link", "colId": "name", "sortable": True, "pinned": "left",
            "width": 100, "cellRenderer": "markdown", "linkTarget": "_self"}
    unit = {"headerName": tr("单位", "Unit"), "field": "unit_label", "colId": "unit", "sortable": True, "width": 150}
    level = {"headerName": tr("预警", "Level"), "field": "level_label", "colId": "level", "sortable": True,
             "width": 132, "cellStyle": level_style}
    if scope.role == "leader":
        return [dict(name, flex=1, pinned=None), dict(unit, flex=2), dict(level, flex=1)]
    action = [{"headerName": tr("操作", "Action"), "field": "action", "colId": "action", "width": 104, "pinned": "right",
               "cellStyle": {"color": "#0d6efd", "cursor": "pointer"}}] if scope.role in ("manager", "admin") else []
    cols = [name, {"headerName": tr("警号", "Badge"), "field": "badge", "colId": "badge", "sortable": True, "width": 100},
            unit, level,
            {"headerName": tr("预警原因", "Reasons"), "field": "reasons_label", "colId": "reasons", "width": 320,
             "tooltipField": "reasons_label"},
            {"headerName": tr("规则版本", "Rules"), "field": "rules_version", "colId": "rules_version", "width": 104}]
    for code in ("sbp", "dbp", "fpg", "ldl", "bmi"):
        cols.append({"headerName": tr(*KEY_NAMES[code]), "field": code, "colId": code, "sortable": True, "width": 92,
                     "type": "rightAligned"})
    cols += [
        {"headerName": tr("最近体检", "Last exam"), "field": "last_exam", "colId": "last_exam", "sortable": True,
         "width": 112},
        {"headerName": tr("跟进状态", "Follow-up"), "field": "followup_label", "colId": "followup", "sortable": True,
         "width": 120, "cellStyle": {"styleConditions": [
             {"condition": "params.data && params.data.followup == 'overdue'",
              "style": {"color": "#b02a37", "fontWeight": "600"}}]}},
        *action,
    ]
    return cols


def name_link(name: str, badge: str) -> str:
    """A grid cell's link to the portrait (a real href: it opens in a new tab too), the name escaped."""
    return f"[{MD_SPECIAL.sub(lambda m: chr(92) + m.group(0), name or badge)}](/officers/{quote(badge, safe='')})"


def label_rows(scope, rows: list[dict]) -> list[dict]:
    for r in rows:
        r["name_link"] = name_link(r.get("name"), r["badge"])
        r["level_label"] = level_name(r["level"]) + ("" if r["confirmed"] else tr("（待确认）", " (unconfirmed)"))
        r["unit_label"] = tr(r["unit"], r["unit_en"])
        if scope.role != "leader":
            r["reasons_label"] = tr(r["reasons"], r["reasons_en"])
            r["followup_label"] = label(FOLLOWUP_STATUSES, r["followup"])
            if r["followup"] in ("open", "in_progress", "overdue") and r.get("followup_due"):
                r["followup_label"] += tr(f"（{r['followup_due'][5:]}到期）", f" (due {r['followup_due'][5:]})")
            r["action"] = tr("新建跟进", "Follow up") if scope.role in ("manager", "admin") else ""
            for code in wq.KEY_CODES:
                if r.get(code) is not None:
                    r[code] = round(r[code], 1)
    return rows


PERIOD_NAMES = {"quarter": ("本季度", "This quarter"), "year": ("今年以来", "This year"),
                "12m": ("近12个月", "Last 12 months"), "custom": ("自定义时段", "Custom period")}
# writes the chosen period into the address bar (replaceState: no navigation, the other parameters kept)
PERIOD_URL_JS = """function (q) {
    if (typeof q !== 'string') { return window.dash_clientside.no_update; }
    var params = new URLSearchParams(window.location.search);
    ['period', 'from', 'to'].forEach(function (k) { params.delete(k); });
    new URLSearchParams(q).forEach(function (v, k) { params.set(k, v); });
    var s = params.toString();
    window.history.replaceState(window.history.state, '', window.location.pathname + (s ? '?' + s : ''));
    return window.dash_clientside.no_update;
}"""
SUMMARY_KEYS = ("improved", "worsened", "unchanged", "new", "rule_change")


def period_query(period: str, start: dt.date, end: dt.date) -> str:
    """The address-bar parameters that reproduce a period ("" for the default, this quarter)."""
    if period == "custom":
        return f"from={start.isoformat()}&to={end.isoformat()}"
    return "" if period == "quarter" else f"period={period}"


def movement_title(period: str, start: dt.date, end: dt.date) -> str:
    zh, en = PERIOD_NAMES[period]
    return tr(f"颜色变化 · {zh}（{start.isoformat()} → {end.isoformat()}）",
              f"Colour movement · {en} ({start.isoformat()} → {end.isoformat()})")


def movement_suppressed(data) -> sup.Table:
    """A leader's movement table: the from × to cells of health changes, their row and column sums,
    the cells of the rule-version changes (keys ``("rule", from, to)``) and the five summary sums
    (improved, worsened, unchanged, new, rule change) as one table."""
    cell = {(b, a): n for b, a, n in data["matrix"]}
    rule = {(b, a): n for b, a, n in data["rule_matrix"]}
    before_rows = [*LEVELS, "new"]
    t = sup.Table()
    for b in before_rows:
        for a in LEVELS:
            t.add((b, a), cell.get((b, a), 0))
    for b in before_rows:
        t.add((b, sup.TOTAL), sum(cell.get((b, a), 0) for a in LEVELS))
        t.sum_of((b, sup.TOTAL), [(b, a) for a in LEVELS])
    for a in LEVELS:
        t.add((sup.TOTAL, a), sum(cell.get((b, a), 0) for b in before_rows))
        t.sum_of((sup.TOTAL, a), [(b, a) for b in before_rows])
    for b in LEVELS:
        for a in LEVELS:
            t.add(("rule", b, a), rule.get((b, a), 0))
    rank = wq.LEVEL_RANK
    groups = {"improved": [(b, a) for b in LEVELS for a in LEVELS if rank[a] > rank[b]],
              "worsened": [(b, a) for b in LEVELS for a in LEVELS if rank[a] < rank[b]],
              "unchanged": [(b, b) for b in LEVELS], "new": [("new", a) for a in LEVELS],
              "rule_change": [("rule", b, a) for b in LEVELS for a in LEVELS]}
    for name, keys in groups.items():
        t.add(name, data[name])
        t.sum_of(name, keys)
    return t.suppress()


def _matrix(rows: list, with_new: bool, id: str, fmt, prefix: tuple = ()) -> dbc.Table:
    cell = {(b, a): n for b, a, n in rows}
    head = html.Tr([html.Th(tr("期初 ↓ / 期末 →", "From ↓ / to →"))] +
                   [html.Th(level_name(lvl), style={"color": LEVEL_COLOURS[lvl]}) for lvl in LEVELS])
    body = []
    for b in list(LEVELS) + (["new"] if with_new else []):
        tds = [html.Th(level_name(b) if b != "new" else tr("新纳入", "New"),
                       style={"color": LEVEL_COLOURS.get(b, "#555")})]
        for a in LEVELS:
            n = cell.get((b, a), 0)
            cls = ""
            if b in wq.LEVEL_RANK and n:
                cls = "table-active" if a == b else ("text-success" if wq.LEVEL_RANK[a] > wq.LEVEL_RANK[b]
                                                     else "text-danger fw-semibold")
            tds.append(html.Td(fmt((*prefix, b, a), n) if n else "–", className=cls))
        body.append(html.Tr(tds))
    return dbc.Table([html.Thead(head), html.Tbody(body)], bordered=True, size="sm", id=id,
                     className="warn-movement text-center", responsive=True)


def movement_table(scope, data) -> html.Div:
    """The transition matrix of a period: health changes, and apart from them the moves that came
    with a new rules version. A leader's counts go through the suppression rule as one table
    (``movement_suppressed``)."""
    start, end = data["from"], data["to"]
    if not any(b != "new" for b, _a, _n in data["matrix"] + data["rule_matrix"]):
        first = data.get("first_recorded") or "–"
        return html.Div(tr(f"预警记录始于 {first}，{start} 时尚无记录，暂无法比较；请选择更晚的起始日期。",
                           f"Warnings were first recorded on {first}; there was no record on {start} to compare "
                           "with: choose a later start."), className="text-muted", id="warn-movement-summary")
    table = movement_suppressed(data) if scope.role == "leader" else None

    def fmt(key, n):
        return table.text(key) if table is not None else f"{n:,}"
    c = {k: fmt(k, data[k]) for k in SUMMARY_KEYS}
    summary = tr(f"{start} 至 {end}：好转 {c['improved']} 人，加重 {c['worsened']} 人，"
                 f"不变 {c['unchanged']} 人，新纳入 {c['new']} 人，"
                 f"因规则版本更新而变 {c['rule_change']} 人",
                 f"{start} to {end}: {c['improved']} improved, {c['worsened']} worsened, "
                 f"{c['unchanged']} unchanged, {c['new']} new, "
                 f"{c['rule_change']} changed with a new rules version")
    parts = [html.Div(summary, className="mb-2", id="warn-movement-summary"),
             _matrix(data["matrix"], True, "warn-movement-matrix", fmt)]
    if data["rule_matrix"]:
        parts += [html.Div(tr("因预警规则版本更新而改变颜色（不计入好转或加重）",
                              "Colour changed with a new version of the warning rules (not counted as better or worse)"),
                           className="small text-muted mt-2 mb-1"),
                  _matrix(data["rule_matrix"], False, "warn-movement-rules", fmt, ("rule",))]
    parts.append(html.Div(tr("期初、期末颜色取当日生效的预警记录；按单位、性别、年龄段、岗位、体检时间筛选，"
                             "颜色筛选按期末颜色。",
                             "The colour at each end is the one in force that day; the unit, sex, age, post and "
                             "exam filters apply, the colour filter to the colour at the end."),
                          className="small text-muted"))
    return html.Div(parts)


def export_file(scope, rows: list[dict], fmt: str):
    cols = [("name", "姓名"), ("badge", "警号"), ("unit_label", "单位"), ("level_label", "预警"),
            ("reasons_label", "预警原因")] + [(c, tr(*KEY_NAMES[c])) for c in psych.visible_codes(wq.KEY_CODES, scope.sees_psych)] + \
           [("last_exam", "最近体检"), ("followup_label", "跟进状态")]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow([h for _, h in cols])
        for r in rows:
            writer.writerow(["" if r.get(k) is None else r.get(k) for k, _ in cols])
        return dcc.send_string("\ufeff" + buf.getvalue(), f"warnings-{stamp}.csv", type="text/csv")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "预警名单"
    ws.append([h for _, h in cols])
    for r in rows:
        ws.append([r.get(k) for k, _ in cols])
    out = io.BytesIO()
    wb.save(out)
    return dcc.send_bytes(out.getvalue(), f"warnings-{stamp}.xlsx")


def _counts(s, scope, f) -> list:
    """The cards of counts per colour (a leader's through the suppression rule)."""
    counts = cached("warn_counts", scope, f.as_dict(),
                    lambda: wq.level_counts(s, scope.unit_path, f, today(), psych=scope.sees_psych), READS)
    return count_cards(scope, counts)


def _map(s, scope, values: list, f: wq.Filters) -> tuple:
    """The map, the treemap and what goes with them (legend, breadcrumb, the codes a click names, the
    parent for "up one level"): from the unit, age, sex, post and exam filters (``f``'s population);
    the others only shape the breadcrumb's links."""
    chosen = dict(zip(FILTER_IDS, values))
    root = unit_in_scope(s, scope, chosen["warn-f-unit"])
    top = unit_in_scope(s, scope, None)
    f = f.population()
    data = cached("warn_map:2", scope, {"root": root.code, **f.as_dict()},
                  lambda: wq.map_data(s, scope.unit_path, root, f, rules(), today(), tree_depth=1,
                                      psych=scope.sees_psych), READS)
    fig, codes = map_figure(scope, data)
    up = {"display": "none"} if root.code == top.code else {}  # nothing above the top of one's scope
    return fig, tree_figure(scope, data), legend(data), breadcrumb(scope, data, chosen), codes, \
        data["parent_code"], up


def _movement(s, scope, f, period, start, end) -> tuple:
    """The colour movement of the period chosen (or an error for dates that make none), its title,
    whether the custom dates show, and the period for the address bar."""
    custom = {} if period == "custom" else {"display": "none"}
    try:
        period, first, last = wq.period_bounds(period, start, end, today())
    except wq.PeriodError:
        return (html.Div(tr("请选择有效的起止日期：起始日期早于结束日期，不早于2000年，结束日期不晚于今天。",
                            "Choose valid dates: from before to, not before 2000, to no later than today."),
                         className="text-danger", id="warn-movement-summary"),
                tr("颜色变化 · 自定义时段", "Colour movement · custom period"), custom, no_update)
    params = {**f.as_dict(), "from": first.isoformat(), "to": last.isoformat(), "psych": scope.sees_psych}

    def table():
        data = cached("warn_movement:3", scope, params,
                      lambda: wq.movement(s, scope.unit_path, first, last, f, today(), psych=scope.sees_psych), READS)
        return plain(movement_table(scope, data))

    # the table as drawn (a leader's through the suppression rule: the costly part), per scope,
    # filters, period, language and data version, like the numbers under it
    shown = cached("warn_movement_table:1", scope, {**params, "lang": language()}, table, READS)
    return shown, movement_title(period, first, last), custom, period_query(period, first, last)


def register(app):
    filters_in = [Input(i, "value") for i in FILTER_IDS]
    filters_state = [State(i, "value") for i in FILTER_IDS]

    MAP_IDS = {"warn-f-unit", "warn-f-age", "warn-f-sex", "warn-f-post", "warn-f-exam"}
    PERIOD_IDS = {"warn-move-period", "warn-move-from", "warn-move-to"}

    @app.callback(Output("warn-counts", "children"),
                  Output("warn-map", "figure"), Output("warn-tree", "figure"), Output("warn-legend", "children"),
                  Output("warn-breadcrumb", "children"), Output("warn-map-codes", "data"), Output("warn-parent", "data"),
                  Output("warn-up", "style"),
                  Output("warn-movement", "children"), Output("warn-movement-title", "children"),
                  Output("warn-move-custom", "style"), Output("warn-move-query", "data"),
                  *filters_in, Input("warn-move-period", "value"), Input("warn-move-from", "value"),
                  Input("warn-move-to", "value"))
    @checked
    def warn_summary(levels: Filter, confirmed: Filter, rule: Filter, unit: Code, age: Filter, sex: Filter, post: Filter,
                     exam: Filter, followup: Filter, period: Code, start: Date, end: Date):
        """The counts per colour, the map with its treemap, and the colour movement: one request, as they
        fire together when the page opens (a browser would send three). What changed decides what is
        drawn again: the map follows the unit, age, sex, post and exam filters (the others are its
        state), the counts every filter, the movement every filter and its period."""
        scope = current_scope(*VIEWERS)
        values = [levels, confirmed, rule, unit, age, sex, post, exam, followup]
        changed = set(ctx.triggered_prop_ids.values())  # none on the first call: everything is drawn
        with db() as s:
            f = resolve(s, scope, values)  # a unit outside the scope, a forged reason: 403 for all three
            cards = _counts(s, scope, f) if not changed or changed - PERIOD_IDS else no_update
            drawn = _map(s, scope, values, f) if not changed or changed & MAP_IDS else [no_update] * 7
            moved = _movement(s, scope, f, period, start, end)
        return cards, *drawn, *moved

    @app.callback(Output("warn-url", "search"),
                  *filters_in, Input("warn-map", "clickData"), Input("warn-tree", "clickData"),
                  Input("warn-up", "n_clicks"), Input("warn-reset", "n_clicks"),
                  State("warn-map-codes", "data"), State("warn-parent", "data"), State("warn-move-query", "data"),
                  prevent_initial_call=True)
    @checked
    def warn_url(*args: Filter | ClickData | Clicks | Codes | Code):
        """Every change of a filter or a drill (map, treemap, up one level) goes into the address bar;
        the page is then drawn from it, so the link, a reload and Back/Forward show the same view."""
        values = dict(zip(FILTER_IDS, args[:len(FILTER_IDS)]))
        map_click, tree_click, _up, _reset, codes, parent, period = args[len(FILTER_IDS):]
        scope = current_scope(*VIEWERS)
        keep = {k: v[0] for k, v in parse_qs(period if isinstance(period, str) else "").items()
                if k in ("period", "from", "to") and v}
        trigger = ctx.triggered_id
        if trigger == "warn-reset":
            return query_string({}, keep) or "?"
        code = no_update
        if trigger == "warn-map" and map_click:
            point = (map_click.get("points") or [{}])[0]
            code = point.get("customdata")
            if code is None and isinstance(codes, list):
                i = point.get("curveNumber")
                code = codes[i] if isinstance(i, int) and 0 <= i < len(codes) else None
        elif trigger == "warn-tree" and tree_click:
            code = (tree_click.get("points") or [{}])[0].get("customdata")
        elif trigger == "warn-up":
            code = parent if isinstance(parent, str) else None
        with db() as s:
            if trigger == "warn-up" and isinstance(code, str):
                try:
                    if unit_in_scope(s, scope, code).code == unit_in_scope(s, scope, None).code:
                        code = None  # the top of the scope: no unit filter
                except AccessDenied:  # above the scope's top: the top itself
                    code = None
                values["warn-f-unit"] = code
            elif code is not no_update:
                if not isinstance(code, str):
                    return no_update
                values["warn-f-unit"] = code
            resolve(s, scope, [values[i] for i in FILTER_IDS])  # a unit outside the scope, a forged value: 403
        return query_string(values, keep) or "?"

    @app.callback(Output("warn-list-wrap", "children"), *filters_in, Input("fu-changed", "data"))
    @checked
    def warn_list(*values: Filter | StoreRef):
        scope = current_scope(*VIEWERS)
        with db() as s:
            resolve(s, scope, values[:-1])  # refuse a forged unit before building anything
        version = hashlib.sha1(json.dumps([values, scope.role], sort_keys=True, default=str).encode()).hexdigest()[:12]
        return warnings_grid(columns(scope), version)

    @app.callback(Output(GRID, "getRowsResponse"), Output("warn-list-count", "children"),
                  Input(GRID, "getRowsRequest"), *filters_state)
    @checked
    def warn_rows(requests: RowsRequests, *values: Filter):
        scope = current_scope(*VIEWERS)
        requests = requests if isinstance(requests, list) else []
        request = next((r for r in requests if isinstance(r, dict)), None)
        if request is None:
            return [no_update] * len(requests), no_update
        leader = scope.role == "leader"
        sort = wq.clean_sort(request.get("sortModel"), leader, scope.sees_psych)
        start, end = wq.clamp_range(request.get("startRow"), request.get("endRow"))
        with db() as s:
            f = resolve(s, scope, values)
            page = wq.officer_rows(s, scope.unit_path, f, today(), leader=leader, sort=sort, start=start, end=end,
                                   psych=scope.sees_psych, psych_ids=psych_ids(), caseload=scope.role == "counsellor")
            if leader and f.levels and not set(f.levels) & {"red", "orange"}:
                count = tr("领导可见的名单只列红色、橙色人员；所选颜色的人数见上方计数。",
                           "Leaders' lists name red and orange officers only; the chosen colours are counted above.")
                response = {"rowData": [], "rowCount": 0}
                return [response if r is request else no_update for r in requests], count
            if leader and sup.is_small(page["total"]):  # a list of fewer than 5 names is not shown to leaders
                count = tr("符合条件的不足5人，名单不向领导显示", "Fewer than 5 officers match: the list is not shown to leaders")
                response = {"rowData": [], "rowCount": 0}
                return [response if r is request else no_update for r in requests], count
            audit("view_warnings_list", target="warnings", detail={
                "filters": f.as_dict(), "rows": len(page["rows"]), "start": start, "total": page["total"]}, session=s,
                badges=[r["badge"] for r in page["rows"]])
        rows = label_rows(scope, page["rows"])
        count = tr(f"共 {page['total']:,} 人", f"{page['total']:,} officers")
        response = {"rowData": rows, "rowCount": page["total"]}
        return [response if r is request else no_update for r in requests], count

    @app.callback(Output("warn-nav", "href"), Output("fu-new-badge", "data", allow_duplicate=True),
                  Input(GRID, "cellClicked"), prevent_initial_call=True)
    @checked
    def warn_cell(cells: Cells):
        scope = current_scope(*VIEWERS)
        cell = next((c for c in (cells if isinstance(cells, list) else []) if isinstance(c, dict)), None)
        if cell is None or not isinstance(cell.get("rowId"), str):
            return no_update, no_update
        badge = cell["rowId"]
        if cell.get("colId") == "action":
            if scope.role not in ("manager", "admin"):
                raise AccessDenied("only health managers open follow-ups")
            return no_update, {"badge": badge, "t": cell.get("timestamp")}
        # a name is a link of its own (/officers/<badge>: the portrait checks the scope and writes the audit row)
        return no_update, no_update

    @app.callback(Output("warn-download", "data"), Output("warn-export-msg", "children"),
                  Input("warn-export-csv", "n_clicks"), Input("warn-export-xlsx", "n_clicks"), *filters_state,
                  prevent_initial_call=True)
    @checked
    def warn_export(_csv: Clicks, _xlsx: Clicks, *values: Filter):
        scope = current_scope("manager", "admin")
        fmt = "csv" if ctx.triggered_id == "warn-export-csv" else "xlsx"
        with db() as s:
            f = resolve(s, scope, values)
            wait = too_soon(s, scope)
            if wait:
                return no_update, wait
            rows = wq.export_rows(s, scope.unit_path, f, today(), leader=False, psych=scope.sees_psych,
                                  psych_ids=psych_ids())
            audit("export", target="warnings", detail={"format": fmt, "rows": len(rows), "filters": f.as_dict()},
                  session=s, badges=[r["badge"] for r in rows])
        return export_file(scope, label_rows(scope, rows), fmt), capped_note(len(rows), wq.MAX_EXPORT)

    app.clientside_callback(PERIOD_URL_JS, Output("warn-move-url", "data"), Input("warn-move-query", "data"),
                            prevent_initial_call=True)
