"""Harmonisation of hospital exports: headers, units, values, dates, coded findings.

Pure functions, no database. The loaders in ``ingest.hospital`` call them for
every cell; the rules are the ones issue 4 lists:

* headers: the usual Chinese and English names of each field, with units and
  brackets tolerated ("收缩压(mmHg)", "TC[mg/dL]"); a per-hospital mapping
  overrides or adds (``{"columns": {"header": "code" | {"field", "unit"}},
  "units": {"code": "mg/dL"}, "ignore": ["header", ...]}``);
* units: mg/dL to mmol/L (glucose ÷18, cholesterol ÷38.67, TG ÷88.57) and to
  µmol/L (uric acid ×59.48, creatinine ×88.4) through ``models.clinical.convert``;
  a column without a unit is judged from the range of its values;
* values: "未查", "弃查", "未做", "-" are not done (no value, not zero);
  "> 6.22", "<0.5", "7.75轻度乳糜" are cleaned, "2.2.8" and "+" are not certain;
  values outside the item's plausible range (``models.items``) are refused with the reason;
* dates: 2024-05-10, 2024/5/10, 2024.5.10, 20240510, 2024年5月10日, Excel
  serial numbers, datetimes and HL7 timestamps;
* ECG and ultrasound conclusions are coded into findings by a keyword table
  (the critical ECG codes of ``models.warning`` plus common non-critical ones).
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
import statistics
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

from models.clinical import CANONICAL_UNITS, convert
from models.items import COMBINED, plausible_range

# --- fields -------------------------------------------------------------------------
IDENTITY_FIELDS = ("id_number", "badge", "name", "sex", "birth_date", "exam_date", "external_id", "unit_code")
TEXT_FIELDS = ("ecg_text", "ultrasound_text", "summary_text", "chest_text", "fundus_text", "hearing_text")
COMBINED_FIELDS = tuple(COMBINED)  # one column, two items: "bp" -> SBP and DBP
LONG_FIELDS = ("item", "value", "unit", "reference")  # long form: one row per item
IGNORED = "ignore"
MEASURES = tuple(CANONICAL_UNITS)

# field -> names seen in hospital exports (compared after ``norm_header``)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码", "身份证", "证件号", "证件号码", "公民身份号码", "idnumber", "idno", "idcard",
                  "nationalid", "citizenid", "sfzh"),
    "badge": ("警号", "警员编号", "警员号", "badge", "badgeno", "badgenumber", "policeno", "jh"),
    "name": ("姓名", "名字", "受检者", "体检人", "name", "patientname", "fullname", "xm"),
    "sex": ("性别", "sex", "gender", "xb"),
    "birth_date": ("出生日期", "出生年月", "生日", "birthdate", "dateofbirth", "dob", "birthday"),
    "exam_date": ("体检日期", "检查日期", "体检时间", "检查时间", "报告日期", "登记日期", "examdate", "checkdate", "date",
                  "visitdate", "examtime", "tjrq"),
    "external_id": ("体检编号", "体检号", "体检流水号", "条码号", "报告编号", "examno", "examid", "reportno", "barcode",
                    "visitid", "orderno"),
    "unit_code": ("单位代码", "单位编码", "unitcode", "deptcode"),
    "height_cm": ("身高", "height", "ht", "sg"),
    "weight_kg": ("体重", "weight", "wt", "tz"),
    "bmi": ("体重指数", "bmi", "体质指数", "体质量指数"),
    "waist_cm": ("腰围", "waist", "waistcircumference", "yw"),
    "body_fat_pct": ("体脂率", "体脂百分比", "体脂", "bodyfat", "bodyfatpct", "fatpct"),
    "visceral_fat": ("内脏脂肪", "内脏脂肪等级", "visceralfat", "vfl"),
    "sbp": ("收缩压", "高压", "血压收缩压", "sbp", "systolic", "systolicbp", "ssy"),
    "dbp": ("舒张压", "低压", "血压舒张压", "dbp", "diastolic", "diastolicbp", "szy"),
    "pulse": ("脉搏", "心率", "pulse", "heartrate", "hr"),
    "spo2": ("血氧", "血氧饱和度", "spo2", "oxygensaturation"),
    "fpg": ("空腹血糖", "血糖", "葡萄糖", "空腹葡萄糖", "空腹血浆葡萄糖", "glu", "fpg", "fbg", "glucose", "fastingglucose",
            "fastingbloodglucose", "glu0"),
    "ogtt2h": ("餐后2小时血糖", "餐后两小时血糖", "糖耐量2小时", "ogtt2h", "2hpg", "2hpbg", "pbg2h", "glu2h"),
    "hba1c": ("糖化血红蛋白", "糖化血红蛋白a1c", "hba1c", "ghb", "a1c", "glycatedhemoglobin"),
    "tc": ("总胆固醇", "胆固醇", "血清总胆固醇", "tc", "tcho", "chol", "cholesterol", "totalcholesterol"),
    "tg": ("甘油三酯", "三酰甘油", "甘油三脂", "tg", "triglyceride", "triglycerides", "trig"),
    "hdl": ("高密度脂蛋白", "高密度脂蛋白胆固醇", "hdl", "hdlc", "hdlcholesterol", "hdlch"),
    "ldl": ("低密度脂蛋白", "低密度脂蛋白胆固醇", "ldl", "ldlc", "ldlcholesterol", "ldlch"),
    "ua": ("尿酸", "血尿酸", "血清尿酸", "ua", "uricacid", "uric"),
    "cr": ("肌酐", "血肌酐", "血清肌酐", "cr", "crea", "creatinine", "scr", "cre"),
    "alt": ("谷丙转氨酶", "丙氨酸氨基转移酶", "丙氨酸转氨酶", "alt", "gpt", "sgpt"),
    "ast": ("谷草转氨酶", "天门冬氨酸氨基转移酶", "天冬氨酸氨基转移酶", "ast", "got", "sgot"),
    "phq9": ("phq9", "phq9总分", "抑郁量表", "抑郁筛查"),
    "phq9_item9": ("phq9第9题", "phq9item9"),
    "gad7": ("gad7", "gad7总分", "焦虑量表", "焦虑筛查"),
    "steps": ("步数", "steps"),
    "bp": ("血压", "bp", "bloodpressure", "血压值", "血压测量"),
    "hb": ("血红蛋白", "血红蛋白浓度", "血红蛋白测定", "血色素", "hb", "hgb", "hemoglobin", "haemoglobin"),
    "wbc": ("白细胞", "白细胞计数", "白细胞数", "白细胞总数", "wbc", "whitebloodcell", "whitebloodcells", "leukocytes"),
    "plt": ("血小板", "血小板计数", "血小板数", "plt", "platelet", "platelets", "platelet count"),
    "ggt": ("谷氨酰转肽酶", "γ谷氨酰转肽酶", "γ谷氨酰基转移酶", "谷氨酰基转移酶", "ggt", "γgt", "ggtp", "gammagt"),
    "urea": ("尿素", "血尿素", "血清尿素", "urea"),
    "egfr": ("估算肾小球滤过率", "肾小球滤过率", "估算的肾小球滤过率", "egfr", "egfrckdepi"),
    "urine_protein": ("尿蛋白", "尿蛋白定性", "尿液蛋白", "尿蛋白质", "urineprotein", "upro", "尿pro"),
    "hbsag": ("乙肝表面抗原", "乙型肝炎表面抗原", "乙肝表面抗原定性", "hbsag", "乙肝表面抗原hbsag"),
    "tsh": ("促甲状腺激素", "促甲状腺素", "超敏促甲状腺激素", "tsh", "stsh", "thyrotropin"),
    "chest_text": ("胸片", "胸部x线", "胸部dr", "胸部正位片", "胸部ct", "肺部ct", "胸部ct结论", "胸片结论", "低剂量螺旋ct",
                   "chestxray", "chestct", "cxr"),
    "fundus_text": ("眼底", "眼底检查", "眼底照相", "眼底镜检查", "fundus", "fundoscopy"),
    "hearing_text": ("听力", "电测听", "纯音测听", "听力检查", "听力测试", "hearing", "audiometry"),
    "ecg_text": ("心电图", "心电图结论", "心电图检查", "心电图所见", "ecg", "ekg", "ecgconclusion", "electrocardiogram", "xdt"),
    "ultrasound_text": ("b超", "彩超", "腹部b超", "腹部彩超", "超声", "超声检查", "b超结论", "彩超结论", "ultrasound",
                        "usg", "sonography"),
    "summary_text": ("总检结论", "总检", "体检结论", "总检意见", "结论", "summary", "conclusion", "finalconclusion", "zjjl"),
    "item": ("项目", "项目名称", "检查项目", "检验项目", "指标", "指标名称", "item", "itemname", "test", "testname", "analyte",
             "xmmc"),
    "value": ("结果", "检查结果", "检验结果", "结果值", "数值", "result", "value", "resultvalue"),
    "unit": ("单位", "unit", "units"),
    "reference": ("参考范围", "参考值", "参考区间", "reference", "referencerange", "refrange", "range"),
    IGNORED: ("序号", "no", "seq", "编号", "行号", "备注", "remark", "remarks", "年龄", "age", "科室", "套餐", "体检套餐",
              "工作单位", "所属单位", "部门", "电话", "联系电话", "手机", "phone", "mobile"),
}

# Columns whose unit may be absent and must be judged: code -> [(unit, low, high)] plausible raw ranges,
# the canonical unit first. A value inside exactly one range decides the unit.
UNIT_RANGES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "fpg": (("mmol/L", 1.0, 35.0), ("mg/dL", 40.0, 630.0)),
    "ogtt2h": (("mmol/L", 1.0, 45.0), ("mg/dL", 50.0, 810.0)),
    "tc": (("mmol/L", 1.0, 20.0), ("mg/dL", 40.0, 775.0)),
    "ldl": (("mmol/L", 0.1, 15.0), ("mg/dL", 20.0, 580.0)),
    "hdl": (("mmol/L", 0.1, 5.0), ("mg/dL", 8.0, 195.0)),
    "tg": (("mmol/L", 0.1, 25.0), ("mg/dL", 30.0, 4000.0)),
    "ua": (("µmol/L", 60.0, 1500.0), ("mg/dL", 1.0, 25.0), ("mmol/L", 0.06, 0.99)),
    "cr": (("µmol/L", 20.0, 2000.0), ("mg/dL", 0.2, 14.0)),
    "hb": (("g/L", 30.0, 250.0), ("g/dL", 3.0, 25.0)),
}

# decimals kept after a conversion (lab precision)
_DECIMALS = {"mmol/L": 2, "µmol/L": 1, "g/L": 0}

NOT_DONE = {"未查", "弃查", "未做", "未检", "未测", "拒查", "放弃", "缺项", "未检查", "-", "--", "—", "——", "/", "*", "nd",
            "n/a", "na", "notdone", "not done", "null", "none", "无"}

_UNIT_TOKENS = ("mmol/l", "umol/l", "µmol/l", "μmol/l", "mg/dl", "g/l", "g/dl", "mmhg", "kg/m2", "kg/m²", "cm", "kg",
                "u/l", "iu/l", "%", "bpm", "次/分", "次/min", "ms", "10^9/l", "×10^9/l", "x10^9/l", "miu/l", "uiu/ml",
                "µiu/ml", "ml/min/1.73m2", "ml/min/1.73m²")
_BRACKETS = re.compile(r"[\(\[（【{<]([^\)\]）】}>]*)[\)\]）】}>]")
_STRIP = re.compile(r"[\s_\-.·:：/\\'\"*#]+")


def nfkc(text: Any) -> str:
    """Full-width digits, letters and brackets made half-width; None -> ''."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", str(text)).strip()


