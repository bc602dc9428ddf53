"""The audit log: who viewed, exported or changed whose record, when, from where.

Named accesses carry the target ``officer:<badge>``; list-like actions (exports) also record
the officers they showed in ``audit_subject`` (``record(..., officer_ids=...)`` or
``badges=...``), so an officer's own access log finds both. The audit viewer
(``search``/``page``/``csv_text``) and "who looked at my record" (``officer_access_log``)
read from here.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import and_, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from models.schema import AuditLog, AuditSubject, Officer, User
from models.vocab import AUDIT_ACTIONS, AUDIT_FLAGGED_ACTIONS, AUDIT_NAMED_ACTIONS

_CHUNK = 500  # badges per IN list (SQLite allows ~32k bound parameters; PostgreSQL 65k)


def record(session: Session, *, action: str, target: str | None, detail: dict | None,
           user_id: int | None, username: str | None, ip: str | None,
           officer_ids: Iterable[int] | None = None, badges: Iterable[str] | None = None) -> AuditLog:
    """Write one audit row; ``officer_ids``/``badges`` name the officers a list showed."""
    row = AuditLog(action=action, target=target, detail=detail, user_id=user_id, username=username, ip=ip)
    session.add(row)
    session.flush()
    ids = sorted({int(i) for i in officer_ids or ()})
    if ids:
        session.execute(insert(AuditSubject), [{"audit_id": row.id, "officer_id": i} for i in ids])
    wanted = sorted({str(b) for b in badges or () if b})
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i:i + _CHUNK]
        session.execute(insert(AuditSubject).from_select(
            ["audit_id", "officer_id"],
            select(literal(row.id), Officer.id).where(Officer.badge.in_(chunk), Officer.id.notin_(ids) if ids else True)))
    return row


def recent(session: Session, *, action: str | None = None, limit: int = 100) -> list[AuditLog]:
    q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        q = q.where(AuditLog.action == action)
    return list(session.scalars(q))


# --- the audit viewer ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditFilter:
    """What the viewer filters by; every field already validated by the caller."""

    person: str | None = None  # the user who acted (username, exact)
    badge: str | None = None  # the officer acted upon (named, or in a list)
    action: str | None = None  # a code of AUDIT_ACTIONS
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    flagged: bool = False

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.__dict__.items()
                if v not in (None, False, "")}


def _where(session: Session, f: AuditFilter) -> list:
    cond = []
    if f.person:
        cond.append(AuditLog.username == f.person)
    if f.action:
        cond.append(AuditLog.action == f.action)
    if f.flagged:
        cond.append(AuditLog.action.in_(AUDIT_FLAGGED_ACTIONS))
    if f.since:
        cond.append(AuditLog.at >= dt.datetime.combine(f.since, dt.time.min))
    if f.until:
        cond.append(AuditLog.at < dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time.min))
    if f.badge:
        officer_id = session.scalar(select(Officer.id).where(Officer.badge == f.badge))
        in_list = select(AuditSubject.audit_id).where(AuditSubject.officer_id == (officer_id or -1))
        cond.append(or_(AuditLog.target == f"officer:{f.badge}", AuditLog.id.in_(in_list)))
    return cond


def count(session: Session, f: AuditFilter) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditLog).where(*_where(session, f))) or 0)


def page(session: Session, f: AuditFilter, start: int, end: int) -> list[dict]:
    """Rows ``start``..``end`` of the filtered log, newest first, with the actor's role and the
    number of officers a list showed."""
    n_subjects = (select(func.count()).select_from(AuditSubject).where(AuditSubject.audit_id == AuditLog.id)
                  .correlate(AuditLog).scalar_subquery())
    q = (select(AuditLog, User.role, n_subjects).outerjoin(User, User.id == AuditLog.user_id)
         .where(*_where(session, f)).order_by(AuditLog.at.desc(), AuditLog.id.desc())
         .offset(max(0, start)).limit(max(0, end - start)))
    return [_row(a, role, n) for a, role, n in session.execute(q)]


def _row(a: AuditLog, role: str | None, subjects: int) -> dict:
    detail = a.detail or {}
    return {
        "id": a.id, "at": f"{a.at:%Y-%m-%d %H:%M:%S}", "username": a.username or "", "role": role or "",
        "action": a.action, "target": a.target or "", "ip": a.ip or "",
        "filters": json.dumps(detail.get("filters"), ensure_ascii=False, sort_keys=True) if detail.get("filters") else "",
        "detail": json.dumps({k: v for k, v in detail.items() if k != "filters"}, ensure_ascii=False, sort_keys=True)
        if detail else "",
        "subjects": int(subjects or 0), "flagged": a.action in AUDIT_FLAGGED_ACTIONS,
    }


def people(session: Session, limit: int = 2000) -> list[str]:
    """The usernames that occur in the log (the viewer's person filter)."""
    q = select(AuditLog.username).where(AuditLog.username.is_not(None)).distinct().order_by(AuditLog.username)
    return [u for u in session.scalars(q.limit(limit))]


def csv_text(session: Session, f: AuditFilter, words: dict[str, str], limit: int = 100_000) -> tuple[str, int]:
    """The filtered log as CSV (newest first) with the reader's ``words`` for the header and action
    names (a dict of column key → heading, plus ``action:<code>`` → action name). Returns (text, rows)."""
    rows = page(session, f, 0, limit)
    cols = ("at", "username", "role", "action", "target", "subjects", "ip", "filters", "detail")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([words.get(c, c) for c in cols])
    for r in rows:
        r = {**r, "action": words.get(f"action:{r['action']}", r["action"]),
             "role": words.get(f"role:{r['role']}", r["role"])}
        w.writerow([r[c] for c in cols])
    return "\ufeff" + out.getvalue(), len(rows)


def known_action(code: str | None) -> bool:
    return code in AUDIT_ACTIONS


# --- who looked at my record ----------------------------------------------------------------
def officer_access_log(session: Session, officer_id: int, *, limit: int = 200, since: dt.datetime | None = None,
                       exclude_user_id: int | None = None) -> list[dict]:
    """Who opened this officer's portrait or report, acted on their follow-ups, or exported a list
    they were in: newest first, repeated rows of one person and action within ten minutes shown once.
    Named accesses carry the username; lists only the role (the list itself is in the audit viewer)."""
    badge = session.scalar(select(Officer.badge).where(Officer.id == officer_id))
    if badge is None:
        return []
    named = and_(AuditLog.target == f"officer:{badge}", AuditLog.action.in_(AUDIT_NAMED_ACTIONS))
    listed = AuditLog.id.in_(select(AuditSubject.audit_id).where(AuditSubject.officer_id == officer_id))
    q = (select(AuditLog.at, AuditLog.action, AuditLog.username, AuditLog.user_id, User.role, AuditLog.target)
         .outerjoin(User, User.id == AuditLog.user_id).where(or_(named, listed)))
    if since is not None:
        q = q.where(AuditLog.at >= since)
    if exclude_user_id is not None:
        q = q.where(or_(AuditLog.user_id.is_(None), AuditLog.user_id != exclude_user_id))
    q = q.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit * 6)
    out: list[dict] = []
    last: dict[tuple, dt.datetime] = {}
    for at, action, username, user_id, role, target in session.execute(q):
        is_named = target == f"officer:{badge}" and action in AUDIT_NAMED_ACTIONS
        key = (user_id, username, action)
        if key in last and last[key] - at <= dt.timedelta(minutes=10):
            last[key] = at
            continue
        last[key] = at
        out.append({"at": f"{at:%Y-%m-%d %H:%M}", "action": action, "role": role or "",
                    "user": (username or "") if is_named else None, "named": is_named})
        if len(out) >= limit:
            break
    return out

