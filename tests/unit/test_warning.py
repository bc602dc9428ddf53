"""Four-colour warning: each default rule one by one (below / on / above its
threshold), three yellows -> orange, exam overdue, kiosk confirmation, the
rule file and the map legend. Thresholds are the ones issue 3 lists."""

import json
from datetime import date, timedelta

import pytest

import models.warning as warning
from models.clinical import lipid_category
from models.risk import china_par_10y
from models.warning import (
    CRITICAL_ECG_FINDINGS, Reading, evaluate, load_rules, needs_confirmation_window_days,
    repeat_confirms,
)

RULES = load_rules()
AS_OF = date(2025, 6, 30)
EXAM_DAY = date(2025, 6, 1)
HOSPITAL = "广州市第一人民医院 体检"
KIOSK = "kiosk 天河派出所"


def exam(v, d=EXAM_DAY):
    return Reading(v, d, HOSPITAL, "exam")


def kiosk(v, d=date(2025, 6, 20), repeat=False):
    return Reading(v, d, KIOSK, "kiosk", confirmed_by_repeat=repeat)


# A healthy man of 35 examined a month ago; no waist, so no China-PAR unless a
# test adds one.
HEALTHY = {"sbp": 118, "dbp": 76, "fpg": 5.0, "hba1c": 5.4, "tc": 4.5, "ldl": 2.5,
           "hdl": 1.4, "tg": 1.2, "bmi": 22.0, "ua": 350, "alt": 25, "phq9": 2,
           "phq9_item9": 0, "gad7": 3}


def run(sex="male", age=35, readings=None, **values):
    latest = {c: exam(v) for c, v in {**HEALTHY, **values}.items() if v is not None}
    latest.update(readings or {})
    return evaluate(latest, sex=sex, age=age, last_exam_date=EXAM_DAY, as_of=AS_OF,
                    rules=RULES)


def rules_fired(result):
    return [r.rule for r in result.reasons]


# --- baseline ------------------------------------------------------------------------
def test_warn001_healthy_is_green():
    res = run()
    assert res.level == "green" and res.confirmed is True
    assert res.reasons == [] and res.rules_version == "warning_v2"
    assert res.china_par is None and res.china_par_category is None   # no waist


# --- blood pressure ------------------------------------------------------------------
@pytest.mark.parametrize("sbp, level, rule", [
    (139, "green", None), (140, "yellow", "bp_grade1"), (141, "yellow", "bp_grade1"),
    (159, "yellow", "bp_grade1"), (160, "orange", "bp_grade2"), (161, "orange", "bp_grade2"),
    (179, "orange", "bp_grade2"), (180, "red", "bp_grade3"), (181, "red", "bp_grade3"),
])
def test_warn002_sbp_levels(sbp, level, rule):
    res = run(sbp=sbp)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])


@pytest.mark.parametrize("dbp, level, rule", [
    (89, "green", None), (90, "yellow", "bp_grade1"), (91, "yellow", "bp_grade1"),
    (99, "yellow", "bp_grade1"), (100, "orange", "bp_grade2"), (101, "orange", "bp_grade2"),
    (109, "orange", "bp_grade2"), (110, "red", "bp_grade3"), (111, "red", "bp_grade3"),
])
def test_warn003_dbp_levels(dbp, level, rule):
    res = run(dbp=dbp)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])


def test_warn004_only_worst_level_per_measure():
    res = run(sbp=185, dbp=95)
    # SBP 185 is red only (not also orange/yellow); DBP 95 is grade 1 on its own
    assert [(r.rule, r.value) for r in res.reasons] == [("bp_grade3", 185), ("bp_grade1", 95)]
    assert "185" in res.reasons[0].text_zh and "185" in res.reasons[0].text_en