def norm_header(text: Any) -> tuple[str, str | None]:
    """(key, unit) of a header: brackets and a trailing unit removed, case and punctuation folded."""
    s = nfkc(text).replace("\ufeff", "")
    unit = None
    for m in _BRACKETS.finditer(s):
        inner = m.group(1).strip()
        if inner and _looks_like_unit(inner):
            unit = inner
    s = _BRACKETS.sub("", s)
    low = s.lower().strip()
    for token in sorted(_UNIT_TOKENS, key=len, reverse=True):
        if low.endswith(token) and len(low) > len(token) and not _looks_like_unit(low):
            unit = unit or s[len(s) - len(token):].strip()
            low = low[: -len(token)]
            break
    return _STRIP.sub("", low), unit


def _looks_like_unit(text: str) -> bool:
    t = text.lower().replace(" ", "").replace("μ", "µ")
    return t in {u.replace("μ", "µ") for u in _UNIT_TOKENS} or t in ("umol/l", "µmol/l", "mmol/l", "mg/dl", "iu/l")


_SYN_INDEX: dict[str, str] = {}
for _field, _names in SYNONYMS.items():
    for _n in _names:
        _SYN_INDEX.setdefault(_STRIP.sub("", _n.lower()), _field)


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    field: str            # canonical code, identity/text/long field, or "ignore"
    unit: str | None      # unit declared by the header or the mapping


