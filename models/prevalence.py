"""Prevalence definitions, written once for both ways they are counted.

The current year is counted from flags the status snapshot stores per officer
(Python, ``models.snapshot``); past years are counted in SQL from that year's
readings (``models.unit_queries``). Both are generated here from one table per
indicator: which readings make an officer *measured* (the denominator) and which
conditions make them a case (the event). Thresholds: docs/CLINICAL.md, the same
numbers as the guideline classes in ``models.clinical``.

*Measured* is exactly "the snapshot's guideline class of the measure exists"
(``models.status_bits``): blood pressure needs both SBP and DBP, glucose needs FPG
or the 2-h OGTT value (HbA1c alone gives no glucose class), BMI may be derived from
weight and height. An officer counts as a case only when measured.

*A case a clinician would accept* (issue 20): a criterion met by an exam or screening
measurement counts; one met by a kiosk or self-measured reading counts only when
readings met it on at least two separate days (``CONFIRMING_DAYS``; the window is the
365 days up to the snapshot's date, or the calendar year for a past year) — never one
kiosk reading. A self-reported diagnosis or treatment (``dx_*``/``rx_*`` observation
codes, value 1 = yes, 0 = no, source "self") makes a measured officer a case. The portal
has no self-report form yet: these codes are defined here (and in ``models.items`` and
``models.vocab``) so that the feature that collects them only writes observations.
Without ``Evidence`` (China-PAR's diabetes flag, the edge tests) a value counts as read.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy import Numeric, and_, case, cast, false, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from models.clinical import (FPG_DIABETES, OGTT_DIABETES, UA_HYPERURICEMIA_UMOL, WAIST_BOUNDS, derived_bmi)
from models.schema import Observation, Officer
from models.warning import HBA1C_DIABETES

_OPS: dict[str, Callable[[Any, Any], Any]] = {">=": operator.ge, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Criterion:
    """``quantity op threshold``; a threshold given per sex applies to that sex only."""
    quantity: str
    op: str
    threshold: float | Mapping[str, float]


@dataclass(frozen=True)
class Definition:
    key: str
    measured: tuple[str, ...]      # quantities that make an officer measured
    criteria: tuple[Criterion, ...]  # a case when any criterion holds
    needs_all: bool = False        # measured needs every quantity (BP), not any
    reported: tuple[str, ...] = ()  # self-reported diagnosis/treatment codes: >= 1 makes a measured officer a case

    @property
    def codes(self) -> tuple[str, ...]:
        """The observation codes both ways of counting read."""
        names = dict.fromkeys(self.measured + tuple(c.quantity for c in self.criteria))
        codes = (code for q in names for code in QUANTITY_CODES.get(q, (q,)))
        return tuple(dict.fromkeys((*codes, *self.reported)))


DEVICE_KINDS = ("kiosk", "self")   # sources one reading of which no clinician diagnoses from
CONFIRMING_DAYS = 2                # separate days a device reading must be met on
SNAPSHOT_WINDOW_DAYS = 365         # the days the snapshot counts them over (a past year: that year)
REPORTED_CODES = ("dx_hypertension", "rx_hypertension", "dx_diabetes", "rx_diabetes")


def criterion_id(key: str, index: int) -> str:
    """The name of one criterion (a SQL label and an ``Evidence.days`` key)."""
    return f"{key}_{index}"


def _kind_code(quantity: str, values: Mapping[str, float | None]) -> str:
    """The code whose reading's source decides a quantity: a derived BMI follows the weight."""
    if quantity == "bmi" and values.get("bmi") is None:
        return "weight_kg"
    return quantity


@dataclass(frozen=True)
class Evidence:
    """What the latest values alone cannot tell: the source kind of each latest reading and, per
    criterion (``criterion_id``), on how many separate days readings of its code met it."""
    kinds: Mapping[str, str]
    days: Mapping[str, int]


# derived quantities and the codes they are computed from
QUANTITY_CODES: dict[str, tuple[str, ...]] = {"bmi": ("bmi", "weight_kg", "height_cm")}

