"""/units and the leaders' overview (issue 7): the page's main callback end to end (a
leader's forged-free POST through the Flask test client, no cache), the model call alone,
and the raw GROUP BY over the snapshot each stands on, in the same run."""
from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select, text

from models import unit_queries as uq
from models.schema import Unit
from portal.bench import BenchContext, Result, measure

RAW_UNITS = ("SELECT u.path, o.sex, count(*), sum(CASE WHEN s.hypertension THEN 1 ELSE 0 END) "
             "FROM officer_status s JOIN officer o ON o.id = s.officer_id JOIN unit u ON u.id = o.unit_id "
             "WHERE o.active GROUP BY u.path, o.sex")
RAW_OVERVIEW = ("SELECT s.level, count(*) FROM officer_status s JOIN officer o ON o.id = s.officer_id "
                "WHERE o.active GROUP BY s.level")
COMPARE = ["units-funnel.figure", "units-chi2.children", "units-grid.rowData", "units-grid.columnDefs",
           "units-method.children", "units-alert.children", "units-trend-units.options", "units-trend-units.value"]


def _client(ctx: BenchContext, username: str):
    """A logged-in test client on an app without cache (every call computes)."""
    from portal.app import create_app
    from portal.config import Config

    app = create_app(Config(database_url=ctx.url, testing=True, login_rate_limit="100000 per minute",
                            cache_dir=f"{ctx.workdir}/bench-cache"))
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    res = client.post("/login", data={"username": username, "password": ctx.password, "csrf_token": token})
    assert res.status_code == 302, "benchmark login failed: wrong demo password?"
    client.get("/")
    cookie = client.get_cookie("_csrf_token")
    return client, {"X-CSRFToken": cookie.value if cookie else "", "Content-Type": "application/json"}


def _post(client, headers, outputs: list[str], inputs: list[tuple[str, str, object]]):
    body = {"output": ".." + "...".join(outputs) + ".." if len(outputs) > 1 else outputs[0],
            "outputs": [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in outputs]
            if len(outputs) > 1 else {"id": outputs[0].rsplit(".", 1)[0], "property": outputs[0].rsplit(".", 1)[1]},
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs], "state": [],
            "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs]}
    res = client.post("/_dash-update-component", data=json.dumps(body), headers=headers)
    assert res.status_code == 200, f"callback failed with {res.status_code}"


def run(ctx: BenchContext) -> list[Result]:
    target = 200 if ctx.scale in ("city", "tiny") else 800
    today = dt.date.today()
    with ctx.session() as s:
        root = s.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
        code, path = root.code, root.path
        level = "district" if ctx.scale == "province" else "station"
    client, headers = _client(ctx, "leader" if ctx.scale != "province" else "admin")

    def compare_callback():
        _post(client, headers, COMPARE, [("units-root", "data", code), ("units-level", "value", level),
                                         ("units-indicator", "value", "hypertension"),
                                         ("units-year", "value", today.year),
                                         ("units-rate", "value", "standardised")])

    def compare_model():
        with ctx.session() as s:
            uq.unit_comparison(s, path, level, "hypertension", today.year, today, suppress=True)

    def past_year_model():
        with ctx.session() as s:
            uq.unit_comparison(s, path, level, "hypertension", today.year - 1, today, suppress=True)

    def overview_callback():
        _post(client, headers, ["home-kpis.children", "home-scope.children"], [("home-url", "search", "")])

    def raw(sql):
        def go():
            with ctx.session() as s:
                s.execute(text(sql)).all()
        return go

    repeat = 10 if ctx.scale == "province" else 20
    return [
        measure("units_compare_callback", compare_callback, raw(RAW_UNITS), target, repeat=repeat,
                note=f"/units main callback, {level}s of the whole force, hypertension, standardised, funnel + "
                     "table, no cache; raw = GROUP BY unit path, sex over the snapshot"),
        measure("units_compare_model", compare_model, raw(RAW_UNITS), target, repeat=repeat,
                note="models.unit_queries.unit_comparison alone (strata GROUP BY + standardisation + limits)"),
        measure("units_compare_past_year", past_year_model, raw(RAW_UNITS), None, repeat=max(3, repeat // 4),
                note="a past year, evaluated from that year's observations (window query); cached in the app"),
        measure("overview_callback", overview_callback, raw(RAW_OVERVIEW), target, repeat=repeat,
                note="leaders' home: KPIs, level change, top-5 factors, follow-ups, campaigns, months, sub-units; "
                     "raw = GROUP BY level"),
    ]
