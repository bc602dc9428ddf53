"""Harmonisation rules: headers, values, units, dates, coded findings (pure functions)."""
import datetime as dt

import pytest

from ingest import harmonise as hz


@pytest.mark.parametrize("header, expected", [
    ("收缩压(mmHg)", ("sbp", "mmHg")), ("高压", ("sbp", None)), ("SBP", ("sbp", None)),
    ("空腹血糖", ("fpg", None)), ("GLU", ("fpg", None)), ("血糖(空腹)", ("fpg", None)),
    ("总胆固醇（mg/dL）", ("tc", "mg/dL")), ("TC[mmol/L]", ("tc", "mmol/L")), ("甘油三酯/TG(mg/dL)", ("tg", "mg/dL")),
    ("高密度脂蛋白", ("hdl", None)), ("HDL-C", ("hdl", None)), ("低密度脂蛋白", ("ldl", None)), ("LDL-C", ("ldl", None)),
    ("尿酸", ("ua", None)), ("UA", ("ua", None)), ("谷丙转氨酶/ALT", ("alt", None)), ("肌酐", ("cr", None)),
    ("Cr", ("cr", None)), ("身高", ("height_cm", None)), ("体重 kg", ("weight_kg", "kg")), ("腰围(cm)", ("waist_cm", "cm")),
    ("体检日期", ("exam_date", None)), ("身份证号", ("id_number", None)), ("警号", ("badge", None)),
    ("心电图", ("ecg_text", None)), ("B超", ("ultrasound_text", None)), ("总检结论", ("summary_text", None)),
    ("\ufeff姓名", ("name", None)), ("项目名称", ("item", None)), ("序号", ("ignore", None)), ("血红蛋白", ("hb", None)),
    ("尿比重", (None, None)),
])
def test_ing201_headers(header, expected):
    assert hz.place_header(header) == expected


def test_ing202_mapping_overrides_and_adds():
    mapping = {"columns": {"高压": "dbp", "血糖值": {"field": "fpg", "unit": "mg/dL"}}, "ignore": ["备用1"],
               "units": {"tc": "mg/dL"}}
    assert hz.place_header("高压", mapping) == ("dbp", None)
    assert hz.place_header("血糖值", mapping) == ("fpg", "mg/dL")
    assert hz.place_header("备用1", mapping) == ("ignore", None)
    assert hz.place_header("总胆固醇", mapping) == ("tc", "mg/dL")
    columns, unplaced = hz.place_headers(["警号", "收缩压", "SBP", "尿比重", ""])
    assert [c.field for c in columns] == ["badge", "sbp"] and unplaced == ["SBP", "尿比重"]


@pytest.mark.parametrize("raw, value, note", [
    ("5.6", 5.6, None), (6, 6.0, None), ("６.２", 6.2, None), (None, None, None), ("", None, None),
    ("未查", None, "not done"), ("弃查", None, "not done"), ("未做", None, "not done"), ("-", None, "not done"),
    ("> 6.22", 6.22, "'> 6.22' taken as its limit 6.22"), ("<0.5", 0.5, "'<0.5' taken as its limit 0.5"),
    ("7.75轻度乳糜", 7.75, "remark '轻度乳糜' dropped from '7.75轻度乳糜'"),
    ("5.6↑", 5.6, "high/low flag dropped from '5.6↑'"),
])
def test_ing203_values_cleaned(raw, value, note):
    assert hz.clean_value(raw) == hz.Clean(value, note)


@pytest.mark.parametrize("raw, reason", [
    ("2.2.8", "'2.2.8' has more than one decimal point"), ("+", "'+' is a qualitative result, not a number"),
    ("阳性", "'阳性' is a qualitative result, not a number"), ("abc", "'abc' is not a number"),
    (float("nan"), "nan is not a number"),
])
def test_ing204_uncertain_values_refused(raw, reason):
    with pytest.raises(hz.Rejected) as exc:
        hz.clean_value(raw)
    assert str(exc.value) == reason


def test_ing205_units_converted_and_limits():
    assert hz.to_canonical("fpg", 99, "mg/dL") == 5.5
    assert hz.to_canonical("tc", 201, "mg/dl") == 5.2
    assert hz.to_canonical("tg", 150, "mg/dL") == 1.69
    assert hz.to_canonical("ua", 7.0, "mg/dL") == 416.4
    assert hz.to_canonical("cr", 1.0, "mg/dL") == 88.4
    assert hz.to_canonical("ua", 0.43, "mmol/L") == 430.0
    assert hz.to_canonical("sbp", 120, "mm[Hg]") == 120
    assert hz.to_canonical("ua", 430, "umol/L") == 430
    with pytest.raises(hz.Rejected, match="1200 mmHg is impossible for sbp"):
        hz.to_canonical("sbp", 1200, "mmHg")
    with pytest.raises(hz.Rejected, match="-5 kg is impossible for weight_kg"):
        hz.to_canonical("weight_kg", -5, None)
    with pytest.raises(hz.Rejected, match="unit 'g/L' cannot be converted to mmol/L for fpg"):
        hz.to_canonical("fpg", 1, "g/L")


