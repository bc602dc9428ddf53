"""portal bench: build (or reuse) a demo database and time each page's main queries."""
from __future__ import annotations

import json
import os
import sys
import time

import typer
from rich.console import Console
from rich.table import Table

from portal.config import instance_dir

console = Console(stderr=True)


def bench(scale: str = typer.Option("city", help="city | province (tiny for a quick look)"),
          as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
          only: str = typer.Option(None, help="run only benchmark modules whose name contains this "
                                                "(workbench: the city workbench settled in headless Chromium)"),
          database: str = typer.Option(None, help="database URL (default: instance/bench-<scale>.db, "
                                                  "or PORTAL_BENCH_DATABASE_URL)"),
          load: bool = typer.Option(False, "--load", help="browser-like users against a gunicorn started here "
                                                          "(Redis cache when PORTAL_CACHE_URL is set)"),
          users: int = typer.Option(50, help="--load: simulated users"),
          duration: float = typer.Option(60, help="--load: seconds of load after every user signed in"),
          workers: int = typer.Option(4, help="--load: gunicorn workers"),
          think: str = typer.Option("5-15", help="--load: think time between page views, seconds MIN-MAX")) -> None:
    """Measure page queries against the raw SQL they stand on, in the same run; or, with --load, pages
    as browsers load them under many users."""
    from models.db import init_db, is_empty
    from portal.bench import BenchContext, run_all
    from portal.commands.core import run_demo

    url = database or os.environ.get("PORTAL_BENCH_DATABASE_URL") or f"sqlite:///{instance_dir() / f'bench-{scale}.db'}"
    init_db(url)
    ctx = BenchContext(url=url, scale=scale, workdir=str(instance_dir()))
    if is_empty(url):
        console.print(f"building the {scale} demo into {url} ...")
        t0 = time.perf_counter()
        run_demo(url, scale, 42, ctx.password, None)
        ctx.build_seconds = time.perf_counter() - t0
    if load:
        _load(url, users=users, duration=duration, workers=workers, think=think, as_json=as_json)
        return
    results = run_all(ctx, only)
    if as_json:
        sys.stdout.write(json.dumps({"scale": scale, "database": url.split("://")[0],
                                     "results": [r.as_dict() for r in results]}, ensure_ascii=False) + "\n")
        return
    table = Table("name", "median ms", "p95 ms", "raw ms", "target ms", "note", title=f"portal bench ({scale})")
    for r in results:
        d = r.as_dict()
        ok = d["target_ms"] is None or d["p95_ms"] <= d["target_ms"]
        table.add_row(d["name"], f"{d['median_ms']:.1f}", f"[{'green' if ok else 'red'}]{d['p95_ms']:.1f}[/]",
                      "" if d["raw_ms"] is None else f"{d['raw_ms']:.1f}",
                      "" if d["target_ms"] is None else f"{d['target_ms']:.0f}", d["note"])
    Console().print(table)


def _load(url: str, *, users: int, duration: float, workers: int, think: str, as_json: bool) -> None:
    from portal.loadtest import run_load

    try:
        low, high = (float(x) for x in think.split("-"))
    except ValueError:
        raise typer.BadParameter("--think is MIN-MAX in seconds, e.g. 5-15") from None
    if users < 1 or workers < 1 or duration <= 0 or not 0 <= low <= high:
        raise typer.BadParameter("--users and --workers at least 1, --duration above 0, --think MIN <= MAX")
    out = run_load(url, users=users, duration=duration, workers=workers, cache_url=os.environ.get("PORTAL_CACHE_URL") or None,
                   instance=str(instance_dir()), think=(low, high), today=os.environ.get("PORTAL_TODAY") or None,
                   log=lambda text: console.print(text))
    if as_json:
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return
    title = (f"portal bench --load: {users} users, {workers} workers, {out['duration']:.0f} s, {out['backend']} + "
             f"{out['cache']} cache, load average {out['load'][0]} -> {out['load'][1]}")
    table = Table("page", "views", "failed", "median ms", "p95 ms", "requests/view", "server CPU ms/view", title=title)
    for page, d in out["pages"].items():
        table.add_row(page, str(d["views"]), str(d["failed"]), f"{d['median_ms'] or 0:.0f}", f"{d['p95_ms'] or 0:.0f}",
                      f"{d['requests_per_view']:.1f}", f"{d['cpu_ms_per_view']:.1f}")
    t = out["total"]
    table.add_row("[b]total[/b]", str(t["views"]), str(t["failed"]), f"{t['median_ms'] or 0:.0f}", f"{t['p95_ms'] or 0:.0f}", "",
                  f"{t['cpu_ms_per_view'] or 0:.1f} (/proc; reported {t['cpu_ms_per_view_reported'] or 0:.1f})")
    Console().print(table)
    console.print(f"{t['views_per_s']} views/s; load generator CPU {t['generator_cpu_ms_per_view'] or 0:.1f} ms/view "
                  f"(this process, same machine); sign-ins {out['login_s']:.1f} s, failed {t['logins_failed']}")
    for err in out["errors"]:
        console.print(f"[red]{err}[/red]", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(bench)