def place_header(header: Any, mapping: dict | None = None) -> tuple[str | None, str | None]:
    """(field, unit) for one header; field None when the loader cannot place it."""
    raw = nfkc(header).replace("\ufeff", "")
    key, unit = norm_header(raw)
    mapping = mapping or {}
    columns = mapping.get("columns") or {}
    for name in (raw, key):
        if name in columns:
            target = columns[name]
            if isinstance(target, dict):
                return target.get("field"), target.get("unit") or unit
            return target, unit
    normalised_cols = {norm_header(k)[0]: v for k, v in columns.items()}
    if key in normalised_cols:
        target = normalised_cols[key]
        if isinstance(target, dict):
            return target.get("field"), target.get("unit") or unit
        return target, unit
    if raw in (mapping.get("ignore") or ()) or key in {norm_header(x)[0] for x in mapping.get("ignore") or ()}:
        return IGNORED, None
    field = _SYN_INDEX.get(key)
    if field is None and re.search(r"[/|、]", raw):
        # "谷丙转氨酶/ALT": every part that is a known name must name the same field
        parts = {_SYN_INDEX.get(norm_header(p)[0]) for p in re.split(r"[/|、]", _BRACKETS.sub("", raw)) if p.strip()}
        parts.discard(None)
        if len(parts) == 1:
            field = parts.pop()
    if field and field in CANONICAL_UNITS:
        unit = unit or (mapping.get("units") or {}).get(field)
    return field, unit


