"""Framers and parsers for the station devices: bytes in, outcomes out. No I/O, no clock.

Each driver is a :class:`Protocol` object that is fed whatever the port delivers
(``feed``), told when the port has been quiet (``idle``) or lost (``flush``), and
answers with :class:`Outcome` objects, one per frame or run of noise:

- ``ok``: a frame that parsed (a reading, a card swipe);
- ``rejected``: a frame that failed its checksum, could not be parsed, or carried
  no usable reading (device error codes, all-zero pressure) - with the reason;
- ``idle``: a polled device's answer that holds no new reading;
- ``noise``: bytes between frames that belong to no frame (a sample is kept).

Buffers are bounded: a frame longer than the driver's limit is cut and rejected,
and noise is counted with only its first bytes kept, so a long run of garbage
never grows memory. Whitespace and NUL bytes between frames (the junk some
models send after a frame) are dropped silently.

ID-card numbers never appear in ``parsed``: only the masked form. The forwarder
recovers the number for hashing with :func:`ident_secret` (parsing is pure, so
parsing the journaled raw bytes again gives the same answer).
"""
from __future__ import annotations

import abc

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable

from ingest import harmonise as hz
from ingest import hl7msg, idcard
from models.clinical import CANONICAL_UNITS, convert
from models.items import LOINC, plausible_range

DRIVERS = ("tanita", "nibp", "hl7", "card_reader")
IGNORABLE = frozenset(b"\r\n\t \x00")
NOISE_SAMPLE = 256  # bytes of a noise run kept in the journal
NOISE_EMIT = 64 * 1024  # a noise run is reported at the latest after this many bytes
PARTIAL_TIMEOUT = 5.0  # seconds of silence after which a started frame is given up

@dataclass
class Outcome:
    raw: bytes
    status: str  # ok / rejected / idle / noise
    reason: str | None = None
    parsed: dict[str, Any] | None = None
    reply: bytes | None = None  # bytes to write back to the device (HL7 ACK)
    noise_bytes: int = 0  # for noise: how many bytes the run had (raw keeps a sample)


