"""Follow-ups (跟进): the health managers' closed loop from a warning to an outcome.

Statuses run open -> in_progress -> closed (with an outcome). Every function takes
the acting user (any object with ``user_id``, ``username``, ``role`` and
``unit_path``, e.g. ``web.access.Scope``) and refuses with
:class:`FollowUpDenied` anything outside the actor's unit subtree, so the rule
holds whoever calls it. Every change writes an audit-log row.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import audit as audit_model
from models import notify_events
from models import psych as psych_model
from models.schema import FollowUp, Officer, OfficerStatus, Unit, User, WarningHistory, utcnow
from models.vocab import FOLLOWUP_KINDS, FOLLOWUP_OUTCOMES

KINDS = tuple(FOLLOWUP_KINDS)
OUTCOMES = tuple(FOLLOWUP_OUTCOMES)
STATUSES = ("open", "in_progress", "closed")
ACTIVE = ("open", "in_progress")
MAX_NOTE = 2000
QUEUE_DAYS = 90  # a red officer counts as "new" in the needs-action queue for this long


class Actor(Protocol):
    user_id: int
    username: str
    role: str
    unit_path: str | None


def _sees_psych(actor: Actor) -> bool:
    """``Scope.sees_psych`` of the actor (an actor without the attribute sees no psychological detail)."""
    return bool(getattr(actor, "sees_psych", False))


def _psych_ids(session: Session) -> frozenset[str]:
    from models.rule_versions import psych_rule_ids

    return psych_rule_ids(session)


def _hide_psych(row: dict) -> dict:
    """A psychological follow-up as a manager without ``psych`` reads it: the neutral line, no notes."""
    if psych_model.is_psych_followup(row["kind"], row.get("reason")):
        row.update(reason=psych_model.PSYCH_FOLLOWUP[0], reason_en=psych_model.PSYCH_FOLLOWUP[1], notes=[],
                   outcome=None, psych=True)
    return row


class FollowUpDenied(PermissionError):
    """The actor may not act on this officer or follow-up."""


class FollowUpError(ValueError):
    """The request is not valid (unknown type, bad transition, missing outcome ...)."""


def _may_act(actor: Actor) -> None:
    if actor.role not in ("manager", "admin"):
        raise FollowUpDenied("only health managers handle follow-ups")


def _covers(actor: Actor, path: str | None) -> bool:
    return actor.unit_path is None or bool(path) and path.startswith(actor.unit_path)


def _officer(session: Session, actor: Actor, badge: str) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.badge == str(badge)))
    if officer is None or not _covers(actor, officer.unit.path):
        raise FollowUpDenied("no access") from None  # same answer for unknown and foreign badges
    return officer


def _followup(session: Session, actor: Actor, followup_id: Any) -> FollowUp:
    if isinstance(followup_id, bool) or (isinstance(followup_id, float) and not followup_id.is_integer()):
        raise FollowUpDenied("no access")
    try:
        fid = int(followup_id)
    except (TypeError, ValueError, OverflowError):
        raise FollowUpDenied("no access") from None
    if not 0 < fid < 2**31:  # beyond any id (and beyond what PostgreSQL's integer takes)
        raise FollowUpDenied("no access")
    row = session.get(FollowUp, fid)
    if row is None:
        raise FollowUpDenied("no access")
    officer = session.get(Officer, row.officer_id)
    if not _covers(actor, officer.unit.path):
        raise FollowUpDenied("no access")
    return row


def _audit(session: Session, actor: Actor, action: str, row: FollowUp, badge: str, detail: dict, ip: str | None):
    audit_model.record(session, action=action, target=f"officer:{badge}",
                       detail={"follow_up": row.id, **detail}, user_id=actor.user_id, username=actor.username, ip=ip)


def eligible_assignees(session: Session, actor: Actor, badge: str) -> list[dict]:
    """Active health managers whose scope covers the officer: [{id, username}]."""
    _may_act(actor)
    officer = _officer(session, actor, badge)
    path = officer.unit.path
    rows = session.execute(
        select(User.id, User.username, Unit.path).outerjoin(Unit, Unit.id == User.scope_unit_id)
        .where(User.role == "manager", User.active).order_by(User.username))
    return [{"id": uid, "username": name} for uid, name, scope in rows if scope is None or path.startswith(scope)]


def new_followup_context(session: Session, actor: Actor, badge: str) -> dict:
    """What the new-follow-up form shows: the officer, their red/orange reasons and who may be assigned."""
    _may_act(actor)
    officer = _officer(session, actor, badge)
    status = session.get(OfficerStatus, officer.id)
    psych, ids = _sees_psych(actor), _psych_ids(session)
    reasons = [r for r in psych_model.visible_reasons(status.reasons if status else [], status.open_reasons if status else None,
                                                      ids, psych) if r.get("level") in ("red", "orange")]
    if status is not None and not psych and psych_model.needs_psych_followup(status.reasons, ids):
        reasons.append({"text": psych_model.PSYCH_FOLLOWUP[0], "text_en": psych_model.PSYCH_FOLLOWUP[1]})
    level = (status.level if psych else status.open_level) if status else None
    return {"badge": officer.badge, "name": officer.name, "unit": officer.unit.name,
            "unit_en": officer.unit.name_en or officer.unit.name,
            "level": level, "confirmed": (status.confirmed if level == status.level else True) if status else True,
            "reasons": [r.get("text", "") for r in reasons],
            "reasons_en": [r.get("text_en", "") for r in reasons],
            "assignees": eligible_assignees(session, actor, badge)}


def _check_assignee(session: Session, actor: Actor, officer: Officer, assignee_id: Any) -> int:
    try:
        assignee_id = int(assignee_id)
    except (TypeError, ValueError):
        raise FollowUpError("assignee is required") from None
    user = session.get(User, assignee_id)
    if (user is None or user.role != "manager" or not user.active
            or (user.scope_unit is not None and not officer.unit.path.startswith(user.scope_unit.path))):
        raise FollowUpError("the assignee must be a health manager whose scope covers the officer")
    return assignee_id


def _clean_note(text: Any) -> str:
    text = (text if isinstance(text, str) else "").strip()
    return text[:MAX_NOTE]


def open_followup(session: Session, actor: Actor, badge: str, *, kind: str, assignee_id: Any,
                  due: dt.date | str | None, note: str | None = None, reason: str | None = None,
                  ip: str | None = None, now: dt.datetime | None = None, today: dt.date | None = None) -> FollowUp:
    """Open a follow-up for an officer in the actor's scope (due no earlier than ``today``)."""
    _may_act(actor)
    officer = _officer(session, actor, badge)
    if kind not in KINDS:
        raise FollowUpError(f"unknown follow-up type {kind!r}")
    assignee = _check_assignee(session, actor, officer, assignee_id)
    due = _parse_date(due)
    now = now or utcnow()
    if due is not None and due < (today or now.date()):
        raise FollowUpError("the due date lies in the past")
    if reason is None:
        status = session.get(OfficerStatus, officer.id)
        reason = "；".join(r.get("text", "") for r in (status.reasons if status else [])
                          if r.get("level") in ("red", "orange"))
    note = _clean_note(note)
    row = FollowUp(officer_id=officer.id, opened_by_id=actor.user_id, assignee_id=assignee, reason=reason[:MAX_NOTE],
                   kind=kind, due=due, status="open", opened_at=now,
                   notes=[{"at": now.isoformat(timespec="minutes"), "by": actor.username, "text": note}] if note else [])
    session.add(row)
    session.flush()
    _audit(session, actor, "followup_open", row, officer.badge,
           {"kind": kind, "assignee": assignee, "due": due.isoformat() if due else None}, ip)
    notify_events.notify_followup_opened(session, row)  # the officer's bell (issue 19)
    return row