def place_headers(headers: Iterable[Any], mapping: dict | None = None) -> tuple[list[Column], list[str]]:
    """Columns the loader places (first of each field wins) and the headers it cannot place."""
    placed: list[Column] = []
    unplaced: list[str] = []
    seen: set[str] = set()
    for i, h in enumerate(headers):
        text = nfkc(h).replace("\ufeff", "")
        if not text:
            continue
        field, unit = place_header(text, mapping)
        if field is None or (field != IGNORED and field in seen):
            unplaced.append(text)
            continue
        if field != IGNORED:
            seen.add(field)
        placed.append(Column(i, text, field, unit))
    return placed, unplaced


def item_field(name: Any, mapping: dict | None = None) -> tuple[str | None, str | None]:
    """Canonical field of a long-form item name or a message's local code text (mapping ``items`` first);
    IGNORED for an item the mapping (or the synonym table) says to skip, None when unknown."""
    mapping = mapping or {}
    items = mapping.get("items") or {}
    raw = nfkc(name)
    key, unit = norm_header(raw)
    for k in (raw, key):
        if k in items:
            t = items[k]
            return (t.get("field"), t.get("unit") or unit) if isinstance(t, dict) else (t, unit)
    field, unit2 = place_header(raw, {k: v for k, v in mapping.items() if k != "ignore"})
    if field in IDENTITY_FIELDS or field in LONG_FIELDS:
        return None, None
    if field == IGNORED:
        return IGNORED, None
    return field, unit2


# --- values --------------------------------------------------------------------------
class Rejected(ValueError):
    """A value that cannot be accepted; ``str()`` is the reason shown to the admin."""


@dataclass(frozen=True)
class Clean:
    value: float | None          # None: not done / empty
    note: str | None = None      # what cleaning did (kept in the summary)


_NUM = r"[-+]?\d+(?:\.\d+)?"
_CENSORED = re.compile(rf"^(>=|<=|≥|≤|>|<)\s*({_NUM})$")
_ANNOTATED = re.compile(rf"^({_NUM})\s*([\u4e00-\u9fff（(][^\d]*)$")
_FLAGGED = re.compile(rf"^({_NUM})\s*(?:[↑↓HLhl]|\(?[HL]\)?)$")


def clean_value(raw: Any) -> Clean:
    """A number from a cell, None for not done, or Rejected with the reason."""
    if raw is None:
        return Clean(None)
    if isinstance(raw, bool):
        raise Rejected(f"{raw!r} is not a number")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise Rejected(f"{raw!r} is not a number")
        return Clean(float(raw))
    text = str(raw).strip()
    if not text:
        return Clean(None)
    try:
        return Clean(float(text))  # the fast path: a plain number
    except ValueError:
        pass
    s = nfkc(text).replace("，", ",").strip()
    if s.lower() in NOT_DONE:
        return Clean(None, "not done")
    try:
        return Clean(float(s))
    except ValueError:
        pass
    m = _CENSORED.match(s)
    if m:
        return Clean(float(m.group(2)), f"'{text}' taken as its limit {m.group(2)}")
    m = _FLAGGED.match(s)
    if m:
        return Clean(float(m.group(1)), f"high/low flag dropped from '{text}'")
    m = _ANNOTATED.match(s)
    if m:
        return Clean(float(m.group(1)), f"remark '{m.group(2).strip()}' dropped from '{text}'")
    if re.fullmatch(r"\d+(\.\d+){2,}", s):
        raise Rejected(f"'{text}' has more than one decimal point")
    if re.fullmatch(r"[+\-±]+|阳性|阴性|弱阳性|positive|negative", s, re.I):
        raise Rejected(f"'{text}' is a qualitative result, not a number")
    raise Rejected(f"'{text}' is not a number")


