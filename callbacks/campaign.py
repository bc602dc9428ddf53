"""/campaigns/<id> callbacks: one model query each, cut to the caller on the server.

The campaign id is read from the URL path and checked in ``models.campaigns.access``
(a forged or foreign id is refused with 403, the same answer for both).
"""
from __future__ import annotations

import datetime as dt
import time

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, html, no_update
from plotly.subplots import make_subplots

from models.campaigns.access import NotVisible, visible_campaign
from models.campaigns.reads import (
    campaign_participation, campaign_points, campaign_progress, hide_preference, individual_leaderboard,
    team_leaderboard,
)
from models.campaigns.stats import did_it_work
from models.campaigns.writes import set_hide_preference
from models import suppression as sup
from models.vocab import POINT_REASON_WORDS, TEAM_SCORING, UNIT_LEVEL_GROUPS, UNIT_LEVELS, words
from web.access import AccessDenied, current_scope, db
from web.cache import cached
from web.campaign_text import amount, daily_average_label, kind_name, status_badge, units_text
from web.clock import today
from web.i18n import label, tr
from web.inputs import Flag, Path, StoreRef, checked, int_id
from web.shell import kpi_card, no_access

BLUE, ORANGE, GREY, LIGHT = "#1d3f8f", "#ff7f0e", "#8a94a6", "#9db4e8"
MEASURES = {"weight_kg": ("体重", "Weight", "kg"), "bmi": ("BMI", "BMI", "kg/m²"), "sbp": ("收缩压", "Systolic BP", "mmHg")}


def campaign_id_from(path: str | None) -> int | None:
    """The campaign id in /campaigns/<id>; None for any other or malformed path (refused as not visible)."""
    parts = [p for p in (path or "").split("/") if p]
    return int_id(parts[1]) if len(parts) == 2 and parts[0] == "campaigns" else None


def _load(name: str, scope, path: str | None, fn):
    """Call one model function for the campaign in the URL, cached per scope and data version."""
    cid = campaign_id_from(path)
    day = today()

    def compute():
        with db() as s:
            return fn(s, scope, cid, day)

    try:
        return cached(name, scope, {"id": cid, "today": day.isoformat()}, compute)
    except NotVisible as exc:
        raise AccessDenied(str(exc)) from exc


def _unit(kind: str) -> str:
    return {"steps": tr("步", "steps"), "quiz": tr("分", "points"), "checkin": tr("次", "check-ins")}.get(kind, "")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


# --- header, KPIs, progress ---------------------------------------------------------------------
def _header(d: dict):
    target = d["target_per_day"] or 0
    (team_zh, _), (_, teams_en) = words(UNIT_LEVELS, d["team_level"]), words(UNIT_LEVEL_GROUPS, d["team_level"])
    scoring_zh, scoring_en = words(TEAM_SCORING, d["team_scoring"])
    rule = tr(f"队伍按{team_zh}组队，按{scoring_zh}排名；"
              f"每人每日目标 {target:,.0f} {_unit(d['kind'])}。",
              f"Teams are {teams_en.lower()}, ranked by {scoring_en}; "
              f"daily target {target:,.0f} {_unit(d['kind'])} per person.")
    return html.Div([
        html.Div(d["name"], className="page-title mt-1", id="campaign-title"),
        html.Div([status_badge(d.get("lifecycle", d["status"]), id="campaign-status"), dbc.Badge(kind_name(d["kind"]), color="info",
                                                                          className="me-2"),
                  html.Span(f"{d['start']} – {d['end']}", className="text-muted me-2"),
                  html.Span(tr(f"参赛单位：{units_text(d['units'])}", f"Units: {units_text(d['units'])}"),
                            className="text-muted")], className="mb-1"),
        html.Div(rule, className="page-sub small"),
    ])