def _parse_date(value: dt.date | str | None) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise FollowUpError("bad date") from None


def add_note(session: Session, actor: Actor, followup_id: Any, text: str, *, ip: str | None = None,
             now: dt.datetime | None = None) -> FollowUp:
    _may_act(actor)
    row = _followup(session, actor, followup_id)
    text = _clean_note(text)
    if not text:
        raise FollowUpError("empty note")
    if row.status == "closed":
        raise FollowUpError("the follow-up is closed")
    now = now or utcnow()
    row.notes = [*(row.notes or []), {"at": now.isoformat(timespec="minutes"), "by": actor.username, "text": text}]
    session.flush()
    _audit(session, actor, "followup_note", row, row_badge(session, row), {"chars": len(text)}, ip)
    return row


def start_progress(session: Session, actor: Actor, followup_id: Any, *, ip: str | None = None) -> FollowUp:
    """open -> in_progress."""
    _may_act(actor)
    row = _followup(session, actor, followup_id)
    if row.status != "open":
        raise FollowUpError(f"cannot start a follow-up that is {row.status}")
    row.status = "in_progress"
    session.flush()
    _audit(session, actor, "followup_progress", row, row_badge(session, row), {"status": "in_progress"}, ip)
    return row


def assign(session: Session, actor: Actor, followup_id: Any, assignee_id: Any, *, ip: str | None = None) -> FollowUp:
    _may_act(actor)
    row = _followup(session, actor, followup_id)
    if row.status == "closed":
        raise FollowUpError("the follow-up is closed")
    officer = session.get(Officer, row.officer_id)
    row.assignee_id = _check_assignee(session, actor, officer, assignee_id)
    session.flush()
    _audit(session, actor, "followup_assign", row, officer.badge, {"assignee": row.assignee_id}, ip)
    return row