# --- glucose ---------------------------------------------------------------------------
@pytest.mark.parametrize("fpg, level, rule", [
    (6.0, "green", None), (6.1, "yellow", "prediabetes"), (6.2, "yellow", "prediabetes"),
    (6.9, "yellow", "prediabetes"), (7.0, "orange", "diabetes_range"),
    (7.1, "orange", "diabetes_range"), (11.0, "orange", "diabetes_range"),
    (11.1, "red", "fpg_severe"), (11.2, "red", "fpg_severe"),
])
def test_warn005_fasting_glucose_levels(fpg, level, rule):
    res = run(fpg=fpg)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])


@pytest.mark.parametrize("hba1c, level", [(6.4, "green"), (6.5, "orange"), (6.6, "orange")])
def test_warn006_hba1c(hba1c, level):
    res = run(hba1c=hba1c)
    assert res.level == level
    assert rules_fired(res) == (["diabetes_range"] if level == "orange" else [])


@pytest.mark.parametrize("ogtt2h, level, rule", [
    (7.7, "green", None), (7.8, "yellow", "prediabetes"), (7.9, "yellow", "prediabetes"),
    (11.0, "yellow", "prediabetes"), (11.1, "orange", "diabetes_range"),
])
def test_warn007_ogtt_2h(ogtt2h, level, rule):
    res = run(ogtt2h=ogtt2h)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])


# --- mental health ---------------------------------------------------------------------
@pytest.mark.parametrize("phq9, level, rule", [
    (9, "green", None), (10, "yellow", "phq9_moderate"), (11, "yellow", "phq9_moderate"),
    (14, "yellow", "phq9_moderate"), (15, "orange", "phq9_moderately_severe"),
    (16, "orange", "phq9_moderately_severe"), (19, "orange", "phq9_moderately_severe"),
    (20, "red", "phq9_severe"), (27, "red", "phq9_severe"),
])
def test_warn008_phq9_levels(phq9, level, rule):
    res = run(phq9=phq9)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])


@pytest.mark.parametrize("item9, level", [(0, "green"), (1, "red"), (3, "red")])
def test_warn009_phq9_item9_is_red_whatever_the_total(item9, level):
    res = run(phq9=3, phq9_item9=item9)
    assert res.level == level
    assert rules_fired(res) == (["phq9_item9"] if item9 else [])


@pytest.mark.parametrize("gad7, level, rule", [
    (9, "green", None), (10, "yellow", "gad7_moderate"), (14, "yellow", "gad7_moderate"),
    (15, "orange", "gad7_severe"), (21, "orange", "gad7_severe"),
])
def test_warn010_gad7_levels(gad7, level, rule):
    res = run(gad7=gad7)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])


# --- lipids ------------------------------------------------------------------------------
@pytest.mark.parametrize("ldl, level, rule", [
    (4.09, "green", None), (4.1, "yellow", "dyslipidaemia"), (4.89, "yellow", "dyslipidaemia"),
    (4.9, "orange", "ldl_very_high"), (4.91, "orange", "ldl_very_high"),
])
def test_warn011_ldl(ldl, level, rule):
    res = run(ldl=ldl)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])


@pytest.mark.parametrize("values, fires", [
    ({"tc": 6.19}, False), ({"tc": 6.2}, True), ({"tc": 6.21}, True),   # non-HDL 4.79-4.81
    ({"tg": 2.29}, False), ({"tg": 2.3}, True), ({"tg": 2.31}, True),
    ({"hdl": 1.01}, False), ({"hdl": 1.0}, False), ({"hdl": 0.99}, True),
    ({"tc": 6.09, "hdl": 1.2}, False),     # non-HDL 4.89
    ({"tc": 6.1, "hdl": 1.2}, True),       # non-HDL 4.9 (float: 4.8999999999999995)
    ({"tc": 6.11, "hdl": 1.2}, True),
])
def test_warn012_any_lipid_high_or_hdl_low_is_yellow(values, fires):
    res = run(**values)
    assert res.level == ("yellow" if fires else "green")
    assert rules_fired(res) == (["dyslipidaemia"] if fires else [])


