"""The notification centre's two periodic jobs (issue 19), plain functions of the configuration so a
worker can call them: :func:`run_notifications` (one pass of the event generator) and
:func:`deliver_mail` (one pass of the e-mail outbox). ``portal notify run`` does one pass of both.

``config`` is a :class:`portal.config.Config` (or any object / mapping with ``database_url``,
``smtp_url`` and optionally ``today``).
"""
from __future__ import annotations

import datetime as dt
from typing import Any


def _get(config: Any, name: str) -> Any:
    if isinstance(config, dict):
        return config.get(name, config.get(name.upper()))
    return getattr(config, name, None)


def as_of(config: Any) -> dt.datetime:
    """The pass's clock: now, on the app's pinned day (PORTAL_TODAY) when there is one."""
    now = dt.datetime.now().replace(microsecond=0)
    fixed = _get(config, "today")
    if fixed:
        day = fixed if isinstance(fixed, dt.date) else dt.date.fromisoformat(str(fixed))
        return dt.datetime.combine(day, now.time())
    return now


def run_notifications(config: Any) -> dict[str, int]:
    """One pass of ``models.notify_events.generate`` in its own transaction: the messages added, by kind."""
    from models.db import session_scope
    from models.notify_events import generate
    from models.schema import utcnow

    with session_scope(_get(config, "database_url")) as s:
        return generate(s, as_of(config), now=utcnow())


def deliver_mail(config: Any) -> dict[str, int]:
    """One pass of the outbox: send what is due through PORTAL_SMTP_URL (nothing without one)."""
    from models.db import session_scope
    from models.mail import deliver

    with session_scope(_get(config, "database_url")) as s:
        return deliver(s, _get(config, "smtp_url"))