def close_followup(session: Session, actor: Actor, followup_id: Any, outcome: str, note: str | None = None, *,
                   ip: str | None = None, now: dt.datetime | None = None) -> FollowUp:
    """open or in_progress -> closed, with an outcome."""
    _may_act(actor)
    row = _followup(session, actor, followup_id)
    if outcome not in OUTCOMES:
        raise FollowUpError("an outcome is required: improved, unchanged, referred or declined")
    if row.status == "closed":
        raise FollowUpError("the follow-up is already closed")
    now = now or utcnow()
    note = _clean_note(note)
    if note:
        row.notes = [*(row.notes or []), {"at": now.isoformat(timespec="minutes"), "by": actor.username, "text": note}]
    row.status, row.outcome, row.closed_at = "closed", outcome, now
    session.flush()
    _audit(session, actor, "followup_close", row, row_badge(session, row), {"outcome": outcome}, ip)
    return row


def row_badge(session: Session, row: FollowUp) -> str:
    return session.scalar(select(Officer.badge).where(Officer.id == row.officer_id))


def is_overdue(row: FollowUp | dict, today: dt.date) -> bool:
    status = row["status"] if isinstance(row, dict) else row.status
    due = row["due"] if isinstance(row, dict) else row.due
    if isinstance(due, str):
        due = dt.date.fromisoformat(due)
    return status != "closed" and due is not None and due < today


def next_assessment(session: Session, officer_id: int, after: dt.datetime, psych: bool = True) -> dict | None:
    """The officer's first assessment after ``after`` (a closed follow-up): the first level
    change recorded after it, else the current snapshot if computed after it, else None
    (without ``psych``: no change that rested on a psychological reason, and the open level)."""
    change = session.execute(
        select(WarningHistory.level, WarningHistory.previous_level, WarningHistory.confirmed, WarningHistory.changed_at,
               WarningHistory.reasons)
        .where(WarningHistory.officer_id == officer_id, WarningHistory.changed_at > after)
        .order_by(WarningHistory.changed_at).limit(1)).first()
    if change and not psych and psych_model.has_psych(change.reasons, _psych_ids(session)):
        return None
    if change:
        return {"level": change.level, "confirmed": change.confirmed, "at": change.changed_at.date().isoformat(),
                "changed": change.previous_level is not None and change.previous_level != change.level}
    status = session.get(OfficerStatus, officer_id)
    if status is not None and status.computed_at > after:
        level = status.level if psych else status.open_level
        return {"level": level, "confirmed": status.confirmed if level == status.level else True,
                "at": status.computed_at.date().isoformat(), "changed": False}
    return None