def test_warn013_lipid_thresholds_agree_with_clinical_classes():
    checks = {c["code"]: c for c in RULES.rule("dyslipidaemia")["checks"]}
    names = {"tc": "TC", "ldl": "LDL_C", "tg": "TG", "non_hdl": "non_HDL_C"}
    for code, analyte in names.items():
        t = checks[code]["threshold"]
        assert lipid_category(analyte, t) == "high"
        assert lipid_category(analyte, round(t - 0.01, 2)) != "high"
    assert lipid_category("HDL_C", checks["hdl"]["threshold"]) == "normal"
    assert checks["hdl"]["op"] == "<"


# --- body size, uric acid, ALT ------------------------------------------------------------
@pytest.mark.parametrize("bmi, level, rule", [
    (27.9, "green", None), (28.0, "yellow", "obesity"), (28.1, "yellow", "obesity"),
    (31.9, "yellow", "obesity"), (32.0, "orange", "bmi_very_high"),
    (32.1, "orange", "bmi_very_high"),
])
def test_warn014_bmi(bmi, level, rule):
    res = run(bmi=bmi)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])


@pytest.mark.parametrize("sex, waist, fires", [
    ("male", 89.9, False), ("male", 90, True), ("male", 90.1, True),
    ("female", 84.9, False), ("female", 85, True), ("female", 85.1, True),
    ("male", 87, False),        # pre-central obesity is not a warning
])
def test_warn015_central_obesity(sex, waist, fires):
    res = run(sex=sex, waist_cm=waist)
    assert res.china_par is not None and res.china_par < 5    # waist enables China-PAR
    assert rules_fired(res) == (["obesity"] if fires else [])


def test_warn016_bmi_derived_from_weight_and_height():
    # 90 kg / 1.75² = 29.4
    res = run(bmi=None, weight_kg=90, height_cm=175)
    assert rules_fired(res) == ["obesity"] and res.reasons[0].value == 29.4


@pytest.mark.parametrize("ua, fires", [(416.4, False), (420, False), (420.1, True), (421, True)])
def test_warn017_hyperuricemia(ua, fires):
    assert rules_fired(run(ua=ua)) == (["hyperuricemia"] if fires else [])


@pytest.mark.parametrize("alt, fires", [(79, False), (80, False), (80.1, True), (81, True)])
def test_warn018_alt_over_80(alt, fires):
    assert rules_fired(run(alt=alt)) == (["alt_raised"] if fires else [])


# --- ECG -----------------------------------------------------------------------------------
def test_warn019_critical_ecg_codes_are_the_documented_six():
    assert CRITICAL_ECG_FINDINGS == {"af", "aflutter", "vt", "avb3", "stemi", "qtc_gt500"}
    assert set(RULES.rule("ecg_critical")["findings"]) == CRITICAL_ECG_FINDINGS


@pytest.mark.parametrize("finding", sorted(CRITICAL_ECG_FINDINGS) + ["AF", " Stemi "])
def test_warn020_critical_ecg_finding_is_red(finding):
    latest = {c: exam(v) for c, v in HEALTHY.items()}
    res = evaluate(latest, sex="male", age=35, exam_findings=[finding, "sinus_rhythm"],
                   last_exam_date=EXAM_DAY, as_of=AS_OF, rules=RULES, exam_source=HOSPITAL)
    assert res.level == "red" and res.confirmed is True
    (reason,) = res.reasons
    assert reason.rule == "ecg_critical"
    assert reason.value == finding.strip().lower()
    assert reason.date == EXAM_DAY and reason.source == HOSPITAL


def test_warn021_non_critical_ecg_findings_ignored():
    latest = {c: exam(v) for c, v in HEALTHY.items()}
    res = evaluate(latest, sex="male", age=35, exam_findings=["sinus_brady", "rbbb", "avb1"],
                   last_exam_date=EXAM_DAY, as_of=AS_OF, rules=RULES)
    assert res.level == "green"


