"""A quiz campaign's question bank (its editors) and the officers' daily quiz.

The bank: questions with four options, the correct one and an explanation, in Chinese and English;
added, edited and deactivated by those who may edit the campaign (``access.may_edit``), bounded in
size. The daily quiz: ``QUIZ_SIZE`` active questions drawn for the officer and the day (the same
draw on every reload), shown without the answer key; one attempt a day, scored 0–100, and the score
is the day's entry through ``entries.merge_entries``. The answers and explanations are shown only
once the day's attempt is stored.
"""
from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.campaigns.access import CampaignError, NotAllowed, Viewer, may_edit, unit_rows, visible_campaign
from models.campaigns.entries import own_campaign, write_own
from models.campaigns.rules import (
    EXPLANATION_TEXT, MAX_QUESTIONS, OPTION_TEXT, QUESTION_TEXT, QUIZ_SIZE, lifecycle,
)
from models.schema import Campaign, CampaignQuestion, CampaignQuizAttempt, utcnow

OPTIONS = 4


# --- the bank (editors) ---------------------------------------------------------------------------
def _editable_quiz(session: Session, viewer: Viewer, campaign_id: Any) -> Campaign:
    if viewer.role not in ("manager", "admin"):
        raise NotAllowed("only health managers and administrators edit a question bank")
    c = visible_campaign(session, viewer, campaign_id)
    if not may_edit(viewer, c, unit_rows(session)):
        raise NotAllowed("no access")
    return c


def _question_dict(q: CampaignQuestion) -> dict:
    return {"id": q.id, "text_zh": q.text_zh, "text_en": q.text_en, "options_zh": list(q.options_zh),
            "options_en": list(q.options_en), "correct": q.correct, "explanation_zh": q.explanation_zh,
            "explanation_en": q.explanation_en, "active": bool(q.active)}


def question_bank(session: Session, viewer: Viewer, campaign_id: Any) -> list[dict]:
    """Every question of the campaign's bank with its answer key: for the campaign's editors only."""
    c = _editable_quiz(session, viewer, campaign_id)
    return [_question_dict(q) for q in session.scalars(
        select(CampaignQuestion).where(CampaignQuestion.campaign_id == c.id).order_by(CampaignQuestion.id))]


def _text(data: dict, key: str, low: int, high: int, errors: dict, words: tuple[str, str]) -> str:
    raw = data.get(key)
    value = raw.strip() if isinstance(raw, str) else ""
    if not low <= len(value) <= high:
        errors[key] = (f"{words[0]}：请填写 {low}–{high} 个字。", f"{words[1]}: {low}–{high} characters.")
    return value


def validate_question(data: dict) -> tuple[dict, dict[str, tuple[str, str]]]:
    """The fields of one question, checked: both languages, four distinct non-empty options each,
    the correct one (0–3), an explanation, the active flag."""
    errors: dict[str, tuple[str, str]] = {}
    out: dict[str, Any] = {
        "text_zh": _text(data, "text_zh", 4, QUESTION_TEXT, errors, ("题目（中文）", "Question (Chinese)")),
        "text_en": _text(data, "text_en", 4, QUESTION_TEXT, errors, ("题目（英文）", "Question (English)")),
        "explanation_zh": _text(data, "explanation_zh", 2, EXPLANATION_TEXT, errors, ("解析（中文）", "Explanation (Chinese)")),
        "explanation_en": _text(data, "explanation_en", 2, EXPLANATION_TEXT, errors, ("解析（英文）", "Explanation (English)")),
    }
    for lang, words in (("zh", ("选项（中文）", "Options (Chinese)")), ("en", ("选项（英文）", "Options (English)"))):
        raw = data.get(f"options_{lang}")
        opts = [o.strip() if isinstance(o, str) else "" for o in raw] if isinstance(raw, list) else []
        if len(opts) != OPTIONS or not all(1 <= len(o) <= OPTION_TEXT for o in opts):
            errors[f"options_{lang}"] = (f"{words[0]}：四个选项都要填写（每个最多 {OPTION_TEXT} 个字）。",
                                         f"{words[1]}: fill in all four (at most {OPTION_TEXT} characters each).")
        elif len(set(opts)) != OPTIONS:
            errors[f"options_{lang}"] = (f"{words[0]}：四个选项不能重复。", f"{words[1]}: the four must differ.")
        out[f"options_{lang}"] = opts
    correct = data.get("correct")
    if isinstance(correct, str) and correct in ("0", "1", "2", "3"):
        correct = int(correct)
    if isinstance(correct, bool) or correct not in range(OPTIONS):
        errors["correct"] = ("请选择正确答案。", "Choose the correct option.")
    out["correct"] = correct
    out["active"] = data.get("active") is not False
    return out, errors


