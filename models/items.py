"""The table of measured items: canonical unit, plausible range and LOINC codes.

Shared by hospital ingest (``ingest.harmonise``, ``ingest.hospital``), the device
gateway (``ingest.gateway.drivers``) and the campaigns (steps), so a value is
accepted or refused the same way whichever way it arrives. Canonical units and
the unit conversions are ``models.clinical.CANONICAL_UNITS`` and ``convert``.

Plausible ranges (canonical units; outside = impossible for an adult officer or a
device fault, refused with the reason). Where the hospital and gateway tables
had drifted, the hospital ones were kept: they are the limits of an adult
(height 100–230 cm, weight 25–300 kg, BMI 10–70), and for glucose 0.5–50 mmol/L
covers real hypoglycaemia and hyperosmolar states the gateway's 1–40 refused.
Steps: 60,000 a day (about 45 km) — above it a tracker was shaken, not walked;
the campaigns already flagged such days (the 100,000 of hospital ingest had drifted).
"""
from __future__ import annotations

from dataclasses import dataclass

from models.clinical import CANONICAL_UNITS

__all__ = ["Item", "ITEMS", "LOINC", "plausible_range", "FINDING_TEXT_COLUMNS", "FINDING_TEST", "QUALITATIVE",
           "COMBINED"]


@dataclass(frozen=True)
class Item:
    code: str
    unit: str     # canonical unit
    low: float    # plausible range, canonical unit, both ends allowed
    high: float


_PLAUSIBLE: dict[str, tuple[float, float]] = {
    "height_cm": (100, 230), "weight_kg": (25, 300), "bmi": (10, 70), "waist_cm": (40, 200),
    "body_fat_pct": (2, 75), "visceral_fat": (1, 60), "sbp": (50, 300), "dbp": (20, 200), "pulse": (20, 250),
    "spo2": (50, 100), "fpg": (0.5, 50), "ogtt2h": (0.5, 60), "hba1c": (2, 25), "tc": (0.5, 30), "tg": (0.05, 60),
    "hdl": (0.05, 6), "ldl": (0.05, 20), "ua": (20, 2000), "cr": (10, 3000), "alt": (0, 5000), "ast": (0, 5000),
    "phq9": (0, 27), "phq9_item9": (0, 3), "gad7": (0, 21), "steps": (0, 60_000),
    # the wider catalogue (issue 20): blood count, liver, kidney, urine, hepatitis B, thyroid
    "hb": (30, 250), "wbc": (0.1, 500), "plt": (1, 3000), "ggt": (0, 5000), "urea": (0.3, 100),
    "egfr": (1, 200), "urine_protein": (0, 4), "hbsag": (0, 1), "tsh": (0.001, 500),
    "dx_hypertension": (0, 1), "rx_hypertension": (0, 1), "dx_diabetes": (0, 1), "rx_diabetes": (0, 1),
    "smoking": (0, 2), "family_history_cvd": (0, 1), "physical_activity": (0, 2),
}
if set(_PLAUSIBLE) != set(CANONICAL_UNITS):  # one row per item, no item without a unit or a range
    raise RuntimeError(f"items without a range or a unit: {sorted(set(_PLAUSIBLE) ^ set(CANONICAL_UNITS))}")

ITEMS: dict[str, Item] = {code: Item(code, CANONICAL_UNITS[code], lo, hi) for code, (lo, hi) in _PLAUSIBLE.items()}

