"""PHQ-9 and GAD-7 answered by an officer in the portal (issue 19): the items' official wording,
the scoring the instruments define, and the save with its safety path.

Scoring (docs/CLINICAL.md): every item 0–3 ("not at all" … "nearly every day"), the total is the
sum (PHQ-9 0–27, GAD-7 0–21), bands as ``models.clinical.phq9_band`` / ``gad7_band``. PHQ-9 item 9
(thoughts of being better off dead or of self-harm) ≥ 1 needs a safety assessment whatever the
total: :func:`submit` then notifies the counsellors and the managers with psychological access
whose scope covers the officer (kind "self_harm") and the screen shows the force's support text
and hotline at once.

A save is stored twice over, on purpose: the answered questionnaire with every item
(``questionnaire_response``) and its totals as observations (``phq9``, ``phq9_item9``, ``gad7``;
source "self-report") that the snapshot, the warning rules (``phq9_item9`` red), the portrait and
the unit comparison read like any other reading. The officer's status is recomputed at once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import notifications, snapshot
from models.clinical import gad7_band, phq9_band
from models.schema import Observation, Officer, OfficerStatus, QuestionnaireResponse, Unit, User
from models.vocab import Words

SOURCE = "self-report"
SOURCE_ID = "portal"

# the answer options both instruments share (official Chinese version, Pfizer; English original)
OPTIONS: tuple[Words, ...] = (("完全不会", "Not at all"), ("好几天", "Several days"),
                              ("一半以上的天数", "More than half the days"), ("几乎每天", "Nearly every day"))
STEM: Words = ("在过去两个星期，有多少时候您受到以下任何问题所困扰？",
               "Over the last 2 weeks, how often have you been bothered by any of the following problems?")


@dataclass(frozen=True)
class Instrument:
    code: str
    items: tuple[Words, ...]
    band: object  # total -> band code (models.clinical)

    @property
    def max_total(self) -> int:
        return 3 * len(self.items)


PHQ9_ITEMS: tuple[Words, ...] = (
    ("做事时提不起劲或没有兴趣", "Little interest or pleasure in doing things"),
    ("感到心情低落、沮丧或绝望", "Feeling down, depressed, or hopeless"),
    ("入睡困难、睡不安稳或睡眠过多", "Trouble falling or staying asleep, or sleeping too much"),
    ("感觉疲倦或没有活力", "Feeling tired or having little energy"),
    ("食欲不振或吃太多", "Poor appetite or overeating"),
    ("觉得自己很糟，或觉得自己很失败，或让自己或家人失望",
     "Feeling bad about yourself — or that you are a failure or have let yourself or your family down"),
    ("对事物专注有困难，例如阅读报纸或看电视时",
     "Trouble concentrating on things, such as reading the newspaper or watching television"),
    ("动作或说话速度缓慢到别人已经觉察？或正好相反，烦躁或坐立不安、动来动去的情况更胜于平常",
     "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety "
     "or restless that you have been moving around a lot more than usual"),
    ("有不如死掉或用某种方式伤害自己的念头", "Thoughts that you would be better off dead or of hurting yourself in some way"),
)
GAD7_ITEMS: tuple[Words, ...] = (
    ("感觉紧张、焦虑或急切", "Feeling nervous, anxious or on edge"),
    ("不能够停止或控制担忧", "Not being able to stop or control worrying"),
    ("对各种各样的事情担忧过多", "Worrying too much about different things"),
    ("很难放松下来", "Trouble relaxing"),
    ("由于不安而无法静坐", "Being so restless that it is hard to sit still"),
    ("变得容易烦恼或急躁", "Becoming easily annoyed or irritable"),
    ("感到似乎将有可怕的事情发生而害怕", "Feeling afraid as if something awful might happen"),
)
INSTRUMENTS: dict[str, Instrument] = {
    "phq9": Instrument("phq9", PHQ9_ITEMS, phq9_band),
    "gad7": Instrument("gad7", GAD7_ITEMS, gad7_band),
}
SELF_HARM_ITEM = 9  # PHQ-9 item 9, 1-based


class QuestionnaireError(ValueError):
    """An answer set that does not fit the instrument; ``words`` say what to fix."""

    def __init__(self, words: Words):
        super().__init__(words[1])
        self.words = words


@dataclass(frozen=True)
class Scored:
    instrument: str
    answers: tuple[int, ...]
    total: int
    band: str
    self_harm: int | None  # PHQ-9 item 9's answer; None for GAD-7

    @property
    def safety(self) -> bool:
        """Item 9 ≥ 1: an immediate safety assessment, whatever the total."""
        return bool(self.self_harm)


def score(instrument: str, answers) -> Scored:
    """Score one answer set: every item answered with 0, 1, 2 or 3."""
    inst = INSTRUMENTS.get(instrument)
    if inst is None:
        raise QuestionnaireError(("没有这个问卷。", "No such questionnaire."))
    answers = list(answers or [])
    if len(answers) != len(inst.items) or any(a is None for a in answers):
        missing = [i + 1 for i in range(len(inst.items)) if i >= len(answers) or answers[i] is None]
        listed = "、".join(map(str, missing)) or "?"
        raise QuestionnaireError((f"请回答全部题目（未答：第 {listed} 题）。",
                                  f"Please answer every question (missing: {', '.join(map(str, missing)) or '?'})."))
    if any(isinstance(a, bool) or not isinstance(a, int) or not 0 <= a <= 3 for a in answers):
        raise QuestionnaireError(("每题只能选 0–3 分。", "Each answer is 0 to 3."))
    total = sum(answers)
    return Scored(instrument, tuple(answers), total, inst.band(total),
                  answers[SELF_HARM_ITEM - 1] if instrument == "phq9" else None)


@dataclass(frozen=True)
class Saved:
    scored: Scored
    response_id: int
    notified: int  # self-harm messages added (0 without the safety path)
    level: str | None  # the officer's warning level after the recompute


def answered_at(today: dt.date, now: dt.datetime | None = None) -> dt.datetime:
    """The moment a save is dated: the app's day (``PORTAL_TODAY`` pins it) at the wall clock's time."""
    now = now or dt.datetime.now()
    return dt.datetime.combine(today, now.time().replace(tzinfo=None))


def submit(session: Session, officer_id: int, user_id: int | None, instrument: str, answers, *,
           today: dt.date, round_id: int | None = None, now: dt.datetime | None = None) -> Saved:
    """Store one answered questionnaire of ``officer_id`` (the caller's own record: the callback passes
    the session's officer, never one from the browser), recompute their status and, when PHQ-9 item 9
    is 1 or more, notify the counsellors and psych-access managers whose scope covers them."""
    scored = score(instrument, answers)
    at = answered_at(today, now)
    response = QuestionnaireResponse(officer_id=officer_id, user_id=user_id, instrument=instrument,
                                     answers=list(scored.answers), total=scored.total, answered_at=at, source=SOURCE,
                                     round_id=round_id)
    session.add(response)
    values = {instrument: scored.total}
    if scored.self_harm is not None:
        values["phq9_item9"] = scored.self_harm
    for code, value in values.items():
        session.add(Observation(officer_id=officer_id, code=code, value=float(value), unit="score", observed_at=at,
                                source_kind=SOURCE, source_id=SOURCE_ID))
    session.flush()
    snapshot.recompute_officers(session, [officer_id], as_of=today)
    notified = notify_self_harm(session, officer_id, response.id) if scored.safety else 0
    level = session.scalar(select(OfficerStatus.level).where(OfficerStatus.officer_id == officer_id))
    return Saved(scored, response.id, notified, level)


def psych_carers(session: Session, unit_path: str) -> list[int]:
    """Active counsellors and managers with psychological access whose scope covers this unit path."""
    rows = session.execute(
        select(User.id, User.role, User.psych_access, Unit.path).join(Unit, User.scope_unit_id == Unit.id)
        .where(User.active, User.role.in_(("counsellor", "manager")))).all()
    return [uid for uid, role, grant, path in rows
            if (role == "counsellor" or grant) and path and unit_path.startswith(path)]


def notify_self_harm(session: Session, officer_id: int, response_id: int) -> int:
    officer = session.get(Officer, officer_id)
    carers = psych_carers(session, officer.unit.path)
    title = (f"自伤风险：{officer.name}（{officer.badge}）PHQ-9 第9题 ≥ 1，请立即联系",
             f"Self-harm risk: {officer.name} ({officer.badge}) answered PHQ-9 item 9 ≥ 1: contact them now")
    body = ("该民警刚在平台上填写 PHQ-9，第9题（不如死掉或伤害自己的念头）回答 ≥ 1。请立即进行安全评估。",
            "The officer has just answered PHQ-9 in the portal with item 9 (thoughts of being better off dead or of "
            "self-harm) 1 or more. Make a safety assessment now.")
    return notifications.notify_many(session, carers, "self_harm", f"self_harm:{response_id}", title, body,
                                     link=f"/officers/{officer.badge}", officer_id=officer_id)


def history(session: Session, officer_id: int, instrument: str | None = None, limit: int = 20) -> list[dict]:
    """The officer's own answered questionnaires, newest first (for their own pages only)."""
    stmt = select(QuestionnaireResponse).where(QuestionnaireResponse.officer_id == officer_id)
    if instrument is not None:
        stmt = stmt.where(QuestionnaireResponse.instrument == instrument)
    rows = session.scalars(stmt.order_by(QuestionnaireResponse.answered_at.desc()).limit(limit)).all()
    return [{"id": r.id, "instrument": r.instrument, "total": r.total,
             "band": INSTRUMENTS[r.instrument].band(r.total) if r.instrument in INSTRUMENTS else None,
             "date": r.answered_at.date().isoformat(), "answers": list(r.answers or [])} for r in rows]
