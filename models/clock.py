"""What day it is for the portal: the real date, or a fixed one (``PORTAL_TODAY``) for demos and tests.

Pinning the date keeps every figure the same on 1 January or at a quarter start.
"""
from __future__ import annotations

import datetime as dt


def today(fixed: str | dt.date | None = None) -> dt.date:
    if isinstance(fixed, dt.date):
        return fixed
    return dt.date.fromisoformat(fixed) if fixed else dt.date.today()
