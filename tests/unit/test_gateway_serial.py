"""The gateway on real pseudo-terminal pairs (socat) with the device simulators.

Good frames, bad checksums, noise, split frames, junk, polled and ACKed devices, card
sessions, unplug and replug, a database outage, SIGKILL mid-stream and a clean SIGTERM.
"""
from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.gateway.devices import DeviceConfig
from ingest.gateway.runner import Gateway, GatewayConfig, load_config
from ingest.gateway.simulators import (CardReaderSimulator, Hl7Simulator, NibpSimulator, PtyPair, TanitaSimulator,
                                       wait_for)
from models.schema import Observation, RawFrame
from tests.unit.test_gateway_forwarder import (ID_NUMBER, STATION, STATION2, Outage, central_frames, count,
                                               make_roster)

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp: Path, url: str, devices: list[DeviceConfig], gateway: str = "gw-pty") -> GatewayConfig:
    return GatewayConfig(journal=tmp / "journal.db", database=url, gateway=gateway, devices=devices,
                         session_minutes=10, forward_seconds=0.1, report_seconds=0.5, secret_key="unused")


def _landed(url: str, n: int, timeout: float = 10.0, gateway: str | None = None):
    return wait_for(lambda: len(central_frames(url, gateway)) >= n or None, timeout, 0.1)


@pytest.fixture()
def central(new_db_url):
    url = new_db_url("gwpty")
    return url, make_roster(url)


@pytest.fixture()
def ptys(tmp_path):
    made: list[PtyPair] = []

    def make(name: str) -> PtyPair:
        pair = PtyPair(tmp_path, name).start()
        made.append(pair)
        return pair

    yield make
    for pair in made:
        pair.stop()


def test_gw020_tanita_good_bad_noise_split_junk_over_pty(central, ptys, tmp_path):
    url, ids = central
    pair = ptys("tanita")
    gw = Gateway(_config(tmp_path, url, [DeviceConfig("tanita-1", "tanita", str(pair.gw), STATION)])).start()
    try:
        sim = TanitaSimulator(pair.dev, pace=True)
        wait_for(lambda: gw.live["tanita-1"].connected, 5)
        sim.send("012345", weight=80.1)
        sim.noise(50, seed=3)
        sim.send("12345", weight=80.2, pieces=5)  # split across many reads
        sim.send("12345", weight=80.3, bad_checksum=True)
        sim.send("12345", weight=80.4, junk_after=b"\x00\r\n\xff\xfe")
        sim.send("0000000000000000", weight=80.5)  # no ID, no card session
        assert _landed(url, 5), central_frames(url)
        gw.stop()
        frames = central_frames(url)
        assert [(f.status, f.parsed["values"]["weight_kg"] if f.parsed else None) for f in frames] == [
            ("ok", 80.1), ("ok", 80.2), ("rejected", None), ("ok", 80.4), ("unassigned", 80.5)]
        assert "checksum mismatch" in frames[2].reason and frames[2].raw.startswith(b"{0,16")
        assert {f.officer_id for f in frames[:2]} == {ids["012345"]}
        j = sqlite3.connect(tmp_path / "journal.db")
        rows = j.execute("SELECT status, noise_bytes, reason FROM frame WHERE status = 'noise' ORDER BY seq").fetchall()
        assert [r[1] for r in rows] == [50, 2]  # the random noise and the junk after a frame
        assert count(url, Observation) == 3 * 5  # height, weight, fat, BMI, visceral fat per accepted frame
    finally:
        gw.stop_event.set()
        sim.close()


