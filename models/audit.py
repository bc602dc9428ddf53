"""The audit log: who viewed, exported or changed whose record, when, from where."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.schema import AuditLog


def record(session: Session, *, action: str, target: str | None, detail: dict | None,
           user_id: int | None, username: str | None, ip: str | None) -> AuditLog:
    row = AuditLog(action=action, target=target, detail=detail, user_id=user_id, username=username, ip=ip)
    session.add(row)
    session.flush()
    return row


def recent(session: Session, *, action: str | None = None, limit: int = 100) -> list[AuditLog]:
    q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        q = q.where(AuditLog.action == action)
    return list(session.scalars(q))
