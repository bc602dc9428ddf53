"""Guideline classes: every boundary of every table in docs/CLINICAL.md
(just below, on, just above). Expected values come from the tables."""

from types import SimpleNamespace

import pytest

from models.clinical import (
    CANONICAL_UNITS, bmi_category, bp_category, classes_for, convert, gad7_band,
    glucose_category, hyperuricemia, isolated_systolic, lipid_category, phq9_band,
    waist_category,
)


# --- BP: 中国高血压防治指南 2018 -------------------------------------------------
@pytest.mark.parametrize("sbp, expected", [
    (119, "normal"), (119.9, "normal"), (120, "high_normal"), (121, "high_normal"),
    (139, "high_normal"), (139.9, "high_normal"), (140, "grade1"), (141, "grade1"),
    (159, "grade1"), (160, "grade2"), (161, "grade2"),
    (179, "grade2"), (180, "grade3"), (181, "grade3"), (220, "grade3"),
])
def test_clin001_bp_sbp_boundaries(sbp, expected):
    assert bp_category(sbp, 70) == expected


@pytest.mark.parametrize("dbp, expected", [
    (79, "normal"), (79.9, "normal"), (80, "high_normal"), (81, "high_normal"),
    (89, "high_normal"), (90, "grade1"), (91, "grade1"),
    (99, "grade1"), (100, "grade2"), (101, "grade2"),
    (109, "grade2"), (110, "grade3"), (111, "grade3"),
])
def test_clin002_bp_dbp_boundaries(dbp, expected):
    assert bp_category(110, dbp) == expected


@pytest.mark.parametrize("sbp, dbp, expected", [
    (119, 79, "normal"),
    (119, 80, "high_normal"),          # "and/or": one component is enough
    (125, 95, "grade1"),               # DBP grade is higher
    (150, 105, "grade2"),
    (185, 70, "grade3"),               # isolated systolic, graded by SBP
    (165, 115, "grade3"),
    (100, 112, "grade3"),
])
def test_clin003_bp_higher_grade_counts(sbp, dbp, expected):
    assert bp_category(sbp, dbp) == expected


@pytest.mark.parametrize("sbp, dbp, expected", [
    (139, 80, False), (140, 89, True), (141, 70, True), (140, 90, False),
    (160, 89.9, True), (180, 95, False), (130, 70, False),
])
def test_clin004_isolated_systolic(sbp, dbp, expected):
    assert isolated_systolic(sbp, dbp) is expected


# --- BMI and waist: WS/T 428-2013 ----------------------------------------------
@pytest.mark.parametrize("bmi, expected", [
    (18.4, "underweight"), (18.5, "normal"), (18.6, "normal"),
    (23.9, "normal"), (24.0, "overweight"), (24.1, "overweight"),
    (27.9, "overweight"), (28.0, "obese"), (28.1, "obese"), (35.0, "obese"),
])
def test_clin005_bmi_boundaries(bmi, expected):
    assert bmi_category(bmi) == expected


@pytest.mark.parametrize("sex, waist, expected", [
    ("male", 84.9, "normal"), ("male", 85, "pre_central_obesity"),
    ("male", 85.1, "pre_central_obesity"), ("male", 89.9, "pre_central_obesity"),
    ("male", 90, "central_obesity"), ("male", 90.1, "central_obesity"),
    ("female", 79.9, "normal"), ("female", 80, "pre_central_obesity"),
    ("female", 80.1, "pre_central_obesity"), ("female", 84.9, "pre_central_obesity"),
    ("female", 85, "central_obesity"), ("female", 85.1, "central_obesity"),
])
def test_clin006_waist_boundaries(sex, waist, expected):
    assert waist_category(waist, sex) == expected


@pytest.mark.parametrize("sex", ["M", "Male", "", None])
def test_clin007_waist_rejects_unknown_sex(sex):
    with pytest.raises(ValueError):
        waist_category(88, sex)


# --- glucose: CDS 2020 ---------------------------------------------------------
@pytest.mark.parametrize("fpg, expected", [
    (6.0, "normal"), (6.1, "IFG"), (6.2, "IFG"),
    (6.9, "IFG"), (7.0, "diabetes"), (7.1, "diabetes"),
])
def test_clin008_fpg_boundaries(fpg, expected):
    assert glucose_category(fpg) == expected


