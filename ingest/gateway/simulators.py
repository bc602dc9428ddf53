"""Device simulators (one per driver) and pseudo-terminal pairs, for tests, the bench and demos.

A :class:`PtyPair` is ``socat -d -d pty,raw,echo=0,link=DEV pty,raw,echo=0,link=GW``:
the simulator writes to DEV, the gateway reads GW as if it were a serial port.
Stopping socat is unplugging the cable; starting it again is plugging it back.

Simulators can pace their writes at the line's real speed (``pace=True``:
baudrate / 10 bytes per second, as 8N1 sends), and can split frames, add noise,
send bad checksums or junk after a frame.
"""
from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import serial

from ingest import hl7msg
from ingest.gateway import drivers


class PtyPair:
    """A socat pseudo-terminal pair in ``directory``: ``dev`` (device side) and ``gw`` (gateway side)."""

    def __init__(self, directory: str | Path, name: str = "tty"):
        self.directory = Path(directory)
        self.dev = self.directory / f"{name}-dev"
        self.gw = self.directory / f"{name}-gw"
        self.log = self.directory / f"{name}-socat.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 5.0) -> "PtyPair":
        for link in (self.dev, self.gw):
            if link.is_symlink():
                link.unlink()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.dev}", f"pty,raw,echo=0,link={self.gw}"],
                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.dev.exists() and self.gw.exists() and b"starting data transfer loop" in self.log.read_bytes():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"socat did not create {self.dev} and {self.gw}: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        """Unplug: socat ends (SIGTERM) and removes its links."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        for link in (self.dev, self.gw):
            if link.is_symlink():
                link.unlink()

    def __enter__(self) -> "PtyPair":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Simulator:
    """Base: an open device-side port with optional line-speed pacing."""

    driver = ""

    def __init__(self, port: str | Path, baudrate: int = 9600, pace: bool = False, timeout: float = 0.2):
        self.url = str(port)
        self.baudrate = baudrate
        self.pace = pace
        self.timeout = timeout
        self.port = self._open()
        self.sent_frames = 0
        self.lock = threading.Lock()

    def _open(self) -> serial.SerialBase:
        return serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.timeout, write_timeout=5)

    def reopen(self, timeout: float = 5.0) -> None:
        """After a replug: open the (new) device side again."""
        self.close()
        end = time.monotonic() + timeout
        while True:
            try:
                self.port = self._open()
                return
            except (serial.SerialException, OSError):
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # noqa: BLE001 - closing a port whose pty is gone may fail
            pass

    def write(self, data: bytes, pieces: int = 1, gap: float = 0.02) -> None:
        """Write bytes, paced at the line speed, optionally in ``pieces`` with ``gap`` seconds between."""
        with self.lock:
            if pieces > 1:
                cuts = sorted(random.sample(range(1, len(data)), min(pieces - 1, len(data) - 1)))
                chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
            else:
                chunks = [data]
            for i, chunk in enumerate(chunks):
                self._write_paced(chunk)
                if i < len(chunks) - 1:
                    time.sleep(gap)
            self.port.flush()

    def _write_paced(self, data: bytes) -> None:
        if not self.pace:
            self.port.write(data)
            return
        per_byte = 10.0 / self.baudrate
        step = 32
        start = time.monotonic()
        for i in range(0, len(data), step):
            self.port.write(data[i:i + step])
            due = start + (i + step) * per_byte
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def noise(self, n: int = 40, seed: int | None = None) -> bytes:
        """Write ``n`` random bytes that contain no frame marker of any driver."""
        rng = random.Random(seed)
        markers = set(b"{\x02\x03\x0b\x1c\r\n0123456789")
        data = bytes(b for b in (rng.randrange(256) for _ in range(n * 2)) if b not in markers)[:n]
        self.write(data)
        return data


class TanitaSimulator(Simulator):
    """A body-composition analyser: one unrequested line per measurement."""

    driver = "tanita"

    def reading(self, badge: str | None = None, *, weight: float = 70.0, height: float = 170, fat: float = 20.0,
                visceral: int = 8, model: str = "SC-240", sex: int = 1, age: int = 35, bad_checksum: bool = False,
                when: dt.datetime | None = None, date_key: str = "Da") -> bytes:
        bmi = round(weight / (height / 100) ** 2, 1)
        values = {"Bt": 0, "GE": sex, "AG": age, "Hm": f"{height:.1f}", "Pt": "0.0", "Wk": f"{weight:.1f}",
                  "FW": f"{fat:.1f}", "fW": f"{weight * fat / 100:.1f}", "MW": f"{weight * (1 - fat / 100):.1f}",
                  "mW": f"{weight * (1 - fat / 100) * 0.95:.1f}", "MI": f"{bmi:.1f}", "IF": visceral, "rB": 1600}
        return drivers.tanita_frame(values, model=model, ident=badge, when=when, date_key=date_key,
                                    bad_checksum=bad_checksum)

    def send(self, badge: str | None = None, *, pieces: int = 1, junk_after: bytes = b"", **kw) -> bytes:
        frame = self.reading(badge, **kw)
        self.write(frame + junk_after, pieces=pieces)
        self.sent_frames += 1
        return frame


