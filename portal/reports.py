"""The printable A4 health report: ``/me/report`` (an officer's own) and
``/officers/<badge>/report`` (an officer in the caller's scope), drawn by
``templates/report.html``.

Officers, health managers and admins print reports (leaders never see measured
values); the officer is resolved exactly as on the portrait screen and every
printed report is audit-logged. The template gets data and words, never HTML.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask, render_template

from models import portrait
from models.vocab import RISK_CLASSES, SEX_WORDS, SOURCES
from web.access import audit, current_scope, db
from web.clock import today
from web.i18n import label, language, level_name, tr
from web.portrait import BAND_FILL, resolve_officer, unit_word, y_range


def init_reports(server: Flask) -> None:
    server.add_url_rule("/me/report", "portrait_report_me", lambda: _report_view(""))
    server.add_url_rule("/officers/<badge>/report", "portrait_report", lambda badge: _report_view(badge))


def _report_view(key: str):
    scope = current_scope("officer", "manager", "counsellor", "admin")  # refusals: AccessDenied, answered (403)
    with db() as s:                                                      # and recorded by the app's one handler
        officer = resolve_officer(s, scope, key)
        data = portrait.report(s, officer.id, as_of=today(), psych=scope.sees_psych)
        audit("print_report", f"officer:{officer.badge}", {"own": scope.officer_id == officer.id}, session=s)
    return render_template("report.html", r=report_view(data), lang=language(), tr=tr)


def report_view(r: dict) -> dict:
    """The report's data in the reader's language, ready for the template."""
    h = r["header"]
    w = h.get("warning") or {}
    level = w.get("level")
    risk = h.get("risk")
    return {
        "name": h["name"],
        "badge": h["badge"],
        "unit": " · ".join(tr(u["name"], u["name_en"]) for u in h["unit_chain"]),
        "post": tr(h["post"]["zh"], h["post"]["en"]),
        "sex": label(SEX_WORDS, h["sex"]),
        "age": tr(f"{h['age']}岁", f"{h['age']} y"),
        "level": level or "none",
        "level_text": (level_name(level) + (tr("（待确认）", " (unconfirmed)") if not w.get("confirmed", True) else ""))
        if level else tr("无数据", "no data"),
        "risk": {"pct": risk["pct"], "category": label(RISK_CLASSES, risk["category"]),
                 "ideal": _ideal_text(risk)} if risk else None,
        "indicators": [{
            "name": tr(c["zh"], c["en"]), "value": c["value"], "unit": unit_word(c["unit"]),
            "class": tr(c["class_zh"], c["class_en"]) if c.get("class") else None,
            "tone": c.get("tone") or "none", "date": c["date"], "source": label(SOURCES, c.get("kind")),
            "change": c["change"]["text"] if c.get("change") else None,
            "change_since": c["change"]["since"] if c.get("change") else None,
        } for c in r["indicators"]["cards"]],
        "trends": [{
            "name": tr(s["zh"], s["en"]), "unit": unit_word(s["unit"]), "spark": sparkline(s),
            "slope": _slope_text(s["trend"], s["decimals"]) if s.get("trend") else None,
            "worsening": bool(s.get("trend") and s["trend"]["worsening"]),
        } for s in r["series"]["series"]],
        "reasons": [{
            "level": rs.get("level") or "", "text": tr(rs["zh"], rs["en"]), "date": rs.get("date") or "",
            "source": rs.get("source") or "", "advice": tr(*rs["advice"]) if rs.get("advice") else None,
        } for rs in w.get("reasons", [])],
        "as_of": r["as_of"],
    }


def _ideal_text(risk: dict) -> str | None:
    if risk.get("ideal_pct") is None:
        return None
    pct, category = risk["ideal_pct"], label(RISK_CLASSES, risk["ideal_category"])
    return tr(f"；各项危险因素理想时 {pct:.1f}%（{category}）", f"; at ideal risk factors {pct:.1f}% ({category})")


def _slope_text(t: dict, decimals: int) -> str:
    slope = f"{t['slope_per_year']:+.{decimals + 1}f}"
    return tr(f"每年 {slope}", f"{slope}/yr")


def sparkline(s: dict, width: int = 170, height: int = 52) -> dict | None:
    """The geometry of a small inline SVG of one indicator (guideline bands, the kiosk smoothing,
    exam dots) in the SVG's own units; None when there is nothing to draw."""
    pts = [(dt.date.fromisoformat(a[:10]), v) for k in ("exam", "screening") for a, v, _ in s.get(k, [])]
    dense = [(dt.date.fromisoformat(d), v) for curve in (s.get("lowess") or []) for d, v in curve]
    if not dense:
        dense = [(dt.date.fromisoformat(a[:10]), v) for a, v, _ in s.get("kiosk", [])]
    allp = pts + dense
    if not allp:
        return None
    x0 = min(d for d, _ in allp).toordinal()
    x1 = max(max(d for d, _ in allp).toordinal(), x0 + 1)
    lo, hi = y_range(s) if (s.get("exam") or s.get("kiosk") or s.get("screening")) else (0, 1)
    sx = lambda d: 4 + (d.toordinal() - x0) / (x1 - x0) * (width - 8)  # noqa: E731
    sy = lambda v: height - 4 - (v - lo) / (hi - lo or 1) * (height - 8)  # noqa: E731
    bands, floor = [], 0.0
    for band in s["bands"]:
        top = band["below"] if band["below"] is not None else 1e9
        y_top, y_bot = min(top, hi), max(floor, lo)
        if y_top > y_bot:
            bands.append({"y": f"{sy(y_top):.1f}", "height": f"{sy(y_bot) - sy(y_top):.1f}",
                          "fill": BAND_FILL[band["tone"]]})
        floor = top

    def line(points):
        return " ".join(f"{sx(d):.1f},{sy(v):.1f}" for d, v in sorted(points)) if len(points) > 1 else None

    return {"width": width, "height": height, "bands": bands, "smooth": line(dense), "exam": line(pts),
            "dots": [(f"{sx(d):.1f}", f"{sy(v):.1f}") for d, v in pts]}
