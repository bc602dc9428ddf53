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
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy import Numeric, and_, case, cast, false, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from models.clinical import (FPG_DIABETES, OGTT_DIABETES, UA_HYPERURICEMIA_UMOL, WAIST_BOUNDS, derived_bmi)
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

    @property
    def codes(self) -> tuple[str, ...]:
        """The observation codes both ways of counting read."""
        names = dict.fromkeys(self.measured + tuple(c.quantity for c in self.criteria))
        return tuple(dict.fromkeys(code for q in names for code in QUANTITY_CODES.get(q, (q,))))


# derived quantities and the codes they are computed from
QUANTITY_CODES: dict[str, tuple[str, ...]] = {"bmi": ("bmi", "weight_kg", "height_cm")}

DEFINITIONS: dict[str, Definition] = {d.key: d for d in (
    # 中国高血压防治指南 2018: grade 1 or higher, SBP >= 140 and/or DBP >= 90
    Definition("hypertension", ("sbp", "dbp"), (Criterion("sbp", ">=", 140), Criterion("dbp", ">=", 90)),
               needs_all=True),
    # 中国2型糖尿病防治指南 2020: diabetes range on FPG, 2-h OGTT or HbA1c
    Definition("diabetes", ("fpg", "ogtt2h"), (Criterion("fpg", ">=", FPG_DIABETES),
                                               Criterion("ogtt2h", ">=", OGTT_DIABETES),
                                               Criterion("hba1c", ">=", HBA1C_DIABETES))),
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


def event(key: str, values: Mapping[str, float | None], sex: str | None = None) -> bool:
    """The condition alone, measured or not (China-PAR's diabetes flag uses it so)."""
    for c in DEFINITIONS[key].criteria:
        value, threshold = _quantity(c.quantity, values), _threshold(c, sex)
        if value is not None and threshold is not None and _OPS[c.op](value, threshold):
            return True
    return False


def flag(key: str, values: Mapping[str, float | None], sex: str | None = None) -> bool:
    """A case: measured and the condition holds."""
    return measured(key, values) and event(key, values, sex)


def flags(values: Mapping[str, float | None], sex: str | None = None) -> dict[str, bool]:
    return {key: flag(key, values, sex) for key in DEFINITIONS}


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


def sql_terms(key: str, col: Callable[[str], ColumnElement], sex: ColumnElement) -> tuple[ColumnElement, ColumnElement]:
    """(measured, case) SQL conditions; ``col(code)`` gives the column holding a code's value.
    The case condition already includes measured (NULL comparisons count as false)."""
    d = DEFINITIONS[key]
    present = [_quantity_sql(q, col).is_not(None) for q in d.measured]
    is_measured = and_(*present) if d.needs_all else or_(*present)
    conditions = [_OPS[c.op](_quantity_sql(c.quantity, col), _threshold_sql(c, sex)) for c in d.criteria]
    return is_measured, and_(is_measured, or_(*conditions) if conditions else false())