_BP = re.compile(r"^(\d{2,3}(?:\.\d+)?)\s*/\s*(\d{2,3}(?:\.\d+)?)$")


def split_combined(code: str, raw: Any) -> tuple[tuple[str, float], ...] | None:
    """The items of one combined cell: blood pressure "150/96", "150/96mmHg", "150／96" ->
    (("sbp", 150.0), ("dbp", 96.0)); None when not done; Rejected with the reason otherwise."""
    text = nfkc(raw).lower().replace(" ", "")
    if not text or text in NOT_DONE:
        return None
    text = re.sub(r"\(?(?:mmhg|毫米汞柱)\)?$", "", text)
    m = _BP.match(text)
    if not m:
        raise Rejected(f"'{raw}' is not a blood pressure written as systolic/diastolic (such as 150/96)")
    return tuple(zip(COMBINED[code], (float(m.group(1)), float(m.group(2)))))


_NEGATIVE = re.compile(r"阴性|negative|\bneg\b|^\(?[-−－]\)?$|^\(?-\)?$", re.I)
_TRACE = re.compile(r"微量|trace|±|\+/?-|弱阳性", re.I)
_POSITIVE = re.compile(r"阳性|positive|\bpos\b", re.I)
_PLUSES = re.compile(r"^\(?(?:(\+{1,4})|([1-4])\+)\)?$")
# (unit, cut-off) of quantitative HBsAg results: at or above the cut-off is positive
_HBSAG_CUTOFFS = {"iu/ml": 0.05, "coi": 1.0, "s/co": 1.0, "index": 1.0}


def clean_qualitative(code: str, raw: Any, unit: str | None = None) -> Clean:
    """Urine protein (0 negative, 0.5 trace, 1–4 for 1+..4+) or HBsAg (0 negative, 1 positive)
    from the words, signs or numbers a hospital writes; Rejected with the reason otherwise."""
    text = nfkc(raw).replace("（", "(").replace("）", ")").replace(" ", "")
    if not text or text.lower() in NOT_DONE - {"-", "--", "—", "——"}:
        return Clean(None, "not done" if text else None)
    if code == "urine_protein":
        m = _PLUSES.match(text)
        if m:
            return Clean(float(len(m.group(1)) if m.group(1) else int(m.group(2))))
        if _TRACE.search(text):
            return Clean(0.5)
        if _NEGATIVE.search(text):
            return Clean(0.0)
        if _POSITIVE.search(text):
            return Clean(1.0, f"'{raw}' taken as 1+")
        try:
            grade = float(text)
        except ValueError:
            raise Rejected(f"'{raw}' is not a urine protein result (阴性, ±, 1+ … 4+)") from None
        if grade in (0, 0.5, 1, 2, 3, 4):
            return Clean(grade)
        raise Rejected(f"'{raw}' is a quantity, not a dipstick grade (阴性, ±, 1+ … 4+)")
    if _NEGATIVE.search(text) and not _POSITIVE.search(text.replace("阴性", "")):
        return Clean(0.0)
    if _POSITIVE.search(text) or _PLUSES.match(text):
        return Clean(1.0)
    try:
        number = float(re.sub(r"[^\d.]", "", text) or "x")
    except ValueError:
        raise Rejected(f"'{raw}' is not an HBsAg result (阴性/阳性)") from None
    cutoff = _HBSAG_CUTOFFS.get((unit or "").lower().replace(" ", ""))
    if cutoff is None:
        raise Rejected(f"HBsAg {raw} without a unit (IU/mL or COI) cannot be read as negative or positive")
    return Clean(1.0 if number >= cutoff else 0.0, f"HBsAg {raw} {unit} read against the cut-off {cutoff:g}")


def check_limits(code: str, value: float) -> None:
    """Rejected when the value is outside the item's plausible range (``models.items``)."""
    low, high = plausible_range(code)
    if not low <= value <= high:
        unit = CANONICAL_UNITS.get(code, "")
        raise Rejected(f"{_fmt(value)} {unit} is impossible for {code} (allowed {_fmt(low)}–{_fmt(high)})")


def _fmt(x: float) -> str:
    return f"{x:g}"


@functools.lru_cache(maxsize=4096)
def _factor(code: str, unit: str) -> float | None:
    """Multiplier from ``unit`` to the canonical unit of ``code`` (1.0 for the canonical unit), None if unknown."""
    try:
        return convert(code, 1.0, ucum(unit))
    except ValueError:
        return None


