"""HL7 v2 on python-hl7: MLLP framing, splitting, parsing, field access, escaping and the ACK.

The one place the portal reads and answers HL7, used by hospital files
(``ingest.hospital``), the MLLP listener (``ingest.mllp``) and the gateway's HL7
driver (``ingest.gateway.drivers``), so the three answer a message the same way.
"""
from __future__ import annotations

import datetime as dt
import re

import hl7

__all__ = ["START", "END", "NotHL7", "frame", "unframe", "split_messages", "parse", "field", "escape", "ack",
           "timestamp"]

START, END = b"\x0b", b"\x1c\x0d"   # MLLP: 0x0B message 0x1C 0x0D
ENVELOPE = ("FHS", "BHS", "FTS", "BTS")  # batch and file header/trailer segments: not part of a message
_ENCODING = hl7.parse("MSH|^~\\&|\r")    # the default delimiters, for escaping
_STAND_IN = "MSH|^~\\&|||||||^R01||P|2.5.1\r"  # answered when the incoming message cannot be read


class NotHL7(ValueError):
    """The text is not an HL7 v2 message python-hl7 can parse."""


def frame(message: str | bytes) -> bytes:
    """One message in an MLLP frame (text is sent as UTF-8)."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    return START + data + END


def unframe(data: bytes) -> bytes:
    """The message of an MLLP frame (the bytes unchanged when they are not framed)."""
    if data.startswith(START):
        data = data[1:]
    if data.endswith(END):
        data = data[:-2]
    return data


def split_messages(text: str) -> list[str]:
    """The messages of a text (one or many, any line ending), each with segments joined by CR;
    FHS/BHS/FTS/BTS envelope segments and anything before the first MSH are left out."""
    messages: list[list[str]] = []
    for line in re.split(r"\r\n|\r|\n", text):
        line = line.strip()
        if not line or line[:3] in ENVELOPE:
            continue
        if line.startswith("MSH"):
            messages.append([line])
        elif messages:
            messages[-1].append(line)
    return ["\r".join(m) for m in messages]


def parse(text: str) -> hl7.Message:
    """One message; NotHL7 (with python-hl7's reason) when it cannot be parsed."""
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    if not text.startswith("MSH") or len(text) < 8:
        raise NotHL7("no MSH segment")
    try:
        msg = hl7.parse(text if text.endswith("\r") else text + "\r")
        msg.segment("MSH")
    except Exception as exc:  # python-hl7 raises several types for malformed input
        raise NotHL7(str(exc) or type(exc).__name__) from None
    return msg


def field(segment, index: int, rep: int = 0, comp: int = 0) -> str:
    """Field ``index``, repetition ``rep``, component ``comp`` (0-based) of a segment as text, '' when absent.
    For MSH, ``index`` is the HL7 field number (MSH-9 is ``field(msh, 9)``), as for every segment."""
    try:
        value = segment[index]
    except (IndexError, KeyError):
        return ""
    try:
        value = value[rep]
        if isinstance(value, list):
            value = value[comp]
            while isinstance(value, list):
                value = value[0]
        elif comp:
            return ""
    except (IndexError, TypeError):
        return "" if comp or rep else str(value)
    return str(value)


def escape(text: str) -> str:
    """Text made safe for one field: delimiters escaped by python-hl7 (| ^ ~ & and the escape
    character), line breaks made spaces. Non-ASCII characters are kept as they are (messages are
    UTF-8; python-hl7 would turn them into hex escapes a Chinese receiver cannot read)."""
    text = re.sub(r"[\r\n]+", " ", text)
    return "".join(ch if ord(ch) > 0x7E else _ENCODING.escape(ch) for ch in text)


def timestamp(when: dt.datetime | None = None) -> str:
    """An HL7 DTM to the second (local time)."""
    return (when or dt.datetime.now()).strftime("%Y%m%d%H%M%S")


def ack(message: str | hl7.Message | None, code: str, text: str = "", *, application: str | None = None,
        now: str | None = None) -> str:
    """The ACK for ``message`` (``hl7.Message.create_ack``): AA, AE or AR, with ``text`` in MSA-3 and,
    when not AA, in ERR-8 (severity E in ERR-4).

    Sending application ``application`` (default: the message's receiving application, else PORTAL),
    sending facility the message's receiving facility (else JINGKANG); receiver = the sender;
    MSH-10 ``ACK<time><control id>``; MSH-7 ``now`` (default: the current time). A message that
    cannot be read (or None) is answered all the same, with an empty control id."""
    source = message if isinstance(message, hl7.Message) else None
    if source is None:
        try:
            source = parse(message or "")
        except NotHL7:
            source = hl7.parse(_STAND_IN)
    stamp = timestamp() if now is None else now
    try:
        msh, out = _create_ack(source, code, stamp, application)
    except Exception:  # noqa: BLE001 - an MSH python-hl7 parsed but cannot answer (too few fields)
        msh, out = _create_ack(hl7.parse(_STAND_IN), code, stamp, application)
    head = out.segment("MSH")
    head.assign_field(stamp, 7)
    if not field(msh, 9, 0, 1):
        head.assign_field("R01", 9, 1, 2)
    if not field(msh, 11):
        head.assign_field("P", 11)
    if not field(msh, 12):
        head.assign_field("2.5.1", 12)
    clean = escape(text[:200]) if text else ""
    if clean:
        out.segment("MSA").assign_field(clean, 3)
        if code != "AA":
            err = out.create_segment([out.create_field(["ERR"])])
            err.assign_field("E", 4)
            err.assign_field(clean, 8)
            out.append(err)
    result = str(out)
    return result if result.endswith("\r") else result + "\r"


def _create_ack(source: hl7.Message, code: str, stamp: str, application: str | None):
    msh = source.segment("MSH")
    control = field(msh, 10)
    out = source.create_ack(code, message_id=f"ACK{stamp}{control}"[:20],
                            application=application or field(msh, 5) or "PORTAL",
                            facility=field(msh, 6) or "JINGKANG")
    return msh, out