# LOINC -> (canonical code, the unit the code implies; None for a text result) (docs/CLINICAL.md)
LOINC: dict[str, tuple[str, str | None]] = {
    "8480-6": ("sbp", "mmHg"), "8462-4": ("dbp", "mmHg"), "29463-7": ("weight_kg", "kg"), "3141-9": ("weight_kg", "kg"),
    "8302-2": ("height_cm", "cm"), "39156-5": ("bmi", "kg/m2"), "8280-0": ("waist_cm", "cm"),
    "56115-9": ("waist_cm", "cm"), "41982-0": ("body_fat_pct", "%"),
    "8867-4": ("pulse", "bpm"), "8889-8": ("pulse", "bpm"),
    "59408-5": ("spo2", "%"), "2708-6": ("spo2", "%"), "20564-1": ("spo2", "%"),
    "2345-7": ("fpg", "mg/dL"), "14749-6": ("fpg", "mmol/L"), "1558-6": ("fpg", "mg/dL"), "14771-0": ("fpg", "mmol/L"),
    "2093-3": ("tc", "mg/dL"), "14647-2": ("tc", "mmol/L"),
    "2085-9": ("hdl", "mg/dL"), "14646-4": ("hdl", "mmol/L"),
    "13457-7": ("ldl", "mg/dL"), "18262-6": ("ldl", "mg/dL"), "22748-8": ("ldl", "mmol/L"),
    "2571-8": ("tg", "mg/dL"), "14927-8": ("tg", "mmol/L"),
    "3084-1": ("ua", "mg/dL"), "14933-6": ("ua", "µmol/L"),
    "2160-0": ("cr", "mg/dL"), "14682-9": ("cr", "µmol/L"),
    "1742-6": ("alt", "U/L"), "1920-8": ("ast", "U/L"), "4548-4": ("hba1c", "%"),
    "85354-9": ("bp", "mmHg"),  # the BP panel: one "150/96" value, loaded as SBP and DBP
    # haemoglobin: no implied unit, g/L and g/dL are told apart by the value (ingest.harmonise)
    "718-7": ("hb", None), "6690-2": ("wbc", "10^9/L"), "777-3": ("plt", "10^9/L"), "2324-2": ("ggt", "U/L"),
    "3094-0": ("urea", "mg/dL"), "22664-7": ("urea", "mmol/L"), "98979-8": ("egfr", "mL/min/1.73m2"),
    "2888-6": ("urine_protein", None), "20454-5": ("urine_protein", None), "5196-1": ("hbsag", None),
    "3016-3": ("tsh", "mIU/L"),
    "44261-6": ("phq9", "score"), "70273-8": ("gad7", "score"), "55423-8": ("steps", "steps"),
    "8601-7": ("ecg_text", None), "11524-6": ("ecg_text", None), "18782-3": ("ultrasound_text", None),
    "11526-1": ("summary_text", None),
}


# items sent as words, coded as numbers (models.clinical.URINE_PROTEIN_GRADES, HBSAG_RESULTS)
QUALITATIVE = ("urine_protein", "hbsag")
# one column holding two items: blood pressure "150/96" -> SBP and DBP
COMBINED: dict[str, tuple[str, str]] = {"bp": ("sbp", "dbp")}


def plausible_range(code: str) -> tuple[float, float]:
    """(low, high) of a measured item; unbounded for a code without a row."""
    item = ITEMS.get(code)
    return (item.low, item.high) if item else (float("-inf"), float("inf"))


# --- finding-type tests: coded findings of a text conclusion ------------------------------------
# test -> the exam column holding its conclusion text. A test counts as *reported* by an exam
# when that text is there or one of the test's findings is coded (models.snapshot.exam_reports).
FINDING_TEXT_COLUMNS: dict[str, str] = {
    "ecg": "ecg_text", "ultrasound": "ultrasound_text", "chest": "chest_text", "fundus": "fundus_text",
    "hearing": "hearing_text",
}

# finding code -> test. Words: models.vocab.FINDING_WORDS; keyword tables: ingest.harmonise.
FINDING_TEST: dict[str, str] = {
    **dict.fromkeys(("af", "aflutter", "vt", "avb3", "stemi", "qtc_gt500", "avb2", "avb1", "lbbb", "rbbb",
                     "sinus_tachy", "sinus_brady", "pvc", "pac", "st_t", "lvh"), "ecg"),
    **dict.fromkeys(("fatty_liver", "fatty_liver_severe", "gallstone", "gallbladder_polyp", "kidney_stone",
                     "liver_cyst", "kidney_cyst", "liver_mass", "kidney_mass", "thyroid_nodule", "breast_nodule",
                     "prostate_enlarged", "splenomegaly"), "ultrasound"),
    **dict.fromkeys(("pulmonary_nodule", "lung_mass", "pleural_effusion"), "chest"),
    **dict.fromkeys(("hypertensive_retinopathy", "diabetic_retinopathy", "fundus_haemorrhage"), "fundus"),
    **dict.fromkeys(("hearing_loss",), "hearing"),
}
