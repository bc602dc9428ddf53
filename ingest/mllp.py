"""MLLP listener for hospital HL7 v2 messages (``portal ingest hl7-listen``).

Each message arriving in an MLLP frame (``0x0B`` message ``0x1C 0x0D``) is
loaded as its own import batch (so its data is committed before the answer)
and answered with an HL7 ACK:

* ``AA`` — the message was stored (values refused inside it are in quarantine;
  the ACK text says how many);
* ``AE`` — the message was read but refused (unknown officer, malformed date,
  ...): it is kept in quarantine and the ACK carries the reason;
* ``AR`` — the frame is not an HL7 message the portal can read at all.
"""
from __future__ import annotations

import datetime as dt
import logging
import socket
import socketserver
import threading
from typing import Callable

from ingest import hl7msg
from ingest.hl7msg import END, START
from ingest.hospital import Unreadable, decode_text, hl7_messages
from ingest.hospital_load import load_hospital_bytes

MAX_FRAME = 8 * 1024 * 1024

log = logging.getLogger("portal.mllp")


def handle_message(url: str, data: bytes, hospital: str | None = None, user: str = "mllp",
                   secret: str | None = None) -> tuple[str, str, dict | None]:
    """Load one message; returns (ack code, ack text, summary). ``secret``: the portal secret ID numbers
    are hashed with."""
    try:
        messages, _ = hl7_messages(data)
    except Unreadable as exc:
        return "AR", str(exc), None
    if not messages:
        return "AR", "no HL7 message (MSH segment) in the frame", None
    if len(messages) != 1:
        return "AR", "one MLLP frame must hold exactly one HL7 message", None
    sender = hospital
    if not sender:
        try:
            sender = hl7msg.field(hl7msg.parse(messages[0]).segment("MSH"), 4)
        except hl7msg.NotHL7:
            sender = ""
    if not sender:
        return "AR", "MSH-4 (sending facility) is empty and the listener has no --hospital", None
    try:
        summary = load_hospital_bytes(url, data, sender, filename=f"mllp {dt.datetime.now():%Y-%m-%d %H:%M:%S}",
                                      user=user, secret=secret)
    except Unreadable as exc:
        return "AR", str(exc), None
    except Exception as exc:  # noqa: BLE001 - the sender must get an answer whatever failed
        log.exception("MLLP message failed")
        return "AE", f"the portal could not store the message: {type(exc).__name__}", None
    if summary["rows_read"] and summary.get("rows_rejected", 0) >= summary["rows_read"]:
        reasons = "; ".join(e["reason"] for e in summary["errors"][:2])
        return "AE", f"refused (batch {summary['batch_id']}): {reasons}", summary
    text_ = f"stored in batch {summary['batch_id']}"
    if summary["quarantined"]:
        text_ += f"; {summary['quarantined']} value(s) quarantined"
    return "AA", text_, summary


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:  # one connection, any number of frames
        server: MLLPServer = self.server  # type: ignore[assignment]
        buf = b""
        self.request.settimeout(server.idle_timeout)
        while True:
            try:
                chunk = self.request.recv(65536)
            except (socket.timeout, ConnectionError, OSError):
                return
            if not chunk:
                return
            buf += chunk
            if len(buf) > MAX_FRAME:
                self.request.sendall(hl7msg.frame(hl7msg.ack(None, "AR", "frame larger than 8 MB")))
                return
            while True:
                start = buf.find(START)
                end = buf.find(END, start + 1) if start >= 0 else -1
                if start < 0 or end < 0:
                    break
                data, buf = buf[start + 1:end], buf[end + 2:]
                code, text, summary = handle_message(server.url, data, server.hospital, secret=server.secret)
                try:
                    message, _ = decode_text(data)
                except Exception:  # noqa: BLE001
                    message = None
                self.request.sendall(hl7msg.frame(hl7msg.ack(message, code, text)))
                if server.on_message:
                    server.on_message(code, text, summary)


class MLLPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, url: str, host: str = "127.0.0.1", port: int = 2575, hospital: str | None = None,
                 on_message: Callable[[str, str, dict | None], None] | None = None, idle_timeout: float = 300,
                 secret: str | None = None):
        self.url, self.hospital, self.on_message, self.idle_timeout = url, hospital, on_message, idle_timeout
        self.secret = secret
        self._lock = threading.Lock()
        super().__init__((host, port), _Handler)


def send(host: str, port: int, message: str | bytes, timeout: float = 30) -> str:
    """Send one message over MLLP and return the ACK text (for tests and manual checks)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(hl7msg.frame(message))
        buf = b""
        while END not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    start = buf.find(START)
    return buf[start + 1:buf.find(END)].decode("utf-8")
