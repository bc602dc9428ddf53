"""How recently a user exported: exports are throttled per user, read from the audit log every
export writes (so every worker process sees the same answer, with no store of its own)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.schema import AuditLog

EXPORT_ACTIONS = ("export", "export_quarantine")


def last_export_at(session: Session, user_id: int) -> dt.datetime | None:
    """When this user last exported anything (naive UTC, as the audit log stores it), or None."""
    return session.scalar(select(func.max(AuditLog.at)).where(AuditLog.user_id == user_id,
                                                             AuditLog.action.in_(EXPORT_ACTIONS)))