@pytest.mark.parametrize("ogtt2h, expected", [
    (7.7, "normal"), (7.8, "IGT"), (7.9, "IGT"),
    (11.0, "IGT"), (11.1, "diabetes"), (11.2, "diabetes"),
])
def test_clin009_ogtt_boundaries(ogtt2h, expected):
    assert glucose_category(5.0, ogtt2h) == expected


@pytest.mark.parametrize("fpg, ogtt2h, expected", [
    (6.5, 8.0, "IFG+IGT"),
    (6.5, 7.7, "IFG"),
    (6.0, 7.8, "IGT"),
    (6.0, 11.1, "diabetes"),
    (7.0, 5.0, "diabetes"),
    (6.5, 11.5, "diabetes"),
    (None, 8.0, "IGT"),
    (None, 6.0, "normal"),
    (5.5, None, "normal"),
    (None, None, None),
])
def test_clin010_glucose_combinations(fpg, ogtt2h, expected):
    assert glucose_category(fpg, ogtt2h) == expected


# --- lipids: 中国血脂管理指南 2023 ------------------------------------------------
@pytest.mark.parametrize("analyte, value, expected", [
    ("TC", 5.19, "appropriate"), ("TC", 5.2, "borderline_high"), ("TC", 5.21, "borderline_high"),
    ("TC", 6.19, "borderline_high"), ("TC", 6.2, "high"), ("TC", 6.21, "high"),
    ("LDL_C", 2.59, "ideal"), ("LDL_C", 2.6, "appropriate"), ("LDL_C", 2.61, "appropriate"),
    ("LDL_C", 3.39, "appropriate"), ("LDL_C", 3.4, "borderline_high"),
    ("LDL_C", 3.41, "borderline_high"), ("LDL_C", 4.09, "borderline_high"),
    ("LDL_C", 4.1, "high"), ("LDL_C", 4.11, "high"),
    ("non_HDL_C", 3.39, "ideal"), ("non_HDL_C", 3.4, "appropriate"),
    ("non_HDL_C", 3.41, "appropriate"), ("non_HDL_C", 4.09, "appropriate"),
    ("non_HDL_C", 4.1, "borderline_high"), ("non_HDL_C", 4.11, "borderline_high"),
    ("non_HDL_C", 4.89, "borderline_high"), ("non_HDL_C", 4.9, "high"),
    ("non_HDL_C", 4.91, "high"),
    ("TG", 1.69, "appropriate"), ("TG", 1.7, "borderline_high"), ("TG", 1.71, "borderline_high"),
    ("TG", 2.29, "borderline_high"), ("TG", 2.3, "high"), ("TG", 2.31, "high"),
    ("HDL_C", 0.99, "low"), ("HDL_C", 1.0, "normal"), ("HDL_C", 1.01, "normal"),
])
def test_clin011_lipid_boundaries(analyte, value, expected):
    assert lipid_category(analyte, value) == expected


@pytest.mark.parametrize("analyte", ["tc", "LDL", "HDL", "Lp(a)"])
def test_clin012_lipid_unknown_analyte(analyte):
    with pytest.raises(ValueError):
        lipid_category(analyte, 3.0)


# --- uric acid ---------------------------------------------------------------------
@pytest.mark.parametrize("ua, expected", [
    (416.4, False),        # 7.0 mg/dL is not hyperuricemia (CLINICAL.md)
    (419.9, False), (420, False), (420.1, True), (421, True),
])
def test_clin013_uric_acid_boundary(ua, expected):
    assert hyperuricemia(ua) is expected


# --- questionnaires ----------------------------------------------------------------
@pytest.mark.parametrize("total, expected", [
    (0, "none"), (4, "none"), (5, "mild"), (6, "mild"),
    (9, "mild"), (10, "moderate"), (11, "moderate"),
    (14, "moderate"), (15, "moderately_severe"), (16, "moderately_severe"),
    (19, "moderately_severe"), (20, "severe"), (21, "severe"), (27, "severe"),
])
def test_clin014_phq9_bands(total, expected):
    assert phq9_band(total) == expected