# --- China-PAR -----------------------------------------------------------------------------
@pytest.mark.parametrize("pct, level, rule", [
    (4.94, "green", None),
    (4.95, "yellow", "china_par_intermediate"),       # rounds to 5.0
    (5.0, "yellow", "china_par_intermediate"),
    (9.94, "yellow", "china_par_intermediate"),
    (9.95, "orange", "china_par_high"), (10.0, "orange", "china_par_high"),
    (19.9, "orange", "china_par_high"), (19.94, "orange", "china_par_high"),
    (19.95, "red", "china_par_very_high"), (20.0, "red", "china_par_very_high"),
    (35.0, "red", "china_par_very_high"),
])
def test_warn022_china_par_levels(monkeypatch, pct, level, rule):
    monkeypatch.setattr(warning, "china_par_10y", lambda **kw: pct)
    res = run(waist_cm=80)
    assert res.level == level
    assert rules_fired(res) == ([rule] if rule else [])
    assert res.china_par == pct


def test_warn023_china_par_defaults_south_urban_and_derived_diabetes():
    args = dict(sex="male", age=50, sbp=150, bp_treated=False, tc=5.8, hdl=1.1,
                waist=92, smoker=False, diabetes=False, north=False, urban=True,
                family_history=False)
    res = run(age=50, sbp=150, tc=5.8, hdl=1.1, waist_cm=92)
    assert res.china_par == pytest.approx(china_par_10y(**args))
    # FPG >= 7.0 sets the diabetes flag
    res = run(age=50, sbp=150, tc=5.8, hdl=1.1, waist_cm=92, fpg=7.0)
    assert res.china_par == pytest.approx(china_par_10y(**{**args, "diabetes": True}))
    res = run(age=50, sbp=150, tc=5.8, hdl=1.1, waist_cm=92, hba1c=6.5)
    assert res.china_par == pytest.approx(china_par_10y(**{**args, "diabetes": True}))


def test_warn024_china_par_risk_inputs_override_defaults():
    latest = {c: exam(v) for c, v in {**HEALTHY, "sbp": 145, "tc": 5.2, "hdl": 1.3,
                                      "waist_cm": 80}.items()}
    res = evaluate(latest, sex="male", age=40, last_exam_date=EXAM_DAY, as_of=AS_OF,
                   rules=RULES, risk_inputs={"north": True, "family_history": True})
    assert round(res.china_par, 1) == 4.7            # the guideline's worked example
    assert res.china_par_category == "low"
    assert "china_par_intermediate" not in rules_fired(res)


@pytest.mark.parametrize("age", [19, 86, None])
def test_warn025_china_par_outside_age_range_is_none(age):
    res = run(age=age, waist_cm=85)
    assert res.china_par is None and res.china_par_category is None


# --- three yellows -------------------------------------------------------------------------
def test_warn026_three_yellows_make_orange():
    res = run(sbp=145, fpg=6.5, ua=450)
    assert res.level == "orange"
    assert res.reasons[0].rule == "multiple_yellow" and res.reasons[0].value == 3
    assert sorted(rules_fired(res)[1:]) == ["bp_grade1", "hyperuricemia", "prediabetes"]
    assert "血压" in res.reasons[0].text_zh or "高血压" in res.reasons[0].text_zh


def test_warn027_two_yellows_stay_yellow():
    assert run(sbp=145, fpg=6.5).level == "yellow"


def test_warn028_yellows_count_per_rule_not_per_reading():
    # SBP+DBP is one reason, TC+TG+HDL is one reason -> two yellow reasons
    res = run(sbp=145, dbp=95, tc=6.5, tg=2.5, hdl=0.9)
    assert res.level == "yellow"
    assert "multiple_yellow" not in rules_fired(res)


def test_warn029_overdue_exam_counts_as_a_yellow_reason():
    latest = {c: exam(v, date(2023, 6, 1)) for c, v in
              {**HEALTHY, "sbp": 145, "ua": 450}.items()}
    res = evaluate(latest, sex="male", age=35, last_exam_date=date(2023, 6, 1),
                   as_of=AS_OF, rules=RULES)
    assert res.level == "orange"
    assert set(rules_fired(res)) == {"multiple_yellow", "bp_grade1", "hyperuricemia",
                                     "exam_overdue"}


