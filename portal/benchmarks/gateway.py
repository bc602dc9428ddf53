"""Device gateway (issue 5): 32 simulated Tanita analysers on pseudo-terminals at 9600 baud, one frame
per second each for 30 s, through a real gateway process into the bench database.

Reports frames sent, journaled and landed (they must be equal), the gateway process's CPU share,
and the time from the first byte of a frame leaving the simulator to its raw_frame row being
visible centrally (raw = the time the frame itself takes on a 9600-baud line). The bench's rows
are removed again afterwards so later benchmarks see the demo data unchanged.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import delete, func, select

from portal.bench import BenchContext, Result, p95

DEVICES = 32
SECONDS = 30
BAUD = 9600
ROOT = Path(__file__).resolve().parents[2]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _roster(ctx: BenchContext) -> list[tuple[str, list[str]]]:
    """(station code, badges of officers there) for DEVICES stations."""
    from models.schema import Officer, Unit

    with ctx.session() as s:
        stations = list(s.execute(select(Unit.id, Unit.code).where(Unit.level == "station").order_by(Unit.id)
                                  .limit(DEVICES)))
        out = []
        for unit_id, code in stations:
            badges = list(s.scalars(select(Officer.badge).where(Officer.unit_id == unit_id).limit(20)))
            if badges:
                out.append((code, badges))
    if not out:
        raise RuntimeError("the bench database has no stations with officers")
    return [out[i % len(out)] for i in range(DEVICES)]


def run(ctx: BenchContext) -> list[Result]:
    if shutil.which("socat") is None:
        return [Result("gateway_32_tanita", 0, 0, None, None, note="socat is not installed: not measured")]
    return [_journal_append(), _end_to_end(ctx)]


def _journal_append() -> Result:
    """One journal append (committed, fsynced) against the same rows inserted in one transaction."""
    from ingest.gateway.drivers import tanita_frame
    from ingest.gateway.journal import Journal

    tmp = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    try:
        j = Journal(tmp / "j.db")
        frame = tanita_frame({"Wk": "70.0", "Hm": "170"}, ident="12345")
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            j.append("bench", "tanita", "S", frame, "ok", None, {"values": {"weight_kg": 70.0}})
            times.append((time.perf_counter() - t0) * 1000)
        j.close()
        raw = sqlite3.connect(tmp / "raw.db")
        raw.execute("CREATE TABLE f (device, raw, parsed)")
        t0 = time.perf_counter()
        with raw:
            raw.executemany("INSERT INTO f VALUES (?, ?, ?)", [("bench", frame, "{}")] * 200)
        raw_ms = (time.perf_counter() - t0) * 1000 / 200
        raw.close()
        return Result("gateway_journal_append", statistics.median(times), p95(times), raw_ms, None,
                      note="one committed frame (WAL, synchronous=FULL); raw = same insert batched, per row")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _end_to_end(ctx: BenchContext) -> Result:
    from ingest.gateway.simulators import PtyPair, TanitaSimulator, wait_for
    from models.db import session_scope
    from models.schema import Device, Observation, RawFrame
    from models.snapshot import recompute_officers

    roster = _roster(ctx)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    pairs = [PtyPair(tmp, f"t{i:02d}") for i in range(DEVICES)]
    proc = None
    sims: list[TanitaSimulator] = []
    try:
        for p in pairs:
            p.start()
        devices = "".join(
            f'\n[[device]]\nname = "{name}-t{i:02d}"\ndriver = "tanita"\nport = "{p.gw}"\nbaudrate = {BAUD}\n'
            f'station = "{roster[i][0]}"\n' for i, p in enumerate(pairs))
        config = tmp / "gateway.toml"
        config.write_text(f'gateway = "{name}"\njournal = "journal.db"\ndatabase = {json.dumps(ctx.url)}\n'
                          f'forward_seconds = 0.2\nreport_seconds = 5\n{devices}', encoding="utf-8")
        log = tmp / "gateway.log"
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with open(log, "wb") as fh:
            proc = subprocess.Popen([sys.executable, "-m", "ingest.gateway.runner", "--config", str(config)],
                                    cwd=tmp, env=env, stdout=fh, stderr=subprocess.STDOUT)
        if not wait_for(lambda: log.read_bytes().count(b"connected to") >= DEVICES, 60, 0.1):
            raise RuntimeError("gateway did not open its ports: " + log.read_text(errors="replace")[-2000:])
        sims = [TanitaSimulator(p.dev, baudrate=BAUD, pace=True) for p in pairs]
        starts: list[list[float]] = [[] for _ in range(DEVICES)]
        landed_at: list[list[float]] = [[] for _ in range(DEVICES)]
        frame_bytes = len(sims[0].reading("123456", weight=70.0))

        def device(i: int, t0: float) -> None:
            rng = random.Random(i)
            code, badges = roster[i]
            for k in range(SECONDS):
                due = t0 + k + i / DEVICES
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                starts[i].append(time.monotonic())
                sims[i].send(rng.choice(badges), weight=round(rng.gauss(72, 9), 1), height=round(rng.gauss(171, 6)),
                             fat=round(rng.uniform(12, 32), 1), visceral=rng.randint(3, 15))

        stop_poll = threading.Event()

        def poll() -> None:
            seen = [0] * DEVICES
            index = {f"{name}-t{i:02d}": i for i in range(DEVICES)}
            while not stop_poll.is_set():
                with session_scope(ctx.url) as s:
                    rows = s.execute(select(RawFrame.device, func.count()).where(RawFrame.gateway == name)
                                     .group_by(RawFrame.device)).all()
                now = time.monotonic()
                for dev, n in rows:
                    i = index[dev]
                    while seen[i] < n:
                        landed_at[i].append(now)
                        seen[i] += 1
                if sum(seen) >= DEVICES * SECONDS:
                    return
                stop_poll.wait(0.1)

        t0 = time.monotonic() + 0.5
        cpu0, wall0 = _cpu_seconds(proc.pid), time.monotonic()
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        senders = [threading.Thread(target=device, args=(i, t0), daemon=True) for i in range(DEVICES)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        cpu1, wall1 = _cpu_seconds(proc.pid), time.monotonic()
        sent = sum(len(s) for s in starts)
        poller.join(timeout=60)
        stop_poll.set()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        with sqlite3.connect(tmp / "journal.db") as j:
            journaled = j.execute("SELECT count(*) FROM frame WHERE status = 'ok'").fetchone()[0]
            other = dict(j.execute("SELECT status, count(*) FROM frame WHERE status != 'ok' GROUP BY status").fetchall())
        with session_scope(ctx.url) as s:
            landed = s.scalar(select(func.count()).select_from(RawFrame).where(RawFrame.gateway == name))
        latencies = [(landed_at[i][k] - starts[i][k]) * 1000 for i in range(DEVICES)
                     for k in range(min(len(starts[i]), len(landed_at[i])))]
        cpu_share = (cpu1 - cpu0) / (wall1 - wall0)
        ok = sent == journaled == landed
        note = (f"sent {sent} · journaled {journaled} · landed {landed}{'' if ok else ' · MISMATCH'} · gateway CPU "
                f"{cpu_share:.1%} of one core ({cpu1 - cpu0:.1f} s in {wall1 - wall0:.0f} s) · {DEVICES} ptys at "
                f"{BAUD} baud, 1 frame/s each; latency = first byte sent -> raw_frame visible; "
                f"raw = one {frame_bytes}-byte frame on the line" + (f" · journal other: {other}" if other else ""))
        raw_ms = frame_bytes * 10 / BAUD * 1000
        if not latencies:
            return Result("gateway_32_tanita", 0, 0, raw_ms, 5000, note=note)
        return Result("gateway_32_tanita", statistics.median(latencies), p95(latencies), raw_ms, 5000, note=note)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        for sim in sims:
            sim.close()
        for p in pairs:
            p.stop()
        _cleanup(ctx, name, session_scope, Device, Observation, RawFrame, recompute_officers)
        shutil.rmtree(tmp, ignore_errors=True)


def _cleanup(ctx, name, session_scope, Device, Observation, RawFrame, recompute_officers) -> None:
    """Remove the bench gateway's rows and restore the touched officers' status."""
    with session_scope(ctx.url) as s:
        officers = set(s.scalars(select(Observation.officer_id).where(Observation.source_id.like(f"{name}-%"))))
        s.execute(delete(Observation).where(Observation.source_id.like(f"{name}-%")))
        s.execute(delete(RawFrame).where(RawFrame.gateway == name))
        s.execute(delete(Device).where(Device.gateway == name))
        if officers:
            recompute_officers(s, sorted(officers))