def _kpis(d: dict, leader: bool):
    members = sup.single(d["members"]) if leader else f"{d['members']:,}"
    share = d["total"] / d["target"] if d["target"] else None
    cards = [
        kpi_card(tr("累计完成", "Achieved"), amount(d["total"], d["kind"]),
                 tr(f"目标 {amount(d['target'], d['kind'])} 的 {_pct(share)}",
                    f"{_pct(share)} of the target {amount(d['target'], d['kind'])}"), id="campaign-kpi-total"),
        kpi_card(tr("参赛成员", "Members"), members, tr("参赛单位的全部民警", "every officer of the units taking part")),
        kpi_card(tr("进行天数", "Days"), f"{d['days_elapsed']} / {d['days_total']}",
                 tr(f"数据截至 {d['last_day']}", f"data up to {d['last_day']}") if d["last_day"] else
                 tr("尚无数据", "no data yet")),
    ]
    p = d.get("projection")
    if p:
        cards.append(kpi_card(tr("预计结束时", "Projected at the end"), amount(p["final"], d["kind"]),
                              tr(f"95% 区间 {amount(p['final_low'], d['kind'])}–{amount(p['final_high'], d['kind'])}",
                                 f"95% interval {amount(p['final_low'], d['kind'])}–"
                                 f"{amount(p['final_high'], d['kind'])}"), id="campaign-kpi-projection"))
    cards.append(kpi_card(tr("异常记录", "Implausible entries"), f"{d['flagged']:,}",
                          tr("超过 6 万步/日，已标记，不计入", "over 60,000 steps a day: flagged, not counted")))
    return [dbc.Col(c, xs=6, md=4, xl=True) for c in cards]


def _scale(top: float) -> tuple[float, str]:
    """A divisor and its word so axes read 3.5 亿 / 3.5 bn rather than 3.5G."""
    if tr("zh", "en") == "zh":
        steps = ((1e8, "亿"), (1e4, "万"))
    else:
        steps = ((1e9, "bn "), (1e6, "M "), (1e3, "k "))
    for size, word in steps:
        if top >= size:
            return size, word
    return 1.0, ""


def progress_figure(d: dict) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.06)
    s = d["series"]
    unit = _unit(d["kind"])
    p = d.get("projection")
    top = max([d["target"] or 0, *(s["cumulative"] or [0]), *((p or {}).get("high") or [0])])
    k, word = _scale(top)
    kd, word_d = _scale(max(s["daily"] or [0]))
    hover = "%{x}<br>%{y:,.2f} " + word + unit + "<extra></extra>" if k > 1 else "%{x}<br>%{y:,.0f}<extra></extra>"
    s = {**s, "cumulative": [v / k for v in s["cumulative"]], "daily": [v / kd for v in s["daily"]]}
    if p:
        p = {**p, "observed": p["observed"] / k, "mean": [v / k for v in p["mean"]], "low": [v / k for v in p["low"]],
             "high": [v / k for v in p["high"]]}
    target = d["target"] / k if d["target"] else None
    start = dt.date.fromisoformat(d["start"])
    end = dt.date.fromisoformat(d["end"])
    if target:
        fig.add_trace(go.Scatter(x=[(start - dt.timedelta(days=1)).isoformat(), d["end"]], y=[0, target],
                                 mode="lines", name=tr("目标进度", "Target pace"),
                                 line={"color": GREY, "dash": "dot", "width": 1.5}), row=1, col=1)
    fig.add_trace(go.Scatter(x=s["dates"], y=s["cumulative"], mode="lines", name=tr("累计完成", "Achieved"),
                             line={"color": BLUE, "width": 3}, hovertemplate=hover), row=1, col=1)
    if p and p["dates"]:
        last = [s["dates"][-1]]
        xs = last + p["dates"]
        fig.add_trace(go.Scatter(x=xs + xs[::-1], y=[p["observed"]] + p["high"] + (p["low"][::-1] + [p["observed"]]),
                                 fill="toself", fillcolor="rgba(255,127,14,0.15)", line={"width": 0},
                                 name=tr("95% 区间", "95% interval"), hoverinfo="skip"), row=1, col=1)
        fig.add_trace(go.Scatter(x=xs, y=[p["observed"]] + p["mean"], mode="lines", name=tr("预测", "Projection"),
                                 line={"color": ORANGE, "dash": "dash", "width": 2}, hovertemplate=hover),
                      row=1, col=1)
    weekend = [dt.date.fromisoformat(x).weekday() >= 5 for x in s["dates"]]
    fig.add_trace(go.Bar(x=s["dates"], y=s["daily"], name=tr("每日合计", "Daily total"),
                         marker={"color": [LIGHT if w else BLUE for w in weekend]},
                         hovertemplate="%{x}<br>%{y:,.1f} " + word_d + unit + "<extra></extra>", showlegend=False),
                  row=2, col=1)
    fig.update_xaxes(range=[(start - dt.timedelta(days=1)).isoformat(), (end + dt.timedelta(days=1)).isoformat()],
                     tickformat="%m-%d")
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title_text=tr(f"累计（{word}{unit}）", f"cumulative ({word}{unit})"), row=1, col=1)
    fig.update_yaxes(title_text=tr(f"每日（{word_d}{unit}）", f"daily ({word_d}{unit})"), row=2, col=1)
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 30}, legend={"orientation": "h", "y": 1.08, "x": 0},
                      plot_bgcolor="white", hovermode="x unified", bargap=0.15)
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#eef0f4")
    return fig


