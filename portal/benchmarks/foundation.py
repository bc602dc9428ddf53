"""Demo build time and login (issue 2)."""
from __future__ import annotations

import re
import time

from sqlalchemy import func, select, text

from models.schema import Observation, User
from portal.bench import BenchContext, Result, measure

COLS = "officer_id, code, value, unit, observed_at, source_kind, source_id, exam_id, station, batch_id"


def run(ctx: BenchContext) -> list[Result]:
    results = []
    if ctx.build_seconds is not None:
        with ctx.session() as s:
            n_obs = s.scalar(select(func.count()).select_from(Observation))
        raw = _raw_observation_insert(ctx)
        results.append(Result("demo_build", ctx.build_seconds * 1000, ctx.build_seconds * 1000, raw * 1000,
                              60_000 if ctx.scale == "city" else None,
                              note=f"{n_obs:,} observations; raw = executemany of the same observation rows"))
    results.append(_login(ctx))
    return results


def _raw_observation_insert(ctx: BenchContext) -> float:
    """Seconds to insert the demo's observation rows with a plain executemany into a scratch table."""
    with ctx.session() as s:
        rows = [tuple(r) for r in s.execute(text(f"SELECT {COLS} FROM observation"))]
        s.execute(text("DROP TABLE IF EXISTS bench_observation"))
        s.execute(text(f"CREATE TABLE bench_observation AS SELECT {COLS} FROM observation WHERE 1 = 0"))
    conn = s.get_bind().raw_connection()
    try:
        cur = conn.cursor()
        marks = ", ".join(["?" if ctx.url.startswith("sqlite") else "%s"] * 10)
        t0 = time.perf_counter()
        for i in range(0, len(rows), 50_000):
            cur.executemany(f"INSERT INTO bench_observation ({COLS}) VALUES ({marks})", rows[i:i + 50_000])
        conn.commit()
        seconds = time.perf_counter() - t0
        cur.execute("DROP TABLE bench_observation")
        conn.commit()
    finally:
        conn.close()
    return seconds


def _login(ctx: BenchContext) -> Result:
    """The whole sign-in: fetch the form, post it (argon2 check, audit row, session)."""
    from portal.app import create_app
    from portal.config import Config

    app = create_app(Config(database_url=ctx.url, login_rate_limit="100000 per minute"))
    client = app.server.test_client()

    def sign_in():
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        res = client.post("/login", data={"username": "manager", "password": ctx.password, "csrf_token": token})
        assert res.status_code == 302, "benchmark login failed: wrong demo password?"
        client.post("/logout", data={"csrf_token": client.get_cookie("_csrf_token").value if client.get_cookie("_csrf_token") else ""})

    def raw():
        with ctx.session() as s:
            s.execute(select(User).where(User.username == "manager")).scalar_one()

    return measure("login", sign_in, raw, 500, repeat=10, note="raw = the user lookup")
