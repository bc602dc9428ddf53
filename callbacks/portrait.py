"""Callbacks of the individual health portrait (/me and /officers/<badge>); its A4 report is
``portal/reports.py``.

Every callback re-derives who the officer is from the session: an empty key
means "my own record" (officers only), a badge is checked with
``web.portrait.resolve_officer``; leaders additionally only open red/orange officers and
only ever get the header (``portrait.header(lab_values=False)``). Views of
another officer's record and every printed report are audit-logged.
"""
from __future__ import annotations

from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from models import break_glass, portrait, risk_factors
from models.schema import Officer
from models.vocab import (
    CAMPAIGN_KINDS, FOLLOWUP_KINDS, FOLLOWUP_OUTCOMES, FOLLOWUP_STATUSES, RISK_CLASSES, RISK_FACTOR_UNREPORTED, SEX_WORDS,
    SOURCES, words,
)
from web.clock import today
from web.access import AccessDenied, audit, client_ip, current_scope, db
from web.cache import HEALTH, cached, plain
from web.i18n import LEVEL_COLOURS, label, language, level_name, tr
from web.portrait import BAND_FILL, resolve_officer, unit_word, y_range
from web.standings import officer_standings
from web.campaign_text import daily_average_label
from web.shell import graph, level_badge, no_access
from web.inputs import Clicks, Code, StoreRef, Text, checked

TONE_COLOURS = {"normal": "#2ca02c", "borderline": "#e0b000", "abnormal": "#ff7f0e", "severe": "#d62728"}
RISK_COLOURS = {"low": "#2ca02c", "intermediate": "#ff7f0e", "high": "#d62728"}


# --- who is asking for whom -------------------------------------------------------------------
def _audit_view(scope, officer: Officer, section: str, session) -> None:
    if scope.officer_id != officer.id:
        audit("view_officer", f"officer:{officer.badge}",
              {"section": section, "view": "full" if scope.sees_lab_values else "limited"}, session=session)


def _kind_label(kind: str | None) -> str:
    return label(SOURCES, kind)


