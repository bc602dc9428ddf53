"""Guideline classes and unit conversions (pure functions, canonical units).

Thresholds and sources: docs/CLINICAL.md. Every class is decided with strict
"<" against the lower bound of the next class, so a range written "120–139" in
the guideline covers [120, 140) for measured (possibly fractional) values.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = [
    "bp_category", "isolated_systolic", "bmi_category", "waist_category",
    "glucose_category", "lipid_category", "hyperuricemia", "phq9_band",
    "gad7_band", "classes_for", "convert", "CANONICAL_UNITS", "LIPID_ANALYTES",
    "GLUCOSE_MGDL_PER_MMOL", "CHOL_MGDL_PER_MMOL", "TG_MGDL_PER_MMOL",
    "UA_UMOL_PER_MGDL", "CR_UMOL_PER_MGDL", "UA_HYPERURICEMIA_UMOL", "anaemia", "egfr_ckd_epi_2021",
    "ckd_stage", "urine_protein_class", "HB_ANAEMIA_WHO", "HB_ANAEMIA_CN", "EGFR_FOLLOW_UP",
]

SEXES = ("male", "female")

# --- blood pressure: 中国高血压防治指南 2018 -------------------------------------
# Lower bounds of high_normal, grade1, grade2, grade3.
_SBP_BOUNDS = (120, 140, 160, 180)
_DBP_BOUNDS = (80, 90, 100, 110)
_BP_CLASSES = ("normal", "high_normal", "grade1", "grade2", "grade3")


def _grade(value: float, bounds: tuple[float, ...]) -> int:
    """Index of the class: how many lower bounds the value reaches."""
    return sum(1 for b in bounds if value >= b)


def bp_category(sbp: float, dbp: float) -> str:
    """BP class; when SBP and DBP fall in different classes the higher counts."""
    return _BP_CLASSES[max(_grade(sbp, _SBP_BOUNDS), _grade(dbp, _DBP_BOUNDS))]


def isolated_systolic(sbp: float, dbp: float) -> bool:
    """Isolated systolic hypertension: SBP >= 140 and DBP < 90."""
    return sbp >= 140 and dbp < 90


# --- body size: WS/T 428-2013 ----------------------------------------------------
def bmi_category(bmi: float) -> str:
    if bmi < 18.5:
        return "underweight"
    if bmi < 24:
        return "normal"
    if bmi < 28:
        return "overweight"
    return "obese"


# (pre-central obesity from, central obesity from), cm
WAIST_BOUNDS = {"male": (85, 90), "female": (80, 85)}


def _check_sex(sex: str) -> str:
    if sex not in SEXES:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    return sex


def waist_category(waist_cm: float, sex: str) -> str:
    pre, central = WAIST_BOUNDS[_check_sex(sex)]
    if waist_cm < pre:
        return "normal"
    if waist_cm < central:
        return "pre_central_obesity"
    return "central_obesity"


# --- glucose: 中国2型糖尿病防治指南 2020, venous plasma, mmol/L ---------------------
FPG_IFG, FPG_DIABETES = 6.1, 7.0
OGTT_IGT, OGTT_DIABETES = 7.8, 11.1


def glucose_category(fpg: float | None, ogtt2h: float | None = None) -> str | None:
    """Glycaemic status from FPG and/or the 2-h OGTT value (None if neither).

    HbA1c is not used here (it is a warning rule). IFG+IGT means both.
    """
    if fpg is None and ogtt2h is None:
        return None
    if (fpg is not None and fpg >= FPG_DIABETES) or (
            ogtt2h is not None and ogtt2h >= OGTT_DIABETES):
        return "diabetes"
    ifg = fpg is not None and fpg >= FPG_IFG
    igt = ogtt2h is not None and ogtt2h >= OGTT_IGT
    if ifg and igt:
        return "IFG+IGT"
    if ifg:
        return "IFG"
    if igt:
        return "IGT"
    return "normal"


# --- lipids: 中国血脂管理指南 2023, mmol/L ------------------------------------------
# Ordered (upper-exclusive bound, class); the last class has no bound.
_LIPID_TABLE: dict[str, tuple[tuple[float | None, str], ...]] = {
    "TC": ((5.2, "appropriate"), (6.2, "borderline_high"), (None, "high")),
    "LDL_C": ((2.6, "ideal"), (3.4, "appropriate"), (4.1, "borderline_high"),
              (None, "high")),
    "non_HDL_C": ((3.4, "ideal"), (4.1, "appropriate"), (4.9, "borderline_high"),
                  (None, "high")),
    "TG": ((1.7, "appropriate"), (2.3, "borderline_high"), (None, "high")),
    "HDL_C": ((1.0, "low"), (None, "normal")),
}
LIPID_ANALYTES = tuple(_LIPID_TABLE)


def lipid_category(analyte: str, value: float) -> str:
    """Class of one lipid analyte ("TC", "LDL_C", "TG", "non_HDL_C", "HDL_C")."""
    try:
        table = _LIPID_TABLE[analyte]
    except KeyError:
        raise ValueError(f"unknown lipid analyte {analyte!r}; one of {LIPID_ANALYTES}") from None
    for bound, cls in table:
        if bound is None or value < bound:
            return cls
    raise AssertionError("unreachable")


# --- uric acid: Chinese consensus 2017 / guideline 2019 -------------------------
UA_HYPERURICEMIA_UMOL = 420.0


def hyperuricemia(ua_umol: float) -> bool:
    """> 420 µmol/L for both sexes (7.0 mg/dL = 416.4 µmol/L is not)."""
    return ua_umol > UA_HYPERURICEMIA_UMOL


# --- blood count: anaemia (WHO 2011) ----------------------------------------------------------
# Haemoglobin g/L below which a non-pregnant adult is anaemic. The rules use WHO 2011 (men < 130,
# women < 120); the Chinese adult criterion (血液病诊断及疗效标准: men < 120, women < 110) is kept
# beside it so a force that prefers it changes one name.
HB_ANAEMIA_WHO = {"male": 130.0, "female": 120.0}
HB_ANAEMIA_CN = {"male": 120.0, "female": 110.0}


def anaemia(hb_g_l: float, sex: str, criterion: dict[str, float] = HB_ANAEMIA_WHO) -> bool:
    return hb_g_l < criterion[_check_sex(sex)]


# --- kidney: eGFR by CKD-EPI 2021 (race-free), stages by KDIGO --------------------------------
def egfr_ckd_epi_2021(cr_umol: float, age: float, sex: str) -> float:
    """eGFR in mL/min/1.73 m² from serum creatinine (µmol/L), age (years) and sex (Inker, NEJM 2021),
    rounded to a whole number as labs report it."""
    female = _check_sex(sex) == "female"
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = cr_umol / CR_UMOL_PER_MGDL / kappa
    value = 142 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938 ** age
    return float(round(value * (1.012 if female else 1.0)))


# (lower bound, stage), highest first: G1 >= 90, G2 60–89, G3a 45–59, G3b 30–44, G4 15–29, G5 < 15
_CKD_STAGES = ((90, "G1"), (60, "G2"), (45, "G3a"), (30, "G3b"), (15, "G4"), (None, "G5"))
EGFR_FOLLOW_UP = 60.0   # G3a or worse


def ckd_stage(egfr: float) -> str:
    """KDIGO GFR category of an eGFR (mL/min/1.73 m²)."""
    for bound, stage in _CKD_STAGES:
        if bound is None or egfr >= bound:
            return stage
    raise AssertionError("unreachable")


# --- qualitative results coded as numbers ------------------------------------------------------
# urine protein dipstick: 0 negative, 0.5 trace (±), 1..4 for 1+..4+; 1+ or more needs follow-up
URINE_PROTEIN_GRADES = {0.0: "negative", 0.5: "trace", 1.0: "1+", 2.0: "2+", 3.0: "3+", 4.0: "4+"}
# HBsAg: 0 negative, 1 positive (positive: refer for hepatitis B assessment; never shown to leaders)
HBSAG_RESULTS = {0.0: "negative", 1.0: "positive"}


def urine_protein_class(grade: float) -> str:
    return "negative" if grade < 0.5 else "trace" if grade < 1 else "positive"


# --- questionnaires ---------------------------------------------------------------
def _band(total: float, top: int, bands: tuple[tuple[int, str], ...], name: str) -> str:
    if not 0 <= total <= top:
        raise ValueError(f"{name} total must be 0..{top}, got {total!r}")
    for start, label in reversed(bands):
        if total >= start:
            return label
    raise AssertionError("unreachable")


def phq9_band(total: float) -> str:
    """PHQ-9 (Kroenke 2001): 0-4/5-9/10-14/15-19/20-27. Item 9 is a warning rule."""
    return _band(total, 27, ((0, "none"), (5, "mild"), (10, "moderate"),
                             (15, "moderately_severe"), (20, "severe")), "PHQ-9")


def gad7_band(total: float) -> str:
    """GAD-7 (Spitzer 2006): 0-4/5-9/10-14/15-21."""
    return _band(total, 21, ((0, "minimal"), (5, "mild"), (10, "moderate"),
                             (15, "severe")), "GAD-7")


# --- all classes for one officer ------------------------------------------------
# canonical code -> lipid analyte name used by lipid_category
LIPID_CODES = {"tc": "TC", "ldl": "LDL_C", "tg": "TG", "hdl": "HDL_C"}


def _num(x: Any) -> float | None:
    """A plain number, or the .value of a Reading-like object, or None."""
    if x is None:
        return None
    return float(getattr(x, "value", x))


def non_hdl(tc: float, hdl: float) -> float:
    """non-HDL-C = TC − HDL-C, rounded to 0.01 mmol/L (lab precision) so that
    float noise cannot move a value across a class boundary."""
    return round(tc - hdl, 2)


def derived_bmi(weight_kg: float, height_cm: float) -> float:
    """BMI to one decimal, as exam reports print it."""
    return round(weight_kg / (height_cm / 100) ** 2, 1)


def classes_for(latest: Mapping[str, Any], sex: str, age: float | None = None) -> dict:
    """Guideline classes for one officer's latest values (canonical codes).

    Values may be numbers or Reading-like objects with a ``.value``. Missing
    data gives None. ``lipids`` is always a dict over LIPID_ANALYTES (None per
    missing analyte); non_HDL_C is computed from tc − hdl when both exist. BMI
    is derived from weight_kg and height_cm when bmi itself is missing.
    ``uric_acid`` is "hyperuricemia" or "normal". ``anaemia`` is "anaemia" or "normal" (WHO);
    ``ckd`` is the KDIGO stage of the reported eGFR, else of CKD-EPI 2021 from creatinine when the
    age is given; ``urine_protein`` negative/trace/positive; ``hbsag`` negative/positive.
    """
    v = {code: _num(x) for code, x in latest.items()}
    get = v.get
    bmi = get("bmi")
    if bmi is None and get("weight_kg") and get("height_cm"):
        bmi = derived_bmi(v["weight_kg"], v["height_cm"])
    lipids: dict[str, str | None] = {a: None for a in LIPID_ANALYTES}
    for code, analyte in LIPID_CODES.items():
        if get(code) is not None:
            lipids[analyte] = lipid_category(analyte, v[code])
    if get("tc") is not None and get("hdl") is not None:
        lipids["non_HDL_C"] = lipid_category("non_HDL_C", non_hdl(v["tc"], v["hdl"]))
    ua = get("ua")
    hb, egfr, upro, hbsag = get("hb"), get("egfr"), get("urine_protein"), get("hbsag")
    if egfr is None and get("cr") is not None and age is not None and sex in SEXES:
        egfr = egfr_ckd_epi_2021(v["cr"], age, sex)
    extra = {
        "anaemia": None if hb is None or sex not in SEXES else ("anaemia" if anaemia(hb, sex) else "normal"),
        "ckd": None if egfr is None else ckd_stage(egfr),
        "urine_protein": None if upro is None else urine_protein_class(upro),
        "hbsag": None if hbsag is None else ("positive" if hbsag >= 1 else "negative"),
    }
    return {**_classes(v, sex, bmi, lipids, ua), **extra}


def _classes(v: dict, sex: str, bmi: float | None, lipids: dict, ua: float | None) -> dict:
    get = v.get
    return {
        "bp": (bp_category(v["sbp"], v["dbp"])
               if get("sbp") is not None and get("dbp") is not None else None),
        "bmi": bmi_category(bmi) if bmi is not None else None,
        "waist": waist_category(v["waist_cm"], sex) if get("waist_cm") is not None else None,
        "glucose": glucose_category(get("fpg"), get("ogtt2h")),
        "lipids": lipids,
        "uric_acid": None if ua is None else ("hyperuricemia" if hyperuricemia(ua) else "normal"),
        "phq9": phq9_band(v["phq9"]) if get("phq9") is not None else None,
        "gad7": gad7_band(v["gad7"]) if get("gad7") is not None else None,
    }


# --- units ------------------------------------------------------------------------
CANONICAL_UNITS: dict[str, str] = {
    "height_cm": "cm", "weight_kg": "kg", "bmi": "kg/m2", "waist_cm": "cm",
    "body_fat_pct": "%", "visceral_fat": "level",
    "sbp": "mmHg", "dbp": "mmHg", "pulse": "bpm", "spo2": "%",
    "fpg": "mmol/L", "ogtt2h": "mmol/L", "hba1c": "%",
    "tc": "mmol/L", "tg": "mmol/L", "hdl": "mmol/L", "ldl": "mmol/L",
    "ua": "µmol/L", "cr": "µmol/L", "alt": "U/L", "ast": "U/L",
    "phq9": "score", "phq9_item9": "score", "gad7": "score", "steps": "steps",
    "hb": "g/L", "wbc": "10^9/L", "plt": "10^9/L", "ggt": "U/L", "urea": "mmol/L",
    "egfr": "mL/min/1.73m2", "urine_protein": "grade", "hbsag": "result", "tsh": "mIU/L",
    # self-reported diagnosis / treatment (1 yes, 0 no): models.prevalence.REPORTED_CODES
    "dx_hypertension": "flag", "rx_hypertension": "flag", "dx_diabetes": "flag", "rx_diabetes": "flag",
    # the risk-factor form (models.risk_factors): smoking 0 never / 1 former / 2 current; activity 0 / 1 / 2
    "smoking": "code", "family_history_cvd": "flag", "physical_activity": "code",
}

GLUCOSE_MGDL_PER_MMOL = 18.0     # glucose mg/dL ÷ 18 = mmol/L
CHOL_MGDL_PER_MMOL = 38.67       # TC, LDL-C, HDL-C
TG_MGDL_PER_MMOL = 88.57         # triglycerides
UA_UMOL_PER_MGDL = 59.48         # uric acid mg/dL × 59.48 = µmol/L
CR_UMOL_PER_MGDL = 88.4          # creatinine mg/dL × 88.4 = µmol/L
UREA_MGDL_PER_MMOL = 6.006       # urea mg/dL ÷ 6.006 = mmol/L (urea, not urea nitrogen)

# (code, normalised from-unit) -> factor to multiply by
_FACTORS: dict[tuple[str, str], float] = {
    **{(c, "mg/dl"): 1 / GLUCOSE_MGDL_PER_MMOL for c in ("fpg", "ogtt2h")},
    **{(c, "mg/dl"): 1 / CHOL_MGDL_PER_MMOL for c in ("tc", "ldl", "hdl")},
    ("tg", "mg/dl"): 1 / TG_MGDL_PER_MMOL,
    ("ua", "mg/dl"): UA_UMOL_PER_MGDL,
    ("cr", "mg/dl"): CR_UMOL_PER_MGDL,
    # SI prefix only: some labs print uric acid / creatinine in mmol/L
    ("ua", "mmol/l"): 1000.0,
    ("cr", "mmol/l"): 1000.0,
    # lengths and masses as some devices send them (HL7 OBX-6)
    **{(c, "m"): 100.0 for c in ("height_cm", "waist_cm")},
    **{(c, "in"): 2.54 for c in ("height_cm", "waist_cm")},
    ("weight_kg", "g"): 0.001,
    ("weight_kg", "lb"): 0.45359237,
    ("weight_kg", "[lb_av]"): 0.45359237,
    ("hb", "g/dl"): 10.0,
    ("urea", "mg/dl"): 1 / UREA_MGDL_PER_MMOL,
    # counts per µL in thousands are the same number as 10^9/L
    **{(c, u): 1.0 for c in ("wbc", "plt") for u in ("10*9/l", "10e9/l", "x10^9/l", "×10^9/l", "10^3/ul",
                                                    "10*3/ul", "k/ul", "10^3/mm3", "g/l")},
    **{("tsh", u): 1.0 for u in ("uiu/ml", "miu/l", "uu/ml", "[iu]/l")},
    **{("egfr", u): 1.0 for u in ("ml/min/1.73m2", "ml/min/{1.73_m2}", "ml/min", "ml/min/1.73m^2")},
}


def _norm_unit(unit: str) -> str:
    """Case, spaces, µ/μ/u and ²/2 spellings made equal."""
    return (unit.strip().lower().replace(" ", "").replace("µ", "u")
            .replace("μ", "u").replace("²", "2"))


def convert(code: str, value: float, from_unit: str) -> float:
    """Value of canonical ``code`` given in ``from_unit`` -> canonical unit.

    Raises ValueError for an unknown code or a unit with no known conversion.
    """
    if code not in CANONICAL_UNITS:
        raise ValueError(f"unknown canonical code {code!r}")
    if from_unit is None:
        raise ValueError(f"no unit given for {code}")
    unit = _norm_unit(from_unit)
    if unit == _norm_unit(CANONICAL_UNITS[code]):
        return float(value)
    try:
        return float(value) * _FACTORS[(code, unit)]
    except KeyError:
        raise ValueError(
            f"cannot convert {code} from {from_unit!r} to {CANONICAL_UNITS[code]}") from None
