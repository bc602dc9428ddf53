"""China-PAR 10-year ASCVD risk (Yang et al., Circulation 2016;134:1430;
中国心血管病风险评估和管理指南 2019), pure functions.

Coefficients are the three-decimal set of T/JPMA 024—2024 (docs/CLINICAL.md):
the two-decimal set of the 2016 supplement runs high for men and its women's
S10 (0.99) runs low, so do not "simplify" these numbers.

The model was derived at ages 35–74; like the official calculator we apply it
from 20 to 85 inclusive and return None outside that range.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from math import exp, log
from typing import Mapping

__all__ = ["china_par_10y", "china_par_ideal", "china_par_category", "china_par_inputs",
           "MGDL_PER_MMOL_FACTOR", "AGE_MIN", "AGE_MAX"]

# mg/dL = mmol/L / 0.0259 — the factor the official calculator uses (not 38.67).
MGDL_PER_MMOL_FACTOR = 0.0259
AGE_MIN, AGE_MAX = 20, 85

_MEN = dict(ln_age=31.967, ln_sbp_treated=27.388, ln_sbp_untreated=26.148,
            ln_tc=0.621, ln_hdl=-0.695, ln_waist=-0.712, smoker=3.955,
            diabetes=0.357, north=0.475, urban=-0.164, family_history=6.221,
            age_x_sbp_treated=-6.018, age_x_sbp_untreated=-5.731,
            age_x_smoker=-0.939, age_x_family_history=-1.534,
            mean_sum=140.68, s10=0.9707)
# Women's equation: no urban, family-history, age×smoker or age×family terms.
_WOMEN = dict(ln_age=24.874, ln_sbp_treated=20.709, ln_sbp_untreated=19.982,
              ln_tc=0.058, ln_hdl=-0.217, ln_waist=1.475, smoker=0.495,
              diabetes=0.567, north=0.544, urban=0.0, family_history=0.0,
              age_x_sbp_treated=-4.528, age_x_sbp_untreated=-4.360,
              age_x_smoker=0.0, age_x_family_history=0.0,
              mean_sum=117.26, s10=0.98507)
_COEF = {"male": _MEN, "female": _WOMEN}


def _positive(name: str, x: float) -> float:
    if x is None or not x > 0:
        raise ValueError(f"{name} must be a positive number, got {x!r}")
    return float(x)


def china_par_10y(*, sex: str, age: float, sbp: float, bp_treated: bool,
                  tc: float, hdl: float, waist: float, smoker: bool,
                  diabetes: bool, north: bool, urban: bool,
                  family_history: bool) -> float | None:
    """10-year ASCVD risk in percent (unrounded); None if age is outside 20–85.

    tc/hdl in mmol/L, sbp in mmHg, waist in cm; flags are booleans.
    """
    if sex not in _COEF:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    if age is None or not AGE_MIN <= age <= AGE_MAX:
        return None
    c = _COEF[sex]
    ln_age = log(_positive("age", age))
    ln_sbp = log(_positive("sbp", sbp))
    ln_tc = log(_positive("tc", tc) / MGDL_PER_MMOL_FACTOR)
    ln_hdl = log(_positive("hdl", hdl) / MGDL_PER_MMOL_FACTOR)
    ln_waist = log(_positive("waist", waist))
    sbp_term = "treated" if bp_treated else "untreated"
    smk, fam = float(bool(smoker)), float(bool(family_history))
    ind_sum = (c["ln_age"] * ln_age
               + c[f"ln_sbp_{sbp_term}"] * ln_sbp
               + c[f"age_x_sbp_{sbp_term}"] * ln_age * ln_sbp
               + c["ln_tc"] * ln_tc + c["ln_hdl"] * ln_hdl + c["ln_waist"] * ln_waist
               + c["smoker"] * smk + c["age_x_smoker"] * ln_age * smk
               + c["diabetes"] * bool(diabetes) + c["north"] * bool(north)
               + c["urban"] * bool(urban)
               + c["family_history"] * fam + c["age_x_family_history"] * ln_age * fam)
    return 100.0 * (1.0 - c["s10"] ** exp(ind_sum - c["mean_sum"]))


# Ideal modifiable values, as the official calculator shows them.
IDEAL_TC_MGDL, IDEAL_HDL_MGDL, IDEAL_SBP = 200.0, 40.0, 120.0
IDEAL_WAIST = {"male": 90.0, "female": 85.0}
_MODIFIABLE = {"sbp", "bp_treated", "tc", "hdl", "waist", "smoker", "diabetes",
               "family_history"}


def china_par_ideal(*, sex: str, age: float, north: bool, urban: bool,
                    **_modifiable) -> float | None:
    """Risk at ideal modifiable factors (TC 200 and HDL-C 40 mg/dL, SBP 120
    untreated, waist 90 men / 85 women, no smoking, diabetes or family
    history); age, sex, north and urban are kept. Accepts the same keyword
    arguments as china_par_10y and ignores the modifiable ones."""
    unknown = set(_modifiable) - _MODIFIABLE
    if unknown:
        raise TypeError(f"unexpected keyword arguments: {sorted(unknown)}")
    if sex not in IDEAL_WAIST:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    return china_par_10y(
        sex=sex, age=age, sbp=IDEAL_SBP, bp_treated=False,
        tc=IDEAL_TC_MGDL * MGDL_PER_MMOL_FACTOR,
        hdl=IDEAL_HDL_MGDL * MGDL_PER_MMOL_FACTOR,
        waist=IDEAL_WAIST[sex], smoker=False, diabetes=False,
        north=north, urban=urban, family_history=False)


def round1(pct: float) -> float:
    """Round half up to one decimal, as the guideline reports risk."""
    return float(Decimal(repr(float(pct))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def china_par_category(pct: float | None) -> str | None:
    """"low" < 5.0, "intermediate" 5.0–9.9, "high" >= 10.0, on the value
    rounded to one decimal; None for None."""
    if pct is None:
        return None
    p = round1(pct)
    if p < 5.0:
        return "low"
    if p < 10.0:
        return "intermediate"
    return "high"


def china_par_inputs(values: Mapping[str, float | None]) -> dict[str, bool]:
    """China-PAR's self-reported inputs (models.risk_factors: ``smoking`` 2 = current, ``rx_hypertension``,
    ``dx_diabetes``/``rx_diabetes``, ``family_history_cvd`` 1 = yes) from the newest values per code (``models.warning.evaluate``'s
    ``risk_inputs``). A diagnosis of diabetes or its treatment sets the diabetes flag; without one the
    flag comes from the lab values (models.warning), so a "no" never hides a diabetic glucose."""
    def yes(code: str) -> bool:
        v = values.get(code)
        return v is not None and v >= 1
    smoking = values.get("smoking")
    inputs = {"smoker": smoking is not None and round(smoking) == 2, "bp_treated": yes("rx_hypertension"),
              "family_history": yes("family_history_cvd")}
    if yes("dx_diabetes") or yes("rx_diabetes"):
        inputs["diabetes"] = True
    return inputs
