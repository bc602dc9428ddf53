"""Psychological screening rounds (issue 19): a manager with psychological access or a counsellor
asks every officer of a unit subtree to answer PHQ-9 or GAD-7 within a window.

* An officer of the subtree is *invited* (the active officers serving there now) and has
  *completed* the round with an answer of its instrument dated inside the window, whichever
  page they answered on (``questionnaire_response``).
* Until then the round is *due* for them on ``/me`` while its window is open.
* From the reminder day on, every officer still due gets one "screening_due" message
  (key ``screening_due:<round>``: a second pass adds nothing): :func:`notify_due`, run when the
  round is saved, when the officer opens ``/me`` and daily by ``portal screenings remind``.
* Completion per sub-unit (invited, completed, rate) goes through the one suppression function
  (``models.suppression.unit_tree_table``): the scheduler sees what a table of counts may show.

Scope: the caller's unit path (None: the whole force) is passed in; a round outside it is
refused with :class:`NotAllowed`. Who may schedule at all is the callback's decision
(``web.access.Scope.sees_psych``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import notifications, suppression
from models import questionnaires as q
from models.questionnaires import INSTRUMENTS
from models.schema import Notification, Officer, QuestionnaireResponse, ScreeningRound, Unit, User, utcnow
from models.vocab import INSTRUMENTS as INSTRUMENT_WORDS
from models.vocab import Words

MAX_WINDOW_DAYS = 366
COLUMNS = ("completed", "pending")


class NotAllowed(Exception):
    """A round or unit outside the caller's scope (the callback answers 403)."""


class ScreeningError(ValueError):
    """Form errors: {field: (zh, en)}."""

    def __init__(self, errors: dict[str, Words]):
        super().__init__("; ".join(e[1] for e in errors.values()))
        self.errors = errors


