"""Today for a request: the app's pinned ``PORTAL_TODAY`` if set, else the real date."""
from __future__ import annotations

import datetime as dt

from flask import current_app

from models import clock


def today() -> dt.date:
    return clock.today(current_app.config.get("PORTAL_TODAY"))