# --------------------------------------------------------------------------- identities
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID18_IN_BYTES = re.compile(rb"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_BADGE = re.compile(r"^[0-9A-Za-z-]{1,20}$")


def normalise_badge(badge: str) -> str:
    """Badges compare without leading zeros: '0012345' == '12345'."""
    return str(badge).strip().lstrip("0")


def identify(text: str | None) -> dict[str, Any]:
    """What an ID field or a card swipe says about who it is.

    {} (nobody: empty or all zeros), {"kind": "badge", "badge": ...},
    {"kind": "id_card", "masked": ...} or {"kind": "invalid", "masked"/"text": ..., "why": ...}."""
    s = (text or "").strip().strip('"').strip().replace(" ", "")
    if not s or set(s) == {"0"}:
        return {}
    up = s.upper()
    if _ID18.match(up):
        if idcard.is_valid(up):
            return {"kind": "id_card", "masked": idcard.mask(up)}
        return {"kind": "invalid", "masked": idcard.mask(up), "why": "ID number fails the GB 11643 check"}
    if _BADGE.match(s):
        return {"kind": "badge", "badge": s, "normalised": normalise_badge(s)}
    return {"kind": "invalid", "text": s[:40], "why": "neither an ID number nor a badge"}


def redact(raw: bytes) -> bytes:
    """The raw bytes with every 18-character ID number masked (what leaves the station host)."""
    return _ID18_IN_BYTES.sub(lambda m: idcard.mask(m.group(0).decode("ascii")).encode("ascii"), raw)


def _check_ranges(values: dict[str, float]) -> str | None:
    """Why a reading is implausible (a value outside its item's range, ``models.items``), or None."""
    for code, value in values.items():
        lo, hi = plausible_range(code)
        if not lo <= value <= hi:
            return f"implausible {code} {value:g} (expected {lo:g}-{hi:g})"
    return None


# --------------------------------------------------------------------------- framers
class _Framer:
    """Start/end-marker framing with resync, bounded buffers and noise accounting.

    ``start`` None means a line protocol: any byte that is not a separator starts a frame."""

    def __init__(self, start: bytes | None, ends: tuple[bytes, ...], max_frame: int,
                 plausible: Callable[[bytes], bool] | None = None, plausible_len: int = 0):
        self.start = start
        self.ends = ends
        self.max_frame = max_frame
        # a start marker followed by bytes no frame begins with is noise, not a frame (resync one byte on)
        self.plausible = plausible
        self.plausible_len = plausible_len
        self.buf = bytearray()  # the frame being collected (starts with ``start``)
        self.scan = 0  # how far ``buf`` has been searched for an end marker
        self.skip_line = False  # line protocols: discarding the rest of an over-long line
        self.noise = bytearray()  # sample of the current noise run
        self.noise_count = 0
        self.quiet = 0.0

    # -- noise
    def _add_noise(self, data: bytes, out: list) -> None:
        junk = bytes(data).lstrip(b"\r\n\t \x00") if self.noise_count == 0 else bytes(data)
        if not junk:
            return
        room = NOISE_SAMPLE - len(self.noise)
        if room > 0:
            self.noise += junk[:room]
        self.noise_count += len(junk)
        if self.noise_count >= NOISE_EMIT:
            self._emit_noise(out)

    def _emit_noise(self, out: list) -> None:
        if self.noise_count:
            kept = len(self.noise)
            reason = f"noise: {self.noise_count} bytes outside any frame"
            if kept < self.noise_count:
                reason += f" (first {kept} kept)"
            out.append(Outcome(bytes(self.noise), "noise", reason, noise_bytes=self.noise_count))
        self.noise = bytearray()
        self.noise_count = 0

    def _end(self) -> tuple[int, int]:
        """Position and length of the first end marker in ``buf`` (searching only new bytes)."""
        first = len(self.start) if self.start else 0
        best, blen = -1, 0
        for end in self.ends:
            k = self.buf.find(end, max(first, self.scan - len(end) + 1))
            if k >= 0 and (best < 0 or k < best):
                best, blen = k, len(end)
        return best, blen

    # -- frames
    def feed(self, data: bytes) -> list:
        """Frames found as (raw, framing error or None); noise runs as Outcome objects."""
        out: list = []
        self.quiet = 0.0
        pending = bytes(data)
        while pending:
            if not self.buf:
                if self.start is None:
                    if self.skip_line:
                        cut = min((k for k in (pending.find(b"\r"), pending.find(b"\n")) if k >= 0), default=-1)
                        if cut < 0:
                            self._add_noise(pending, out)
                            break
                        self._add_noise(pending[:cut], out)
                        self.skip_line = False
                        pending = pending[cut:]
                    k = 0
                    while k < len(pending) and pending[k] in IGNORABLE:
                        k += 1
                    pending = pending[k:]
                    if not pending:
                        break
                else:
                    k = pending.find(self.start)
                    if k < 0:
                        self._add_noise(pending, out)
                        break
                    self._add_noise(pending[:k], out)
                    pending = pending[k:]
                self.scan = 0
            self.buf += pending
            pending = b""
            if self.plausible is not None and not self.plausible(bytes(self.buf[: self.plausible_len])):
                self._add_noise(self.buf[:1], out)
                pending = bytes(self.buf[1:])
                self.buf = bytearray()
                continue
            end_pos, end_len = self._end()
            restart = self.buf.find(self.start, max(len(self.start), self.scan)) if self.start else -1
            first = min(p for p in (restart, end_pos + end_len if end_pos >= 0 else -1, len(self.buf)) if p >= 0)
            if first > self.max_frame:
                frame = bytes(self.buf[: self.max_frame])
                pending = bytes(self.buf[self.max_frame:])
                self.buf = bytearray()
                self._emit_noise(out)
                out.append((frame, f"frame longer than {self.max_frame} bytes"))
                if self.start is None:
                    self.skip_line = True
                continue
            if restart >= 0 and (end_pos < 0 or restart < end_pos):
                frame = bytes(self.buf[:restart])
                pending = bytes(self.buf[restart:])
                self.buf = bytearray()
                self._emit_noise(out)
                out.append((frame[: self.max_frame], "truncated: a new frame started before this one ended"))
                continue
            if end_pos >= 0:
                frame = bytes(self.buf[: end_pos + end_len])
                pending = bytes(self.buf[end_pos + end_len:])
                self.buf = bytearray()
                self._emit_noise(out)
                out.append((frame, None))
                continue
            self.scan = len(self.buf)
        return out

    def idle(self, seconds: float) -> list:
        """The port has been quiet for ``seconds`` more."""
        out: list = []
        self.quiet += seconds
        if self.noise_count and self.quiet >= 0.3:
            self._emit_noise(out)
        if self.buf and self.quiet >= PARTIAL_TIMEOUT:
            out.append((bytes(self.buf), f"incomplete frame: no end marker after {PARTIAL_TIMEOUT:g} s"))
            self.buf = bytearray()
        return out

    def flush(self) -> list:
        """The port was lost: whatever was pending is reported now."""
        out: list = []
        self._emit_noise(out)
        if self.buf:
            out.append((bytes(self.buf), "incomplete frame: port lost before its end"))
            self.buf = bytearray()
        self.skip_line = False
        return out

    @property
    def buffered(self) -> int:
        """Bytes held in memory (frame being collected + noise sample)."""
        return len(self.buf) + len(self.noise)


class Protocol(abc.ABC):
    """One device's protocol: framing + parsing (+ polling, + replies)."""

    driver = ""
    poll_seconds: float | None = None

    def __init__(self, options: dict[str, Any] | None = None):
        self.options = dict(options or {})
        self.framer = self._framer()

    @abc.abstractmethod
    def _framer(self) -> _Framer:
        """The framer that cuts this device's byte stream into frames."""

    @abc.abstractmethod
    def parse(self, raw: bytes) -> Outcome:
        """One frame's reading (or the reason it is rejected)."""

    def _outcomes(self, items: list) -> list[Outcome]:
        out = []
        for item in items:
            if isinstance(item, Outcome):
                out.append(item)
                continue
            raw, error = item
            if error:
                out.append(self.reject_framing(raw, error))
            else:
                try:
                    out.append(self.parse(raw))
                except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the frame
                    out.append(Outcome(raw, "rejected", f"parser error: {type(exc).__name__}: {exc}"))
        return out

    def reject_framing(self, raw: bytes, error: str) -> Outcome:
        return Outcome(raw, "rejected", error)

    def feed(self, data: bytes) -> list[Outcome]:
        return self._outcomes(self.framer.feed(data))

    def idle(self, seconds: float) -> list[Outcome]:
        return self._outcomes(self.framer.idle(seconds))

    def flush(self) -> list[Outcome]:
        return self._outcomes(self.framer.flush())

    def poll_request(self) -> bytes | None:
        return None


# --------------------------------------------------------------------------- Tanita
TANITA_HEADER = b"{0,16,~0,1,~1,1,~2,1,MO,"
TANITA_CODES = {"Hm": "height_cm", "Wk": "weight_kg", "FW": "body_fat_pct", "MI": "bmi", "IF": "visceral_fat"}
TANITA_EXTRA = {"mW": "muscle_kg", "MW": "fat_free_kg", "fW": "fat_kg", "bW": "bone_kg", "wW": "water_kg",
                "rB": "bmr_kcal", "rA": "metabolic_age", "GE": "sex", "AG": "age", "Bt": "body_type"}


def tanita_checksum(body: bytes) -> str:
    """Two upper-case hex digits: the byte sum from '{' up to and including the comma before CS, mod 256."""
    return f"{sum(body) % 256:02X}"


def _tokens(text: str) -> list[str]:
    """Split on commas, keeping commas inside double quotes."""
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _unquote(v: str) -> str:
    v = v.strip()
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v


def _tanita_device_time(keys: dict[str, str]) -> str | None:
    tm = _unquote(keys.get("TI", "")) or "00:00"
    try:
        if "Da" in keys:
            day = dt.datetime.strptime(_unquote(keys["Da"]), "%d/%m/%Y").date()
        elif "DA" in keys:
            day = dt.datetime.strptime(_unquote(keys["DA"]), "%y/%m/%d").date()
        elif "DT" in keys:
            day = dt.datetime.strptime(_unquote(keys["DT"]), "%Y/%m/%d").date()
        else:
            return None
        hh, mm = (int(x) for x in tm.split(":")[:2])
        return dt.datetime.combine(day, dt.time(hh, mm)).isoformat(timespec="minutes")
    except (ValueError, TypeError):
        return None


def parse_tanita(raw: bytes) -> Outcome:
    line = raw.rstrip(b"\r\n")
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        return Outcome(raw, "rejected", "non-ASCII bytes in frame")
    if not text.startswith("{"):
        return Outcome(raw, "rejected", "frame does not start with '{'")
    cut = text.rfind(",CS,")
    if cut < 0:
        return Outcome(raw, "rejected", "no checksum field (CS)")
    body = line[: cut + 1]
    given = text[cut + 4:].strip().upper()
    if not re.fullmatch(r"[0-9A-F]{2}", given):
        return Outcome(raw, "rejected", f"checksum field is not two hex digits: {given[:8]!r}")
    computed = tanita_checksum(body)
    if given != computed:
        return Outcome(raw, "rejected", f"checksum mismatch: frame says {given}, bytes sum to {computed}")
    tokens = _tokens(text[1:cut])
    if len(tokens) % 2:
        return Outcome(raw, "rejected", f"odd number of fields ({len(tokens)}): not key,value pairs")
    keys: dict[str, str] = {}
    for k, v in zip(tokens[0::2], tokens[1::2]):
        keys[k.strip()] = v.strip()
    if keys.get("~0", "1") != "1":
        return Outcome(raw, "rejected", f"non-metric units (~0,{keys['~0']}): set the analyser to kg/cm")
    values: dict[str, float] = {}
    for key, code in TANITA_CODES.items():
        if key in keys and _unquote(keys[key]) != "":
            try:
                values[code] = float(_unquote(keys[key]))
            except ValueError:
                return Outcome(raw, "rejected", f"bad number for {key}: {keys[key][:20]!r}")
    if "weight_kg" not in values:
        return Outcome(raw, "rejected", "no weight (Wk) in frame")
    if values.get("height_cm") == 0:
        values.pop("height_cm")
    problem = _check_ranges(values)
    if problem:
        return Outcome(raw, "rejected", problem)
    if "bmi" not in values and "height_cm" in values:
        values["bmi"] = round(values["weight_kg"] / (values["height_cm"] / 100) ** 2, 1)
    extra = {}
    for key, name in TANITA_EXTRA.items():
        if key in keys:
            try:
                extra[name] = float(_unquote(keys[key]))
            except ValueError:
                extra[name] = _unquote(keys[key])[:20]
    parsed = {"kind": "reading", "model": _unquote(keys.get("MO", ""))[:20] or None,
              "serial": _unquote(keys.get("SN", ""))[:20] or None, "values": values,
              "ident": identify(keys.get("ID")), "device_time": _tanita_device_time(keys), "extra": extra}
    return Outcome(raw, "ok", None, parsed)


class Tanita(Protocol):
    """Unrequested ASCII lines '{0,16,~0,1,...,CS,XX' CR LF; read continuously."""

    driver = "tanita"

    def _framer(self) -> _Framer:
        return _Framer(b"{", (b"\r", b"\n"), int(self.options.get("max_frame", 2048)),
                       plausible=lambda head: b"{0,"[: len(head)] == head, plausible_len=3)

    def parse(self, raw: bytes) -> Outcome:
        return parse_tanita(raw)


def tanita_frame(values: dict[str, Any], *, model: str = "SC-240", ident: str | None = None,
                 when: dt.datetime | None = None, date_key: str = "Da", bad_checksum: bool = False) -> bytes:
    """Build a Tanita frame (simulators, tests). ``values`` are Tanita keys: Hm, Wk, FW, MI, IF ..."""
    parts = ["{0,16,~0,1,~1,1,~2,1", f'MO,"{model}"']
    if ident is not None:
        parts.append(f'ID,"{ident}"')
    if when is not None:
        fmt = {"Da": "%d/%m/%Y", "DA": "%y/%m/%d", "DT": "%Y/%m/%d"}[date_key]
        parts.append(f'{date_key},"{when:{fmt}}"')
        parts.append(f'TI,"{when:%H:%M}"')
    for k, v in values.items():
        parts.append(f"{k},{v}")
    body = (",".join(parts) + ",").encode("ascii")
    cs = tanita_checksum(body)
    if bad_checksum:
        cs = f"{(int(cs, 16) + 1) % 256:02X}"
    return body + f"CS,{cs}\r\n".encode("ascii")


# --------------------------------------------------------------------------- NIBP
STX, ETX, CR = b"\x02", b"\x03", b"\r"


def nibp_checksum(text: bytes) -> str:
    return f"{sum(text) % 256:02X}"


def nibp_poll(command: str = "18") -> bytes:
    """The poll the host sends: STX "18;;" CS ETX -> b"\\x0218;;DF\\x03"."""
    text = f"{command};;".encode("ascii")
    return STX + text + nibp_checksum(text).encode("ascii") + ETX


def nibp_answer(fields: dict[str, str], bad_checksum: bool = False) -> bytes:
    """A module's answer (simulators, tests): STX S..;M..;P..;R..;N..; CS ETX CR."""
    text = "".join(f"{k}{v};" for k, v in fields.items()).encode("ascii")
    cs = nibp_checksum(text)
    if bad_checksum:
        cs = f"{(int(cs, 16) + 7) % 256:02X}"
    return STX + text + cs.encode("ascii") + ETX + CR


def parse_nibp(raw: bytes) -> Outcome:
    """Checksum and fields of one answer; whether it is a *new* reading is NibpTracker's call."""
    if not raw.startswith(STX) or not raw.rstrip(CR).endswith(ETX):
        return Outcome(raw, "rejected", "not an STX ... ETX frame")
    body = raw.rstrip(CR)[1:-1]
    if len(body) < 2:
        return Outcome(raw, "rejected", "frame too short for a checksum")
    text, given = body[:-2], body[-2:].decode("ascii", "replace").upper()
    computed = nibp_checksum(text)
    if given != computed:
        return Outcome(raw, "rejected", f"checksum mismatch: frame says {given}, bytes sum to {computed}")
    try:
        fields_text = text.decode("ascii")
    except UnicodeDecodeError:
        return Outcome(raw, "rejected", "non-ASCII bytes in frame")
    fields: dict[str, str] = {}
    for part in fields_text.split(";"):
        part = part.strip()
        if part and part[0].isalpha():
            fields[part[0].upper()] = part[1:]
    parsed: dict[str, Any] = {"kind": "nibp", "status": fields.get("S"), "error": fields.get("M"),
                              "counter": fields.get("N")}
    p = fields.get("P")
    if p is not None:
        if not re.fullmatch(r"\d{9}", p):
            return Outcome(raw, "rejected", f"P is not nine digits: {p[:12]!r}", parsed)
        sbp, dbp, mean = int(p[0:3]), int(p[3:6]), int(p[6:9])
        parsed["mean"] = mean
        parsed["values"] = {"sbp": float(sbp), "dbp": float(dbp)}
        r = fields.get("R", "")
        if r.strip().isdigit() and int(r) > 0:
            parsed["values"]["pulse"] = float(int(r))
    return Outcome(raw, "ok", None, parsed)


class Nibp(Protocol):
    """Polled blood-pressure module. A changed counter N means a new measurement.

    ``last_counter`` is the counter of the last answer seen (restored from the
    journal after a restart). With no counter known yet, the first answer only
    primes it: a stored measurement of unknown age is not attributed to whoever
    stands at the kiosk now."""

    driver = "nibp"

    def __init__(self, options: dict[str, Any] | None = None, last_counter: str | None = None):
        super().__init__(options)
        self.poll_seconds = float(self.options.get("poll_seconds", 2.0))
        self.command = str(self.options.get("command", "18"))
        self.last_counter = last_counter

    def _framer(self) -> _Framer:
        return _Framer(STX, (ETX,), int(self.options.get("max_frame", 256)),
                       plausible=lambda head: len(head) < 2 or 0x20 < head[1] < 0x7F, plausible_len=2)

    def poll_request(self) -> bytes:
        return nibp_poll(self.command)

    def parse(self, raw: bytes) -> Outcome:
        out = parse_nibp(raw)
        if out.status != "ok":
            return out
        parsed = out.parsed
        parsed["kind"] = "reading"
        counter = parsed.get("counter")
        if counter in (None, ""):
            return Outcome(raw, "rejected", "no measurement counter (N) in answer", parsed)
        previous, self.last_counter = self.last_counter, counter
        if previous is None:
            parsed["kind"] = "nibp_status"
            return Outcome(raw, "idle", "first answer: measurement counter primed", parsed)
        if counter == previous:
            parsed["kind"] = "nibp_status"
            return Outcome(raw, "idle", None, parsed)
        error = (parsed.get("error") or "").strip()
        if error and set(error) != {"0"}:
            return Outcome(raw, "rejected", f"device error code M{error}: no reading", parsed)
        values = parsed.get("values")
        if not values:
            return Outcome(raw, "rejected", "new measurement without pressures (P)", parsed)
        if values["sbp"] == 0 and values["dbp"] == 0:
            return Outcome(raw, "rejected", "all-zero pressures (P000000000): no reading", parsed)
        problem = _check_ranges(values)
        if problem:
            return Outcome(raw, "rejected", problem, parsed)
        parsed["ident"] = {}
        return Outcome(raw, "ok", None, parsed)


# --------------------------------------------------------------------------- HL7 over MLLP
GATEWAY_APP = "JINGKANG-GW"  # MSH-3 of the gateway's ACKs
# OBX-3 code -> (canonical code, the unit it implies): the LOINC codes of measured items, or the canonical code
HL7_CODES: dict[str, tuple[str, str | None]] = {
    **{loinc: target for loinc, target in LOINC.items() if target[0] in CANONICAL_UNITS},
    **{c: (c, None) for c in CANONICAL_UNITS},
}


def _hl7_time(ts: str) -> str | None:
    ts = (ts or "").strip()
    for fmt, n in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12), ("%Y%m%d", 8)):
        if len(ts) >= n:
            try:
                return dt.datetime.strptime(ts[:n], fmt).isoformat(timespec="seconds")
            except ValueError:
                return None
    return None