def test_gw021_nibp_poll_hl7_ack_and_card_session_over_pty(central, ptys, tmp_path):
    url, ids = central
    card, nibp, hl7 = ptys("card"), ptys("nibp"), ptys("hl7")
    devices = [DeviceConfig("card-1", "card_reader", str(card.gw), STATION),
               DeviceConfig("nibp-1", "nibp", str(nibp.gw), STATION, options={"poll_seconds": 0.2}),
               DeviceConfig("hl7-1", "hl7", str(hl7.gw), STATION2)]
    gw = Gateway(_config(tmp_path, url, devices)).start()
    cs, ns, hs = CardReaderSimulator(card.dev), NibpSimulator(nibp.dev, counter=41), Hl7Simulator(hl7.dev)
    try:
        assert wait_for(lambda: ns.polls >= 2, 5), "the gateway does not poll the NIBP module"
        cs.swipe(ID_NUMBER)
        # the card opens the session: it must be journaled before the reading it covers
        assert wait_for(lambda: gw.journal.rows(device="card-1"), 5), "the card swipe was not journaled"
        ns.measure(148, 96, 77)
        assert wait_for(lambda: ns.polls >= 6, 5)
        ns.fail("05")
        assert wait_for(lambda: ns.polls >= 10, 5)
        ack = hs.send("000777", [("8480-6", 121, "mm[Hg]"), ("8462-4", 79, "mm[Hg]"), ("29463-7", 77.7, "kg")])
        assert ack is not None and b"MSA|AA|M1" in ack
        nack = hs.send("000777", [], raw=b"\x0bMSH|^~\\&|X|Y|Z|W|20260101||ADT^A01|Q9|P|2.5\r\x1c\r")
        assert nack is not None and b"MSA|AE|Q9|unsupported message type ADT\\S\\A01" in nack
        assert _landed(url, 5)
        gw.stop()
        frames = central_frames(url)
        got = sorted((f.device, f.status, f.officer_id) for f in frames)
        assert got == sorted([("card-1", "ok", ids["200001"]), ("nibp-1", "ok", ids["200001"]),
                              ("nibp-1", "rejected", None), ("hl7-1", "ok", ids["000777"]),
                              ("hl7-1", "rejected", None)])
        bp = next(f for f in frames if f.device == "nibp-1" and f.status == "ok")
        assert bp.parsed["values"] == {"sbp": 148.0, "dbp": 96.0, "pulse": 77.0} and bp.parsed["counter"] == "0042"
        assert "M05" in next(f for f in frames if f.device == "nibp-1" and f.status == "rejected").reason
        j = sqlite3.connect(tmp_path / "journal.db")
        idle = j.execute("SELECT count(*) FROM frame WHERE device = 'nibp-1' AND status = 'idle'").fetchone()[0]
        assert idle >= 5  # unchanged counters are journaled as idle answers, not readings
    finally:
        gw.stop_event.set()
        ns.shutdown()
        cs.close()
        hs.close()


def test_gw022_unplug_and_replug_while_other_devices_keep_working(central, ptys, tmp_path, caplog):
    url, ids = central
    one, two = ptys("one"), ptys("two")
    devices = [DeviceConfig("tanita-1", "tanita", str(one.gw), STATION),
               DeviceConfig("tanita-2", "tanita", str(two.gw), STATION2)]
    caplog.set_level(logging.INFO, logger="portal.gateway")
    gw = Gateway(_config(tmp_path, url, devices), max_backoff=0.5).start()
    s1, s2 = TanitaSimulator(one.dev), TanitaSimulator(two.dev)
    try:
        assert wait_for(lambda: gw.live["tanita-1"].connected and gw.live["tanita-2"].connected, 5)
        s1.send("12345", weight=70.1)
        assert _landed(url, 1)
        s1.write(s1.reading("12345", weight=70.2)[:40])  # half a frame, then the cable goes
        framer = next(r for r in gw.readers if r.cfg.name == "tanita-1").protocol.framer
        assert wait_for(lambda: len(framer.buf) >= 40, 5), "the gateway did not read the half frame"
        one.stop()
        assert wait_for(lambda: not gw.live["tanita-1"].connected, 5)
        s2.send("777", weight=88.8)  # the other device is not disturbed
        assert _landed(url, 3)
        # the reader retries with backoff while the port is gone: wait for a failed reopen
        assert wait_for(lambda: "tanita-1: cannot open" in caplog.text, 5), caplog.text
        one.start()
        s1.reopen()
        assert wait_for(lambda: gw.live["tanita-1"].connected, 5)
        s1.send("12345", weight=70.3)
        assert _landed(url, 4)
        gw.stop()
        frames = central_frames(url)
        got = [(f.device, f.status, f.parsed["values"]["weight_kg"] if f.status != "rejected" else f.reason)
               for f in frames]
        assert got == [("tanita-1", "ok", 70.1), ("tanita-1", "rejected", "incomplete frame: port lost before its end"),
                       ("tanita-2", "ok", 88.8), ("tanita-1", "ok", 70.3)]
        text = caplog.text
        assert "tanita-1: port" in text and "lost" in text and "reconnecting" in text
        assert "tanita-1: port" in text and "is back" in text
        assert gw.live["tanita-1"].reconnects == 1 and gw.live["tanita-2"].reconnects == 0
    finally:
        gw.stop_event.set()
        s1.close()
        s2.close()