# --- exam overdue --------------------------------------------------------------------------
@pytest.mark.parametrize("last, as_of, overdue", [
    (date(2023, 12, 30), date(2025, 6, 29), False),
    (date(2023, 12, 30), date(2025, 6, 30), False),      # exactly 18 months
    (date(2023, 12, 30), date(2025, 7, 1), True),
    (date(2023, 8, 31), date(2025, 2, 28), False),       # 18 months after 31 Aug is 28 Feb
    (date(2023, 8, 31), date(2025, 3, 1), True),
])
def test_warn030_no_exam_for_more_than_18_months(last, as_of, overdue):
    latest = {c: exam(v, last) for c, v in HEALTHY.items()}
    res = evaluate(latest, sex="male", age=35, last_exam_date=last, as_of=as_of, rules=RULES)
    assert rules_fired(res) == (["exam_overdue"] if overdue else [])
    if overdue:
        assert res.level == "yellow"
        assert res.reasons[0].date == last and res.reasons[0].value == 18


def test_warn031_no_exam_on_record_is_overdue():
    latest = {"sbp": kiosk(120), "dbp": kiosk(75)}
    res = evaluate(latest, sex="female", age=30, as_of=AS_OF, rules=RULES)
    assert rules_fired(res) == ["exam_overdue"]
    assert res.reasons[0].value is None and res.reasons[0].date is None


def test_warn032_last_exam_date_taken_from_exam_readings():
    latest = {"sbp": kiosk(120), "dbp": kiosk(75), "tc": exam(4.5, date(2024, 3, 1))}
    res = evaluate(latest, sex="male", age=30, as_of=AS_OF, rules=RULES)
    assert res.level == "green"
    res = evaluate(latest, sex="male", age=30, as_of=date(2025, 9, 2), rules=RULES)
    assert rules_fired(res) == ["exam_overdue"] and res.reasons[0].source == HOSPITAL


# --- confirmation of red -------------------------------------------------------------------
def test_warn033_kiosk_only_red_is_unconfirmed():
    res = run(readings={"sbp": kiosk(186), "dbp": kiosk(96)})
    assert res.level == "red" and res.confirmed is False
    red = res.reasons[0]
    assert red.rule == "bp_grade3" and red.confirmed is False and red.source == KIOSK
    assert "待复测" in red.text_zh and "repeat" in red.text_en
    assert res.to_json()["confirmed"] is False


def test_warn034_repeat_confirmed_kiosk_red_is_confirmed():
    res = run(readings={"sbp": kiosk(186, repeat=True), "dbp": kiosk(96, repeat=True)})
    assert res.level == "red" and res.confirmed is True
    assert "待复测" not in res.reasons[0].text_zh


def test_warn035_exam_backed_red_is_confirmed():
    assert run(sbp=186).confirmed is True                     # red from the exam itself
    # a kiosk red plus a red from an exam: the level is backed by the exam
    res = run(fpg=12.0, readings={"sbp": kiosk(186)})
    assert res.level == "red" and res.confirmed is True
    by_rule = {r.rule: r for r in res.reasons}
    assert by_rule["bp_grade3"].confirmed is False and by_rule["fpg_severe"].confirmed is True


def test_warn036_screening_red_needs_no_confirmation():
    res = run(readings={"phq9_item9": Reading(1, AS_OF, "心理筛查 2025", "screening")})
    assert res.level == "red" and res.confirmed is True


def test_warn037_kiosk_orange_is_not_a_confirmation_matter():
    res = run(readings={"sbp": kiosk(165)})
    assert res.level == "orange" and res.confirmed is True


def test_warn038_china_par_red_from_kiosk_sbp_is_unconfirmed(monkeypatch):
    monkeypatch.setattr(warning, "china_par_10y", lambda **kw: 25.0)
    res = run(waist_cm=95, readings={"sbp": kiosk(150)})
    assert res.level == "red" and res.confirmed is False
    res = run(waist_cm=95, readings={"sbp": kiosk(150, repeat=True)})
    assert res.level == "red" and res.confirmed is True


# --- repeat_confirms ----------------------------------------------------------------------
RED_SBP = lambda v: v >= 180   # noqa: E731
D0 = date(2025, 6, 20)


