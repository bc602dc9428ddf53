"""Notifications: the bell in the shell. One row per (user, event); every function takes the user
whose messages it reads or writes, so a caller can only ever touch its own (the callback passes
``current_user.id``, never an id from the browser).

Writers call :func:`notify` with a ``key`` naming the event ("level:<officer>:<date>"): the same
event notified twice (a re-run import, a replayed save, a second pass of the worker) adds nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.schema import MailOutbox, Notification, NotificationPreference, User, utcnow
from models.vocab import NOTIFICATION_KINDS, Words

# the kinds each role receives (what the preferences page offers for e-mail)
KINDS_BY_ROLE: dict[str, tuple[str, ...]] = {
    "officer": ("exam_loaded", "level_changed", "followup_scheduled", "screening_due", "campaign_event", "weekly_review"),
    "manager": ("self_harm", "new_red", "red_unconfirmed", "followup_overdue", "followup_reply", "kiosk_stale"),
    "counsellor": ("self_harm", "new_red", "followup_overdue"),
    "leader": ("weekly_summary",),
    "admin": ("self_harm", "new_red", "red_unconfirmed", "followup_overdue", "followup_reply", "kiosk_stale"),
    "auditor": (),
}
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9.-]{1,180}\.[A-Za-z]{2,24}$")


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
    _queue_mail(session, row)
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


# --- preferences and the e-mail outbox -----------------------------------------------------------
class PreferenceError(ValueError):
    """A preference the form cannot save (a malformed address, an unknown kind)."""


def preferences(session: Session, user_id: int) -> dict:
    """The user's e-mail address and the kinds that also go by e-mail."""
    row = session.get(NotificationPreference, user_id)
    return {"email": row.email if row else None, "email_kinds": [k for k in (row.email_kinds if row else []) or []
                                                                  if k in NOTIFICATION_KINDS]}


def set_preferences(session: Session, user_id: int, email: str | None, email_kinds: Iterable[str]) -> dict:
    """Save the user's own preferences; a malformed address or an unknown kind is refused (PreferenceError)."""
    email = (email or "").strip() or None
    if email is not None and (len(email) > 200 or not EMAIL_RE.match(email)):
        raise PreferenceError("bad e-mail address")
    kinds = sorted(set(email_kinds or []))
    unknown = [k for k in kinds if k not in NOTIFICATION_KINDS]
    if unknown:
        raise PreferenceError(f"unknown notification kind {unknown[0]!r}")
    if kinds and email is None:
        raise PreferenceError("an e-mail address is needed to send messages by e-mail")
    row = session.get(NotificationPreference, user_id)
    if row is None:
        row = NotificationPreference(user_id=user_id, email_kinds=[])
        session.add(row)
    row.email, row.email_kinds, row.updated_at = email, kinds, utcnow()
    session.flush()
    return preferences(session, user_id)


def mail_text(title: Words, body: Words, link: str | None, language: str) -> tuple[str, str]:
    """Subject and body of the e-mail of one message, in the user's language."""
    i = 1 if language == "en" else 0
    portal = ("警康健康管理平台", "Jingkang Health Portal")[i]
    lines = [body[i] or title[i], ""]
    if link:
        lines.append(("在平台中查看：", "Open in the portal: ")[i] + link)
    lines.append(("—— 此邮件由{}自动发送，可在“通知”页面修改邮件设置。", "— Sent by the {}; change your e-mail "
                  "settings on the notifications page.")[i].format(portal))
    return f"[{portal}] {title[i]}", "\n".join(lines)


def _queue_mail(session: Session, row: Notification) -> None:
    """Put the message into the outbox when the user chose its kind for e-mail (sent later, never here)."""
    pref = session.get(NotificationPreference, row.user_id)
    if pref is None or not pref.email or row.kind not in (pref.email_kinds or []):
        return
    language = session.scalar(select(User.language).where(User.id == row.user_id)) or "zh"
    session.flush()  # the notification's id
    subject, text = mail_text((row.title_zh, row.title_en), (row.body_zh, row.body_en), row.link, language)
    session.add(MailOutbox(user_id=row.user_id, notification_id=row.id, to_addr=pref.email, subject=subject[:300],
                           body=text, status="pending", attempts=0, next_attempt_at=utcnow()))
