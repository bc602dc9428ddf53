"""The risk factors an officer reports on ``/me/risk-factors`` (issue 19), and what China-PAR reads
from them.

Each answer is an observation (source "self-report", its date): ``smoking`` 0 never / 1 former /
2 current, ``rx_hypertension`` and ``dx_diabetes`` 1 yes / 0 no (the codes ``models.prevalence``
already counts), ``family_history_cvd`` 1 / 0, ``physical_activity`` 0 inactive / 1 under 150
minutes of moderate activity a week / 2 at least that. The snapshot's newest value of each feeds
China-PAR (``models.risk.china_par_inputs``: current smoker, treated BP, diabetes, family history) and so
the warning rules that read China-PAR; the prevalence of hypertension and diabetes counts the
reported treatment and diagnosis. Where an input was never reported China-PAR assumes the
model's default, and the portrait says so (:func:`assumptions`).
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import snapshot
from models.questionnaires import SOURCE, SOURCE_ID, answered_at
from models.schema import Observation, OfficerStatus
from models.vocab import ACTIVITY_LEVELS, RISK_FACTOR_FIELDS, SMOKING_STATUS, YES_NO, Words

# field -> {answer code: stored value}
CHOICES: dict[str, dict[str, int]] = {
    "smoking": {"never": 0, "former": 1, "current": 2},
    "rx_hypertension": {"no": 0, "yes": 1},
    "dx_diabetes": {"no": 0, "yes": 1},
    "family_history_cvd": {"no": 0, "yes": 1},
    "physical_activity": {"inactive": 0, "insufficient": 1, "active": 2},
}
WORDS: dict[str, dict[str, Words]] = {
    "smoking": SMOKING_STATUS, "rx_hypertension": YES_NO, "dx_diabetes": YES_NO, "family_history_cvd": YES_NO,
    "physical_activity": ACTIVITY_LEVELS,
}
FIELDS = tuple(CHOICES)
assert set(FIELDS) == set(RISK_FACTOR_FIELDS)
CHINA_PAR_FIELDS = ("smoking", "rx_hypertension", "dx_diabetes", "family_history_cvd")


class RiskFactorError(ValueError):
    def __init__(self, words: Words):
        super().__init__(words[1])
        self.words = words


def answer_code(field: str, value: float | None) -> str | None:
    """The answer code of a stored value (None when there is none or it is not a known answer)."""
    if value is None:
        return None
    for code, v in CHOICES[field].items():
        if v == round(value):
            return code
    return None


def reported(latest: Mapping[str, Mapping]) -> dict[str, dict]:
    """Per field, the newest answer in the snapshot's ``latest``: {field: {"code", "date", "source"}}."""
    out = {}
    for field in FIELDS:
        row = latest.get(field)
        code = answer_code(field, row.get("value")) if row else None
        if code is not None:
            out[field] = {"code": code, "date": row.get("date"), "source": row.get("source")}
    return out


def assumptions(latest: Mapping[str, Mapping]) -> list[dict]:
    """China-PAR's inputs as the portrait states them: each reported answer with its date, or the
    assumption made because it was never reported."""
    got = reported(latest)
    out = []
    for field in CHINA_PAR_FIELDS:
        if field in got:
            out.append({"field": field, "reported": True, "code": got[field]["code"], "date": got[field]["date"]})
        else:
            out.append({"field": field, "reported": False, "code": None, "date": None})
    return out


def save(session: Session, officer_id: int, answers: Mapping[str, str | None], *, today: dt.date,
         now: dt.datetime | None = None) -> dict[str, str]:
    """Store the answered fields (an empty field stays as it was) as observations dated now and recompute
    the officer's status; returns the stored answers. The caller passes the session's own officer."""
    unknown = set(answers) - set(FIELDS)
    if unknown:
        raise RiskFactorError(("表单中有未知的项目。", "The form holds an unknown field."))
    given = {f: a for f, a in answers.items() if a not in (None, "")}
    for field, answer in given.items():
        if answer not in CHOICES[field]:
            raise RiskFactorError(("请从选项中选择。", "Please choose one of the options."))
    if not given:
        raise RiskFactorError(("请至少回答一项。", "Please answer at least one question."))
    at = answered_at(today, now)
    for field, answer in given.items():
        session.add(Observation(officer_id=officer_id, code=field, value=float(CHOICES[field][answer]),
                                unit="flag" if field not in ("smoking", "physical_activity") else "code",
                                observed_at=at, source_kind=SOURCE, source_id=SOURCE_ID))
    session.flush()
    snapshot.recompute_officers(session, [officer_id], as_of=today)
    return given


def current(session: Session, officer_id: int) -> dict[str, dict]:
    """The officer's newest answers (from the snapshot), to fill the form again."""
    latest = session.scalar(select(OfficerStatus.latest).where(OfficerStatus.officer_id == officer_id)) or {}
    return reported(latest)
