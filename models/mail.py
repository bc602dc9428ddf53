"""E-mail of notifications (issue 19): the outbox is written with each message a user chose for
e-mail (``models.notifications``); :func:`deliver` sends what is due through the SMTP server of
``PORTAL_SMTP_URL``, outside any page request (the worker, ``portal notify run``).

A failed send is kept: its attempt count grows, its last error is stored and the next attempt
waits longer each time (1, 2, 4 … minutes, at most 6 hours); after ``MAX_ATTEMPTS`` it is marked
failed. Nothing is lost quietly.

``PORTAL_SMTP_URL``: ``smtp://[user[:password]@]host[:port][?starttls=1&from=addr&timeout=s]``
(``smtps://`` for TLS from the first byte; the password percent-encoded).
"""
from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.schema import MailOutbox, utcnow

MAX_ATTEMPTS = 8
BACKOFF_MAX = dt.timedelta(hours=6)
BATCH = 200  # messages one pass sends at most


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    sender: str = "portal@localhost"
    timeout: float = 20.0


def parse_smtp_url(url: str) -> SmtpSettings:
    """``smtp://user:pass@host:port?starttls=1&from=portal@police.local`` -> SmtpSettings (ValueError when malformed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("PORTAL_SMTP_URL must look like smtp://host:port or smtps://host:port")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    secure = parts.scheme == "smtps"
    flag = query.get("starttls", "0").lower() in ("1", "true", "yes", "on")
    return SmtpSettings(host=parts.hostname, port=parts.port or (465 if secure else 25),
                        user=unquote(parts.username) if parts.username else None,
                        password=unquote(parts.password) if parts.password else None,
                        starttls=flag and not secure, ssl=secure, sender=query.get("from") or "portal@localhost",
                        timeout=float(query.get("timeout", "20")))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most BACKOFF_MAX."""
    return min(dt.timedelta(minutes=2 ** max(0, attempts - 1)), BACKOFF_MAX)


def _message(settings: SmtpSettings, row: MailOutbox) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.sender, row.to_addr, row.subject
    msg["Date"], msg["Message-ID"] = formatdate(localtime=True), make_msgid(domain="portal")
    msg.set_content(row.body)
    return msg


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.ssl:
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
    if settings.user:
        smtp.login(settings.user, settings.password or "")
    return smtp


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(MailOutbox).where(MailOutbox.status == "pending")) or 0


def deliver(session: Session, smtp_url: str | None, now: dt.datetime | None = None, limit: int = BATCH) -> dict:
    """Send the pending messages that are due; {"sent", "retry", "failed", "pending"}. Without an SMTP
    server configured nothing is sent and the outbox is kept as it is."""
    now = now or utcnow()
    out = {"sent": 0, "retry": 0, "failed": 0}
    if not smtp_url:
        return {**out, "pending": pending_count(session)}
    settings = parse_smtp_url(smtp_url)
    rows = list(session.scalars(select(MailOutbox).where(MailOutbox.status == "pending",
                                                         MailOutbox.next_attempt_at <= now)
                                .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(limit)))
    if not rows:
        return {**out, "pending": pending_count(session)}
    smtp = None
    for row in rows:
        try:
            if smtp is None:
                smtp = _connect(settings)
            smtp.send_message(_message(settings, row))
        except (OSError, smtplib.SMTPException) as exc:
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                out["failed"] += 1
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                out["retry"] += 1
            if smtp is not None:  # the connection may be broken: the next message opens a new one
                _quit(smtp)
                smtp = None
        else:
            row.attempts += 1
            row.status, row.sent_at, row.last_error = "sent", now, None
            out["sent"] += 1
        session.flush()
    if smtp is not None:
        _quit(smtp)
    return {**out, "pending": pending_count(session)}


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