def _ack(message, code: str, reason: str | None, now: str) -> bytes:
    """The MLLP-framed ACK (``ingest.hl7msg.ack``) the gateway answers with."""
    return hl7msg.frame(hl7msg.ack(message, code, reason or "", application=GATEWAY_APP, now=now))


def parse_hl7(raw: bytes, now: str = "") -> Outcome:
    body = hl7msg.unframe(raw)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = body.decode("gb18030")
        except UnicodeDecodeError:
            reason = "message is neither UTF-8 nor GB18030"
            return Outcome(raw, "rejected", reason, reply=_ack(None, "AE", reason, now))
    try:
        msg = hl7msg.parse(text.strip("\r\n"))
    except hl7msg.NotHL7 as exc:
        reason = "no MSH segment" if str(exc) == "no MSH segment" else f"not a valid HL7 message: {exc}"
        return Outcome(raw, "rejected", reason, reply=_ack(None, "AE", reason, now))
    f = hl7msg.field
    msh = msg.segment("MSH")
    control = f(msh, 10)

    def reject(reason: str, parsed: dict | None = None) -> Outcome:
        return Outcome(raw, "rejected", reason, parsed, reply=_ack(msg, "AE", reason, now))

    if (f(msh, 9, 0, 0), f(msh, 9, 0, 1)) != ("ORU", "R01"):
        mtype = str(msh[9]) if len(msh) > 9 else ""
        return reject(f"unsupported message type {mtype or '(none)'}: only ORU^R01")
    pid = _first(msg, "PID")
    ident_text = f(pid, 3, 0, 0) if pid is not None else ""
    obr = _first(msg, "OBR")
    when = _hl7_time(f(obr, 7)) if obr is not None else None
    values: dict[str, float] = {}
    skipped: list[str] = []
    for obx in (s for s in msg if str(s[0]) == "OBX"):
        code = f(obx, 3, 0, 0).strip()
        canonical, implied = HL7_CODES.get(code) or HL7_CODES.get(code.lower()) or (None, None)
        status = (f(obx, 11).strip() or "F").upper()
        if canonical is None or status in ("X", "D", "W"):
            skipped.append(f(obx, 3, 0, 1) or code or "?")
            continue
        try:
            value = float(f(obx, 5, 0, 0))
        except ValueError:
            return reject(f"OBX {code}: value is not a number")
        unit = f(obx, 6, 0, 0).strip() or implied
        if unit:
            try:
                converted = convert(canonical, value, hz.ucum(unit))
            except ValueError:
                return reject(f"OBX {code}: unit {unit.lower()!r} not convertible to {CANONICAL_UNITS[canonical]}")
            value = converted if converted == value else round(converted, 2)
        values[canonical] = value
    if not values:
        return reject("no OBX with a known code (LOINC or canonical)")
    problem = _check_ranges(values)
    if problem:
        return reject(problem)
    parsed = {"kind": "reading", "message_type": "ORU^R01", "control_id": control[:40], "values": values,
              "ident": identify(ident_text), "device_time": when, "skipped": skipped[:20]}
    return Outcome(raw, "ok", None, parsed, reply=_ack(msg, "AA", None, now))


