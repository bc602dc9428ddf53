"""Take your data: everything the portal holds about one officer, as one plain dict.

The officer downloads it (``/me/data.json``, ``/me/data.html``); an admin downloads it for
an officer on request. It holds what the officer may see of their own record: identity
(the ID number only masked), exams, every reading (questionnaires included: they are the
officer's own answers), the warning with its reasons and level history, follow-ups with
their notes, campaign entries and points, preferences, and who looked at the record.
Words come with their codes as ``{"code", "zh", "en"}`` so the JSON reads on its own.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import audit as audit_model
from models import portrait, vocab
from models.items import LOINC
from models.schema import (
    Campaign, CampaignEntry, CampaignQuizAttempt, Exam, FollowUp, Hospital, Observation, Officer, OfficerPreference, OfficerStatus, Points,
    QuestionnaireResponse, User, WarningHistory,
)

FORMAT_VERSION = 1


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return value.isoformat()


def _item(code: str) -> dict:
    ind = portrait.BY_CODE.get(code)
    return {"code": code, "zh": ind.zh if ind else code, "en": ind.en if ind else code,
            "loinc": (LOINC.get(code) or (None,))[0]}


def officer_data(session: Session, officer_id: int, *, as_of: dt.date, generated_for: str) -> dict:
    """The whole record of one officer; ``generated_for`` says who asked ("officer" or "admin")."""
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise LookupError("no such officer")
    head = portrait.header(session, officer_id, lab_values=True, as_of=as_of)
    status = session.get(OfficerStatus, officer_id)
    hospitals = {h.id: (h.code, h.name) for h in session.scalars(select(Hospital))}
    users = dict(session.execute(select(User.id, User.username)).all())
    exams = [{
        "date": _iso(e.exam_date), "hospital": hospitals.get(e.hospital_id, ("", ""))[1],
        "hospital_code": hospitals.get(e.hospital_id, ("", ""))[0], "external_id": e.external_id,
        "ecg": e.ecg_text, "ultrasound": e.ultrasound_text, "summary": e.summary_text, "findings": list(e.findings or []),
    } for e in session.scalars(select(Exam).where(Exam.officer_id == officer_id).order_by(Exam.exam_date))]
    readings = [{
        "item": _item(o.code), "value": o.value, "unit": o.unit, "at": _iso(o.observed_at),
        "source": vocab.pair(vocab.SOURCES, o.source_kind), "source_id": o.source_id, "station": o.station,
    } for o in session.scalars(select(Observation).where(Observation.officer_id == officer_id)
                               .order_by(Observation.observed_at, Observation.code))]
    questionnaires = [{
        "instrument": vocab.pair(vocab.INSTRUMENTS, r.instrument), "answered_at": _iso(r.answered_at),
        "answers": list(r.answers or []), "total": r.total, "source": vocab.pair(vocab.SOURCES, r.source),
    } for r in session.scalars(select(QuestionnaireResponse).where(QuestionnaireResponse.officer_id == officer_id)
                               .order_by(QuestionnaireResponse.answered_at))]
    history = [{
        "at": _iso(h.changed_at), "level": vocab.pair(vocab.LEVEL_WORDS, h.level),
        "previous": vocab.pair(vocab.LEVEL_WORDS, h.previous_level) if h.previous_level else None,
        "confirmed": h.confirmed, "rules_version": h.rules_version,
        "cause": vocab.pair(vocab.HISTORY_CAUSES, h.cause) if h.cause else None,
    } for h in session.scalars(select(WarningHistory).where(WarningHistory.officer_id == officer_id)
                               .order_by(WarningHistory.changed_at))]
    follow_ups = [{
        "opened_at": _iso(f.opened_at), "opened_by": users.get(f.opened_by_id),
        "assignee": users.get(f.assignee_id) if f.assignee_id else None,
        "kind": vocab.pair(vocab.FOLLOWUP_KINDS, f.kind), "reason": f.reason, "due": _iso(f.due),
        "status": vocab.pair(vocab.FOLLOWUP_STATUSES, f.status),
        "outcome": vocab.pair(vocab.FOLLOWUP_OUTCOMES, f.outcome) if f.outcome else None,
        "closed_at": _iso(f.closed_at),
        "notes": [{"at": n.get("at"), "by": n.get("by"), "text": n.get("text")} for n in (f.notes or [])
                  if isinstance(n, dict)],
    } for f in session.scalars(select(FollowUp).where(FollowUp.officer_id == officer_id).order_by(FollowUp.opened_at))]
    campaigns = {c.id: c for c in session.scalars(select(Campaign))}
    entries = [{
        "campaign": campaigns[e.campaign_id].name if e.campaign_id in campaigns else str(e.campaign_id),
        "kind": vocab.pair(vocab.CAMPAIGN_KINDS, campaigns[e.campaign_id].kind) if e.campaign_id in campaigns else None,
        "day": _iso(e.day), "value": e.value, "flagged": e.flagged,
    } for e in session.scalars(select(CampaignEntry).where(CampaignEntry.officer_id == officer_id)
                               .order_by(CampaignEntry.day, CampaignEntry.campaign_id))]
    points = [{
        "campaign": campaigns[p.campaign_id].name if p.campaign_id in campaigns else str(p.campaign_id),
        "points": p.points, "reason": vocab.pair(vocab.POINT_REASON_WORDS, p.reason), "at": _iso(p.awarded_at),
    } for p in session.scalars(select(Points).where(Points.officer_id == officer_id).order_by(Points.awarded_at))]
    quiz = [{
        "campaign": campaigns[a.campaign_id].name if a.campaign_id in campaigns else str(a.campaign_id),
        "day": _iso(a.day), "score": a.score, "question_ids": list(a.question_ids or []),
        "answers": list(a.answers or []),
    } for a in session.scalars(select(CampaignQuizAttempt).where(CampaignQuizAttempt.officer_id == officer_id)
                               .order_by(CampaignQuizAttempt.day, CampaignQuizAttempt.campaign_id))]
    pref = session.get(OfficerPreference, officer_id)
    access = [{**a, "action": vocab.pair(vocab.AUDIT_ACTIONS, a["action"]),
               "role": vocab.pair(vocab.ROLE_WORDS, a["role"]) if a["role"] else None}
              for a in audit_model.officer_access_log(session, officer_id, limit=100_000)]
    warning = head.get("warning") or {}
    return {
        "format": "jingkang-officer-data", "version": FORMAT_VERSION, "as_of": as_of.isoformat(),
        "generated_for": generated_for,
        "officer": {
            "badge": officer.badge, "name": officer.name, "sex": vocab.pair(vocab.SEX_WORDS, officer.sex),
            "birth_date": _iso(officer.birth_date), "hire_date": _iso(officer.hire_date),
            "post": vocab.pair(vocab.POST_TYPES, officer.post_type), "id_number_masked": officer.id_masked,
            "unit": [{"code": u["code"], "zh": u["name"], "en": u["name_en"] or u["name"]} for u in head["unit_chain"]],
            "active": officer.active,
        },
        "warning": {
            "level": vocab.pair(vocab.LEVEL_WORDS, warning.get("level")) if warning.get("level") else None,
            "confirmed": warning.get("confirmed"), "rules_version": warning.get("rules_version"),
            "computed_at": warning.get("computed_at"),
            "reasons": [{"rule": r["rule"], "level": vocab.pair(vocab.LEVEL_WORDS, r.get("level")) if r.get("level") else None,
                         "zh": r["zh"], "en": r["en"], "date": r.get("date"), "source": r.get("source")}
                        for r in warning.get("reasons", [])],
            "china_par": {"pct": status.china_par, "category": vocab.pair(vocab.RISK_CLASSES, status.china_par_category)}
            if status is not None and status.china_par is not None else None,
            "history": history,
        },
        "exams": exams,
        "readings": readings,
        "questionnaires": questionnaires,
        "follow_ups": follow_ups,
        "campaign_entries": entries,
        "points": points,
        "quiz_attempts": quiz,
        "preferences": {"hide_from_leaderboards": bool(pref and pref.hide_from_leaderboards)},
        "access_log": access,
    }