DEFINITIONS: dict[str, Definition] = {d.key: d for d in (
    # 中国高血压防治指南 2018: grade 1 or higher, SBP >= 140 and/or DBP >= 90
    Definition("hypertension", ("sbp", "dbp"), (Criterion("sbp", ">=", 140), Criterion("dbp", ">=", 90)),
               needs_all=True, reported=("dx_hypertension", "rx_hypertension")),
    # 中国2型糖尿病防治指南 2020: diabetes range on FPG, 2-h OGTT or HbA1c
    Definition("diabetes", ("fpg", "ogtt2h"), (Criterion("fpg", ">=", FPG_DIABETES),
                                               Criterion("ogtt2h", ">=", OGTT_DIABETES),
                                               Criterion("hba1c", ">=", HBA1C_DIABETES)),
               reported=("dx_diabetes", "rx_diabetes")),
    # 中国血脂管理指南 2023: any of TC, LDL-C, TG high or HDL-C low
    Definition("dyslipidemia", ("tc", "ldl", "tg", "hdl"),
               (Criterion("tc", ">=", 6.2), Criterion("ldl", ">=", 4.1), Criterion("tg", ">=", 2.3),
                Criterion("hdl", "<", 1.0))),
    # WS/T 428-2013
    Definition("obesity", ("bmi",), (Criterion("bmi", ">=", 28),)),
    Definition("central_obesity", ("waist_cm",),
               (Criterion("waist_cm", ">=", {sex: b[1] for sex, b in WAIST_BOUNDS.items()}),)),
    # > 420 µmol/L, both sexes
    Definition("hyperuricemia", ("ua",), (Criterion("ua", ">", UA_HYPERURICEMIA_UMOL),)),
    # Kroenke 2001: moderate or worse
    Definition("phq9", ("phq9",), (Criterion("phq9", ">=", 10),)),
)}


# --- Python ----------------------------------------------------------------------------------
def _quantity(name: str, values: Mapping[str, float | None]) -> float | None:
    if name == "bmi":  # as models.clinical.classes_for: the reported BMI, else from weight and height
        if values.get("bmi") is not None:
            return values["bmi"]
        if values.get("weight_kg") and values.get("height_cm"):
            return derived_bmi(values["weight_kg"], values["height_cm"])
        return None
    return values.get(name)


def _threshold(c: Criterion, sex: str | None) -> float | None:
    return c.threshold.get(sex) if isinstance(c.threshold, Mapping) else c.threshold


def measured(key: str, values: Mapping[str, float | None]) -> bool:
    d = DEFINITIONS[key]
    present = [_quantity(q, values) is not None for q in d.measured]
    return all(present) if d.needs_all else any(present)


def meets(c: Criterion, value: float | None, sex: str | None) -> bool:
    """One reading's value meets the criterion (before any confirmation)."""
    threshold = _threshold(c, sex)
    return value is not None and threshold is not None and _OPS[c.op](value, threshold)


def _confirmed(key: str, index: int, c: Criterion, values: Mapping[str, float | None],
               evidence: Evidence | None) -> bool:
    if evidence is None:
        return True
    if evidence.kinds.get(_kind_code(c.quantity, values)) not in DEVICE_KINDS:
        return True
    return evidence.days.get(criterion_id(key, index), 0) >= CONFIRMING_DAYS


def event(key: str, values: Mapping[str, float | None], sex: str | None = None,
          evidence: Evidence | None = None) -> bool:
    """The condition alone, measured or not (China-PAR's diabetes flag uses it so): a reported
    diagnosis or treatment, or a criterion met (by a device reading: on two separate days)."""
    d = DEFINITIONS[key]
    if any((values.get(code) or 0) >= 1 for code in d.reported):
        return True
    for i, c in enumerate(d.criteria):
        value, threshold = _quantity(c.quantity, values), _threshold(c, sex)
        if value is not None and threshold is not None and _OPS[c.op](value, threshold) \
                and _confirmed(key, i, c, values, evidence):
            return True
    return False


def flag(key: str, values: Mapping[str, float | None], sex: str | None = None,
         evidence: Evidence | None = None) -> bool:
    """A case: measured and the condition holds."""
    return measured(key, values) and event(key, values, sex, evidence)


def flags(values: Mapping[str, float | None], sex: str | None = None,
          evidence: Evidence | None = None) -> dict[str, bool]:
    return {key: flag(key, values, sex, evidence) for key in DEFINITIONS}


# words for the /units method note: how a case is counted
COUNTING_NOTE = (
    "患病口径：体检或心理筛查的测量值达到诊断切点即计入；健康小屋或自测读数须在不同的至少两天达到切点"
    "（当前为近365天内，往年为当年内），单次读数不计入；本人报告的高血压或糖尿病诊断、用药亦计入。",
    "How a case counts: an exam or screening measurement at the diagnostic cut-off counts; kiosk or "
    "self-measured readings count only when at or above it on at least two separate days (the last 365 "
    "days now, that calendar year for a past year), never one reading; a self-reported diagnosis or "
    "treatment of hypertension or diabetes counts too. ")