def _projection_text(d: dict):
    unit = _unit(d["kind"])
    if d["status"] == "upcoming":
        return tr(f"活动将于 {d['start']} 开始。", f"The campaign starts on {d['start']}.")
    share = d["total"] / d["target"] if d["target"] else None
    if d["status"] == "finished":
        return tr(f"活动已结束：累计 {amount(d['total'], d['kind'])}，完成目标的 {_pct(share)}。",
                  f"Finished: {amount(d['total'], d['kind'])} in all, {_pct(share)} of the target.")
    p = d.get("projection")
    if not p:
        return tr("数据不足 5 天，暂不预测。", "Fewer than five days of data: no projection yet.")
    lines = [tr(f"按目前趋势，预计到 {d['end']} 累计 {amount(p['final'], d['kind'])}"
                f"（95% 区间 {amount(p['final_low'], d['kind'])}–{amount(p['final_high'], d['kind'])}）。",
                f"At the current trend the campaign ends near {amount(p['final'], d['kind'])} "
                f"(95% interval {amount(p['final_low'], d['kind'])}–{amount(p['final_high'], d['kind'])}).")]
    if d["target"] and p.get("p_target") is not None:
        chance = p["p_target"]
        word = (tr("几乎肯定能达成目标", "the target will almost surely be met") if chance > 0.975 else
                tr("很可能达成目标", "the target will probably be met") if chance > 0.8 else
                tr("能否达成目标尚难确定", "whether the target is met is open") if chance > 0.2 else
                tr("很可能达不到目标", "the target will probably be missed") if chance > 0.025 else
                tr("几乎肯定达不到目标", "the target will almost surely be missed"))
        lines.append(tr(f"{word}（估计概率 {chance:.0%}）。", f"{word.capitalize()} (estimated chance {chance:.0%})."))
    slope = p["slope_per_day"]
    trend = tr(f"每日合计平均每天{'减少' if slope < 0 else '增加'} {abs(slope):,.0f} {unit}",
               f"the daily total {'falls' if slope < 0 else 'rises'} by {abs(slope):,.0f} {unit} a day")
    if p.get("weekend_effect") is not None:
        w = p["weekend_effect"]
        trend += tr(f"；周末比工作日{'少' if w < 0 else '多'} {abs(w):,.0f} {unit}",
                    f"; weekends {'lose' if w < 0 else 'add'} {abs(w):,.0f} {unit}")
    lines.append(tr(f"趋势：{trend}。", f"Trend: {trend}."))
    return html.Ul([html.Li(x) for x in lines], className="mb-0 ps-3", id="campaign-projection-list")