def test_gw023_database_outage_readings_wait_then_land_in_order(new_db_url, ptys, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="portal.gateway")
    real = new_db_url("gwptyout")
    ids = make_roster(real)
    outage = Outage(real, tmp_path)
    pair = ptys("tanita")
    gw = Gateway(_config(tmp_path, outage.url, [DeviceConfig("tanita-1", "tanita", str(pair.gw), STATION)])).start()
    sim = TanitaSimulator(pair.dev)
    try:
        # the port must be open first: frames written before it are not this test's subject
        assert wait_for(lambda: gw.live["tanita-1"].connected, 10)
        for i in range(8):
            sim.send("12345", weight=60 + i)
            assert wait_for(lambda n=i + 1: gw.journal.backlog().get("tanita-1") == n, 10), f"frame {i} not journaled"
        # the forwarder has tried the central database and failed
        assert wait_for(lambda: "central database unavailable" in caplog.text, 10), caplog.text
        assert gw.journal.cursor == 0  # nothing could be forwarded
        outage.restore()
        assert _landed(outage.url, 8, timeout=20)
        gw.stop()
        frames = central_frames(outage.url)
        assert [f.parsed["values"]["weight_kg"] for f in frames] == [60.0 + i for i in range(8)]
        assert [f.journal_seq for f in frames] == sorted(f.journal_seq for f in frames)
        assert {f.officer_id for f in frames} == {ids["012345"]} and count(outage.url, RawFrame) == 8
    finally:
        gw.stop_event.set()
        sim.close()
        outage.close()


# --------------------------------------------------------------------------- the command as a process
def _write_toml(tmp: Path, url: str, pair: PtyPair, gateway: str) -> Path:
    path = tmp / "gateway.toml"
    path.write_text(f'''gateway = "{gateway}"
journal = "journal.db"
database = "{url}"
forward_seconds = 0.1
report_seconds = 0.5
secret_key = "unused"

[[device]]
name = "tanita-1"
driver = "tanita"
port = "{pair.gw}"
baudrate = 9600
station = "{STATION}"
''', encoding="utf-8")
    cfg = load_config(path)
    assert cfg.journal == tmp / "journal.db" and cfg.devices[0].stale_minutes == 1440
    return path


def _spawn(config: Path, tmp: Path, log_name: str, command: bool = True) -> tuple[subprocess.Popen, Path]:
    """Start the gateway as a process: ``portal gateway`` or (lighter) ``python -m ingest.gateway.runner``."""
    log = tmp / log_name
    env = dict(os.environ, PYTHONPATH=str(ROOT), PORTAL_INSTANCE=str(tmp / "instance"))
    module = ["portal", "gateway"] if command else ["ingest.gateway.runner"]
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", *module, "--config", str(config)],
                                cwd=tmp, env=env, stdout=fh, stderr=subprocess.STDOUT)
    assert wait_for(lambda: b"connected to" in log.read_bytes() or b"is back" in log.read_bytes(), 20), \
        log.read_text(errors="replace")
    return proc, log