@pytest.mark.parametrize("total, expected", [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (6, "mild"),
    (9, "mild"), (10, "moderate"), (11, "moderate"),
    (14, "moderate"), (15, "severe"), (16, "severe"), (21, "severe"),
])
def test_clin015_gad7_bands(total, expected):
    assert gad7_band(total) == expected


@pytest.mark.parametrize("fn, total", [
    (phq9_band, -1), (phq9_band, 28), (gad7_band, -1), (gad7_band, 22),
])
def test_clin016_questionnaire_out_of_range(fn, total):
    with pytest.raises(ValueError):
        fn(total)


# --- classes_for ------------------------------------------------------------------
def test_clin017_classes_for_full_record():
    latest = {"sbp": 150, "dbp": 85, "bmi": 26.0, "waist_cm": 91, "fpg": 6.3,
              "ogtt2h": 8.1, "tc": 6.3, "hdl": 0.9, "ldl": 4.0, "tg": 1.5,
              "ua": 430, "phq9": 12, "gad7": 3}
    assert classes_for(latest, "male") == {
        "bp": "grade1", "bmi": "overweight", "waist": "central_obesity",
        "glucose": "IFG+IGT",
        "lipids": {"TC": "high", "LDL_C": "borderline_high", "TG": "appropriate",
                   "HDL_C": "low", "non_HDL_C": "high"},      # 6.3 − 0.9 = 5.4
        "uric_acid": "hyperuricemia", "phq9": "moderate", "gad7": "minimal",
        "anaemia": None, "ckd": None, "urine_protein": None, "hbsag": None,
    }


def test_clin018_classes_for_missing_data_is_none():
    out = classes_for({}, "female")
    assert set(out) == {"bp", "bmi", "waist", "glucose", "lipids", "uric_acid", "phq9", "gad7", "anaemia", "ckd",
                        "urine_protein", "hbsag"}
    assert all(v is None for k, v in out.items() if k != "lipids")
    assert out["lipids"] == {"TC": None, "LDL_C": None, "TG": None, "non_HDL_C": None,
                             "HDL_C": None}
    # BP needs both values; non-HDL-C needs both TC and HDL-C
    partial = classes_for({"sbp": 150, "tc": 5.0}, "female")
    assert partial["bp"] is None
    assert partial["lipids"]["TC"] == "appropriate"
    assert partial["lipids"]["non_HDL_C"] is None


@pytest.mark.parametrize("tc, hdl, expected", [
    (6.1, 1.2, "high"),            # 4.9 exactly (float gives 4.8999999999999995)
    (6.09, 1.2, "borderline_high"),  # 4.89
    (4.5, 1.1, "appropriate"),     # 3.4
    (4.49, 1.1, "ideal"),          # 3.39
])
def test_clin019_non_hdl_from_tc_minus_hdl(tc, hdl, expected):
    assert classes_for({"tc": tc, "hdl": hdl}, "male")["lipids"]["non_HDL_C"] == expected


def test_clin020_classes_for_derives_bmi_and_uses_sex():
    # 80 kg / 1.70² = 27.7 -> overweight; waist 82 is normal for men, pre-central for women
    assert classes_for({"weight_kg": 80, "height_cm": 170}, "male")["bmi"] == "overweight"
    assert classes_for({"waist_cm": 82}, "male")["waist"] == "normal"
    assert classes_for({"waist_cm": 82}, "female")["waist"] == "pre_central_obesity"
    # an explicit bmi wins over weight/height
    assert classes_for({"bmi": 29, "weight_kg": 60, "height_cm": 170}, "male")["bmi"] == "obese"


def test_clin021_classes_for_accepts_reading_objects():
    r = lambda v: SimpleNamespace(value=v)   # noqa: E731 - any object with .value
    out = classes_for({"sbp": r(182), "dbp": r(95), "ua": r(400)}, "male")
    assert out["bp"] == "grade3" and out["uric_acid"] == "normal"