def to_canonical(code: str, value: float, unit: str | None) -> float:
    """Convert from a declared unit (None: already canonical) and check the limits."""
    if unit:
        factor = _factor(code, unit)
        if factor is None:
            raise Rejected(f"unit '{unit}' cannot be converted to {CANONICAL_UNITS[code]} for {code}")
        if factor != 1.0:
            value = round(value * factor, _DECIMALS.get(CANONICAL_UNITS[code], 3))
    check_limits(code, value)
    return value


_UCUM = {"mm[hg]": "mmHg", "mmhg": "mmHg", "[iu]/l": "U/L", "iu/l": "U/L", "u/l": "U/L", "/min": "bpm",
         "{beats}/min": "bpm", "1/min": "bpm", "kg/m2": "kg/m2", "kg/m^2": "kg/m2", "{score}": "score",
         "umol/l": "µmol/L", "mmol/l": "mmol/L", "mg/dl": "mg/dL", "次/分": "bpm", "次/min": "bpm",
         "beats/min": "bpm", "毫米汞柱": "mmHg", "mm": "mmHg"}


@functools.lru_cache(maxsize=1024)
def ucum(unit: str) -> str:
    """A unit as the portal spells it (UCUM "mm[Hg]", "[iU]/L", "umol/L" and Chinese forms folded)."""
    u = nfkc(unit).replace("μ", "µ").strip()
    key = u.lower().replace(" ", "").replace("µ", "u")
    return _UCUM.get(key, u)


def judge_unit(code: str, values: Iterable[float]) -> tuple[str | None, str | None]:
    """(unit, note) for a column without a declared unit, judged from its values' range.

    The unit whose plausible range holds most of the values wins; None with a reason when
    the values do not decide (then each value is judged alone)."""
    ranges = UNIT_RANGES.get(code)
    if not ranges:
        return CANONICAL_UNITS.get(code), None
    vals = [v for v in values if v is not None]
    if not vals:
        return ranges[0][0], None
    votes = {unit: sum(1 for v in vals if lo <= v <= hi and _only_in(code, v, unit)) for unit, lo, hi in ranges}
    best = max(votes, key=votes.get)
    if votes[best] == 0:
        return None, f"{code}: no unit given and the values fit no known unit"
    if votes[best] < 0.8 * len(vals):
        return None, f"{code}: no unit given and the values mix units"
    note = None
    if best != ranges[0][0]:
        med = statistics.median(vals)
        note = f"{code}: no unit given; judged {best} from the values' range (median {med:g})"
    return best, note


def _only_in(code: str, v: float, unit: str) -> bool:
    return all(not (lo <= v <= hi) for u, lo, hi in UNIT_RANGES[code] if u != unit)


def judge_value_unit(code: str, value: float) -> str:
    """The unit of one value without a declared unit; Rejected when its range is ambiguous."""
    ranges = UNIT_RANGES.get(code)
    if not ranges:
        return CANONICAL_UNITS[code]
    fits = [u for u, lo, hi in ranges if lo <= value <= hi]
    if len(fits) == 1:
        return fits[0]
    if not fits:
        raise Rejected(f"{value:g} fits no known unit of {code}")
    raise Rejected(f"{value:g} is ambiguous for {code} (could be {' or '.join(fits)}); set the unit in the mapping")


# --- dates ---------------------------------------------------------------------------
EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?(?:\s*\d{1,2}[:时]\d{2}.*)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{2,6}(?:\.\d+)?)?(?:[+-]\d{4})?$"),
)


def parse_date(raw: Any, *, earliest: dt.date = dt.date(1900, 1, 1), latest: dt.date | None = None) -> dt.date:
    """A date from any of the common forms; Rejected with the reason otherwise."""
    latest = latest or dt.date.today() + dt.timedelta(days=1)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise Rejected("no date")
    day: dt.date | None = None
    if isinstance(raw, dt.datetime):
        day = raw.date()
    elif isinstance(raw, dt.date):
        day = raw
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        day = _from_number(raw)
    else:
        s = nfkc(raw)
        if re.fullmatch(r"\d{5}(\.\d+)?", s):
            day = _from_number(float(s))
        else:
            for pattern in _DATE_PATTERNS:
                m = pattern.match(s)
                if m:
                    try:
                        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                    except ValueError:
                        raise Rejected(f"'{raw}' is not a real date") from None
                    break
            if day is None:
                raise Rejected(f"'{raw}' is not a date in a known form")
    if not earliest <= day <= latest:
        raise Rejected(f"{day.isoformat()} is outside {earliest.isoformat()}–{latest.isoformat()}")
    return day