def test_ing206_units_judged_by_range():
    assert hz.judge_unit("fpg", [90, 100, 110]) == (
        "mg/dL", "fpg: no unit given; judged mg/dL from the values' range (median 100)")
    assert hz.judge_unit("tc", [4.5, 5.1, 6.0]) == ("mmol/L", None)
    assert hz.judge_unit("ua", [6.5, 7.2]) == ("mg/dL", "ua: no unit given; judged mg/dL from the values' range (median 6.85)")
    assert hz.judge_unit("fpg", [5.0, 100, 6.0, 99]) == (None, "fpg: no unit given and the values mix units")
    assert hz.judge_value_unit("fpg", 126) == "mg/dL"
    with pytest.raises(hz.Rejected, match="27 fits no known unit of tg"):
        hz.judge_value_unit("tg", 27)


@pytest.mark.parametrize("raw, day", [
    ("2024-05-10", dt.date(2024, 5, 10)), ("2024/5/10", dt.date(2024, 5, 10)), ("20240510", dt.date(2024, 5, 10)),
    ("2024年5月10日", dt.date(2024, 5, 10)), ("2024.5.10", dt.date(2024, 5, 10)), (45422, dt.date(2024, 5, 10)),
    ("45422", dt.date(2024, 5, 10)), (45422.0, dt.date(2024, 5, 10)), ("20240510083000", dt.date(2024, 5, 10)),
    ("2024-05-10T08:30:00+08:00", dt.date(2024, 5, 10)), ("2024-05-10 08:30", dt.date(2024, 5, 10)),
    (dt.datetime(2024, 5, 10, 9), dt.date(2024, 5, 10)), (20240510, dt.date(2024, 5, 10)),
])
def test_ing207_dates(raw, day):
    assert hz.parse_date(raw) == day


@pytest.mark.parametrize("raw, reason", [
    ("2024-02-30", "'2024-02-30' is not a real date"), ("2024-09-3l", "'2024-09-3l' is not a date in a known form"),
    ("10/05/2024", "'10/05/2024' is not a date in a known form"), ("", "no date"), ("2999-01-01", "is outside"),
])
def test_ing208_bad_dates(raw, reason):
    with pytest.raises(hz.Rejected, match=reason):
        hz.parse_date(raw)


@pytest.mark.parametrize("text, codes", [
    ("窦性心律，心房颤动", ["af"]), ("快速型房颤", ["af"]), ("心房扑动", ["aflutter"]), ("阵发性室性心动过速", ["vt"]),
    ("三度房室传导阻滞", ["avb3"]), ("III度AVB", ["avb3"]), ("完全性房室传导阻滞", ["avb3"]), ("II度I型房室传导阻滞", ["avb2"]),
    ("一度房室传导阻滞", ["avb1"]), ("急性下壁ST段抬高", ["stemi"]), ("QTc 520ms", ["qtc_gt500"]), ("QTc 480ms", []),
    ("窦性心动过速", ["sinus_tachy"]), ("未见房颤", []), ("正常心电图", []), ("Atrial fibrillation", ["af"]),
    ("窦性心律；ST-T改变；左心室高电压", ["st_t", "lvh"]), ("完全性右束支传导阻滞", ["rbbb"]),
])
def test_ing209_ecg_keywords(text, codes):
    assert hz.ecg_findings(text) == codes


def test_ing210_ultrasound_keywords():
    assert hz.ultrasound_findings("轻度脂肪肝，胆囊息肉，未见肾结石") == ["fatty_liver", "gallbladder_polyp"]
    assert hz.ultrasound_findings("甲状腺右叶低回声结节") == ["thyroid_nodule"]
    assert hz.ultrasound_findings("肝胆胰脾未见异常") == []
    assert hz.findings_for("心房颤动", "脂肪肝") == ["af", "fatty_liver"]


def test_ing211_critical_codes_are_the_warning_codes():
    from models.warning import CRITICAL_ECG_FINDINGS

    coded = {c for c, _ in hz.ECG_KEYWORDS} | {"qtc_gt500"}
    assert CRITICAL_ECG_FINDINGS <= coded