def _journaled_weights(tmp: Path) -> list[float]:
    import json

    with sqlite3.connect(tmp / "journal.db") as j:
        rows = j.execute("SELECT parsed FROM frame WHERE status = 'ok' ORDER BY seq").fetchall()
    return [json.loads(p)["values"]["weight_kg"] for (p,) in rows]


def test_gw024_sigkill_mid_stream_then_restart_loses_and_duplicates_nothing(central, ptys, tmp_path):
    """Everything the gateway received lands exactly once. Bytes still in the pty when the process
    dies were never received (like a real UART with nobody listening): at most the last ~0.3 s."""
    url, ids = central
    pair = ptys("tanita")
    config = _write_toml(tmp_path, url, pair, "gw-kill")
    proc, _ = _spawn(config, tmp_path, "run1.log", command=False)
    sim = TanitaSimulator(pair.dev)
    sent_before, sent_after = [], []
    try:
        for i in range(40):
            w = round(50 + i * 0.1, 1)
            sim.send("12345", weight=w)
            sent_before.append(w)
            time.sleep(0.02)  # the device's frame rate (a stream to kill the process in), not a wait
            if i == 20:  # the gateway is really receiving (however busy the machine) before the kill
                assert wait_for(lambda: len(_journaled_weights(tmp_path)) >= 10 or None, 20, 0.05)
            if i == 25:
                proc.send_signal(signal.SIGKILL)  # mid-stream, while frames arrive and are forwarded
                proc.wait(5)
                break
        journaled_before = _journaled_weights(tmp_path)
        assert len(journaled_before) >= 10
        assert journaled_before == sent_before[: len(journaled_before)]  # a prefix: nothing skipped
        proc, log = _spawn(config, tmp_path, "run2.log", command=False)
        sim.port.reset_output_buffer()
        for i in range(10):
            w = round(70 + i * 0.1, 1)
            sim.send("12345", weight=w)
            sent_after.append(w)
            time.sleep(0.02)  # the same frame rate after the restart; the waits below check the effect
        journaled = _journaled_weights(tmp_path)
        assert wait_for(lambda: len(_journaled_weights(tmp_path)) == len(journaled_before) + 10, 10)
        assert _landed(url, len(journaled_before) + 10, timeout=15)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        frames = central_frames(url)
        weights = [f.parsed["values"]["weight_kg"] for f in frames]
        journaled = _journaled_weights(tmp_path)
        assert weights == journaled  # every received frame, once, in order
        assert len(set(weights)) == len(weights)
        assert weights[-10:] == sent_after
        assert set(weights) <= set(sent_before) | set(sent_after)
        assert count(url, Observation) == 5 * len(weights)
        assert "stopped" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        sim.close()


def test_gw025_sigterm_stops_cleanly_and_restart_resumes_backlog(new_db_url, ptys, tmp_path):
    real = new_db_url("gwterm")
    make_roster(real)
    outage = Outage(real, tmp_path)
    pair = ptys("tanita")
    config = _write_toml(tmp_path, outage.url, pair, "gw-term")
    proc, log = _spawn(config, tmp_path, "run1.log")
    sim = TanitaSimulator(pair.dev)
    try:
        for i in range(5):
            sim.send("12345", weight=90 + i)
        assert wait_for(lambda: len(_journaled_weights(tmp_path)) == 5, 10)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        text = log.read_text()
        assert "received SIGTERM; stopping" in text and "central database unavailable" in text
        assert "5 frames stay in the journal" in text
        outage.restore()
        proc, log = _spawn(config, tmp_path, "run2.log")
        assert "(5 frames waiting)" in log.read_text()
        assert _landed(outage.url, 5, timeout=15)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        assert [f.parsed["values"]["weight_kg"] for f in central_frames(outage.url)] == [90.0, 91.0, 92.0, 93.0, 94.0]
    finally:
        if proc.poll() is None:
            proc.kill()
        sim.close()
        outage.close()