def _describe(session: Session, rows: list[FollowUp], today: dt.date, actor: Actor | None = None) -> list[dict]:
    if not rows:
        return []
    psych = actor is not None and _sees_psych(actor)
    officers = {o.id: o for o in session.scalars(select(Officer).where(Officer.id.in_({r.officer_id for r in rows})))}
    user_ids = {r.assignee_id for r in rows} | {r.opened_by_id for r in rows}
    users = dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
    levels = dict(session.execute(select(OfficerStatus.officer_id, OfficerStatus.level if psych else OfficerStatus.open_level)
                                  .where(OfficerStatus.officer_id.in_(officers))).all())
    out = []
    for r in rows:
        o = officers[r.officer_id]
        out.append({
            "id": r.id, "badge": o.badge, "name": o.name, "unit": o.unit.name, "unit_en": o.unit.name_en or o.unit.name,
            "level": levels.get(o.id), "kind": r.kind, "status": r.status, "outcome": r.outcome, "reason": r.reason,
            "due": r.due.isoformat() if r.due else None, "overdue": is_overdue(r, today),
            "assignee": users.get(r.assignee_id), "assignee_id": r.assignee_id, "opened_by": users.get(r.opened_by_id),
            "opened_at": r.opened_at.date().isoformat(), "closed_at": r.closed_at.date().isoformat() if r.closed_at else None,
            "notes": list(r.notes or []),
            "next": next_assessment(session, o.id, r.closed_at, psych=psych) if r.closed_at else None,
        })
    return out if psych else [_hide_psych(row) for row in out]


def get_followup(session: Session, actor: Actor, followup_id: Any, today: dt.date) -> dict:
    _may_act(actor)
    return _describe(session, [_followup(session, actor, followup_id)], today, actor)[0]


def _scoped(actor: Actor):
    q = select(FollowUp).join(Officer, Officer.id == FollowUp.officer_id).join(Unit, Unit.id == Officer.unit_id)
    return q.where(Unit.path.like(f"{actor.unit_path}%")) if actor.unit_path else q


def my_followups(session: Session, actor: Actor, today: dt.date, limit: int = 100) -> list[dict]:
    """The actor's open and in-progress follow-ups, overdue first, then by due date."""
    _may_act(actor)
    q = (_scoped(actor).where(FollowUp.assignee_id == actor.user_id, FollowUp.status.in_(ACTIVE))
         .order_by(FollowUp.due.is_(None), FollowUp.due, FollowUp.id).limit(limit))
    rows = _describe(session, list(session.scalars(q)), today, actor)
    return sorted(rows, key=lambda r: not r["overdue"])


def recently_closed(session: Session, actor: Actor, today: dt.date, limit: int = 20) -> list[dict]:
    """Follow-ups closed in the actor's scope, newest first, each with the next assessment."""
    _may_act(actor)
    q = _scoped(actor).where(FollowUp.status == "closed").order_by(FollowUp.closed_at.desc()).limit(limit)
    return _describe(session, list(session.scalars(q)), today, actor)


def officer_followups(session: Session, actor: Actor, badge: str, today: dt.date) -> list[dict]:
    _may_act(actor)
    officer = _officer(session, actor, badge)
    q = select(FollowUp).where(FollowUp.officer_id == officer.id).order_by(FollowUp.opened_at.desc())
    return _describe(session, list(session.scalars(q)), today, actor)