# --- participation -----------------------------------------------------------------------------
def weekly_figure(d: dict) -> go.Figure:
    weeks = d["weeks"]
    x = [tr(f"第{w['week']}周", f"W{w['week']}") for w in weeks]
    y = [None if w["rate"] is None else w["rate"] * 100 for w in weeks]
    text = [sup.HIDDEN if w.get("suppressed") else f"{w['rate']:.0%}" for w in weeks]
    colours = [LIGHT if w["days"] < 7 else BLUE for w in weeks]
    custom = [[w["start"], w["end"], sup.HIDDEN if w["active"] is None else f"{w['active']:,}"] for w in weeks]
    fig = go.Figure(go.Bar(x=x, y=y, text=text, textposition="outside", marker={"color": colours}, customdata=custom,
                           hovertemplate=tr("%{customdata[0]} – %{customdata[1]}<br>%{customdata[2]} 人<extra></extra>",
                                            "%{customdata[0]} – %{customdata[1]}<br>%{customdata[2]} officers"
                                            "<extra></extra>")))
    top = max([v for v in y if v is not None] or [10])
    fig.update_layout(margin={"l": 40, "r": 10, "t": 10, "b": 30}, plot_bgcolor="white",
                      yaxis={"ticksuffix": "%", "range": [0, min(100, top * 1.25) or 10], "gridcolor": "#eef0f4"})
    return fig


def _weekly_note(d: dict):
    weeks = d["weeks"]
    if not weeks:
        return tr("活动尚无数据。", "No data yet.")
    parts = []
    if d.get("participation") is not None:
        parts.append(tr(f"共 {d['participants']:,} / {d['members']:,} 人参与过（{d['participation']:.0%}）。",
                        f"{d['participants']:,} of {d['members']:,} members took part ({d['participation']:.0%})."))
    full = [w for w in weeks if w["days"] == 7 and w["rate"] is not None]
    if len(full) >= 2:
        drop = (full[0]["rate"] - full[-1]["rate"]) * 100
        parts.append(tr(f"从第{full[0]['week']}周到第{full[-1]['week']}周{'下降' if drop > 0 else '上升'} "
                        f"{abs(drop):.0f} 个百分点。",
                        f"From week {full[0]['week']} to week {full[-1]['week']} it {'fell' if drop > 0 else 'rose'} "
                        f"by {abs(drop):.0f} points."))
    if weeks[-1]["days"] < 7:
        parts.append(tr(f"浅色：第{weeks[-1]['week']}周只有 {weeks[-1]['days']} 天。",
                        f"Light bar: week {weeks[-1]['week']} has only {weeks[-1]['days']} days so far."))
    return " ".join(parts)


