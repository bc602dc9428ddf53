"""Which guideline classes an officer's snapshot holds, as bit flags in ``officer_status.measured``.

The unit comparison counts, per indicator, the officers "measured" for it (the
guideline class of that measure exists) and, for PHQ-9, those at 10 or more.
Reading that from the ``classes`` JSON means parsing it for every officer on every
page view, which at province scale costs more than the rest of the query; the
integer is derived from ``classes`` when the row is written (the column default
below) and sits in a covering index with the other narrow snapshot columns.

Pure functions: no database, no imports from the schema.
"""
from __future__ import annotations

from typing import Any, Mapping

PHQ9_TEN_OR_MORE = ("moderate", "moderately_severe", "severe")  # PHQ-9 bands from 10 up (Kroenke 2001)

# indicator -> bit; an indicator is measured when any of its class paths is not None
MEASURED_BITS: dict[str, int] = {
    "hypertension": 1, "diabetes": 2, "dyslipidemia": 4, "obesity": 8, "central_obesity": 16,
    "hyperuricemia": 32, "phq9": 64,
}
PHQ9_TEN_BIT = 128  # the PHQ-9 band is 10 or more
CLASS_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "hypertension": (("bp",),), "diabetes": (("glucose",),), "obesity": (("bmi",),),
    "central_obesity": (("waist",),), "hyperuricemia": (("uric_acid",),), "phq9": (("phq9",),),
    "dyslipidemia": (("lipids", "TC"), ("lipids", "LDL_C"), ("lipids", "TG"), ("lipids", "HDL_C")),
}


def _get(classes: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = classes
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def measured_mask(classes: Mapping[str, Any] | None) -> int:
    """The ``measured`` bits of one snapshot row's guideline classes."""
    classes = classes or {}
    mask = 0
    for indicator, paths in CLASS_PATHS.items():
        if any(_get(classes, p) is not None for p in paths):
            mask |= MEASURED_BITS[indicator]
    if classes.get("phq9") in PHQ9_TEN_OR_MORE:
        mask |= PHQ9_TEN_BIT
    return mask


def measured_default(context) -> int:
    """Column default: the bits of the ``classes`` being inserted (Core executemany included)."""
    return measured_mask(context.get_current_parameters().get("classes"))