# --- unit conversions ---------------------------------------------------------------
@pytest.mark.parametrize("code, value, unit, expected", [
    ("fpg", 126, "mg/dL", 7.0),                 # ÷ 18
    ("ogtt2h", 200, "mg/dL", 200 / 18),
    ("tc", 200, "mg/dL", 200 / 38.67),          # 5.17
    ("ldl", 160, "mg/dl", 160 / 38.67),
    ("hdl", 40, "MG/DL", 40 / 38.67),
    ("tg", 150, "mg/dL", 150 / 88.57),          # 1.69
    ("ua", 7.0, "mg/dL", 416.36),               # × 59.48
    ("cr", 1.0, "mg/dL", 88.4),
    ("ua", 0.42, "mmol/L", 420.0),
    ("fpg", 5.6, "mmol/L", 5.6),                # already canonical
    ("ua", 380, "µmol/L", 380), ("ua", 380, "μmol/L", 380), ("ua", 380, "umol/l", 380),
    ("bmi", 23.5, "kg/m²", 23.5), ("sbp", 120, "mmHg", 120), ("hba1c", 6.1, "%", 6.1),
])
def test_clin022_convert(code, value, unit, expected):
    assert convert(code, value, unit) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("code, unit", [
    ("sbp", "kPa"), ("fpg", "g/L"), ("glucose", "mg/dL"), ("hba1c", "mmol/mol"), ("tc", None),
])
def test_clin023_convert_rejects_unknown(code, unit):
    with pytest.raises(ValueError):
        convert(code, 1.0, unit)


def test_clin024_canonical_units_cover_design_codes():
    assert CANONICAL_UNITS == {
        "height_cm": "cm", "weight_kg": "kg", "bmi": "kg/m2", "waist_cm": "cm",
        "body_fat_pct": "%", "visceral_fat": "level", "sbp": "mmHg", "dbp": "mmHg",
        "pulse": "bpm", "spo2": "%", "fpg": "mmol/L", "ogtt2h": "mmol/L",
        "hba1c": "%", "tc": "mmol/L", "tg": "mmol/L", "hdl": "mmol/L", "ldl": "mmol/L",
        "ua": "µmol/L", "cr": "µmol/L", "alt": "U/L", "ast": "U/L", "phq9": "score",
        "phq9_item9": "score", "gad7": "score", "steps": "steps",
        "hb": "g/L", "wbc": "10^9/L", "plt": "10^9/L", "ggt": "U/L", "urea": "mmol/L", "egfr": "mL/min/1.73m2",
        "urine_protein": "grade", "hbsag": "result", "tsh": "mIU/L",
        "dx_hypertension": "flag", "rx_hypertension": "flag", "dx_diabetes": "flag", "rx_diabetes": "flag",
        "smoking": "code", "family_history_cvd": "flag", "physical_activity": "code",  # the risk-factor form
    }


# --- issue 20: the wider catalogue -------------------------------------------------------------------
def test_clin040_egfr_ckd_epi_2021_and_kdigo_stages():
    from models.clinical import ckd_stage, egfr_ckd_epi_2021

    # Inker 2021 equation: creatinine 1.0 mg/dL (88.4 µmol/L), 50-year-old man -> 92;
    # woman 0.7 mg/dL (= κ), 40: 142 × 0.9938^40 × 1.012 -> 112
    assert egfr_ckd_epi_2021(88.4, 50, "male") == 92
    assert egfr_ckd_epi_2021(0.7 * 88.4, 40, "female") == 112
    assert egfr_ckd_epi_2021(150, 44, "male") == 50  # G3a: follow-up
    assert [ckd_stage(x) for x in (90, 89.9, 60, 59.9, 45, 44.9, 30, 29.9, 15, 14.9)] == [
        "G1", "G2", "G2", "G3a", "G3a", "G3b", "G3b", "G4", "G4", "G5"]


def test_clin041_anaemia_by_sex_who_and_the_chinese_criterion():
    from models.clinical import HB_ANAEMIA_CN, anaemia

    assert anaemia(129, "male") and not anaemia(130, "male")        # WHO 2011: men < 130 g/L
    assert anaemia(119, "female") and not anaemia(120, "female")    # women < 120 g/L
    assert not anaemia(125, "male", HB_ANAEMIA_CN) and anaemia(109, "female", HB_ANAEMIA_CN)


def test_clin042_wider_conversions():
    assert convert("hb", 14.5, "g/dL") == 145.0
    assert convert("wbc", 6.1, "×10^9/L") == 6.1 and convert("plt", 210, "10^3/uL") == 210
    assert convert("tsh", 2.5, "uIU/mL") == 2.5
    assert round(convert("urea", 30, "mg/dL"), 2) == 5.0