# --- leaderboards ------------------------------------------------------------------------------
def _teams_table(d: dict):
    rows = d["rows"]
    if not rows:
        return html.Div(tr("暂无队伍。", "No teams."), className="text-muted")
    unit = _unit(d["kind"])
    scoring = d["scoring"]
    star = " ★"
    head = [tr("名次", "Rank"), tr("队伍", "Team"), tr("成员", "Members"), tr("参与率", "Taking part"),
            tr(f"人均日{unit}", f"Mean {unit}/member/day") + (star if scoring == "mean" else ""),
            tr("总量", "Total") + (star if scoring == "total" else ""),
            tr("达标占比", "Meeting target") + (star if scoring == "share_target" else "")]
    body = []
    for r in rows:
        name = tr(r["team"]["name"], r["team"]["name_en"])
        if r.get("suppressed"):
            body.append(html.Tr([html.Td("–"), html.Td(name), html.Td(sup.HIDDEN), html.Td("–"), html.Td("–"),
                                 html.Td("–"), html.Td("–")], className="text-muted"))
            continue
        body.append(html.Tr([
            html.Td(r["rank"] if r["rank"] is not None else "–",
                    className="fw-bold" if r["rank"] is not None and r["rank"] <= 3 else None),
            html.Td(name, className="text-nowrap"),
            html.Td(f"{r['members']:,}"), html.Td(_pct(r["participation"])),
            html.Td(f"{r['mean_per_day']:,.0f}", className="fw-semibold" if scoring == "mean" else None),
            html.Td(amount(r["total"], d["kind"]), className="fw-semibold" if scoring == "total" else None),
            html.Td(_pct(r["share_target"]), className="fw-semibold" if scoring == "share_target" else None),
        ], className="table-warning" if r["rank"] == 1 else None))
    table = html.Div(dbc.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
                               size="sm", hover=True, striped=True, className="mb-1 align-middle"),
                     style={"maxHeight": "420px", "overflowY": "auto", "overflowX": "auto"},
                     id="campaign-teams-table", className="table-scroll-x")
    notes = [tr("★ 为本活动的计分方式。人均 = 队伍总量 ÷ 全部成员 ÷ 天数（未参与者按 0 计），不同规模的队伍可以公平比较。",
                "★ marks this campaign's scoring. Mean = team total ÷ all members ÷ days (inactive members count "
                "as zero), so teams of different sizes compare fairly.")]
    shown = [r for r in rows if not r.get("suppressed")]
    if shown:
        by_mean = min(shown, key=lambda r: r["rank_mean"])
        by_total = min(shown, key=lambda r: r["rank_total"])
        if by_mean["team"]["code"] != by_total["team"]["code"]:
            m, t = tr(by_mean["team"]["name"], by_mean["team"]["name_en"]), tr(by_total["team"]["name"],
                                                                             by_total["team"]["name_en"])
            notes.append(tr(f"按人均，{m}（{by_mean['members']} 人）第一；按总量，{t}（{by_total['members']} 人）第一——"
                            f"人多的队伍总量自然大。",
                            f"By mean, {m} ({by_mean['members']} members) leads; by total, {t} "
                            f"({by_total['members']} members) does — bigger teams pile up bigger totals."))
    if any(r.get("suppressed") for r in rows):
        notes.append(tr(f"{sup.HIDDEN}：少于 5 人、或可由其他数字推算出的人数不显示。",
                        f"{sup.HIDDEN}: counts under five, or ones the other numbers would give away, are not shown."))
    return html.Div([table] + [html.Div(n, className="small text-muted") for n in notes], id="campaign-teams-body")


def _individuals_table(d: dict, viewer_role: str):
    if d.get("withheld"):
        return html.Div(tr("个人排行只向参赛民警和健康管理师显示；领导查看队伍排行。",
                           "The individual leaderboard is shown to the officers taking part and to health managers; "
                           "leaders see the team leaderboard."), className="text-muted small", id="campaign-ind-withheld")
    head = [tr("名次", "Rank"), tr("姓名", "Name"), tr("队伍", "Team"), tr("累计", "Total"),
            daily_average_label(), tr("活动天数", "Days")]

    def row(r):
        name = tr("匿名民警", "Anonymous") if r["anonymous"] else r["name"]
        if r["me"]:
            name = f"{name}{tr('（我）', ' (me)')}" + (tr(" · 已对他人隐藏", " · hidden from others") if r["hidden"] else "")
        team = "–" if r["team"] is None else tr(r["team"]["name"], r["team"]["name_en"])
        return html.Tr([html.Td(r["rank"]), html.Td(name, className="fst-italic text-muted" if r["anonymous"] else None),
                        html.Td(team), html.Td(f"{r['total']:,.0f}"), html.Td(f"{r['per_day']:,.0f}", className="campaign-daily-average"),
                        html.Td(r["active_days"])], className="table-primary" if r["me"] else None)

    body = [row(r) for r in d["rows"]]
    me = d.get("me")
    if me and not any(r["me"] for r in d["rows"]):
        body += [html.Tr(html.Td("…", colSpan=6, className="text-center text-muted")), row(me)]
    if not body:
        return html.Div(tr("还没有活动记录。", "No activity recorded yet."), className="text-muted")
    notes = [tr(f"前 {len(d['rows'])} 名，共 {d['ranked']:,} 人有记录。选择隐藏姓名的民警对他人显示为“匿名民警”。",
                f"Top {len(d['rows'])} of {d['ranked']:,} with activity. Officers who chose to hide their name "
                f"appear as “Anonymous” to others.")]
    if me:
        notes.insert(0, tr(f"我的名次：第 {me['rank']:,} 名。", f"My rank: {me['rank']:,}."))
    return html.Div([
        html.Div(dbc.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], size="sm", hover=True,
                           className="mb-1 align-middle"), style={"maxHeight": "460px", "overflowY": "auto"},
                 className="table-scroll-x"),
        *[html.Div(n, className="small text-muted") for n in notes],
    ], id="campaign-individuals-body")