def _first(msg, name: str):
    """The first segment called ``name``, or None."""
    return next((s for s in msg if str(s[0]) == name), None)


class Hl7(Protocol):
    """ORU^R01 in MLLP frames; every message is answered with an ACK after it is journaled."""

    driver = "hl7"

    def __init__(self, options: dict[str, Any] | None = None, clock=None):
        super().__init__(options)
        self.clock = clock or (lambda: "")

    def _framer(self) -> _Framer:
        return _Framer(hl7msg.START, (hl7msg.END,), int(self.options.get("max_frame", 65536)),
                       plausible=lambda head: b"\x0bMSH"[: len(head)] == head, plausible_len=4)

    def parse(self, raw: bytes) -> Outcome:
        return parse_hl7(raw, self.clock())

    def reject_framing(self, raw: bytes, error: str) -> Outcome:
        return Outcome(raw, "rejected", error, reply=_ack(None, "AE", error, self.clock()))


def hl7_oru(ident: str, observations: list[tuple[str, float, str]], *, control_id: str = "1",
            when: dt.datetime | None = None) -> bytes:
    """An MLLP-wrapped ORU^R01 (simulators, tests): observations as (code, value, unit)."""
    ts = (when or dt.datetime(2026, 1, 1, 8, 0)).strftime("%Y%m%d%H%M%S")
    segs = [f"MSH|^~\\&|HC-ONE|KIOSK|JINGKANG|PORTAL|{ts}||ORU^R01^ORU_R01|{control_id}|P|2.5.1",
            f"PID|1||{ident}^^^POLICE^PN||",
            f"OBR|1|||HEALTHCHECK|||{ts}"]
    for i, (code, value, unit) in enumerate(observations, 1):
        segs.append(f"OBX|{i}|NM|{code}^{code}^LN||{value}|{unit}|||||F")
    return hl7msg.frame("\r".join(segs) + "\r")