# --- SQL -------------------------------------------------------------------------------------
def _quantity_sql(name: str, col: Callable[[str], ColumnElement]) -> ColumnElement:
    if name == "bmi":
        # derived_bmi: weight / (height/100)**2 rounded to one decimal; NUMERIC so that
        # PostgreSQL has round(x, 1) (SQLite keeps the REAL). Python rounds the binary value,
        # the databases a 15-16 digit decimal of it: they can differ only within ~1e-14 of a
        # .x5 midpoint, which a weight and height to 0.1 cannot hit at 27.95.
        w, h = col("weight_kg"), col("height_cm")
        derived = case((and_(w != 0, h != 0), func.round(cast(w / ((h / 100.0) * (h / 100.0)), Numeric), 1)))
        return func.coalesce(col("bmi"), derived)
    return col(name)


def _threshold_sql(c: Criterion, sex: ColumnElement) -> Any:
    if isinstance(c.threshold, Mapping):
        return case(*[(sex == s, literal(t)) for s, t in c.threshold.items()])
    return c.threshold


def sql_terms(key: str, col: Callable[[str], ColumnElement], sex: ColumnElement,
              kind: Callable[[str], ColumnElement] | None = None,
              days: Callable[[str], ColumnElement] | None = None) -> tuple[ColumnElement, ColumnElement]:
    """(measured, case) SQL conditions; ``col(code)`` gives the column holding a code's value,
    ``kind(code)`` its reading's source kind and ``days(criterion_id)`` the separate days its
    criterion was met (``high_days_columns``); without them a value counts as read.
    The case condition already includes measured (NULL comparisons count as false)."""
    d = DEFINITIONS[key]
    present = [_quantity_sql(q, col).is_not(None) for q in d.measured]
    is_measured = and_(*present) if d.needs_all else or_(*present)
    conditions = [func.coalesce(col(code), 0) >= 1 for code in d.reported]
    for i, c in enumerate(d.criteria):
        met = _OPS[c.op](_quantity_sql(c.quantity, col), _threshold_sql(c, sex))
        if kind is not None and days is not None:
            source = kind(c.quantity)
            if c.quantity == "bmi":
                source = case((col("bmi").is_not(None), kind("bmi")), else_=kind("weight_kg"))
            met = and_(met, or_(source.not_in(DEVICE_KINDS),
                                func.coalesce(days(criterion_id(key, i)), 0) >= CONFIRMING_DAYS))
        conditions.append(met)
    return is_measured, and_(is_measured, or_(*conditions) if conditions else false())


def high_days_columns(code: ColumnElement, value: ColumnElement, day: ColumnElement,
                      sex: ColumnElement) -> list[ColumnElement]:
    """Per criterion of every definition, the count of separate days (``day``) on which a
    reading (``code``, ``value``) met it: aggregate columns labelled ``criterion_id``."""
    out = []
    for key, d in DEFINITIONS.items():
        for i, c in enumerate(d.criteria):
            met = and_(code == c.quantity, _OPS[c.op](value, _threshold_sql(c, sex)))
            out.append(func.count(func.distinct(case((met, day)))).label(criterion_id(key, i)))
    return out


def needs_days(latest: Mapping[str, tuple[float, str]], sex: str | None) -> bool:
    """Whether any criterion is met by a device reading among ``latest`` ({code: (value, kind)}):
    only then do the separate days matter (the snapshot counts them for these officers alone)."""
    for d in DEFINITIONS.values():
        for c in d.criteria:
            code = c.quantity if c.quantity in latest or c.quantity != "bmi" else "weight_kg"
            value, kind = latest.get(code, (None, None))
            if kind in DEVICE_KINDS and (code != c.quantity or meets(c, value, sex)):
                return True
    return False


def all_codes() -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for d in DEFINITIONS.values() for code in d.codes))


def high_days(session, officer_ids: list[int], start, end) -> dict[int, dict[str, int]]:
    """{officer: {criterion_id: separate days met}} over readings observed in [start, end]."""
    cols = high_days_columns(Observation.code, Observation.value, func.date(Observation.observed_at), Officer.sex)
    q = (select(Observation.officer_id, *cols).join(Officer, Officer.id == Observation.officer_id)
         .where(Observation.officer_id.in_(officer_ids), Observation.code.in_(all_codes()),
                Observation.observed_at >= start, Observation.observed_at <= end)
         .group_by(Observation.officer_id))
    return {row[0]: dict(row._mapping) for row in session.execute(q)}
