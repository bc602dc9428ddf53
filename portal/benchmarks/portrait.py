"""The individual portrait (issue 6): every server-side callback of one page view, in total,
under 300 ms p95 at city scale; beside the raw SQL the portrait stands on.

The viewer is the city manager; the officers are the twenty with the most kiosk readings (the
heaviest portraits: LOWESS and Holt/ETS on every dense series). The query cache is off, so each
view computes its statistics afresh, as the first view after an ingest does."""
from __future__ import annotations

import itertools
import json
import re
import statistics

from sqlalchemy import func, select, text

from models.schema import Observation, Officer
from portal.bench import BenchContext, Result, measure, p95, timings

CALLBACKS = {
    "frame": ("portrait-body.children", {"id": "portrait-body", "property": "children"}, "portrait-badge"),
    "header": ("pt-header.children", {"id": "pt-header", "property": "children"}, "pt-key"),
    "record": ("..pt-indicators.children...pt-history.children...pt-care.children..",
               [{"id": "pt-indicators", "property": "children"}, {"id": "pt-history", "property": "children"},
                {"id": "pt-care", "property": "children"}], "pt-key"),
    "trends": ("pt-trends.children", {"id": "pt-trends", "property": "children"}, "pt-key"),
}
RAW_SQL = [
    "SELECT o.*, u.path, s.* FROM officer o JOIN unit u ON u.id = o.unit_id "
    "LEFT JOIN officer_status s ON s.officer_id = o.id WHERE o.id = :id",
    "SELECT code, value, observed_at, source_kind, source_id, station, exam_id FROM observation "
    "WHERE officer_id = :id ORDER BY observed_at",
    "SELECT e.*, h.name FROM exam e JOIN hospital h ON h.id = e.hospital_id WHERE e.officer_id = :id",
    "SELECT * FROM warning_history WHERE officer_id = :id ORDER BY changed_at DESC LIMIT 6",
    "SELECT * FROM follow_up WHERE officer_id = :id",
    "SELECT campaign_id, count(*), sum(value) FROM campaign_entry WHERE officer_id = :id GROUP BY campaign_id",
    "SELECT campaign_id, sum(points) FROM points WHERE officer_id = :id GROUP BY campaign_id",
]


def run(ctx: BenchContext) -> list[Result]:
    from portal.app import create_app
    from portal.config import Config

    with ctx.session() as s:
        dense = s.execute(
            select(Observation.officer_id, Officer.badge).join(Officer, Officer.id == Observation.officer_id)
            .where(Observation.source_kind == "kiosk").group_by(Observation.officer_id, Officer.badge)
            .order_by(func.count().desc()).limit(20)).all()
    if not dense:
        return []
    # testing=True turns the query cache off (NullCache): every view computes its statistics.
    app = create_app(Config(database_url=ctx.url, testing=True, login_rate_limit="100000 per minute",
                            cache_dir=f"{ctx.workdir}/bench-portrait-cache"))
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    res = client.post("/login", data={"username": "manager", "password": ctx.password, "csrf_token": token})
    assert res.status_code == 302, "benchmark login failed: wrong demo password?"
    client.get("/")
    headers = {"X-CSRFToken": client.get_cookie("_csrf_token").value, "Content-Type": "application/json"}

    def post(name: str, badge: str) -> None:
        output, outputs, store = CALLBACKS[name]
        body = {"output": output, "outputs": outputs, "inputs": [{"id": store, "property": "data", "value": badge}],
                "state": [], "changedPropIds": [f"{store}.data"]}
        r = client.post("/_dash-update-component", data=json.dumps(body), headers=headers)
        assert r.status_code == 200, f"portrait callback {name} answered {r.status_code}"

    cycle = itertools.cycle(dense)

    def view():
        _, badge = next(cycle)
        for name in CALLBACKS:
            post(name, badge)

    raw_cycle = itertools.cycle(dense)

    def raw():
        officer_id, _ = next(raw_cycle)
        with ctx.session() as s:
            for sql in RAW_SQL:
                s.execute(text(sql), {"id": officer_id}).all()

    with ctx.session() as s:
        readings = s.scalar(select(func.count()).select_from(Observation)
                            .where(Observation.officer_id == dense[0][0]))
    results = [measure("portrait_view", view, raw, 300, repeat=20,
                       note=f"frame+header+record+trends callbacks for the 20 kiosk-densest officers "
                            f"(up to {readings:,} readings), cache off; raw = the 7 SQL reads per officer")]
    for name in ("header", "record", "trends"):
        one = itertools.cycle(dense)
        times = timings(lambda name=name, one=one: post(name, next(one)[1]), repeat=20)
        results.append(Result(f"portrait_{name}", statistics.median(times), p95(times), None, None,
                              note="one callback of the view above"))
    return results
