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
                                                  "or PORTAL_BENCH_DATABASE_URL)")) -> None:
    """Measure page queries against the raw SQL they stand on, in the same run."""
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


def register(app: typer.Typer) -> None:
    app.command()(bench)