# --- points, did it work --------------------------------------------------------------------------
def _points(d: dict):
    rule = d["rule"]
    unit = _unit(d["kind"])
    rule_parts = []
    if rule.get("per_active_day"):
        rule_parts.append(tr(f"每个活动日 {rule['per_active_day']} 分", f"{rule['per_active_day']} per active day"))
    if rule.get("per_day_target"):
        rule_parts.append(tr(f"每日达到 {d['target_per_day']:,.0f} {unit} 得 {rule['per_day_target']} 分",
                             f"{rule['per_day_target']} per day reaching {d['target_per_day']:,.0f} {unit}"))
    if rule.get("full_week_bonus"):
        rule_parts.append(tr(f"一周 7 天全部达标奖励 {rule['full_week_bonus']} 分",
                             f"{rule['full_week_bonus']} bonus for a full week on target"))
    rows = [html.Tr([html.Td(label(POINT_REASON_WORDS, k)), html.Td(f"{v['points']:,}"),
                     html.Td(sup.HIDDEN if v["officers"] is None else f"{v['officers']:,}")])
            for k, v in sorted(d["by_reason"].items(), key=lambda kv: -kv[1]["points"])]
    parts = [html.Div([html.Span(f"{d['total']:,}", className="kpi-value me-2", id="campaign-points-total"),
                       html.Span(tr("分已发放", "points awarded"), className="text-muted")])]
    if d.get("mine") is not None:
        parts.append(html.Div(tr(f"我的积分：{d['mine']:,} 分", f"My points: {d['mine']:,}"),
                              className="fw-semibold mb-2", id="campaign-points-mine"))
    if rows:
        parts.append(dbc.Table([html.Thead(html.Tr([html.Th(tr("项目", "For")), html.Th(tr("积分", "Points")),
                                                    html.Th(tr("人数", "Officers"))])), html.Tbody(rows)],
                               size="sm", responsive=True, className="mb-2"))
    parts.append(html.Div(tr("规则：", "Rule: ") + ("；".join(rule_parts) if rule_parts else tr("无", "none")) +
                          tr("。按周结算。", ". Awarded weekly."), className="small text-muted"))
    return html.Div(parts)