def _break_glass_form():
    """What a health manager sees on a portrait outside their scope: a reason opens it for a day."""
    hours = int(break_glass.VALID_FOR.total_seconds() // 3600)
    return dbc.Card(dbc.CardBody([
        html.Div(tr("紧急查看（破窗）", "Break the glass"), className="section-title mt-0"),
        html.Div(tr(f"这位民警不在您的管辖范围内。如确有紧急需要（例如民警在您辖区就医或执勤时发生意外），请写明理由后查看。"
                    f"查看权限持续 {hours} 小时；理由、时间和来源地址都会记录，并提示系统管理员审核。",
                    f"This officer is outside your scope. If you really need the record now (for example the officer fell "
                    f"ill or was hurt on duty in your area), give your reason to open it. Access lasts {hours} hours; the "
                    f"reason, time and address are recorded and flagged to the administrators."),
                 className="small mb-2"),
        dbc.Textarea(id="bg-reason", rows=3, maxLength=break_glass.MAX_REASON,
                     placeholder=tr("理由（必填）", "Reason (required)")),
        dbc.Button(tr("记录理由并查看", "Record the reason and open"), id="bg-submit", color="danger", size="sm",
                   className="mt-2"),
        html.Div(id="bg-result", className="mt-2"),
    ]), className="mt-3", id="bg-card")


# --- the frame --------------------------------------------------------------------------------
def _frame(scope, officer: Officer, key: str):
    full = scope.sees_lab_values
    report_href = "/me/report" if key == "" else f"/officers/{quote(officer.badge)}/report"
    actions = []
    if full:
        actions.append(html.A(tr("打印A4报告（可带给医生）", "Print A4 report (for your doctor)"),
                              href=report_href, target="_blank", className="btn btn-outline-primary btn-sm",
                              id="pt-print"))
    if scope.role == "admin" and key != "":
        data_href = f"/officers/{quote(officer.badge, safe='')}/data"
        actions.append(html.A(tr("应本人申请导出数据 (JSON)", "Export data on request (JSON)"), href=data_href + ".json",
                              className="btn btn-outline-secondary btn-sm", id="pt-data-json"))
        actions.append(html.A(tr("应本人申请导出数据（可打印）", "Export data on request (printable)"),
                              href=data_href + ".html", target="_blank", className="btn btn-outline-secondary btn-sm",
                              id="pt-data-html"))
    if scope.role in ("manager", "admin"):
        actions.append(html.A(tr("发起随访", "Start a follow-up"),
                              href=f"/warnings?badge={quote(officer.badge)}&new_followup=1",
                              className="btn btn-primary btn-sm", id="pt-new-followup"))
        actions.append(html.A(tr("健康计划（目标）", "Health plan (targets)"), href=f"/plan/{quote(officer.badge)}",
                              className="btn btn-outline-primary btn-sm", id="pt-plan"))
    body = [dcc.Store(id="pt-key", data=key),
            _loading("pt-header"),
            html.Div(actions, className="pt-actions no-print") if actions else None]
    if not full:
        body.append(dbc.Alert(tr("领导视图只显示预警等级和原因，不含检验数值和心理测评结果。",
                                 "Leaders see the warning level and its reasons only, without measured values "
                                 "or questionnaire results."), color="light", className="small mt-3",
                              id="pt-limited-note"))
        return body
    body += [
        html.Div(tr("关键指标", "Key indicators"), className="section-title"),
        _loading("pt-indicators"),
        html.Div(tr("变化趋势", "Trends"), className="section-title"),
        _loading("pt-trends"),  # its legend comes with the charts: it names only what they draw
        html.Div(tr("历年体检", "Exam history"), className="section-title"),
        _loading("pt-history"),
        _loading("pt-care"),
    ]
    return body


def _loading(section_id: str):
    """One section with its own spinner, so the page fills in as each answer arrives."""
    return dcc.Loading(html.Div(id=section_id, className="pt-section"), type="dot", delay_show=250)


# --- header -----------------------------------------------------------------------------------
def _header(h: dict):
    unit = " · ".join(tr(u["name"], u["name_en"]) for u in h["unit_chain"])
    facts = [unit, tr(h["post"]["zh"], h["post"]["en"]), label(SEX_WORDS, h["sex"]),
             tr(f"{h['age']}岁", f"{h['age']} y")]
    w = h["warning"] or {}
    level = w.get("level")
    reasons = [_reason_item(r, h["lab_values"]) for r in w.get("reasons", [])]
    if level == "green" and not reasons:
        reasons = [html.Li(tr("目前各项指标未触发预警。", "No warning rule fires at present."), className="pt-reason")]
    history = h.get("history") or []
    trail = None
    if len(history) > 1:
        steps = [f"{x['date'][:7]} {level_name(x['level'])}" + (tr("（规则变更）", " (rule change)") if x.get("rule_change") else "")
                 for x in reversed(history)]
        trail = html.Div(tr("预警变化：", "Level history: ") + " → ".join(steps), className="pt-muted small")
    last_exam = h.get("last_exam_date")
    person = dbc.Card(dbc.CardBody([
        html.Div([
            html.Div([html.Span(h["name"], className="pt-name", id="pt-name"),
                      html.Span(tr(f"警号 {h['badge']}", f"Badge {h['badge']}"), className="pt-badge-no")]),
            html.Div(level_badge(level, w.get("confirmed", True), id="pt-level"), className="pt-level"),
        ], className="pt-head-row"),
        html.Div(" · ".join(f for f in facts if f), className="pt-facts"),
        html.Div(tr(f"最近体检：{last_exam}" if last_exam else "最近体检：无记录",
                    f"Last exam: {last_exam}" if last_exam else "Last exam: none on record"), className="pt-muted small"),
        trail,
        html.Div(_level_meaning(level), className="pt-level-meaning small") if level else None,
    ]), className="pt-card h-100")
    cols = [dbc.Col(person, xs=12, lg=7 if h["lab_values"] else 12)]
    if h["lab_values"]:
        cols.append(dbc.Col(_risk_card(h.get("risk")), xs=12, lg=5))
    shown, rest = reasons[:4], reasons[4:]
    why = [html.Div(tr(f"预警原因（{len(reasons)}条）", f"Why this level ({len(reasons)})"), className="pt-subtitle mt-0"),
           html.Ul(shown, className="pt-reasons", id="pt-reasons")]
    if w.get("withheld"):  # never cut silently: this view lists less than the record (models.portrait.header)
        why.append(html.Div(tr("领导视图只列出预警规则名称：化验数值和心理健康原因不在此列出。",
                               "Leaders see the rules' names only: lab values and mental-health reasons are not listed here."),
                            className="pt-muted small", id="pt-reasons-withheld"))
    if w.get("rules_version"):  # the rules version the reasons were computed under (models.rule_versions)
        why.append(html.Div(tr(f"按预警规则版本 {w['rules_version']} 计算（{w.get('computed_at', '')}）",
                               f"Computed under warning rules {w['rules_version']} ({w.get('computed_at', '')})"),
                            className="pt-muted small", id="pt-rules-version"))
    if rest:
        why.append(html.Details([html.Summary(tr(f"其余 {len(rest)} 条原因", f"{len(rest)} more reasons"),
                                              className="pt-more"),
                                 html.Ul(rest, className="pt-reasons mt-2")]))
    cols.append(dbc.Col(dbc.Card(dbc.CardBody(why), className="pt-card"), xs=12))
    return dbc.Row(cols, className="g-3")


LEVEL_MEANING = {
    "red": ("红色：需要立即处置（当天联系，尽快就医）。", "Red: needs action now (contact today, see a doctor soon)."),
    "orange": ("橙色：风险较高，需要尽快就医或干预。", "Orange: high risk; see a doctor or start care soon."),
    "yellow": ("黄色：有需要关注的指标，建议改善生活方式并按时复查。",
               "Yellow: some values need attention; healthier habits and timely rechecks."),
    "green": ("绿色：目前无需预警，请保持健康习惯。", "Green: nothing needs a warning now; keep up the good habits."),
}


def _level_meaning(level: str):
    return tr(*LEVEL_MEANING.get(level, ("", "")))


def _reason_item(r: dict, lab_values: bool):
    colour = LEVEL_COLOURS.get(r.get("level"), "#999")
    meta = " · ".join(x for x in (r.get("date"), tr(r.get("source") or "", r.get("source_en") or r.get("source") or "")) if x)
    parts = [html.Div(tr(r["zh"], r["en"]), className="pt-reason-text"),
             html.Div(meta, className="pt-muted small")]
    if lab_values and r.get("advice"):
        parts.append(html.Div([html.Span(tr("建议：", "Advice: "), className="fw-semibold"), tr(*r["advice"])],
                              className="pt-advice small"))
    return html.Li(parts, className="pt-reason", style={"borderLeftColor": colour})


def _risk_card(risk: dict | None):
    title = html.Div(tr("心血管病10年发病风险（China-PAR）", "10-year cardiovascular risk (China-PAR)"),
                     className="pt-subtitle mt-0")
    if not risk:
        return dbc.Card(dbc.CardBody([title, html.Div(
            tr("暂无法评估：需要血压、总胆固醇、高密度脂蛋白和腰围，且年龄在20–85岁。",
               "Cannot be estimated yet: needs BP, total and HDL cholesterol and waist, at ages 20–85."),
            className="pt-muted")]), className="pt-card h-100", id="pt-risk")
    cat, ideal_cat = risk["category"], risk.get("ideal_category")
    top = max(20.0, risk["pct"], risk.get("ideal_pct") or 0)

    def bar(caption, pct, category, bar_id):
        return html.Div([
            html.Div([html.Span(caption), html.Span([f"{pct:.1f}%  ", html.Span(
                label(RISK_CLASSES, category), className="pt-risk-cat", style={"background": RISK_COLOURS.get(category)})],
                className="pt-risk-val")], className="pt-risk-row"),
            html.Div(html.Div(style={"width": f"{min(100, pct / top * 100):.1f}%",
                                     "background": RISK_COLOURS.get(category, "#888")}, className="pt-bar-fill"),
                     className="pt-bar"),
        ], id=bar_id)

    factors = [html.Li(tr(f["zh"], f["en"])) for f in risk.get("factors", [])]
    body = [title, bar(tr("目前", "Now"), risk["pct"], cat, "pt-risk-now")]
    if risk.get("ideal_pct") is not None:
        body.append(bar(tr("各项危险因素理想时", "At ideal risk factors"), risk["ideal_pct"], ideal_cat, "pt-risk-ideal"))
    if factors:
        body += [html.Div(tr("可以改变的因素：", "What you can change:"), className="small fw-semibold mt-2"),
                 html.Ul(factors, className="small mb-1")]
    body.append(_risk_inputs(risk.get("inputs") or []))
    body.append(html.Div(tr("理想值：收缩压120 mmHg、总胆固醇200 mg/dL（5.18 mmol/L）、不吸烟、无糖尿病、无家族史；"
                            "按南方城市居民估算。<5% 低危，5–9.9% 中危，≥10% 高危。",
                            "Ideal: SBP 120 mmHg, total cholesterol 200 mg/dL (5.18 mmol/L), no smoking, no diabetes, "
                            "no family history; estimated for an urban resident of southern China. <5% low, 5–9.9% "
                            "intermediate, ≥10% high."), className="pt-footnote"))
    return dbc.Card(dbc.CardBody(body), className="pt-card h-100", id="pt-risk")


# China-PAR's self-reported inputs, named short
RISK_INPUT_WORDS = {"smoking": ("吸烟", "Smoking"), "rx_hypertension": ("服降压药", "Takes BP medicine"),
                    "dx_diabetes": ("已诊断糖尿病", "Diagnosed diabetes"),
                    "family_history_cvd": ("早发心血管病家族史", "Family history of early CVD")}


def _risk_inputs(inputs: list[dict]):
    """What China-PAR took from the officer's own report (with its date), and what it assumed."""
    items = []
    for i in inputs:
        if i["reported"]:
            (q_zh, q_en), (a_zh, a_en) = RISK_INPUT_WORDS[i["field"]], words(risk_factors.WORDS[i["field"]], i["code"])
            items.append(html.Li(tr(f"{q_zh}：{a_zh}（本人 {i['date']} 填报）", f"{q_en}: {a_en} (self-reported {i['date']})"),
                                 className="pt-risk-input", id=f"pt-risk-input-{i['field']}"))
        else:
            items.append(html.Li(label(RISK_FACTOR_UNREPORTED, i["field"]), className="pt-risk-input pt-muted",
                                 id=f"pt-risk-input-{i['field']}"))
    return html.Ul(items, className="small mb-1 mt-2", id="pt-risk-inputs")


# --- key indicators ---------------------------------------------------------------------------
def _indicator_cards(data: dict):
    cards = data["cards"]
    if not cards:
        return html.Div(tr("暂无体检或健康小屋数据。", "No exam or kiosk data yet."), className="pt-muted")
    cols = []
    for c in cards:
        tone = c.get("tone")
        cls = html.Span(tr(c["class_zh"], c["class_en"]), className="pt-class",
                        style={"background": TONE_COLOURS[tone]}) if c.get("class") else \
            html.Span(tr("无指南分级", "no guideline class"), className="pt-class pt-class-none")
        change = c.get("change")
        change_el = None
        if change:
            change_el = html.Div([tr(f"较 {change['since']} {_kind_label(change['kind'])} ",
                                     f"vs {_kind_label(change['kind'])} {change['since']}: "), *_change_spans(change)],
                                 className="pt-change")
        card = html.Div([
            html.Div(tr(c["zh"], c["en"]), className="pt-ind-name"),
            html.Div([html.Span(c["value"], className="pt-ind-value"), html.Span(unit_word(c["unit"]), className="pt-ind-unit")]),
            cls,
            html.Div(f"{c['date']} · {_kind_label(c.get('kind'))}", className="pt-muted small", title=c.get("source")),
            change_el,
        ], className="pt-ind", style={"borderTopColor": TONE_COLOURS.get(tone, "#ced4da")}, id=f"pt-ind-{c['key']}")
        cols.append(dbc.Col(card, xs=6, md=4, xl=3, xxl=2))
    return dbc.Row(cols, className="g-2")


def _change_spans(change: dict) -> list:
    """The change, red where it moved the harmful way, green where it improved (per part for BP)."""
    colours = {True: "#c0392b", False: "#2e7d32", None: "#5b6675"}
    texts = change["text"].split("/")
    worse = change["worse"] if isinstance(change["worse"], list) else [change["worse"]]
    out = []
    for i, (text, bad) in enumerate(zip(texts, worse)):
        if i:
            out.append("/")
        out.append(html.Span(text, style={"color": colours[bad], "fontWeight": 600}))
    return out


# --- trends -----------------------------------------------------------------------------------
def _trend_caption(s: dict) -> html.Div:
    t = s.get("trend")
    d = s["decimals"] + 1
    screening = bool(s.get("screening")) and not s.get("exam")
    if not t:
        if not s.get("exam") and not s.get("screening"):
            text = tr("仅有健康小屋读数：看平滑曲线的走向（不计算体检趋势）。",
                      "Kiosk readings only: follow the smoothed curve (no exam trend).")
        elif screening:
            text = tr("筛查不足3次或跨度不足半年，暂不计算趋势。",
                      "Fewer than 3 screenings over half a year: no trend yet.")
        else:
            text = tr("体检不足3次或跨度不足半年，暂不计算趋势。",
                      "Fewer than 3 exams over half a year: no trend yet.")
        return html.Div(text, className="pt-trend-note")
    slope = f"{t['slope_per_year']:+.{d}f}"
    if float(slope) == 0:
        slope = f"{0:.{d}f}"
    ci = f"{t['ci_low']:.{d}f} ~ {t['ci_high']:.{d}f}"
    if t["worsening"]:
        verdict, cls = tr("持续变差", "worsening"), "pt-verdict-bad"
    elif t["improving"]:
        verdict, cls = tr("持续好转", "improving"), "pt-verdict-good"
    elif t["significant"]:
        verdict, cls = tr("有显著变化", "significant change"), "pt-verdict"
    else:
        verdict, cls = tr("无显著变化", "no significant change"), "pt-verdict"
    extra = tr(f"（已排除离群值 {', '.join(t['excluded'])}）", f" (outlier left out: {', '.join(t['excluded'])})") \
        if t.get("excluded") else ""
    return html.Div([
        html.Span(verdict, className=cls), " ",
        tr(f"按{t['n']}次{'筛查' if screening else '体检'}，每年 {slope} {unit_word(s['unit'])}（95%置信区间 {ci}）{extra}",
           f"over {t['n']} {'screenings' if screening else 'exams'}: {slope} {unit_word(s['unit'])} a year (95% CI {ci}){extra}"),
    ], className="pt-trend-note")


def trend_figure(s: dict) -> dict:
    """The chart of one indicator as a plain figure dict (plotly's validating graph objects cost
    ~0.2 s per chart; a portrait draws up to 15 of them)."""
    lo, hi = y_range(s)
    shapes, floor = [], 0.0
    for band in s["bands"]:
        top = band["below"] if band["below"] is not None else 1e9
        if top > lo and floor < hi:
            shapes.append({"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": max(floor, lo),
                           "y1": min(top, hi), "fillcolor": BAND_FILL[band["tone"]], "line": {"width": 0},
                           "layer": "below"})
        floor = top if band["below"] is not None else floor
    unit, fmt = unit_word(s["unit"]), f".{s['decimals']}f"
    hover = f"%{{x|%Y-%m-%d}}<br>%{{y:{fmt}}} {unit}<br>%{{customdata}}<extra></extra>"
    data, annotations = [], []
    kiosk = s.get("kiosk", []) + s.get("self", [])
    if kiosk:
        data.append({"type": "scattergl", "x": [a for a, _, _ in kiosk], "y": [v for _, v, _ in kiosk],
                     "mode": "markers", "name": tr("健康小屋", "Kiosk"), "customdata": [src for _, _, src in kiosk],
                     "marker": {"size": 5, "color": "rgba(31,119,180,0.35)", "line": {"width": 0}},
                     "hovertemplate": hover})
    for curve in s.get("lowess") or []:
        data.append({"type": "scatter", "x": [d for d, _ in curve], "y": [v for _, v in curve], "mode": "lines",
                     "name": tr("平滑曲线", "Smoothed"), "line": {"color": "#1f77b4", "width": 2}, "hoverinfo": "skip"})
    exam = sorted(s.get("exam", []) + s.get("screening", []), key=lambda p: p[0])
    if exam:
        data.append({"type": "scatter", "x": [a for a, _, _ in exam], "y": [v for _, v, _ in exam],
                     "mode": "markers" if kiosk else "lines+markers",
                     "name": tr("体检", "Exam") if s.get("exam") else tr("筛查", "Screening"),
                     "marker": {"size": 9, "color": "#1d3f8f", "line": {"width": 1.5, "color": "#fff"}},
                     "line": {"color": "rgba(29,63,143,0.45)", "width": 1.5},
                     "customdata": [src for _, _, src in exam], "hovertemplate": hover})
    t = s.get("trend")
    if t and t.get("band"):
        band = t["band"]
        data.append({"type": "scatter", "x": [d for d, _, _ in band] + [d for d, _, _ in band][::-1],
                     "y": [hi for _, _, hi in band] + [lo for _, lo, _ in band][::-1], "fill": "toself",
                     "fillcolor": "rgba(192,57,43,0.10)" if t["worsening"] else "rgba(108,117,125,0.12)",
                     "line": {"width": 0}, "hoverinfo": "skip", "name": tr("趋势95%置信带", "Trend 95% confidence band")})
    if t:
        data.append({"type": "scatter", "x": [t["start"][0], t["end"][0]], "y": [t["start"][1], t["end"][1]],
                     "mode": "lines", "name": tr("趋势线", "Trend"), "hoverinfo": "skip",
                     "line": {"color": "#c0392b" if t["worsening"] else "#6c757d", "width": 2, "dash": "dot"}})
    f = s.get("forecast")
    if f:
        data.append({"type": "scatter", "x": f["dates"] + f["dates"][::-1], "y": f["upper"] + f["lower"][::-1],
                     "fill": "toself", "fillcolor": "rgba(148,103,189,0.15)", "line": {"width": 0},
                     "hoverinfo": "skip", "name": tr("95%预测区间", "95% prediction interval")})
        data.append({"type": "scatter", "x": f["dates"], "y": f["mean"], "mode": "lines", "name": tr("预测", "Forecast"),
                     "line": {"color": "#9467bd", "width": 2, "dash": "dash"},
                     "customdata": [[a, b] for a, b in zip(f["lower"], f["upper"])],
                     "hovertemplate": tr(f"预测 %{{x|%Y-%m}}<br>%{{y:{fmt}}} {unit}（95%区间 %{{customdata[0]:{fmt}}}–"
                                         f"%{{customdata[1]:{fmt}}}）<extra></extra>",
                                         f"forecast %{{x|%Y-%m}}<br>%{{y:{fmt}}} {unit} (95% interval "
                                         f"%{{customdata[0]:{fmt}}}–%{{customdata[1]:{fmt}}})<extra></extra>")})
        yearly = f.get("kind") == "yearly"
        annotations.append({"x": f["dates"][-1 if yearly else len(f["dates"]) // 2], "y": max(f["upper"]), "yshift": 8,
                            "text": tr("下次体检预测", "next exam") if yearly else tr("预测", "forecast"), "showarrow": False,
                            "font": {"size": 11, "color": "#7b4fa8"}})
    layout = {
        "height": 250, "margin": {"l": 44, "r": 8, "t": 8, "b": 28}, "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "#fff", "hovermode": "closest", "font": {"size": 11},
        "yaxis": {"range": [lo, hi], "gridcolor": "#eef1f5", "zeroline": False, "fixedrange": True},
        "xaxis": {"gridcolor": "#eef1f5", "tickformat": "%Y-%m", "nticks": 5, "type": "date"},
        "shapes": shapes, "annotations": annotations,
    }
    return {"data": data, "layout": layout}


PRIMARY_CHARTS = ("sbp", "dbp", "bmi", "waist_cm", "body_fat_pct", "fpg")


def trend_legend(series: list[dict]) -> html.Div:
    """The key to the charts, naming only what at least one of them draws."""
    def drawn(test):
        return any(test(s) for s in series)

    forecasts = {(s.get("forecast") or {}).get("kind", "monthly") for s in series if s.get("forecast")}
    parts = [
        (drawn(lambda s: s.get("exam")), ("● 体检", "● exam")),
        (drawn(lambda s: s.get("screening")), ("● 筛查", "● screening")),
        (drawn(lambda s: s.get("kiosk") or s.get("self")), ("○ 健康小屋读数", "○ kiosk reading")),
        (drawn(lambda s: s.get("lowess")), ("— 平滑曲线", "— smoothed curve")),
        (drawn(lambda s: s.get("trend")), ("┈ 体检趋势线（浅色带为95%置信区间）", "┈ exam trend line (light band: 95% confidence)")),
        ("monthly" in forecasts, ("┄ 未来12个月预测（阴影为95%预测区间）", "┄ 12-month forecast (shade: 95% prediction interval)")),
        ("yearly" in forecasts, ("┄ 下次体检预测（按体检趋势，阴影为95%预测区间）",
                                 "┄ next exam, from the exam trend (shade: 95% prediction interval)")),
    ]
    words = [tr(*w) for shown, w in parts if shown]
    return html.Div(tr("　".join(words) + "；底色为指南分级区间。", "  ".join(words) + "; background bands are guideline classes."),
                    className="pt-legend-note", id="pt-legend")


def _trend_grid(data: dict):
    """Blood pressure, weight and glucose first; the rest folded away unless its trend is worsening
    (a phone should not have to scroll past fifteen charts to reach the exam table)."""
    if not data["series"]:
        return html.Div(tr("暂无可画趋势的数据。", "Nothing to chart yet."), className="pt-muted")
    front, folded = [trend_legend(data["series"])], []
    for s in data["series"]:
        title = html.Div([html.Span(tr(s["zh"], s["en"]), className="fw-semibold"),
                          html.Span(f" {unit_word(s['unit'])}", className="pt-muted small")], className="pt-chart-title")
        col = dbc.Col(html.Div([title, graph(f"pt-chart-{s['code']}", figure=trend_figure(s),
                                             config={"displayModeBar": False}),
                                _trend_caption(s)], className="pt-chart", id=f"pt-trend-{s['code']}"),
                      xs=12, md=6, xl=4)
        worsening = bool(s.get("trend") and s["trend"]["worsening"])
        (front if s["code"] in PRIMARY_CHARTS or worsening else folded).append((col, s))
    legend, front = front[0], front[1:]
    out = [legend, dbc.Row([c for c, _ in front], className="g-2")]
    if folded:
        names = "、".join(s["zh"] for _, s in folded) if tr("zh", "en") == "zh" else ", ".join(s["en"] for _, s in folded)
        # Folded by clipping, not display:none, so plotly lays the charts out at their real width.
        out.append(html.Div([
            html.Button(tr(f"更多指标趋势（{len(folded)}项：{names}）", f"More trends ({len(folded)}: {names})"),
                        className="pt-more mt-2", id="pt-more-trends", n_clicks=0, type="button"),
            html.Div(dbc.Row([c for c, _ in folded], className="g-2 mt-1"), className="pt-folded"),
        ], className="pt-fold", id="pt-fold"))
    return out


# --- exam history -----------------------------------------------------------------------------
def _history_table(hist: dict):
    exams = hist["exams"]
    if not exams:
        return html.Div(tr("暂无体检记录。", "No exams on record."), className="pt-muted")
    exams = list(reversed(exams))  # newest first: the column people look at is next to the names
    head = html.Thead(html.Tr([html.Th(tr("项目", "Item"), className="pt-sticky")] +
                              [html.Th([e["date"], html.Br(), html.Span(e["hospital"], className="pt-muted small")])
                               for e in exams]))
    rows = []
    for code in hist["codes"]:
        ind = portrait.BY_CODE[code]
        cells = [html.Th([tr(ind.zh, ind.en), html.Span(f" {unit_word(ind.unit)}", className="pt-muted small")],
                         className="pt-sticky")]
        for e in exams:
            v = e["values"].get(code)
            if v is None:
                cells.append(html.Td("–", className="pt-muted"))
                continue
            abnormal = v["tone"] not in (None, "normal")
            arrow = ""
            if abnormal:
                arrow = " ↓" if v["class"] in ("low", "underweight") else " ↑"
            cells.append(html.Td(
                [v["text"] + arrow] + ([html.Div(tr(v["class_zh"], v["class_en"]), className="pt-cell-class")]
                                       if abnormal else []),
                className=f"pt-tone-{v['tone']}" if abnormal else None))
        rows.append(html.Tr(cells))
    for title, field in ((tr("心电图", "ECG"), "ecg"), (tr("超声", "Ultrasound"), "ultrasound"),
                         (tr("总检结论", "Summary"), "summary")):
        if any(e.get(field) for e in exams):
            rows.append(html.Tr([html.Th(title, className="pt-sticky")] +
                                [html.Td(e.get(field) or "–", className="pt-text-cell") for e in exams]))
    return html.Div(dbc.Table([head, html.Tbody(rows)], size="sm", bordered=True, className="pt-history mb-0"),
                    className="pt-history-wrap", id="pt-history-table")


# --- follow-ups and campaigns -----------------------------------------------------------------
def _care(care: dict):
    blocks = []
    if care.get("follow_ups") is not None:
        items = []
        for f in care["follow_ups"]:
            status = label(FOLLOWUP_STATUSES, f["status"])
            due = ""
            if f.get("due"):
                due = tr(f"截止 {f['due']}", f"due {f['due']}") + (tr("（已逾期）", " (overdue)") if f["overdue"] else "")
            outcome = label(FOLLOWUP_OUTCOMES, f.get("outcome")) if f.get("outcome") else ""
            items.append(html.Li([
                html.Div([html.Span(status, className=f"badge pt-fu-{f['status']} me-2"),
                          html.Span(label(FOLLOWUP_KINDS, f["kind"]), className="fw-semibold"),
                          html.Span(f" · {tr(f['reason'], f.get('reason_en') or f['reason'])}" if f.get("reason") else "")]),
                html.Div(" · ".join(x for x in (
                    tr(f"{f['opened_at']} 由 {f['opened_by']} 发起", f"opened {f['opened_at']} by {f['opened_by']}"),
                    tr(f"负责人 {f['assignee']}", f"assignee {f['assignee']}") if f.get("assignee") else "",
                    due, tr(f"结果：{outcome}", f"outcome: {outcome}") if outcome else "",
                    tr(f"{f['closed_at']} 结案", f"closed {f['closed_at']}") if f.get("closed_at") else "") if x),
                    className=("text-danger small" if f["overdue"] else "pt-muted small")),
                html.Div(tr(f"最近记录：{f['last_note']}", f"Latest note: {f['last_note']}"), className="small")
                if f.get("last_note") else None,
            ], className="pt-fu"))
        blocks.append(dbc.Col([html.Div(tr("随访记录", "Follow-ups"), className="section-title"),
                               html.Ul(items, className="pt-fu-list", id="pt-followups") if items else
                               html.Div(tr("尚无随访记录。", "No follow-ups yet."), className="pt-muted",
                                        id="pt-followups")], xs=12, lg=6))
    camp_items = []
    for c in care["campaigns"]:
        kind = label(CAMPAIGN_KINDS, c["kind"])
        detail = tr(f"参与 {c['active_days']} 天", f"{c['active_days']} active days")
        if c["kind"] == "steps" and c["active_days"]:
            detail += f"{tr('，', ', ')}{daily_average_label()} {c['per_day']:,.0f} {tr('步', 'steps')}"
            if c.get("target_per_day"):
                detail += tr(f"（目标 {c['target_per_day']:,.0f}）", f" (target {c['target_per_day']:,.0f})")
        if c.get("rank") and c["active_days"]:
            detail += tr(f" · 排名 {c['rank']}/{c['members']}", f" · rank {c['rank']} of {c['members']}")
        camp_items.append(html.Li([
            html.Div([html.A(c["name"], href=f"/campaigns/{c['id']}", className="fw-semibold"),
                      html.Span(f" · {kind}", className="pt-muted"),
                      html.Span(tr("进行中", "running"), className="badge bg-info ms-2") if c["status"] == "running" else None]),
            html.Div(f"{c['start']} ~ {c['end']}", className="pt-muted small"),
            html.Div([detail, html.Span(tr(f" · 积分 {c['points']}", f" · {c['points']} points"), className="fw-semibold")],
                     className="small"),
        ], className="pt-fu", id={"type": "pt-campaign", "index": c["id"]}))
    title = html.Div([tr("健康活动与积分", "Campaigns and points"),
                      html.Span(tr(f"  累计 {care['points_total']} 分", f"  {care['points_total']} points in total"),
                                className="pt-points")], className="section-title")
    blocks.append(dbc.Col([title, html.Ul(camp_items, className="pt-fu-list", id="pt-campaigns") if camp_items else
                           html.Div(tr("尚未参加健康活动。", "Not in any campaign yet."), className="pt-muted",
                                    id="pt-campaigns")], xs=12, lg=6))
    return dbc.Row(blocks, className="g-3")


# --- callbacks --------------------------------------------------------------------------------
def register(app):
    @app.callback(Output("portrait-body", "children"), Input("portrait-badge", "data"))
    @checked
    def portrait_frame(key: StoreRef):
        scope = current_scope("officer", "manager", "counsellor", "leader", "admin")
        try:
            with db() as s:
                officer = resolve_officer(s, scope, key)
                return _frame(scope, officer, key)
        except AccessDenied:
            audit("view_officer_denied", f"officer:{str(key)[:20]}", {"role": scope.role})
            denied = no_access(tr("您无权查看这位民警的健康档案。", "You may not see this officer's health record."))
            if scope.role == "manager" and isinstance(key, str) and key:
                return [denied, _break_glass_form()]
            return denied

    @app.callback(Output("bg-result", "children"), Input("bg-submit", "n_clicks"), State("bg-reason", "value"),
                  State("portrait-badge", "data"), prevent_initial_call=True)
    @checked
    def portrait_break_glass(n_clicks: Clicks, reason: Text, key: Code):
        scope = current_scope("manager")
        if not n_clicks:
            return no_update
        if not isinstance(key, str) or not key or len(key) > 20 or not isinstance(reason, (str, type(None))):
            raise AccessDenied("bad request")
        try:
            with db() as s:
                break_glass.grant(s, user_id=scope.user_id, badge=key, reason=reason or "", ip=client_ip())
        except break_glass.BreakGlassRefused as exc:
            if str(exc) == "reason too short":
                return dbc.Alert(tr(f"请写明理由（至少 {break_glass.MIN_REASON} 个字）。",
                                    f"Give a reason (at least {break_glass.MIN_REASON} characters)."), color="danger",
                                 id="bg-refused")
            return dbc.Alert(tr("无法为这个警号破窗查看。", "The glass cannot be broken for this badge."), color="danger",
                             id="bg-refused")
        return dcc.Location(id="bg-reload", href=f"/officers/{quote(key, safe='')}", refresh=True)

    @app.callback(Output("pt-header", "children"), Input("pt-key", "data"))
    @checked
    def portrait_header(key: StoreRef):
        scope = current_scope("officer", "manager", "counsellor", "leader", "admin")
        with db() as s:
            officer = resolve_officer(s, scope, key)
            data = portrait.header(s, officer.id, lab_values=scope.sees_lab_values, as_of=today(), psych=scope.sees_psych)
            _audit_view(scope, officer, "header", s)
        return _header(data)

    @app.callback(Output("pt-indicators", "children"), Output("pt-history", "children"),
                  Output("pt-care", "children"), Input("pt-key", "data"))
    @checked
    def portrait_record(key: StoreRef):
        scope = current_scope("officer", "manager", "counsellor", "admin")  # leaders never get measured values
        with db() as s:
            officer = resolve_officer(s, scope, key)
            day = today()
            campaigns = officer_standings(s, scope, officer.id, day)
            officer_id, psych = officer.id, scope.sees_psych

            def measured():
                return plain([_indicator_cards(portrait.key_indicators(s, officer_id, psych=psych)),
                              _history_table(portrait.exam_history(s, officer_id, psych=psych))])

            # the key indicators and the exam history come from the status snapshot and the exams, which
            # change only with health data (imports, readings, answers: each recompute moves it): kept
            # as drawn, per language; the care (follow-ups, plans) is read on every view
            indicators, history = cached("portrait_measured:1", scope, {"officer": officer_id, "psych": psych,
                                                                         "lang": language()}, measured, HEALTH)
            care = portrait.care(s, officer_id, follow_ups=scope.role in ("manager", "counsellor", "admin"), as_of=day,
                                 psych=psych, campaigns=campaigns)
            _audit_view(scope, officer, "record", s)
        return indicators, history, _care(care)

    @app.callback(Output("pt-trends", "children"), Input("pt-key", "data"))
    @checked
    def portrait_trends(key: StoreRef):
        scope = current_scope("officer", "manager", "counsellor", "admin")
        day = today()
        with db() as s:
            officer = resolve_officer(s, scope, key)
            officer_id = officer.id
            _audit_view(scope, officer, "trends", s)

        def compute():
            with db() as s:
                return portrait.indicator_series(s, officer_id, as_of=day, psych=scope.sees_psych)

        # Statistics change only when health data does: cached under its version, and so are the
        # charts drawn from them (per language; the view above is audited every time).
        params = {"officer": officer_id, "as_of": day.isoformat(), "psych": scope.sees_psych}
        return cached("portrait_trend_grid", scope, {**params, "lang": language()},
                      lambda: plain(_trend_grid(cached("portrait_series", scope, params, compute, HEALTH))), HEALTH)

    app.clientside_callback("function (n) { return n % 2 ? 'pt-fold open' : 'pt-fold'; }",
                            Output("pt-fold", "className"), Input("pt-more-trends", "n_clicks"))
