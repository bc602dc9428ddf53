"""The personal health plan (issue 19): an officer's targets (weight or BMI, waist, blood pressure,
steps, fasting glucose), each with a date, set by the officer or agreed with their health manager;
progress from the newest readings; and the officer's own follow-ups, which they confirm or ask to
reschedule.

Every function takes the officer's id as the caller decided it on the server (the session's own
officer, or a badge checked against the manager's scope): nothing here trusts the browser.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import audit as audit_model
from models import psych as psych_model
from models.items import ITEMS
from models.notifications import notify
from models.schema import (
    Campaign, CampaignEntry, FollowUp, FollowUpReply, HealthTarget, Observation, Officer, OfficerStatus, User, utcnow,
)
from models.vocab import FOLLOWUP_REPLIES, PLAN_ITEMS

MAX_REASON = 500
MAX_HORIZON_DAYS = 3 * 366  # a target date at most about three years ahead
STEPS_DAYS = 7  # steps: the mean daily count of the last week
DECIMALS = {"weight_kg": 1, "bmi": 1, "waist_cm": 1, "sbp": 0, "dbp": 0, "steps": 0, "fpg": 1}
SETTERS = ("officer", "manager", "admin")


class PlanError(ValueError):
    """A target or reply the form cannot save (the message says why)."""


class PlanDenied(PermissionError):
    """The caller may not touch this follow-up (not the officer's own)."""


def latest(session: Session, officer_id: int, code: str, today: dt.date) -> tuple[float | None, dt.date | None]:
    """The newest value of an item (steps: the mean daily count over the last week of campaign entries or
    readings), with its date."""
    if code == "steps":
        first = today - dt.timedelta(days=STEPS_DAYS - 1)
        days = session.execute(
            select(CampaignEntry.day, func.max(CampaignEntry.value)).join(Campaign, Campaign.id == CampaignEntry.campaign_id)
            .where(CampaignEntry.officer_id == officer_id, Campaign.kind == "steps", CampaignEntry.flagged.is_(False),
                   CampaignEntry.day >= first, CampaignEntry.day <= today).group_by(CampaignEntry.day)).all()
        if days:
            return round(sum(v for _, v in days) / len(days)), max(d for d, _ in days)
    row = session.execute(select(Observation.value, Observation.observed_at)
                          .where(Observation.officer_id == officer_id, Observation.code == code,
                                 Observation.observed_at < dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
                          .order_by(Observation.observed_at.desc()).limit(1)).first()
    return (row[0], row[1].date()) if row else (None, None)


def progress(baseline: float | None, current: float | None, target: float) -> dict:
    """How far from the baseline toward the target the newest value has come: share 0–1, reached."""
    if current is None:
        return {"share": None, "reached": False}
    if baseline is None or baseline == target:
        lower = baseline is None or current >= target
        reached = current <= target if lower else current >= target
        return {"share": 1.0 if reached else None, "reached": reached}
    down = target < baseline
    reached = current <= target if down else current >= target
    share = (baseline - current) / (baseline - target)
    return {"share": max(0.0, min(1.0, share)), "reached": reached}


def _check_target(code: Any, value: Any, target_date: Any, today: dt.date) -> tuple[str, float, dt.date]:
    if code not in PLAN_ITEMS:
        raise PlanError("choose an item")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise PlanError("enter a target value")
    low, high = ITEMS[code].low, ITEMS[code].high
    if not low <= value <= high:
        raise PlanError(f"the target lies outside {low:g}–{high:g}")
    try:
        day = target_date if isinstance(target_date, dt.date) else dt.date.fromisoformat(str(target_date or "")[:10])
    except ValueError:
        raise PlanError("enter a target date") from None
    if day <= today:
        raise PlanError("the target date must lie in the future")
    if (day - today).days > MAX_HORIZON_DAYS:
        raise PlanError("the target date is more than three years ahead")
    return code, float(value), day


def set_target(session: Session, officer_id: int, user_id: int, role: str, code: Any, value: Any, target_date: Any,
               today: dt.date, now: dt.datetime | None = None) -> HealthTarget:
    """Set (or change) the officer's target for one item; the value of the newest reading becomes its baseline."""
    if role not in SETTERS:
        raise PlanError("only the officer or a health manager sets targets")
    code, value, day = _check_target(code, value, target_date, today)
    now = now or utcnow()
    base, base_day = latest(session, officer_id, code, today)
    row = session.scalar(select(HealthTarget).where(HealthTarget.officer_id == officer_id, HealthTarget.code == code))
    if row is None:
        row = HealthTarget(officer_id=officer_id, code=code, created_at=now)
        session.add(row)
    row.target_value, row.target_date, row.set_by_id, row.set_by_role, row.updated_at = value, day, user_id, role, now
    row.baseline_value = base
    row.baseline_at = dt.datetime.combine(base_day, dt.time.min) if base_day else None
    session.flush()
    return row


def targets(session: Session, officer_id: int, today: dt.date) -> list[dict]:
    """Each target with the value when it was set, the newest value, progress and days left."""
    out = []
    for t in session.scalars(select(HealthTarget).where(HealthTarget.officer_id == officer_id).order_by(HealthTarget.id)):
        value, day = latest(session, officer_id, t.code, today)
        p = progress(t.baseline_value, value, t.target_value)
        out.append({"code": t.code, "target": t.target_value, "target_date": t.target_date.isoformat(),
                    "days_left": (t.target_date - today).days, "baseline": t.baseline_value,
                    "baseline_date": t.baseline_at.date().isoformat() if t.baseline_at else None,
                    "latest": value, "latest_date": day.isoformat() if day else None, "unit": ITEMS[t.code].unit,
                    "decimals": DECIMALS.get(t.code, 1), "agreed": t.set_by_role != "officer", **p})
    return out


def next_check(session: Session, officer_id: int, today: dt.date) -> dict:
    """The next date something is due: the nearest open follow-up, else the yearly exam after the last one."""
    due = session.scalar(select(func.min(FollowUp.due)).where(FollowUp.officer_id == officer_id,
                                                             FollowUp.status.in_(("open", "in_progress")),
                                                             FollowUp.due >= today))
    if due is not None:
        return {"date": due.isoformat(), "what": "followup"}
    last = session.scalar(select(OfficerStatus.last_exam_date).where(OfficerStatus.officer_id == officer_id))
    if last is not None:
        nxt = max(last.replace(year=last.year + 1) if not (last.month == 2 and last.day == 29)
                  else last + dt.timedelta(days=365), today)
        return {"date": nxt.isoformat(), "what": "exam"}
    return {"date": None, "what": None}


def my_followups(session: Session, officer_id: int, today: dt.date, closed_days: int = 90) -> list[dict]:
    """The officer's own follow-ups (open ones and those closed lately): what was agreed, when, their reply."""
    since = dt.datetime.combine(today - dt.timedelta(days=closed_days), dt.time.min)
    rows = list(session.scalars(select(FollowUp).where(FollowUp.officer_id == officer_id,
                                                       (FollowUp.status != "closed") | (FollowUp.closed_at >= since))
                                .order_by(FollowUp.status == "closed", FollowUp.due.is_(None), FollowUp.due, FollowUp.id)))
    if not rows:
        return []
    replies: dict[int, FollowUpReply] = {}
    for r in session.scalars(select(FollowUpReply).where(FollowUpReply.follow_up_id.in_([f.id for f in rows]))
                             .order_by(FollowUpReply.at, FollowUpReply.id)):
        replies[r.follow_up_id] = r
    out = []
    for f in rows:
        reply = replies.get(f.id)
        out.append({"id": f.id, "kind": f.kind, "reason": f.reason, "due": f.due.isoformat() if f.due else None,
                    "status": f.status, "outcome": f.outcome,
                    "overdue": f.status != "closed" and f.due is not None and f.due < today,
                    "notes": [n for n in (f.notes or []) if not n.get("officer_reply")],
                    "reply": reply.reply if reply else None, "reply_reason": reply.reason if reply else None,
                    "reply_at": reply.at.isoformat(timespec="minutes") if reply else None})
    return out


REPLY_NOTES = {"confirm": ("民警已确认", "The officer confirmed"),
               "reschedule": ("民警申请改期", "The officer asked to reschedule")}


def reply(session: Session, officer_id: int, user_id: int, username: str, followup_id: Any, answer: Any,
          reason: Any = None, *, ip: str | None = None, now: dt.datetime | None = None) -> FollowUpReply:
    """The officer confirms one of their own follow-ups or asks to reschedule it (with a reason); the
    manager reads it on the follow-up (a note) and hears of it by the bell."""
    fid = followup_id if isinstance(followup_id, int) and not isinstance(followup_id, bool) else None
    row = session.get(FollowUp, fid) if fid is not None and 0 < fid < 2**31 else None
    if row is None or row.officer_id != officer_id:
        raise PlanDenied("no access")  # the same answer for unknown ids and other officers' follow-ups
    if answer not in FOLLOWUP_REPLIES:
        raise PlanError("choose confirm or reschedule")
    if row.status == "closed":
        raise PlanError("the follow-up is closed")
    reason = (reason if isinstance(reason, str) else "").strip()[:MAX_REASON]
    if answer == "reschedule" and not reason:
        raise PlanError("give a reason for the new date")
    now = now or utcnow()
    out = FollowUpReply(follow_up_id=row.id, officer_id=officer_id, reply=answer, reason=reason or None, at=now)
    session.add(out)
    words = REPLY_NOTES[answer]
    text = words[0] + (f"：{reason}" if reason else "")
    row.notes = [*(row.notes or []), {"at": now.isoformat(timespec="minutes"), "by": username, "text": text,
                                      "officer_reply": answer}]
    session.flush()
    officer = session.get(Officer, officer_id)
    audit_model.record(session, action="followup_reply", target=f"officer:{officer.badge}",
                       detail={"follow_up": row.id, "reply": answer}, user_id=user_id, username=username, ip=ip)
    to = row.assignee_id or row.opened_by_id
    grant = session.execute(select(User.role, User.psych_access).where(User.id == to)).first()
    sees = grant is not None and (grant[0] in ("admin", "counsellor") or bool(grant[1]))
    hidden = psych_model.is_psych_followup(row.kind, row.reason) and not sees
    body = ((f"{officer.name}（{officer.badge}）{words[0]}。" + ("" if hidden or not reason else f"理由：{reason}"),
             f"{officer.name} ({officer.badge}): {words[1].lower()}. " + ("" if hidden or not reason else f"Reason: {reason}")))
    notify(session, to, "followup_reply", f"reply:{out.id}",
           (f"{words[0]}：{officer.name}（{officer.badge}）", f"{words[1]}: {officer.name} ({officer.badge})"),
           body, "/workbench", officer_id)
    return out