def _num(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


def _verdict(code: str, m: dict) -> str:
    zh, en, unit = MEASURES[code]
    name = tr(zh, en)
    if m.get("verdict") == "insufficient":
        n1 = sup.HIDDEN if m.get("suppressed") and sup.is_small(m["n_participants"]) else m["n_participants"]
        n0 = sup.HIDDEN if m.get("suppressed") and sup.is_small(m["n_others"]) else m["n_others"]
        return tr(f"{name}：活动前后都有测量的人太少（参与者 {n1} 人，其他成员 {n0} 人，每组至少需要 10 人），无法判断。",
                  f"{name}: too few officers measured before and after (participants {n1}, others {n0}; "
                  f"at least 10 each are needed) to tell.")
    did, lo, hi = m["did"], m["ci_low"], m["ci_high"]
    ci = f"{lo:+.2f} ~ {hi:+.2f} {unit}"
    if m["verdict"] == "lower":
        return tr(f"{name}：参与者比其他成员多下降 {abs(did):.2f} {unit}（95% 置信区间 {ci}），差异可信。"
                  f"但参加是自愿的，注重健康的人更可能参加，所以这说明活动与改善相关，不能证明是活动带来的。",
                  f"{name}: participants fell {abs(did):.2f} {unit} more than the others (95% CI {ci}), a credible "
                  f"difference. Taking part was voluntary, so this shows an association, not proof that the campaign "
                  f"caused it.")
    if m["verdict"] == "higher":
        return tr(f"{name}：参与者反而比其他成员多上升 {abs(did):.2f} {unit}（95% 置信区间 {ci}）。数据不支持活动改善了这一指标。",
                  f"{name}: participants rose {abs(did):.2f} {unit} more than the others (95% CI {ci}). The data do "
                  f"not support an improvement.")
    return tr(f"{name}：两组变化之差为 {did:+.2f} {unit}（95% 置信区间 {ci}，包含 0），没有看到可信的差异。"
              f"这不等于活动无效，只是数据不足以说明有效。",
              f"{name}: the difference in change is {did:+.2f} {unit} (95% CI {ci}, which includes 0): no credible "
              f"difference. That is not proof the campaign failed, only that the data cannot show it worked.")


def _did(d: dict):
    if d["status"] != "finished":
        return html.Div(tr("活动结束后，这里会比较参与者和其他成员在体重、BMI 和收缩压上的前后变化（双重差分）。",
                           "Once the campaign has ended, this compares the change in weight, BMI and systolic BP of "
                           "participants with the other members (difference in differences)."),
                        className="text-muted small", id="campaign-did-pending")
    measures = d["measures"]
    if not measures:
        return html.Div(tr("活动前后没有可比较的体重或血压测量。", "No weight or BP measured both before and after."),
                        className="text-muted small")
    head = [tr("指标", "Measure"), tr("参与者：前 → 后（变化）", "Participants: before → after (change)"),
            tr("其他成员：前 → 后（变化）", "Others: before → after (change)"),
            tr("差异（95% 置信区间）", "Difference (95% CI)")]
    rows = []
    for code, m in measures.items():
        zh, en, unit = MEASURES[code]
        rows.append(html.Tr([
            html.Td(f"{tr(zh, en)} ({unit})"),
            html.Td(f"{_num(m['participants_before'])} → {_num(m['participants_after'])} "
                    f"({_num(m['participants_change'], 2)}) · n={m['n_participants']:,}"
                    if m.get("participants_change") is not None else "–"),
            html.Td(f"{_num(m['others_before'])} → {_num(m['others_after'])} ({_num(m['others_change'], 2)}) · "
                    f"n={m['n_others']:,}" if m.get("others_change") is not None else "–"),
            html.Td(f"{m['did']:+.2f} ({m['ci_low']:+.2f} ~ {m['ci_high']:+.2f})" if m.get("did") is not None
                    else "–", className="fw-semibold"),
        ]))
    verdicts = [_verdict(code, m) for code, m in measures.items()]
    codes = {m.get("verdict") for m in measures.values()}
    if codes == {"lower"} or (codes - {"unclear", "insufficient"} == {"lower"}):
        headline, colour = tr("部分指标参与者改善更多（观察性证据）", "Participants improved more on some measures "
                                                                  "(observational evidence)"), "success"
    elif "higher" in codes:
        headline, colour = tr("数据不支持活动改善了体重或血压", "The data do not support an improvement"), "warning"
    elif codes <= {"insufficient"}:
        headline, colour = tr("数据不足，无法判断", "Not enough data to tell"), "secondary"
    else:
        headline, colour = tr("没有发现可信的差异", "No credible difference found"), "light"
    groups = sup.counts_table({"participants": d["participants"] or 0, "others": d["others"] or 0})
    participants, others = groups.text("participants"), groups.text("others")
    method = tr(f"参与者：活动期间至少 {d['participant_min_days']} 天有记录（全程 {d['days_total']} 天的四分之一），"
                f"共 {participants} 人；其他成员：其余 {others} 人。"
                f"“前”为活动开始前一年内最近一次测量，“后”为 {d['windows']['after'][0]} 至 {d['windows']['after'][1]} "
                f"的第一次测量。差异 = 参与者的变化 − 其他成员的变化（OLS，按人聚类的标准误）。",
                f"Participants: recorded on at least {d['participant_min_days']} of {d['days_total']} days "
                f"({participants}); others: the remaining "
                f"{others} members. Before: the latest value in the year up to the start; "
                f"after: the first value from {d['windows']['after'][0]} to {d['windows']['after'][1]}. "
                f"Difference = participants' change − others' change (OLS, standard errors clustered by officer).")
    return html.Div([
        dbc.Alert(headline, color=colour, className="py-2 mb-2 fw-semibold", id="campaign-did-headline"),
        dbc.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)], size="sm", responsive=True,
                  className="mb-2", id="campaign-did-table"),
        html.Ul([html.Li(v) for v in verdicts], className="small ps-3", id="campaign-did-verdicts"),
        html.Div(method, className="small text-muted"),
    ])