@pytest.mark.parametrize("readings, expected", [
    ([kiosk(185, D0)], False),                                            # single reading
    ([kiosk(182, D0 - timedelta(days=5)), kiosk(185, D0)], True),
    ([kiosk(182, D0 - timedelta(days=14)), kiosk(185, D0)], True),        # on the window
    ([kiosk(182, D0 - timedelta(days=15)), kiosk(185, D0)], False),       # outside
    ([kiosk(170, D0 - timedelta(days=3)), kiosk(185, D0)], False),        # repeat not red
    ([kiosk(185, D0), kiosk(182, D0 - timedelta(days=3))], True),         # order irrelevant
    ([kiosk(185, D0 - timedelta(days=6)), kiosk(181, D0 - timedelta(days=3)),
      kiosk(150, D0)], False),                                            # newest not red
    ([exam(181, D0 - timedelta(days=10)), kiosk(185, D0)], True),         # exam confirms
    ([kiosk(185, D0), kiosk(183, D0)], True),                             # same-day repeat
])
def test_warn039_repeat_confirms(readings, expected):
    assert needs_confirmation_window_days == 14
    assert repeat_confirms(readings, RED_SBP) is expected


# --- output shape and ordering --------------------------------------------------------------
def test_warn040_reasons_sorted_worst_first_and_json_shape():
    res = run(sbp=150, ua=450, phq9=21, ldl=5.0)
    assert [r.level for r in res.reasons] == ["red", "orange", "yellow", "yellow"]
    doc = res.to_json()
    assert set(doc) == {"level", "confirmed", "rules_version", "reasons"}
    assert doc["level"] == "red" and doc["rules_version"] == "warning_v2"
    first = doc["reasons"][0]
    assert set(first) == {"rule", "level", "text", "text_en", "value", "date", "source"}
    assert first == {"rule": "phq9_severe", "level": "red", "text": res.reasons[0].text_zh,
                     "text_en": res.reasons[0].text_en, "value": 21,
                     "date": "2025-06-01", "source": HOSPITAL}
    json.dumps(doc, ensure_ascii=False)          # serialisable as is


def test_warn041_texts_show_value_and_threshold_readably():
    res = run(fpg=7.0, hdl=0.9)
    texts = {r.rule: r for r in res.reasons}
    assert "7.0 mmol/L" in texts["diabetes_range"].text_zh
    assert "≥7.0" in texts["diabetes_range"].text_en
    assert "<1.0" in texts["dyslipidaemia"].text_zh


def test_warn042_missing_data_is_green_not_an_error():
    res = evaluate({}, sex="female", age=40, last_exam_date=EXAM_DAY, as_of=AS_OF, rules=RULES)
    assert res.level == "green" and res.china_par is None


# --- rule file ----------------------------------------------------------------------------
def _check(rule_id, code):
    return next(c for c in RULES.rule(rule_id)["checks"] if c["code"] == code)


@pytest.mark.parametrize("rule_id, code, op, threshold", [
    ("bp_grade3", "sbp", ">=", 180), ("bp_grade3", "dbp", ">=", 110),
    ("fpg_severe", "fpg", ">=", 11.1), ("phq9_severe", "phq9", ">=", 20),
    ("phq9_item9", "phq9_item9", ">=", 1), ("china_par_very_high", "china_par", ">=", 20),
    ("bp_grade2", "sbp", ">=", 160), ("bp_grade2", "dbp", ">=", 100),
    ("diabetes_range", "fpg", ">=", 7.0), ("diabetes_range", "hba1c", ">=", 6.5),
    ("ldl_very_high", "ldl", ">=", 4.9), ("china_par_high", "china_par", ">=", 10),
    ("phq9_moderately_severe", "phq9", ">=", 15), ("gad7_severe", "gad7", ">=", 15),
    ("bmi_very_high", "bmi", ">=", 32),
    ("bp_grade1", "sbp", ">=", 140), ("bp_grade1", "dbp", ">=", 90),
    ("prediabetes", "fpg", ">=", 6.1), ("prediabetes", "ogtt2h", ">=", 7.8),
    ("obesity", "bmi", ">=", 28), ("obesity", "waist_cm", ">=", {"male": 90, "female": 85}),
    ("hyperuricemia", "ua", ">", 420), ("alt_raised", "alt", ">", 80),
    ("china_par_intermediate", "china_par", ">=", 5),
    ("phq9_moderate", "phq9", ">=", 10), ("gad7_moderate", "gad7", ">=", 10),
])
def test_warn043_default_rule_thresholds(rule_id, code, op, threshold):
    c = _check(rule_id, code)
    assert (c["op"], c["threshold"]) == (op, threshold)