def _from_number(x: float) -> dt.date:
    if 20000 <= x < 80000:  # Excel serial day (1954–2118)
        return EXCEL_EPOCH + dt.timedelta(days=int(x))
    if 19000101 <= x <= 21001231 and float(x).is_integer():
        s = str(int(x))
        try:
            return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
        except ValueError:
            raise Rejected(f"'{s}' is not a real date") from None
    raise Rejected(f"{x:g} is not a date")


SEX_WORDS = {"男": "male", "女": "female", "m": "male", "f": "female", "male": "male", "female": "female",
             "1": "male", "2": "female", "男性": "male", "女性": "female"}


def parse_sex(raw: Any) -> str | None:
    s = nfkc(raw).lower()
    if not s:
        return None
    if s in SEX_WORDS:
        return SEX_WORDS[s]
    raise Rejected(f"'{raw}' is not a sex (男/女, M/F)")


# --- findings --------------------------------------------------------------------------
# (code, regular expression) in order; a match preceded by a negation in the same clause is ignored.
ECG_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("aflutter", r"心房扑动|房扑|atrial\s*flutter"),
    ("af", r"心房颤动|心房纤颤|房颤|atrial\s*fibrillation|\baf\b"),
    ("vt", r"室性心动过速|室速|ventricular\s*tachycardia|\bvt\b"),
    ("avb3", r"(?:三|3|III|Ⅲ)度\s*(?:房室传导阻滞|房室阻滞|AVB)|完全性房室传导阻滞|complete\s*(?:heart|av)\s*block"
             r"|third[-\s]degree\s*(?:av|atrioventricular)?\s*block"),
    ("stemi", r"ST\s*段?\s*抬高|急性心肌梗死|急性心梗|STEMI|ST[-\s]*elevation"),
    ("avb2", r"(?<![I一1Ⅲ三])(?:二|2|II|Ⅱ)度\s*(?:[I1Ⅰ型]+|[I1Ⅱ]{2}型)?\s*(?:房室传导阻滞|房室阻滞|AVB)"),
    ("avb1", r"(?<![IⅡⅢ])(?:一|1|I|Ⅰ)度\s*(?:房室传导阻滞|房室阻滞|AVB)|first[-\s]degree\s*(?:av\s*)?block"),
    ("lbbb", r"完全性左束支传导阻滞|左束支传导阻滞|LBBB"),
    ("rbbb", r"右束支传导阻滞|RBBB"),
    ("sinus_tachy", r"窦性心动过速|sinus\s*tachycardia"),
    ("sinus_brady", r"窦性心动过缓|sinus\s*bradycardia"),
    ("pvc", r"室性早搏|室性期前收缩|室早|PVC"),
    ("pac", r"房性早搏|房性期前收缩|房早|PAC"),
    ("st_t", r"ST[-\s]*T\s*(?:段)?\s*改变|ST段压低|T波改变|T波倒置|ST[-\s]*T\s*change"),
    ("lvh", r"左心室高电压|左室高电压|左心室肥厚|左室肥厚|LVH"),
)
ULTRASOUND_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("fatty_liver", r"脂肪肝|肝脏?脂肪浸润|脂肪性肝|fatty\s*liver|hepatic\s*steatosis"),
    ("gallstone", r"胆囊结石|胆结石|gallstone|cholelithiasis"),
    ("gallbladder_polyp", r"胆囊息肉|胆囊隆起样病变|gallbladder\s*polyp"),
    ("kidney_stone", r"肾结石|肾脏结石|输尿管结石|kidney\s*stone|nephrolithiasis|renal\s*calculus"),
    ("liver_cyst", r"肝囊肿|hepatic\s*cyst|liver\s*cyst"),
    ("kidney_cyst", r"肾囊肿|renal\s*cyst|kidney\s*cyst"),
    ("thyroid_nodule", r"甲状腺结节|甲状腺.{0,6}结节|thyroid\s*nodule"),
    ("breast_nodule", r"乳腺结节|乳腺.{0,6}结节|breast\s*nodule"),
    ("prostate_enlarged", r"前列腺增生|前列腺肥大|prostat\w*\s*(?:hyperplasia|enlarge)"),
    ("splenomegaly", r"脾大|脾肿大|splenomegaly"),
)
_GAP = r"(?:(?!未见|未发现|未探及|无|排除)[^，,。；;]){0,%d}"  # a gap that does not step over a negation
ULTRASOUND_KEYWORDS += (
    ("fatty_liver_severe", r"(?:中度|重度|中重度|中-重度|中至重度)\s*脂肪(?:肝|性肝病)"
                           r"|(?:moderate|severe)\s*(?:fatty\s*liver|steatosis)"),
    ("liver_mass", r"肝" + _GAP % 6 + r"(?:占位|实性结节|实性团块|肿块|肿物)|(?:liver|hepatic)\s*(?:mass|tumou?r)"),
    ("kidney_mass", r"肾" + _GAP % 6 + r"(?:占位|实性结节|实性团块|肿块|肿物)|(?:renal|kidney)\s*(?:mass|tumou?r)"),
)
CHEST_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("pulmonary_nodule", r"肺" + _GAP % 10 + r"结节|磨玻璃(?:结节|密度|影)|(?:pulmonary|lung)\s*nodules?|ground[-\s]*glass"),
    ("lung_mass", r"肺" + _GAP % 8 + r"(?:占位|肿块|肿物)|lung\s*mass"),
    ("pleural_effusion", r"胸腔积液|pleural\s*effusion"),
)
FUNDUS_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("hypertensive_retinopathy", r"高血压性?视网膜病变|视网膜动脉硬化|眼底动脉硬化|hypertensive\s*retinopathy"),
    ("diabetic_retinopathy", r"糖尿病性?视网膜病变|diabetic\s*retinopathy"),
    ("fundus_haemorrhage", r"眼底出血|视网膜出血|retinal\s*ha?emorrhage"),
)
HEARING_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("hearing_loss", r"听力(?:下降|减退|损失|损伤|异常|障碍)|(?:感音神经性|传导性|混合性|噪声性)?耳?聋"
                     r"|hearing\s*(?:loss|impairment)"),
)
_NEGATION = re.compile(r"(未见|未发现|无明显|无|排除|否认|不支持|未提示|no\b|without|negative\s*for|ruled\s*out)", re.I)
_CLAUSE = re.compile(r"[，,。；;、\n\r]+")
_QTC = re.compile(r"QTc\D{0,12}?(\d{3})\s*(?:ms|毫秒)?", re.I)


