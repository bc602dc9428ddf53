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

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import audit as audit_model
from models import notify_events
from models import psych as psych_model
from models.schema import FollowUp, Officer, OfficerStatus, Unit, User, WarningHistory, utcnow
from models.source_words import english_names, english_reason
from models.vocab import FOLLOWUP_KINDS, FOLLOWUP_OUTCOMES

KINDS = tuple(FOLLOWUP_KINDS)
OUTCOMES = tuple(FOLLOWUP_OUTCOMES)
STATUSES = ("open", "in_progress", "closed")
ACTIVE = ("open", "in_progress")
MAX_NOTE = 2000


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
    names = english_names(session)
    return {"badge": officer.badge, "name": officer.name, "unit": officer.unit.name,
            "unit_en": officer.unit.name_en or officer.unit.name,
            "level": level, "confirmed": (status.confirmed if level == status.level else True) if status else True,
            "reasons": [r.get("text", "") for r in reasons],
            "reasons_en": [english_reason(r, names)["text_en"] for r in reasons],
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


def my_followups(session: Session, actor: Actor, today: dt.date, start: int = 0, limit: int = 100) -> dict:
    """我负责的跟进: the actor's own open and in-progress follow-ups, overdue first, then by due
    date: {"rows": one page, "total": all of them}."""
    _may_act(actor)
    q = _scoped(actor).where(FollowUp.assignee_id == actor.user_id, FollowUp.status.in_(ACTIVE))
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    late = case((and_(FollowUp.due.is_not(None), FollowUp.due < today), 0), else_=1)
    page = q.order_by(late, FollowUp.due.is_(None), FollowUp.due, FollowUp.id).offset(max(0, start)).limit(limit)
    return {"rows": _describe(session, list(session.scalars(page)), today, actor), "total": total or 0}


def overdue_count(session: Session, unit_path: str | None, today: dt.date, assignee_id: int | None = None) -> int:
    """逾期跟进: follow-ups not closed whose due date has passed, of serving officers under
    ``unit_path`` (and, with ``assignee_id``, assigned to that manager). The one definition the
    workbench and the leaders' overview both show."""
    q = (select(func.count()).select_from(FollowUp).join(Officer, Officer.id == FollowUp.officer_id)
         .join(Unit, Unit.id == Officer.unit_id)
         .where(Officer.active, FollowUp.status.in_(ACTIVE), FollowUp.due.is_not(None), FollowUp.due < today))
    if unit_path:
        q = q.where(Unit.path.like(f"{unit_path}%"))
    if assignee_id is not None:
        q = q.where(FollowUp.assignee_id == assignee_id)
    return session.scalar(q) or 0


def recently_closed(session: Session, actor: Actor, today: dt.date, start: int = 0, limit: int = 20) -> dict:
    """Follow-ups closed in the actor's scope, newest first, each with the next assessment:
    {"rows": one page, "total": all of them}."""
    _may_act(actor)
    q = _scoped(actor).where(FollowUp.status == "closed")
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    page = q.order_by(FollowUp.closed_at.desc(), FollowUp.id.desc()).offset(max(0, start)).limit(limit)
    return {"rows": _describe(session, list(session.scalars(page)), today, actor), "total": total or 0}


def officer_followups(session: Session, actor: Actor, badge: str, today: dt.date) -> list[dict]:
    _may_act(actor)
    officer = _officer(session, actor, badge)
    q = select(FollowUp).where(FollowUp.officer_id == officer.id).order_by(FollowUp.opened_at.desc())
    return _describe(session, list(session.scalars(q)), today, actor)


URGENT_RULES = ("phq9_item9", "ecg_critical")  # self-harm thoughts, a critical ECG: act today
URGENCY = {0: ("紧急：自伤念头或心电图危急结果", "Urgent: self-harm thoughts or a critical ECG"),
           1: ("待确认：单次自助读数，需复测", "Unconfirmed: one kiosk reading, re-measure"),
           2: ("已确认红色，尚无跟进", "Confirmed red, no follow-up yet")}


def last_red_at(officer_id_col):
    """When the officer last turned red (the newest change into red in the warning history)."""
    return (select(func.max(WarningHistory.changed_at))
            .where(WarningHistory.officer_id == officer_id_col, WarningHistory.level == "red").scalar_subquery())


def without_followup(officer_id_col):
    """No follow-up open or in progress, and none opened since the officer last turned red."""
    red_at = last_red_at(officer_id_col)
    return ~select(FollowUp.id).where(FollowUp.officer_id == officer_id_col,
                                      or_(FollowUp.status.in_(ACTIVE), FollowUp.opened_at >= red_at)).exists()


def needs_action(session: Session, actor: Actor, today: dt.date, start: int = 0, limit: int = 50) -> dict:
    """需处理的红色预警: red officers in scope (the colour this viewer's lists show) with no follow-up
    open or in progress and none opened since they turned red (``without_followup``; /warnings
    ``?level=red&followup=needs_action`` is the same list). Ordered by clinical urgency: self-harm
    thoughts or a critical ECG first, then unconfirmed reds (one kiosk reading), then confirmed
    reds, each group by the age of the reading that turned them red, oldest first.
    {"rows": one page, "total": n}."""
    _may_act(actor)
    became = (select(WarningHistory.officer_id, func.max(WarningHistory.changed_at).label("red_at"))
              .where(WarningHistory.level == "red").group_by(WarningHistory.officer_id).subquery("became"))
    turned = aliased(WarningHistory)  # the change into red: its reasons name the readings that did it
    psych, ids = _sees_psych(actor), _psych_ids(session)
    level = psych_model.named_level(OfficerStatus, psych)  # red for a psychological reason: not in another's queue
    q = (select(Officer.badge, Officer.name, Unit.name, Unit.name_en, OfficerStatus.confirmed, OfficerStatus.reasons,
                became.c.red_at, turned.reasons, OfficerStatus.open_reasons)
         .select_from(OfficerStatus).join(Officer, Officer.id == OfficerStatus.officer_id)
         .join(Unit, Unit.id == Officer.unit_id).join(became, became.c.officer_id == OfficerStatus.officer_id)
         .join(turned, and_(turned.officer_id == became.c.officer_id, turned.changed_at == became.c.red_at,
                            turned.level == "red"))
         .where(Officer.active, level == "red", without_followup(OfficerStatus.officer_id)))
    if actor.unit_path:
        q = q.where(OfficerStatus.unit_path.like(f"{actor.unit_path}%"))
    names = english_names(session)
    rows, seen = [], set()
    for b, n, u, ue, c, reasons, at, turned_reasons, open_reasons in session.execute(q.order_by(Officer.badge)):
        if b in seen:  # two history rows at the same instant: one line
            continue
        seen.add(b)
        visible = psych_model.visible_reasons(reasons, open_reasons, ids, psych)
        shown = [r for r in visible if r.get("level") == "red"]
        if not psych and psych_model.needs_psych_followup(reasons, ids):
            shown.append({"text": psych_model.PSYCH_FOLLOWUP[0], "text_en": psych_model.PSYCH_FOLLOWUP[1]})
        # the red date: for a viewer without psych, only from the open (non-psychological) red reasons
        since = red_since(psych_model.visible_reasons(turned_reasons, None, ids, psych), at)
        urgent = any(r.get("rule") in URGENT_RULES for r in visible)  # what this viewer may see decides
        tier = 0 if urgent else (2 if c else 1)
        rows.append({"badge": b, "name": n, "unit": u, "unit_en": ue or u, "confirmed": bool(c),
                     "reasons": [r.get("text", "") for r in shown], "reasons_en": [english_reason(r, names)["text_en"] for r in shown],
                     "red_since": since.isoformat(), "days": (today - since).days,
                     "recorded": at.date().isoformat(), "urgency": tier,
                     "urgency_zh": URGENCY[tier][0], "urgency_en": URGENCY[tier][1]})
    rows.sort(key=lambda r: (r["urgency"], r["red_since"], r["badge"]))
    start = max(0, start)
    return {"rows": rows[start:start + limit], "total": len(rows)}


def red_since(reasons: list | None, recorded_at: dt.datetime) -> dt.date:
    """转红日期: the date of the reading that turned the officer red — the earliest red reason of the
    change into red (each of them alone makes red, so red began with the first). ``recorded_at``
    (when the portal learned of it) only when no red reason carries a date, and as a ceiling."""
    days = [dt.date.fromisoformat(r["date"]) for r in reasons or [] if r.get("level") == "red" and r.get("date")]
    return min(days + [recorded_at.date()])


def recent_changes(session: Session, actor: Actor, today: dt.date, days: int = 30, start: int = 0,
                   limit: int = 50) -> dict:
    """Level changes in the actor's scope in the last ``days`` days, newest first:
    {"rows": one page, "total": all of them this viewer may see}."""
    _may_act(actor)
    since = dt.datetime.combine(today - dt.timedelta(days=days), dt.time.min)
    q = (select(Officer.badge, Officer.name, Unit.name, Unit.name_en, WarningHistory.previous_level, WarningHistory.level,
                WarningHistory.confirmed, WarningHistory.changed_at, WarningHistory.reasons)
         .select_from(WarningHistory).join(Officer, Officer.id == WarningHistory.officer_id)
         .join(Unit, Unit.id == Officer.unit_id)
         .where(WarningHistory.changed_at >= since, WarningHistory.previous_level.is_not(None),
                WarningHistory.previous_level != WarningHistory.level))
    if actor.unit_path:
        q = q.where(WarningHistory.unit_path.like(f"{actor.unit_path}%"))
    psych, ids = _sees_psych(actor), _psych_ids(session)
    rows = session.execute(q.order_by(WarningHistory.changed_at.desc(), WarningHistory.id.desc()))
    # a change that rested on a psychological reason is not in another's list
    shown = [{"badge": b, "name": n, "unit": u, "unit_en": ue or u, "from": p, "to": lvl, "confirmed": bool(c),
              "at": at.date().isoformat()}
             for b, n, u, ue, p, lvl, c, at, why in rows if psych or not psych_model.has_psych(why, ids)]
    start = max(0, start)
    return {"rows": shown[start:start + limit], "total": len(shown)}


PAGE = 20  # rows per page of each workbench list


def workbench_counts(session: Session, actor: Actor, today: dt.date) -> dict:
    """The workbench's headline figures: red needing action (``needs_action``), my follow-ups,
    my overdue follow-ups and every overdue follow-up in scope (``overdue_count``)."""
    _may_act(actor)
    mine = _scoped(actor).where(FollowUp.assignee_id == actor.user_id, FollowUp.status.in_(ACTIVE))
    return {"needs_action": needs_action(session, actor, today, limit=0)["total"],
            "mine": session.scalar(select(func.count()).select_from(mine.subquery())) or 0,
            "my_overdue": overdue_count(session, actor.unit_path, today, assignee_id=actor.user_id),
            "scope_overdue": overdue_count(session, actor.unit_path, today)}