def test_warn044_rule_file_structure():
    levels = {r["id"]: r["level"] for r in RULES.rules}
    assert levels["multiple_yellow"] == "orange" and RULES.rule("multiple_yellow")["threshold"] == 3
    assert levels["exam_overdue"] == "yellow" and RULES.rule("exam_overdue")["months"] == 18
    assert levels["ecg_critical"] == "red"
    assert RULES.window_days == 14 and RULES.needs_confirmation_kinds == {"kiosk"}
    for r in RULES.rules:
        for holder in r.get("checks", [r]):
            assert holder["text_zh"] and holder["text_en"]


@pytest.mark.parametrize("share, colour", [
    (0, "green"), (14.9, "green"), (15, "yellow"), (24.9, "yellow"), (25, "orange"),
    (34.9, "orange"), (35, "red"), (60, "red"),
])
def test_warn045_map_legend(share, colour):
    assert RULES.legend_level(share) == colour


def _custom_rules(tmp_path, mutate):
    raw = json.loads(warning.DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    mutate(raw)
    p = tmp_path / "rules.json"
    p.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return p


def _set_sbp_red(raw, value, version):
    raw["version"] = version
    next(r for r in raw["rules"] if r["id"] == "bp_grade3")["checks"][0]["threshold"] = value


def test_warn046_env_var_overrides_rule_file(tmp_path, monkeypatch):
    p = _custom_rules(tmp_path, lambda raw: _set_sbp_red(raw, 170, "test_v2"))
    monkeypatch.setenv("PORTAL_RULES_FILE", str(p))
    rules = load_rules()
    assert rules.version == "test_v2"
    latest = {c: exam(v) for c, v in {**HEALTHY, "sbp": 172}.items()}
    res = evaluate(latest, sex="male", age=35, last_exam_date=EXAM_DAY, as_of=AS_OF,
                   rules=rules)
    assert res.level == "red" and res.rules_version == "test_v2"


def test_warn047_explicit_path_beats_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_RULES_FILE", str(tmp_path / "missing.json"))
    assert load_rules(warning.DEFAULT_RULES_PATH).version == "warning_v2"


@pytest.mark.parametrize("mutate", [
    lambda raw: raw.pop("version"),
    lambda raw: raw["rules"][0]["checks"][0].update(op="=>"),
    lambda raw: raw["rules"][0].update(level="purple"),
    lambda raw: raw["rules"][0]["checks"][0].update(text_zh="收缩压 {valeu}"),
    lambda raw: next(r for r in raw["rules"] if r["id"] == "ecg_critical")["findings"].append("afib"),
    lambda raw: raw["rules"].append(dict(raw["rules"][0])),             # duplicate id
    lambda raw: raw["map_legend"]["bands"][1].update(below_pct=3),     # not ascending
])
def test_warn048_malformed_rule_file_is_rejected(tmp_path, mutate):
    with pytest.raises(ValueError):
        load_rules(_custom_rules(tmp_path, mutate))


def test_warn049_exam_source_found_from_exam_readings_on_the_exam_day():
    latest = {c: exam(v) for c, v in HEALTHY.items()}
    res = evaluate(latest, sex="male", age=35, exam_findings=["vt"], last_exam_date=EXAM_DAY,
                   as_of=AS_OF, rules=RULES)
    assert res.reasons[0].source == HOSPITAL