_COMPILED: dict[str, re.Pattern] = {}


def code_findings(text: Any, table: tuple[tuple[str, str], ...]) -> list[str]:
    """Finding codes a conclusion text mentions (negated mentions skipped), in table order."""
    return list(_code_findings(nfkc(text), table))


@functools.lru_cache(maxsize=8192)
def _code_findings(s: str, table: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    if not s:
        return ()
    found: list[str] = []
    for clause in _CLAUSE.split(s):
        for code, pattern in table:
            compiled = _COMPILED.get(pattern) or _COMPILED.setdefault(pattern, re.compile(pattern, re.I))
            for m in compiled.finditer(clause):
                if _NEGATION.search(clause[: m.start()]):
                    continue
                if code not in found:
                    found.append(code)
                break
    order = [c for c, _ in table]
    return tuple(sorted(found, key=order.index))


def ecg_findings(text: Any) -> list[str]:
    return list(_ecg_findings(nfkc(text)))


@functools.lru_cache(maxsize=8192)
def _ecg_findings(text: str) -> tuple[str, ...]:
    found = list(_code_findings(text, ECG_KEYWORDS))
    if "aflutter" in found and "af" in found and not re.search(r"心房颤动|房颤|atrial\s*fibrillation", text, re.I):
        found.remove("af")
    for clause in _CLAUSE.split(text):
        m = _QTC.search(clause)
        if m and int(m.group(1)) > 500 and not _NEGATION.search(clause[: m.start()]):
            found.append("qtc_gt500")
            break
    return tuple(found)


def ultrasound_findings(text: Any) -> list[str]:
    return code_findings(text, ULTRASOUND_KEYWORDS)


def findings_for(ecg: str | None, ultrasound: str | None, chest: str | None = None, fundus: str | None = None,
                 hearing: str | None = None) -> list[str]:
    """Coded findings of an exam's conclusions (each test's codes: ``models.items.FINDING_TEST``)."""
    return (ecg_findings(ecg) + ultrasound_findings(ultrasound) + code_findings(chest, CHEST_KEYWORDS)
            + code_findings(fundus, FUNDUS_KEYWORDS) + code_findings(hearing, HEARING_KEYWORDS))


def exam_findings(texts: dict[str, str | None]) -> list[str]:
    """``findings_for`` over an exam's texts keyed by column (ecg_text, ultrasound_text, …)."""
    return findings_for(texts.get("ecg_text"), texts.get("ultrasound_text"), texts.get("chest_text"),
                        texts.get("fundus_text"), texts.get("hearing_text"))
