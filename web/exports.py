"""Exports are bounded: one export per user per ``EXPORT_INTERVAL_SECONDS`` (PORTAL_EXPORT_INTERVAL),
and a row cap per file, each with a clear message on screen."""
from __future__ import annotations

import math

from flask import current_app

from models.export_limits import last_export_at
from models.schema import utcnow
from web.access import Scope
from web.i18n import tr


def too_soon(session, scope: Scope) -> str | None:
    """The message to show when the caller exported too recently; None when they may export now."""
    interval = int(current_app.config.get("EXPORT_INTERVAL_SECONDS", 10) or 0)
    if interval <= 0:
        return None
    last = last_export_at(session, scope.user_id)
    if last is None:
        return None
    waited = (utcnow() - last).total_seconds()
    if waited >= interval:
        return None
    wait = max(1, math.ceil(interval - waited))
    return tr(f"导出过于频繁：每 {interval} 秒最多导出一次，请 {wait} 秒后再试。",
              f"Exports are limited to one every {interval} seconds: please try again in {wait} s.")


def capped_note(rows: int, cap: int) -> str | None:
    """A note when an export stopped at the row cap."""
    if rows < cap:
        return None
    return tr(f"导出已达上限 {cap:,} 行，只包含前 {cap:,} 行；请缩小筛选范围后分批导出。",
              f"The export stops at {cap:,} rows and holds the first {cap:,} only: narrow the filters and "
              "export in parts.")