def register(app):
    @app.callback(Output("campaign-access", "children"), Output("campaign-body", "style"),
                  Input("campaign-url", "pathname"))
    @checked
    def campaign_access(path: Path):
        """A plain message instead of empty panels when the campaign is not the caller's to see
        (the panels' own callbacks refuse it with 403 all the same)."""
        scope = current_scope()
        try:
            with db() as s:
                visible_campaign(s, scope, campaign_id_from(path))
        except NotVisible:
            return no_access(tr("该活动不存在，或不在您的范围内。", "This campaign does not exist or is outside "
                                                                "your scope.")), {"display": "none"}
        return None, {}

    @app.callback(Output("campaign-header", "children"), Output("campaign-kpis", "children"),
                  Output("campaign-progress-graph", "figure"), Output("campaign-projection", "children"),
                  Input("campaign-url", "pathname"))
    @checked
    def campaign_progress_view(path: Path):
        scope = current_scope()
        d = _load("campaign_progress", scope, path, campaign_progress)
        return _header(d), _kpis(d, scope.role == "leader"), progress_figure(d), _projection_text(d)

    @app.callback(Output("campaign-weekly-graph", "figure"), Output("campaign-weekly-note", "children"),
                  Input("campaign-url", "pathname"))
    @checked
    def campaign_weekly_view(path: Path):
        scope = current_scope()
        d = _load("campaign_participation", scope, path, campaign_participation)
        return weekly_figure(d), _weekly_note(d)

    @app.callback(Output("campaign-teams", "children"), Input("campaign-url", "pathname"))
    @checked
    def campaign_teams_view(path: Path):
        scope = current_scope()
        return _teams_table(_load("campaign_teams", scope, path, team_leaderboard))

    @app.callback(Output("campaign-individuals", "children"), Input("campaign-url", "pathname"),
                  Input("campaign-hide-saved", "data"))
    @checked
    def campaign_individuals_view(path: Path, _saved: StoreRef):
        scope = current_scope()
        cid = campaign_id_from(path)
        try:  # not cached: it shows each officer's own row and everyone's current choice to hide
            with db() as s:
                d = individual_leaderboard(s, scope, cid, today())
        except NotVisible as exc:
            raise AccessDenied(str(exc)) from exc
        return _individuals_table(d, scope.role)

    @app.callback(Output("campaign-hide", "value"), Input("campaign-url", "pathname"))
    @checked
    def campaign_hide_value(_path: Path):
        scope = current_scope("officer")
        with db() as s:
            return hide_preference(s, scope.officer_id)

    @app.callback(Output("campaign-hide-saved", "data"), Input("campaign-hide", "value"), prevent_initial_call=True)
    @checked
    def campaign_hide_save(value: Flag):
        scope = current_scope("officer")  # only ever the caller's own preference
        with db() as s:
            changed = set_hide_preference(s, scope.officer_id, bool(value))
        return time.time() if changed else no_update

    @app.callback(Output("campaign-points", "children"), Input("campaign-url", "pathname"))
    @checked
    def campaign_points_view(path: Path):
        scope = current_scope()
        cid = campaign_id_from(path)
        try:  # not cached: an officer's own points are part of it
            with db() as s:
                d = campaign_points(s, scope, cid, today())
        except NotVisible as exc:
            raise AccessDenied(str(exc)) from exc
        return _points(d)

    @app.callback(Output("campaign-did", "children"), Input("campaign-url", "pathname"))
    @checked
    def campaign_did_view(path: Path):
        scope = current_scope()
        return _did(_load("campaign_did", scope, path, did_it_work))