class CardReaderSimulator(Simulator):
    """An ID-card / badge reader: one line per swipe."""

    driver = "card_reader"

    def swipe(self, text: str, ending: bytes = b"\r\n") -> bytes:
        line = text.encode("ascii") + ending
        self.write(line)
        self.sent_frames += 1
        return line


class Hl7Simulator(Simulator):
    """An all-in-one health-check machine: ORU^R01 over MLLP, waits for each ACK."""

    driver = "hl7"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.control = 0

    def send(self, ident: str, observations: list[tuple[str, float, str]], wait_ack: float = 5.0,
             raw: bytes | None = None) -> bytes | None:
        self.control += 1
        message = raw if raw is not None else drivers.hl7_oru(ident, observations, control_id=f"M{self.control}")
        self.port.reset_input_buffer()
        self.write(message)
        self.sent_frames += 1
        return self.read_ack(wait_ack) if wait_ack else None

    def read_ack(self, timeout: float = 5.0) -> bytes | None:
        buf = bytearray()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            buf += self.port.read(4096)
            k = buf.find(hl7msg.END)
            if k >= 0:
                return bytes(buf[: k + 2])
        return None


class NibpSimulator(Simulator):
    """A polled blood-pressure module, answering each poll from a background thread."""

    driver = "nibp"

    def __init__(self, *args, counter: int = 0, **kw):
        super().__init__(*args, **kw)
        self.counter = counter
        self.pressure = "000000000"
        self.pulse = 0
        self.error = "00"
        self.bad_next = False
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="nibp-sim", daemon=True)
        self._thread.start()

    def measure(self, sbp: int, dbp: int, pulse: int = 72) -> None:
        with self.lock:
            mean = round(dbp + (sbp - dbp) / 3)
            self.pressure = f"{sbp:03d}{dbp:03d}{mean:03d}"
            self.pulse = pulse
            self.error = "00"
            self.counter += 1

    def fail(self, code: str = "05") -> None:
        with self.lock:
            self.error = code
            self.pressure = "000000000"
            self.counter += 1

    def zero(self) -> None:
        with self.lock:
            self.error = "00"
            self.pressure = "000000000"
            self.pulse = 0
            self.counter += 1

    def answer(self) -> bytes:
        with self.lock:
            bad, self.bad_next = self.bad_next, False
            return drivers.nibp_answer({"S": "0", "M": self.error, "P": self.pressure, "R": f"{self.pulse:03d}",
                                        "N": f"{self.counter:04d}"}, bad_checksum=bad)

    def _serve(self) -> None:
        poll = drivers.nibp_poll()
        buf = bytearray()
        while not self._stop.is_set():
            try:
                data = self.port.read(64)
            except (serial.SerialException, OSError, TypeError, AttributeError):
                time.sleep(0.05)
                continue
            if not data:
                continue
            buf += data
            while True:
                k = buf.find(poll)
                if k < 0:
                    del buf[: max(0, len(buf) - len(poll))]
                    break
                del buf[: k + len(poll)]
                self.polls += 1
                try:
                    self._write_paced(self.answer())
                except (serial.SerialException, OSError):
                    break

    def close(self) -> None:
        super().close()

    def shutdown(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.close()


SIMULATORS = {"tanita": TanitaSimulator, "nibp": NibpSimulator, "hl7": Hl7Simulator, "card_reader": CardReaderSimulator}


def run_simulator(driver: str, port: str, badges: list[str], every: float = 5.0, count: int = 0,
                  bad_every: int = 0, seed: int = 1) -> None:
    """Send plausible readings for ``badges`` forever (or ``count`` times); used by ``portal gateway-sim``."""
    if driver not in SIMULATORS:
        raise SystemExit(f"unknown driver {driver!r}; one of {', '.join(SIMULATORS)}")
    rng = random.Random(seed)
    sim = SIMULATORS[driver](port, pace=True)
    badges = badges or [""]
    n = 0
    try:
        while count == 0 or n < count:
            n += 1
            badge = rng.choice(badges)
            bad = bool(bad_every) and n % bad_every == 0
            if driver == "tanita":
                sim.send(badge or None, weight=round(rng.gauss(72, 10), 1), height=round(rng.gauss(172, 6)),
                         fat=round(rng.uniform(12, 32), 1), visceral=rng.randint(3, 16), bad_checksum=bad)
            elif driver == "nibp":
                if bad:
                    sim.bad_next = True
                sim.measure(int(rng.gauss(128, 15)), int(rng.gauss(82, 9)), int(rng.gauss(74, 8)))
            elif driver == "hl7":
                sim.send(badge, [("8480-6", int(rng.gauss(128, 15)), "mm[Hg]"), ("8462-4", int(rng.gauss(82, 9)),
                                                                                  "mm[Hg]"),
                                 ("29463-7", round(rng.gauss(72, 10), 1), "kg")])
            else:
                sim.swipe(("X" if bad else "") + badge)
            print(f"{driver}: sent reading {n}" + (" (bad checksum)" if bad else ""), flush=True)
            time.sleep(every)
    except KeyboardInterrupt:
        pass
    finally:
        if isinstance(sim, NibpSimulator):
            sim.shutdown()
        else:
            sim.close()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` passes (None)."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            return None
        time.sleep(interval)


__all__ = ["PtyPair", "Simulator", "TanitaSimulator", "NibpSimulator", "Hl7Simulator", "CardReaderSimulator",
           "SIMULATORS", "run_simulator", "wait_for"]