# --------------------------------------------------------------------------- card reader
class CardReader(Protocol):
    """One line per swipe: an ID-card number or a badge, ended by CR and/or LF."""

    driver = "card_reader"

    def _framer(self) -> _Framer:
        return _Framer(None, (b"\r", b"\n"), int(self.options.get("max_frame", 64)))

    def parse(self, raw: bytes) -> Outcome:
        line = raw.rstrip(b"\r\n")
        if any(b < 0x20 or b > 0x7E for b in line):
            return Outcome(raw, "rejected", "non-printable bytes in swipe")
        ident = identify(line.decode("ascii"))
        if not ident:
            return Outcome(raw, "rejected", "empty swipe")
        if ident["kind"] == "invalid":
            return Outcome(raw, "rejected", f"card: {ident['why']}", {"kind": "card", "ident": ident})
        return Outcome(raw, "ok", None, {"kind": "card", "ident": ident})


# --------------------------------------------------------------------------- helpers
def make_protocol(driver: str, options: dict[str, Any] | None = None, **state) -> Protocol:
    if driver == "tanita":
        return Tanita(options)
    if driver == "nibp":
        return Nibp(options, last_counter=state.get("last_counter"))
    if driver == "hl7":
        return Hl7(options, clock=state.get("clock"))
    if driver == "card_reader":
        return CardReader(options)
    raise ValueError(f"unknown driver {driver!r}; one of {', '.join(DRIVERS)}")