def needs_action(session: Session, actor: Actor, today: dt.date, limit: int = 50) -> dict:
    """Red officers in scope who turned red in the last QUEUE_DAYS days and have had no
    follow-up opened since: {"rows": [...], "total": n}, newest red first."""
    _may_act(actor)
    became = (select(WarningHistory.officer_id, func.max(WarningHistory.changed_at).label("red_at"))
              .where(WarningHistory.level == "red").group_by(WarningHistory.officer_id).subquery("became"))
    since = dt.datetime.combine(today - dt.timedelta(days=QUEUE_DAYS), dt.time.min)
    followed = (select(FollowUp.id).where(FollowUp.officer_id == OfficerStatus.officer_id,
                                          or_(FollowUp.opened_at >= became.c.red_at, FollowUp.status.in_(ACTIVE))))
    turned = aliased(WarningHistory)  # the change into red: its reasons name the readings that did it
    psych, ids = _sees_psych(actor), _psych_ids(session)
    level = psych_model.named_level(OfficerStatus, psych)  # red for a psychological reason: not in another's queue
    q = (select(Officer.badge, Officer.name, Unit.name, Unit.name_en, OfficerStatus.confirmed, OfficerStatus.reasons,
                became.c.red_at, turned.reasons, OfficerStatus.open_reasons)
         .select_from(OfficerStatus).join(Officer, Officer.id == OfficerStatus.officer_id)
         .join(Unit, Unit.id == Officer.unit_id).join(became, became.c.officer_id == OfficerStatus.officer_id)
         .join(turned, and_(turned.officer_id == became.c.officer_id, turned.changed_at == became.c.red_at,
                            turned.level == "red"))
         .where(Officer.active, level == "red", became.c.red_at >= since, ~followed.exists()))
    if actor.unit_path:
        q = q.where(OfficerStatus.unit_path.like(f"{actor.unit_path}%"))
    sub = q.subquery()
    total = session.scalar(select(func.count(func.distinct(sub.c.badge))))
    rows, seen = [], set()
    for b, n, u, ue, c, reasons, at, turned_reasons, open_reasons in session.execute(
            q.order_by(became.c.red_at.desc(), Officer.badge).limit(limit + 1)):
        if b in seen:  # two history rows at the same instant: one line
            continue
        seen.add(b)
        shown = [r for r in psych_model.visible_reasons(reasons, open_reasons, ids, psych) if r.get("level") == "red"]
        if not psych and psych_model.needs_psych_followup(reasons, ids):
            shown.append({"text": psych_model.PSYCH_FOLLOWUP[0], "text_en": psych_model.PSYCH_FOLLOWUP[1]})
        # the red date: for a viewer without psych, only from the open (non-psychological) red reasons
        since = red_since(psych_model.visible_reasons(turned_reasons, None, ids, psych), at)
        rows.append({"badge": b, "name": n, "unit": u, "unit_en": ue or u, "confirmed": bool(c),
                     "reasons": [r.get("text", "") for r in shown], "reasons_en": [r.get("text_en", "") for r in shown],
                     "red_since": since.isoformat(), "days": (today - since).days,
                     "recorded": at.date().isoformat()})
    return {"rows": rows[:limit], "total": total or 0}


def red_since(reasons: list | None, recorded_at: dt.datetime) -> dt.date:
    """转红日期: the date of the reading that turned the officer red — the earliest red reason of the
    change into red (each of them alone makes red, so red began with the first). ``recorded_at``
    (when the portal learned of it) only when no red reason carries a date, and as a ceiling."""
    days = [dt.date.fromisoformat(r["date"]) for r in reasons or [] if r.get("level") == "red" and r.get("date")]
    return min(days + [recorded_at.date()])


def recent_changes(session: Session, actor: Actor, today: dt.date, days: int = 30, limit: int = 50) -> list[dict]:
    """Level changes in the actor's scope in the last ``days`` days, newest first."""
    _may_act(actor)
    since = dt.datetime.combine(today - dt.timedelta(days=days), dt.time.min)
    q = (select(Officer.badge, Officer.name, Unit.name, WarningHistory.previous_level, WarningHistory.level,
                WarningHistory.confirmed, WarningHistory.changed_at, WarningHistory.reasons)
         .select_from(WarningHistory).join(Officer, Officer.id == WarningHistory.officer_id)
         .join(Unit, Unit.id == Officer.unit_id)
         .where(WarningHistory.changed_at >= since, WarningHistory.previous_level.is_not(None),
                WarningHistory.previous_level != WarningHistory.level))
    if actor.unit_path:
        q = q.where(WarningHistory.unit_path.like(f"{actor.unit_path}%"))
    psych, ids = _sees_psych(actor), _psych_ids(session)
    rows = session.execute(q.order_by(WarningHistory.changed_at.desc()).limit(limit))
    # a change that rested on a psychological reason is not in another's list
    return [{"badge": b, "name": n, "unit": u, "from": p, "to": lvl, "confirmed": bool(c), "at": at.date().isoformat()}
            for b, n, u, p, lvl, c, at, why in rows if psych or not psych_model.has_psych(why, ids)]


def workbench(session: Session, actor: Actor, today: dt.date, queue_rows: int = 15) -> dict:
    """Everything the managers' workbench shows, in one call."""
    mine = my_followups(session, actor, today)
    return {"queue": needs_action(session, actor, today, limit=queue_rows), "mine": mine,
            "overdue": sum(1 for r in mine if r["overdue"]),
            "closed": recently_closed(session, actor, today, limit=10),
            "changes": recent_changes(session, actor, today)}
