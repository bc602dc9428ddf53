"""Notifications: the bell in the shell. One row per (user, event); every function takes the user
whose messages it reads or writes, so a caller can only ever touch its own (the callback passes
``current_user.id``, never an id from the browser).

Writers call :func:`notify` with a ``key`` naming the event ("level:<officer>:<date>"): the same
event notified twice (a re-run import, a replayed save, a second pass of the worker) adds nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.schema import Notification, utcnow
from models.vocab import NOTIFICATION_KINDS, Words


def notify(session: Session, user_id: int, kind: str, key: str, title: Words, body: Words = ("", ""),
           link: str | None = None, officer_id: int | None = None) -> bool:
    """Add one message for ``user_id``; False when this (user, key) was notified before (nothing added)."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    key = key[:120]
    exists = session.scalar(select(Notification.id).where(Notification.user_id == user_id, Notification.key == key))
    if exists is not None:
        return False
    row = Notification(user_id=user_id, kind=kind, key=key, officer_id=officer_id, link=link,
                       title_zh=title[0][:200], title_en=title[1][:200], body_zh=body[0], body_en=body[1])
    try:
        with session.begin_nested():  # a concurrent writer of the same event loses here, quietly
            session.add(row)
    except IntegrityError:
        return False
    return True


def notify_many(session: Session, user_ids: Iterable[int], kind: str, key: str, title: Words,
                body: Words = ("", ""), link: str | None = None, officer_id: int | None = None) -> int:
    """:func:`notify` for each user; the number of messages actually added."""
    return sum(notify(session, uid, kind, key, title, body, link, officer_id) for uid in set(user_ids))


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def recent(session: Session, user_id: int, limit: int = 20, offset: int = 0,
           unread_only: bool = False) -> tuple[list[Notification], int]:
    """The user's messages, newest first, one page of them, and how many there are in all."""
    where = [Notification.user_id == user_id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    rows = session.scalars(select(Notification).where(*where)
                           .order_by(Notification.created_at.desc(), Notification.id.desc())
                           .limit(max(1, min(limit, 200))).offset(max(0, offset))).all()
    return list(rows), total


def mark_read(session: Session, user_id: int, ids: Iterable[int] | None = None,
              at: dt.datetime | None = None) -> int:
    """Mark the user's messages read (all of them when ``ids`` is None); ids of other users' messages
    change nothing. Returns how many changed."""
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    return session.execute(stmt.values(read_at=at or utcnow())).rowcount or 0