def ident_secret(driver: str, raw: bytes) -> str | None:
    """The clear ID-card number a journaled frame carries (for the keyed hash), or None."""
    if driver == "tanita":
        out = parse_tanita(raw)
        text = None
        if out.status == "ok":
            m = re.search(rb'(?:^|,)ID,"?([^",]*)"?', raw)
            text = m.group(1).decode("ascii", "replace") if m else None
    elif driver == "card_reader":
        text = raw.rstrip(b"\r\n").decode("ascii", "replace")
    elif driver == "hl7":
        m = re.search(rb"(?:^|\r|\n|\x0b)PID\|[^|]*\|[^|]*\|([^|^~\r]*)", raw)
        text = m.group(1).decode("utf-8", "replace") if m else None
    else:
        return None
    if text is None:
        return None
    s = text.strip().strip('"').replace(" ", "").upper()
    return s if _ID18.match(s) and idcard.is_valid(s) else None


__all__ = ["DRIVERS", "Outcome", "Protocol", "Tanita", "Nibp", "Hl7", "CardReader", "make_protocol",
           "tanita_checksum", "tanita_frame", "parse_tanita", "nibp_poll", "nibp_answer", "parse_nibp",
           "hl7_oru", "parse_hl7", "identify", "normalise_badge", "redact", "ident_secret",
           "HL7_CODES"]
