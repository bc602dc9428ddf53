"""The benchmark harness behind ``portal bench``.

Each module in ``portal/benchmarks/`` exposes ``run(ctx) -> list[Result]``; a
result pairs the median and p95 of an operation with the time of the raw SQL
(or bulk operation) it stands on, measured in the same run, and the target the
operation's issue sets.
"""
from __future__ import annotations

import importlib
import pkgutil
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

from models.db import session_scope


@dataclass
class Result:
    name: str
    median_ms: float
    p95_ms: float
    raw_ms: float | None
    target_ms: float | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("median_ms", "p95_ms", "raw_ms", "target_ms"):
            if d[k] is not None:
                d[k] = round(d[k], 2)
        return d


@dataclass
class BenchContext:
    url: str
    scale: str
    workdir: str
    password: str = "demo12345"
    build_seconds: float | None = None  # set when this run built the demo database

    def session(self):
        return session_scope(self.url)


def timings(fn: Callable[[], Any], repeat: int = 20, warmup: int = 1) -> list[float]:
    """Wall-clock times of ``fn`` in milliseconds."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure(name: str, fn: Callable[[], Any], raw: Callable[[], Any] | None, target_ms: float | None,
            repeat: int = 20, note: str = "") -> Result:
    """Time ``fn`` and the raw operation it stands on, interleaved in one run."""
    times = timings(fn, repeat)
    raw_times = timings(raw, repeat) if raw else None
    return Result(name, statistics.median(times), p95(times),
                  statistics.median(raw_times) if raw_times else None, target_ms, note)


def run_all(ctx: BenchContext, only: str | None = None) -> list[Result]:
    from portal import benchmarks

    results: list[Result] = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if only and only not in info.name:
            continue
        module = importlib.import_module(f"portal.benchmarks.{info.name}")
        results.extend(module.run(ctx))
    return results