def _in_scope(scope_path: str | None, path: str | None) -> bool:
    return scope_path is None or (bool(path) and path.startswith(scope_path))


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def create_round(session: Session, *, scope_path: str | None, user_id: int, unit_code: str | None,
                 instrument: str | None, start: str | None, end: str | None, reminder: str | None,
                 today: dt.date) -> ScreeningRound:
    """Validate and save a round; ScreeningError lists what to fix, NotAllowed a unit outside the scope."""
    errors: dict[str, Words] = {}
    unit = session.scalar(select(Unit).where(Unit.code == str(unit_code))) if unit_code else None
    if unit_code and (unit is None or not _in_scope(scope_path, unit.path)):
        raise NotAllowed("unit outside the scope")
    if unit is None:
        errors["unit"] = ("请选择单位。", "Choose a unit.")
    if instrument not in INSTRUMENTS:
        errors["instrument"] = ("请选择问卷。", "Choose a questionnaire.")
    d_start, d_end, d_rem = _date(start), _date(end), _date(reminder) if reminder else _date(start)
    if d_start is None:
        errors["start"] = ("请填写开始日期。", "Enter the start date.")
    if d_end is None:
        errors["end"] = ("请填写结束日期。", "Enter the end date.")
    if d_start and d_end:
        if d_end < d_start:
            errors["end"] = ("结束日期不能早于开始日期。", "The end date cannot be before the start date.")
        elif d_end < today:
            errors["end"] = ("结束日期已过。", "The end date has passed.")
        elif (d_end - d_start).days >= MAX_WINDOW_DAYS:
            errors["end"] = ("筛查窗口最长一年。", "A screening window lasts a year at most.")
    if reminder and d_rem is None:
        errors["reminder"] = ("提醒日期格式不正确。", "The reminder date is not a date.")
    elif d_rem and d_start and d_end and not d_start <= d_rem <= d_end:
        errors["reminder"] = ("提醒日期须在筛查窗口内。", "The reminder day must lie inside the window.")
    if errors:
        raise ScreeningError(errors)
    row = ScreeningRound(instrument=instrument, unit_id=unit.id, start_date=d_start, end_date=d_end,
                         reminder_date=d_rem, created_by_id=user_id, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def unit_options(session: Session, scope_path: str | None, limit: int = 500) -> list[dict]:
    """The units a round may be scheduled for: the scope's unit and every unit under it, by path."""
    stmt = select(Unit.code, Unit.name, Unit.level, Unit.depth).order_by(Unit.path).limit(limit)
    if scope_path is not None:
        stmt = stmt.where(Unit.path.like(f"{scope_path}%"))
    return [{"code": c, "name": n, "level": lvl, "depth": d} for c, n, lvl, d in session.execute(stmt).all()]


def status(r: ScreeningRound, today: dt.date) -> str:
    if today < r.start_date:
        return "upcoming"
    return "running" if today <= r.end_date else "finished"


def rounds(session: Session, scope_path: str | None, today: dt.date, limit: int = 100) -> list[dict]:
    """The rounds for units inside the scope, newest window first."""
    rows = session.execute(select(ScreeningRound, Unit.code, Unit.name, Unit.path)
                           .join(Unit, ScreeningRound.unit_id == Unit.id)
                           .order_by(ScreeningRound.start_date.desc(), ScreeningRound.id.desc())).all()
    out = []
    for r, code, name, path in rows:
        if _in_scope(scope_path, path):
            out.append({"id": r.id, "instrument": r.instrument, "unit": code, "unit_name": name,
                        "start": r.start_date.isoformat(), "end": r.end_date.isoformat(),
                        "reminder": r.reminder_date.isoformat(), "status": status(r, today)})
        if len(out) >= limit:
            break
    return out


def _round_in_scope(session: Session, round_id: int, scope_path: str | None) -> tuple[ScreeningRound, Unit]:
    r = session.get(ScreeningRound, round_id)
    unit = session.get(Unit, r.unit_id) if r is not None else None
    if r is None or unit is None or not _in_scope(scope_path, unit.path):
        raise NotAllowed("no such round in scope")
    return r, unit


def _window(r: ScreeningRound) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.combine(r.start_date, dt.time.min), dt.datetime.combine(r.end_date, dt.time.max)


def _invited(session: Session, path: str) -> list[tuple[int, str]]:
    return list(session.execute(select(Officer.id, Unit.path).join(Unit, Officer.unit_id == Unit.id)
                                .where(Officer.active, Unit.path.like(f"{path}%"))).all())


def _completed(session: Session, r: ScreeningRound, path: str) -> set[int]:
    lo, hi = _window(r)
    return set(session.scalars(
        select(QuestionnaireResponse.officer_id).join(Officer, QuestionnaireResponse.officer_id == Officer.id)
        .join(Unit, Officer.unit_id == Unit.id)
        .where(QuestionnaireResponse.instrument == r.instrument, QuestionnaireResponse.answered_at >= lo,
               QuestionnaireResponse.answered_at <= hi, Unit.path.like(f"{path}%"))).all())


@dataclass(frozen=True)
class CompletionRow:
    code: str
    name: str
    invited: str      # shown count or suppression.HIDDEN
    completed: str
    rate: float | None  # shown only where both counts are


def completion(session: Session, round_id: int, scope_path: str | None) -> dict:
    """Invited, completed and the rate per sub-unit of the round's unit (and the unit's own officers
    outside them), under the suppression rules: {"round", "total": CompletionRow, "rows": [...]}."""
    r, unit = _round_in_scope(session, round_id, scope_path)
    invited = _invited(session, unit.path)
    done = _completed(session, r, unit.path)
    children = list(session.execute(select(Unit.code, Unit.name, Unit.path).where(Unit.parent_id == unit.id)
                                    .order_by(Unit.code)).all())
    counts: dict[str, dict[str, int]] = {c: {"completed": 0, "pending": 0} for c, _n, _p in children}
    counts[unit.code] = {"completed": 0, "pending": 0}
    for officer_id, path in invited:
        column = "completed" if officer_id in done else "pending"
        counts[unit.code][column] += 1
        child = next((c for c, _n, p in children if path.startswith(p)), None)
        if child is not None:
            counts[child][column] += 1
    table = suppression.unit_tree_table(unit.code, counts, [c for c, _n, _p in children], COLUMNS)

    def row(code: str, name: str) -> CompletionRow:
        return CompletionRow(code, name, table.text((code, suppression.TOTAL)), table.text((code, "completed")),
                             table.rate((code, "completed"), (code, suppression.TOTAL)))

    own = counts[unit.code]["completed"] + counts[unit.code]["pending"] - sum(
        counts[c]["completed"] + counts[c]["pending"] for c, _n, _p in children)
    rows = [row(c, n) for c, n, _p in children]
    if children and own:
        rows.append(CompletionRow("own", "", table.text(("own", suppression.TOTAL)), table.text(("own", "completed")),
                                  table.rate(("own", "completed"), ("own", suppression.TOTAL))))
    return {"round": {"id": r.id, "instrument": r.instrument, "unit": unit.code, "unit_name": unit.name,
                      "start": r.start_date.isoformat(), "end": r.end_date.isoformat()},
            "total": row(unit.code, unit.name), "rows": rows}


def due_for_officer(session: Session, officer_id: int, today: dt.date) -> list[dict]:
    """The rounds open today for the officer's unit that they have not completed yet."""
    path = session.scalar(select(Unit.path).join(Officer, Officer.unit_id == Unit.id).where(Officer.id == officer_id))
    if path is None:
        return []
    rows = session.execute(select(ScreeningRound, Unit.path).join(Unit, ScreeningRound.unit_id == Unit.id)
                           .where(ScreeningRound.start_date <= today, ScreeningRound.end_date >= today)
                           .order_by(ScreeningRound.end_date, ScreeningRound.id)).all()
    out = []
    for r, round_path in rows:
        if not path.startswith(round_path):
            continue
        lo, hi = _window(r)
        answered = session.scalar(select(QuestionnaireResponse.id).where(
            QuestionnaireResponse.officer_id == officer_id, QuestionnaireResponse.instrument == r.instrument,
            QuestionnaireResponse.answered_at >= lo, QuestionnaireResponse.answered_at <= hi).limit(1))
        if answered is None:
            out.append({"id": r.id, "instrument": r.instrument, "end": r.end_date.isoformat(),
                        "reminder": r.reminder_date.isoformat()})
    return out


def answer(session: Session, officer_id: int, user_id: int | None, instrument: str, answers, *,
           today: dt.date) -> "q.Saved":
    """The officer answers a questionnaire (``models.questionnaires.submit``); the answer is filed under the
    first round of that instrument due for them, if any (any answer in the window completes a round)."""
    due = next((d["id"] for d in due_for_officer(session, officer_id, today) if d["instrument"] == instrument), None)
    return q.submit(session, officer_id, user_id, instrument, answers, today=today, round_id=due)


def notify_due(session: Session, today: dt.date, *, round_id: int | None = None,
               officer_id: int | None = None) -> int:
    """One "screening_due" message per round to every officer still due from the round's reminder day
    (one round, one officer or every open round); the number of messages added."""
    stmt = (select(ScreeningRound, Unit.path).join(Unit, ScreeningRound.unit_id == Unit.id)
            .where(ScreeningRound.start_date <= today, ScreeningRound.end_date >= today,
                   ScreeningRound.reminder_date <= today))
    if round_id is not None:
        stmt = stmt.where(ScreeningRound.id == round_id)
    added = 0
    for r, path in session.execute(stmt).all():
        key = f"screening_due:{r.id}"
        accounts = select(User.id, User.officer_id).join(Officer, User.officer_id == Officer.id) \
            .join(Unit, Officer.unit_id == Unit.id) \
            .where(User.active, User.role == "officer", Officer.active, Unit.path.like(f"{path}%"))
        if officer_id is not None:
            accounts = accounts.where(Officer.id == officer_id)
        users = session.execute(accounts).all()
        if not users:
            continue
        done = _completed(session, r, path)
        told = set(session.scalars(select(Notification.user_id).where(Notification.key == key)).all())
        name_zh, name_en = INSTRUMENT_WORDS[r.instrument]
        end = r.end_date.isoformat()
        rows = [{"user_id": uid, "kind": "screening_due", "key": key, "officer_id": oid,
                 "title_zh": f"请在 {end} 前完成心理测评：{name_zh}"[:200],
                 "title_en": f"Please answer the {name_en} by {end}"[:200],
                 "body_zh": "单位安排了心理健康筛查。结果只有您本人、心理咨询师和获授权的健康管理师可以看到。",
                 "body_en": "Your unit has scheduled a mental-health screening. Only you, the counsellors and "
                            "authorised health managers see the result.",
                 "link": f"/me/questionnaire/{r.instrument}", "created_at": utcnow()}
                for uid, oid in users if uid not in told and oid not in done]
        if rows:
            try:
                with session.begin_nested():
                    session.execute(insert(Notification), rows)
                added += len(rows)
            except IntegrityError:  # a concurrent pass told some of them: one at a time, quietly
                added += sum(notifications.notify(
                    session, row["user_id"], "screening_due", key, (row["title_zh"], row["title_en"]),
                    (row["body_zh"], row["body_en"]), row["link"], row["officer_id"]) for row in rows)
    session.flush()
    return added