def save_question(session: Session, viewer: Viewer, campaign_id: Any, data: dict, today: dt.date,
                  question_id: Any = None) -> CampaignQuestion:
    """Add (``question_id`` None) or edit a question of a quiz campaign's bank; deactivating is an
    edit with ``active`` False. Frozen once the campaign has ended, been closed or archived."""
    c = _editable_quiz(session, viewer, campaign_id)
    if c.kind != "quiz":
        raise CampaignError({"_": ("只有知识答题活动有题库。", "Only quiz campaigns have a question bank.")})
    if lifecycle(c, today) not in ("upcoming", "running"):
        raise CampaignError({"_": ("活动已结束、关闭或归档，题库已冻结。",
                                   "The campaign has ended, been closed or archived: its questions are frozen.")})
    existing = None
    if question_id not in (None, ""):
        try:
            existing = session.get(CampaignQuestion, int(str(question_id)))
        except (TypeError, ValueError):
            existing = None
        if existing is None or existing.campaign_id != c.id:
            raise NotAllowed("no such question in this campaign")
    elif (session.scalar(select(func.count()).select_from(CampaignQuestion)
                         .where(CampaignQuestion.campaign_id == c.id)) or 0) >= MAX_QUESTIONS:
        raise CampaignError({"_": (f"题库最多 {MAX_QUESTIONS} 道题。", f"A bank holds at most {MAX_QUESTIONS} questions.")})
    values, errors = validate_question(data)
    if errors:
        raise CampaignError(errors)
    if existing is None:
        existing = CampaignQuestion(campaign_id=c.id, **values)
        session.add(existing)
    else:
        for k, v in values.items():
            setattr(existing, k, v)
        existing.updated_at = utcnow()
    session.flush()
    return existing


# --- the daily quiz (officers) --------------------------------------------------------------------
def draw(session: Session, campaign_id: int, officer_id: int, day: dt.date) -> list[CampaignQuestion]:
    """The officer's questions of the day: the same draw on every call that day."""
    active = list(session.scalars(select(CampaignQuestion).where(
        CampaignQuestion.campaign_id == campaign_id, CampaignQuestion.active.is_(True)).order_by(CampaignQuestion.id)))
    rng = random.Random(f"{campaign_id}:{officer_id}:{day.isoformat()}")
    return rng.sample(active, min(QUIZ_SIZE, len(active)))


def _attempt(session: Session, campaign_id: int, officer_id: int, day: dt.date) -> CampaignQuizAttempt | None:
    return session.scalar(select(CampaignQuizAttempt).where(
        CampaignQuizAttempt.campaign_id == campaign_id, CampaignQuizAttempt.officer_id == officer_id,
        CampaignQuizAttempt.day == day))


def _result(session: Session, attempt: CampaignQuizAttempt) -> dict:
    qs = {q.id: q for q in session.scalars(select(CampaignQuestion).where(
        CampaignQuestion.id.in_(attempt.question_ids or [0])))}
    items = []
    for qid, answer in zip(attempt.question_ids, attempt.answers):
        q = qs.get(qid)
        if q is None:
            continue
        items.append({"id": q.id, "text_zh": q.text_zh, "text_en": q.text_en, "options_zh": list(q.options_zh),
                      "options_en": list(q.options_en), "answer": answer, "correct": q.correct,
                      "right": answer == q.correct, "explanation_zh": q.explanation_zh,
                      "explanation_en": q.explanation_en})
    return {"state": "done", "score": attempt.score, "day": attempt.day.isoformat(), "items": items,
            "right": sum(1 for i in items if i["right"]), "asked": len(items)}


def daily_quiz(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Today's quiz for the calling officer: the questions without the answer key ("open"), or the
    stored attempt with answers and explanations ("done"), or "empty" when the bank has none."""
    c = own_campaign(session, viewer, campaign_id, "quiz", today)
    done = _attempt(session, c.id, viewer.officer_id, today)
    if done is not None:
        return _result(session, done)
    questions = draw(session, c.id, viewer.officer_id, today)
    if not questions:
        return {"state": "empty", "items": []}
    return {"state": "open", "day": today.isoformat(),
            "items": [{"id": q.id, "text_zh": q.text_zh, "text_en": q.text_en, "options_zh": list(q.options_zh),
                       "options_en": list(q.options_en)} for q in questions]}


def submit_quiz(session: Session, viewer: Viewer, campaign_id: Any, answers: dict[Any, Any], today: dt.date) -> dict:
    """Score the officer's answers to today's draw (every question answered, 0–3), store the one
    attempt of the day and enter the score; a second attempt the same day is refused."""
    c = own_campaign(session, viewer, campaign_id, "quiz", today)
    if _attempt(session, c.id, viewer.officer_id, today) is not None:
        raise CampaignError({"_": ("今天已经答过题了，明天再来。", "You have answered today's quiz; come back tomorrow.")})
    questions = draw(session, c.id, viewer.officer_id, today)
    if not questions:
        raise CampaignError({"_": ("题库里还没有题目。", "The question bank is empty.")})
    given: dict[int, int] = {}
    for k, v in (answers or {}).items():
        try:
            qid, choice = int(str(k)), int(str(v))
        except (TypeError, ValueError):
            continue
        if choice in range(OPTIONS):
            given[qid] = choice
    wanted = [q.id for q in questions]
    if set(given) - set(wanted):
        raise CampaignError({"_": ("题目已更新，请刷新页面后重新作答。", "The questions changed; reload the page and answer again.")})
    if any(qid not in given for qid in wanted):
        raise CampaignError({"_": ("请回答每一道题。", "Answer every question.")})
    right = sum(1 for q in questions if given[q.id] == q.correct)
    score = round(100 * right / len(questions))
    attempt = CampaignQuizAttempt(campaign_id=c.id, officer_id=viewer.officer_id, day=today, question_ids=wanted,
                                  answers=[given[q] for q in wanted], score=score)
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:  # a concurrent second attempt: the unique key keeps one
        raise CampaignError({"_": ("今天已经答过题了，明天再来。", "You have answered today's quiz; come back tomorrow.")}) from None
    write_own(session, c, viewer.officer_id, today, float(score), today)
    return _result(session, attempt)
