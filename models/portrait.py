"""Read queries behind the individual health portrait (/me, /officers/<badge>, the A4 report).

Each function answers for one officer id that the caller has already cleared
with ``web.access.officer_in_scope``. What a leader may see is cut here,
not in the layout: ``header(..., lab_values=False)`` carries no measured
values, no China-PAR numbers and no questionnaire results, and the other
functions are never called for a leader.

Indicator classes come from models.clinical (guideline cut points); the tones
("normal", "borderline", "abnormal", "severe") colour a value, they are not
the four-colour warning level.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import clinical, risk_factors, rule_versions, vocab
from models import psych as psych_model
from models.campaigns.reads import officer_campaigns
from models.source_words import english_names, english_reason, english_source
from models import trends as trend_stats
from models.officers import age_on
from models.risk import china_par_category, china_par_ideal, round1
from models.schema import Exam, FollowUp, Hospital, Observation, Officer, OfficerStatus, Unit, User, WarningHistory
from models.snapshot import source_label, source_names
from models.warning import HBA1C_DIABETES, load_rules

TONES = ("normal", "borderline", "abnormal", "severe")
PSYCH_CODES = psych_model.PSYCH_CODES
EXAM_LIKE = ("exam", "screening", "self-report")  # sources an OLS trend and "change since" are taken over
# a questionnaire the officer answered in the portal is drawn with the screenings
SERIES_KIND = {"self-report": "screening"}
DENSE_KINDS = ("kiosk", "self")        # sources a LOWESS curve is drawn through


# --- indicators --------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    code: str
    zh: str
    en: str
    unit: str
    decimals: int
    harmful: str | None                    # "up" / "down": the direction that is bad for health
    psych: bool = False
    # ascending cut points and the (class, tone) below each; the last pair has no bound
    bands: tuple[tuple[float | None, str, str], ...] = ()
    female_bands: tuple[tuple[float | None, str, str], ...] | None = None
    strict_upper: bool = False             # class changes only *above* the cut point (uric acid, ALT)

    def bands_for(self, sex: str) -> tuple[tuple[float | None, str, str], ...]:
        return self.female_bands if sex == "female" and self.female_bands else self.bands

    def classify(self, value: float | None, sex: str) -> tuple[str | None, str | None]:
        """(class key, tone) of one value, or (None, None) without a guideline class."""
        if value is None or not self.bands:
            return None, None
        for bound, cls, tone in self.bands_for(sex):
            if bound is None or (value <= bound if self.strict_upper else value < bound):
                return cls, tone
        raise AssertionError("bands end with an open class")


def _alt_threshold() -> float:
    check = load_rules().rule("alt_raised")["checks"][0]
    return float(check["threshold"])


def _build_indicators() -> tuple[Indicator, ...]:
    W = clinical.WAIST_BOUNDS
    return (
        Indicator("sbp", "收缩压", "Systolic BP", "mmHg", 0, "up",
                  bands=((120, "normal", "normal"), (140, "high_normal", "borderline"), (160, "grade1", "abnormal"),
                         (180, "grade2", "severe"), (None, "grade3", "severe"))),
        Indicator("dbp", "舒张压", "Diastolic BP", "mmHg", 0, "up",
                  bands=((80, "normal", "normal"), (90, "high_normal", "borderline"), (100, "grade1", "abnormal"),
                         (110, "grade2", "severe"), (None, "grade3", "severe"))),
        Indicator("bmi", "体重指数", "BMI", "kg/m²", 1, "up",
                  bands=((18.5, "underweight", "borderline"), (24, "normal", "normal"),
                         (28, "overweight", "borderline"), (None, "obese", "abnormal"))),
        Indicator("waist_cm", "腰围", "Waist", "cm", 0, "up",
                  bands=((W["male"][0], "normal", "normal"), (W["male"][1], "pre_central_obesity", "borderline"),
                         (None, "central_obesity", "abnormal")),
                  female_bands=((W["female"][0], "normal", "normal"),
                                (W["female"][1], "pre_central_obesity", "borderline"),
                                (None, "central_obesity", "abnormal"))),
        Indicator("body_fat_pct", "体脂率", "Body fat", "%", 1, "up"),
        Indicator("fpg", "空腹血糖", "Fasting glucose", "mmol/L", 2, "up",
                  bands=((clinical.FPG_IFG, "normal", "normal"), (clinical.FPG_DIABETES, "IFG", "borderline"),
                         (11.1, "diabetes", "abnormal"), (None, "diabetes_severe", "severe"))),
        Indicator("hba1c", "糖化血红蛋白", "HbA1c", "%", 1, "up",
                  bands=((6.5, "normal_a1c", "normal"), (None, "diabetes", "abnormal"))),
        Indicator("tc", "总胆固醇", "Total cholesterol", "mmol/L", 2, "up",
                  bands=((5.2, "appropriate", "normal"), (6.2, "borderline_high", "borderline"),
                         (None, "high", "abnormal"))),
        Indicator("tg", "甘油三酯", "Triglycerides", "mmol/L", 2, "up",
                  bands=((1.7, "appropriate", "normal"), (2.3, "borderline_high", "borderline"),
                         (None, "high", "abnormal"))),
        Indicator("ldl", "低密度脂蛋白胆固醇", "LDL-C", "mmol/L", 2, "up",
                  bands=((2.6, "ideal", "normal"), (3.4, "appropriate", "normal"),
                         (4.1, "borderline_high", "borderline"), (None, "high", "abnormal"))),
        Indicator("hdl", "高密度脂蛋白胆固醇", "HDL-C", "mmol/L", 2, "down",
                  bands=((1.0, "low", "abnormal"), (None, "normal_hdl", "normal"))),
        Indicator("ua", "尿酸", "Uric acid", "µmol/L", 0, "up", strict_upper=True,
                  bands=((clinical.UA_HYPERURICEMIA_UMOL, "normal_ua", "normal"), (None, "hyperuricemia", "abnormal"))),
        Indicator("alt", "谷丙转氨酶", "ALT", "U/L", 0, "up", strict_upper=True,
                  bands=((_alt_threshold(), "below_alert", "normal"), (None, "alt_raised", "abnormal"))),
        *_wider_indicators(),
        Indicator("phq9", "PHQ-9 抑郁量表", "PHQ-9 depression", "分", 0, "up", psych=True,
                  bands=((5, "none", "normal"), (10, "mild", "borderline"), (15, "moderate", "abnormal"),
                         (20, "moderately_severe", "severe"), (None, "severe", "severe"))),
        Indicator("gad7", "GAD-7 焦虑量表", "GAD-7 anxiety", "分", 0, "up", psych=True,
                  bands=((5, "minimal", "normal"), (10, "mild", "borderline"), (15, "moderate", "abnormal"),
                         (None, "severe", "severe"))),
    )


def _wider_indicators() -> tuple[Indicator, ...]:
    """The wider catalogue of issue 20 (names from ``models.vocab.ITEM_WORDS``): anaemia by sex (WHO
    2011), eGFR stages (KDIGO); the others have no national threshold and show their value only."""
    w = vocab.ITEM_WORDS
    who = clinical.HB_ANAEMIA_WHO

    def ind(code, unit, decimals, harmful, **kw):
        return Indicator(code, w[code][0], w[code][1], unit, decimals, harmful, **kw)
    return (
        ind("hb", "g/L", 0, "down", bands=((who["male"], "anaemia", "abnormal"), (None, "normal", "normal")),
            female_bands=((who["female"], "anaemia", "abnormal"), (None, "normal", "normal"))),
        ind("wbc", "10⁹/L", 1, None), ind("plt", "10⁹/L", 0, None),
        ind("ast", "U/L", 0, "up"), ind("ggt", "U/L", 0, "up"), ind("urea", "mmol/L", 1, "up"),
        ind("cr", "µmol/L", 0, "up"),
        ind("egfr", "mL/min/1.73m²", 0, "down",
            bands=((15, "G5", "severe"), (30, "G4", "severe"), (45, "G3b", "abnormal"),
                   (clinical.EGFR_FOLLOW_UP, "G3a", "abnormal"), (90, "G2", "normal"), (None, "G1", "normal"))),
        ind("tsh", "mIU/L", 2, None),
    )


INDICATORS: tuple[Indicator, ...] = _build_indicators()
BY_CODE = {i.code: i for i in INDICATORS}

# class key -> (zh, en): the guideline classes' words live in the vocabulary
CLASS_NAMES = vocab.CLASS_WORDS

# The key-indicator cards, in reading order; "bp" joins SBP and DBP.
CARD_ORDER = ("bp", "bmi", "waist_cm", "body_fat_pct", "fpg", "hba1c", "tc", "tg", "ldl", "hdl", "ua", "alt",
              "phq9", "gad7")

# Advice per warning rule for the printed report (plain words an officer can act on).
ADVICE: dict[str, tuple[str, str]] = {
    "bp_grade3": ("请当天就医（心内科或急诊），复测血压，遵医嘱用药，不要自行停药。",
                  "See a doctor today (cardiology or emergency), re-measure, take medicine as prescribed."),
    "bp_grade2": ("2周内到医院高血压门诊就诊；每日食盐少于5克，限酒，每周家庭自测血压。",
                  "See a hypertension clinic within 2 weeks; under 5 g salt a day, limit alcohol, measure BP at home weekly."),
    "bp_grade1": ("减盐限酒、控制体重、规律运动；1个月内复测血压，仍高请就医。",
                  "Less salt and alcohol, weight control, regular exercise; "
                  "re-measure within a month and see a doctor if still high."),
    "fpg_severe": ("请尽快就医（内分泌科），检查血糖、糖化血红蛋白和尿酮。",
                   "See a doctor soon (endocrinology) for glucose, HbA1c and urine ketones."),
    "diabetes_range": ("到内分泌科明确诊断；控制主食和甜食，每周至少150分钟中等强度运动。",
                       "See endocrinology to confirm; cut staple carbohydrates and sweets, 150 min of moderate exercise a week."),
    "prediabetes": ("糖调节受损可逆：减重5%–10%、少吃精制主食，6个月内复查空腹血糖或做糖耐量试验。",
                    "Reversible: lose 5–10% of weight, fewer refined carbohydrates, "
                    "recheck glucose or do an OGTT within 6 months."),
    "phq9_severe": ("请尽快联系心理健康服务人员进行评估与干预，可先与信任的同事或家人沟通。",
                    "Contact the mental-health service for assessment now; talk to someone you trust."),
    "phq9_item9": ("请立即联系心理健康服务人员或就近医院，您不是一个人，帮助随时都在。",
                   "Contact the mental-health service or the nearest hospital now; you are not alone."),
    "phq9_moderately_severe": ("建议尽快预约心理咨询，保证睡眠，适量运动。",
                               "Book counselling soon; keep regular sleep and some exercise."),
    "phq9_moderate": ("建议预约心理咨询，2–4周后复评。", "Book counselling; re-screen in 2–4 weeks."),
    "gad7_severe": ("建议尽快预约心理咨询或精神心理科门诊。", "Book counselling or a psychiatry clinic soon."),
    "gad7_moderate": ("建议预约心理咨询，学习放松训练，2–4周后复评。",
                      "Book counselling, learn relaxation, re-screen in 2–4 weeks."),
    "ecg_critical": ("心电图结果需尽快到心内科就诊确认。", "See cardiology soon about the ECG result."),
    "china_par_very_high": ("心血管病风险极高：到心内科评估，积极控制血压、血脂、血糖，戒烟。",
                            "Very high cardiovascular risk: cardiology review; control BP, lipids and glucose; stop smoking."),
    "china_par_high": ("心血管病风险高：控制血压、血脂，戒烟限酒，规律运动，每年评估。",
                       "High cardiovascular risk: control BP and lipids, no smoking, regular exercise, yearly review."),
    "china_par_intermediate": ("保持健康生活方式，控制可改变的危险因素，每年评估一次。",
                               "Keep a healthy lifestyle, control changeable risk factors, review yearly."),
    "ldl_very_high": ("低密度脂蛋白显著升高：到心内科或内分泌科就诊，评估是否需要降脂药物。",
                      "LDL-C very high: see cardiology or endocrinology about lipid-lowering treatment."),
    "dyslipidaemia": ("少吃肥肉、油炸食物和动物内脏，增加运动，3–6个月后复查血脂。",
                      "Less fatty and fried food and offal, more exercise; recheck lipids in 3–6 months."),
    "bmi_very_high": ("建议到营养或减重门诊，制定饮食和运动计划。",
                      "See a nutrition or weight clinic for a diet and exercise plan."),
    "obesity": ("控制总热量，每周至少150分钟中等强度运动，目标腰围男性<85 cm、女性<80 cm。",
                "Fewer calories, 150 min of moderate exercise a week; aim for waist under 85 cm (men) / 80 cm (women)."),
    "hyperuricemia": ("少吃动物内脏、海鲜和浓肉汤，限酒（尤其啤酒），多饮水，复查尿酸。",
                      "Less offal, seafood and meat broth, limit alcohol (beer especially), drink water, recheck uric acid."),
    "alt_raised": ("戒酒，避免自行服用保健品和药物，1个月内复查肝功能，必要时消化内科就诊。",
                   "No alcohol or unprescribed supplements; recheck liver function within a month."),
    "multiple_yellow": ("多项因素并存：建议综合生活方式干预，3个月后复查相关指标。",
                        "Several factors together: lifestyle programme, recheck in 3 months."),
    "exam_overdue": ("请尽快参加年度健康体检。", "Please attend your annual health exam soon."),
}
GENERIC_ADVICE = ("请与健康管理师联系，制定随访计划。", "Contact your health manager to plan a follow-up.")


# --- helpers ------------------------------------------------------------------------------
def _psych_rules(session: Session) -> frozenset[str]:
    return rule_versions.psych_rule_ids(session)


def _rule_names(session: Session) -> dict[str, tuple[str, str]]:
    return rule_versions.rule_names(session)


def _officer_row(session: Session, officer_id: int):
    row = session.execute(
        select(Officer, Unit.path, OfficerStatus).join(Unit, Officer.unit_id == Unit.id)
        .outerjoin(OfficerStatus, OfficerStatus.officer_id == Officer.id).where(Officer.id == officer_id)
    ).first()
    if row is None:
        raise LookupError(f"no officer {officer_id}")
    return row


def level_of(session: Session, officer_id: int) -> str | None:
    """The officer's current four-colour level (None before the first snapshot)."""
    return session.scalar(select(OfficerStatus.level).where(OfficerStatus.officer_id == officer_id))


def open_level_of(session: Session, officer_id: int) -> str | None:
    """The level viewers without psychological access see (``models.psych``)."""
    return session.scalar(select(OfficerStatus.open_level).where(OfficerStatus.officer_id == officer_id))


def leader_may_view(session: Session, officer_id: int) -> bool:
    """Leaders see names only of red and orange officers (DESIGN.md, roles), for reasons that are
    not psychological: the open level decides."""
    return open_level_of(session, officer_id) in ("red", "orange")


def _unit_chain(session: Session, path: str) -> list[dict]:
    codes = [c for c in path.strip("/").split("/") if c]
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    return [{"code": c, "name": units[c].name, "name_en": units[c].name_en or units[c].name, "level": units[c].level}
            for c in codes if c in units]


def _fmt(value: float | None, decimals: int) -> str | None:
    if value is None:
        return None
    return f"{value:.{decimals}f}"


# --- header ----------------------------------------------------------------------------------
def header(session: Session, officer_id: int, *, lab_values: bool, as_of: dt.date, psych: bool = True) -> dict:
    """Who the officer is, the four-colour level with its reasons, China-PAR.

    ``lab_values=False`` (leaders): reasons are rule names with date and
    source only, and there is no China-PAR block and no level history values.
    ``psych=False`` (leaders, managers without the ``psych`` grant): the open level and
    reasons (``models.psych``), no level change that rested on a psychological reason;
    a manager reads one neutral line where a psychological reason stands, a leader nothing."""
    officer, path, status = _officer_row(session, officer_id)
    chain = _unit_chain(session, path)
    out = {
        "badge": officer.badge, "name": officer.name, "sex": officer.sex,
        "age": age_on(officer.birth_date, as_of),
        "unit": chain[-1] if chain else {"code": "", "name": "", "name_en": ""},
        "unit_chain": chain[1:] if len(chain) > 1 else chain,
        "post": vocab.pair(vocab.POST_TYPES, officer.post_type),
        "lab_values": lab_values,
        "warning": None, "risk": None, "history": [],
        "last_exam_date": status.last_exam_date.isoformat() if status is not None and status.last_exam_date else None,
    }
    if status is None:
        return out
    ids = _psych_rules(session)
    reasons = psych_model.visible_reasons(status.reasons, status.open_reasons, ids, psych)
    level = status.level if psych else (status.open_level or "green")
    confirmed = status.confirmed if psych or level == status.level else True
    shown = _reasons(session, reasons, lab_values)
    if not psych and lab_values and psych_model.needs_psych_followup(status.reasons, ids):
        zh, en = psych_model.PSYCH_FOLLOWUP
        shown.append({"rule": "psych", "level": None, "zh": zh, "en": en, "date": None, "source": "", "advice": None})
    # a leader's list leaves out psychological reasons and names lab-value reasons by their rule only: the page
    # always says so, in the same words for everyone, never how many (a count > 0 could only mean a
    # psychological reason for some officers: a leak); a manager without psych reads the neutral line instead
    withheld = not lab_values
    out["warning"] = {"level": level, "confirmed": confirmed, "rules_version": status.rules_version,
                      "computed_at": status.computed_at.date().isoformat(), "reasons": shown, "withheld": withheld}
    history = session.execute(
        select(WarningHistory.level, WarningHistory.previous_level, WarningHistory.confirmed, WarningHistory.changed_at,
               WarningHistory.reasons, WarningHistory.cause)
        .where(WarningHistory.officer_id == officer_id).order_by(WarningHistory.changed_at.desc()).limit(6)).all()
    out["history"] = [{"level": lvl, "previous": prev, "confirmed": conf, "date": at.date().isoformat(),
                       "rule_change": cause == "rules"}  # the change a new rules version made (models.rule_impact)
                      for lvl, prev, conf, at, why, cause in history if psych or not psych_model.has_psych(why, ids)]
    if lab_values:
        out["risk"] = _risk_block(officer, status, as_of)
    return out


def _reasons(session: Session, raw: list[dict], lab_values: bool) -> list[dict]:
    names = english_names(session)  # sources named in English on the English screen
    if lab_values:
        out, given = [], set()
        for r in raw:
            advice = ADVICE.get(r.get("rule"), GENERIC_ADVICE)
            r = english_reason(r, names)
            out.append({"rule": r.get("rule"), "level": r.get("level"), "zh": r.get("text") or "",
                        "en": r.get("text_en") or r.get("text") or "", "date": r.get("date"),
                        "source": r.get("source") or "", "source_en": r["source_en"],
                        "advice": None if advice in given else advice})  # four lipid reasons: advice once
            given.add(advice)
        return out
    names, psych, out, seen = _rule_names(session), _psych_rules(session), [], set()
    for r in raw:
        rule = r.get("rule")
        if rule in psych:  # a psychological reason never reaches a leader (models.psych)
            continue
        else:
            key = rule
            zh, en = names.get(rule, (rule, rule))
            source = r.get("source") or ""
            if source.startswith("China-PAR"):
                source = "China-PAR"
        if key in seen:
            continue
        seen.add(key)
        out.append({"rule": key, "level": r.get("level"), "zh": zh, "en": en, "date": r.get("date"), "source": source,
                    "source_en": english_source(source, names)})
    return out


def _diabetes_range(latest: dict) -> bool:
    def value(code):
        return (latest.get(code) or {}).get("value")
    fpg, a1c, ogtt = value("fpg"), value("hba1c"), value("ogtt2h")
    return bool((fpg is not None and fpg >= clinical.FPG_DIABETES) or (a1c is not None and a1c >= HBA1C_DIABETES)
                or (ogtt is not None and ogtt >= clinical.OGTT_DIABETES))


def _risk_block(officer: Officer, status: OfficerStatus, as_of: dt.date) -> dict | None:
    """China-PAR now and at ideal modifiable factors, like the official calculator.

    The snapshot computed the current risk with the officer's reported risk factors
    (models.risk_factors) and the defaults of models.warning where none was reported (south of
    the Yangtze, urban, non-smoker, untreated, no family history): ``inputs`` says which."""
    if status.china_par is None:
        return None
    age = age_on(officer.birth_date, as_of)
    ideal = china_par_ideal(sex=officer.sex, age=age, north=False, urban=True)
    latest = status.latest or {}
    ideal_waist = 90.0 if officer.sex == "male" else 85.0
    ideal_tc = round(200 * 0.0259, 2)
    factors = []
    for code, zh, en, target in (("sbp", "收缩压", "Systolic BP", 120.0),
                                 ("tc", "总胆固醇", "Total cholesterol", ideal_tc),
                                 ("waist_cm", "腰围", "Waist", ideal_waist)):
        v = (latest.get(code) or {}).get("value")
        if v is not None and v > target:
            unit = clinical.CANONICAL_UNITS[code]
            below = "<" if code == "waist_cm" else ""
            factors.append({"code": code, "zh": f"{zh} {v:g} → {below}{target:g} {unit}",
                            "en": f"{en} {v:g} → {below}{target:g} {unit}"})
    inputs = risk_factors.assumptions(latest)
    said = {i["field"]: i["code"] for i in inputs if i["reported"]}
    if said.get("smoking") == "current":
        factors.append({"code": "smoking", "zh": "目前吸烟 → 戒烟", "en": "Smoking now → stop smoking"})
    if _diabetes_range(latest) or said.get("dx_diabetes") == "yes":
        # the snapshot set China-PAR's diabetes flag from these values (models.warning defaults)
        factors.append({"code": "diabetes", "zh": "血糖达糖尿病水平 → 规范治疗、控制血糖",
                        "en": "Glucose in the diabetes range → treat and control it"})
    pct = round1(status.china_par)
    ideal_pct = round1(ideal) if ideal is not None else None
    return {"pct": pct, "category": status.china_par_category or china_par_category(status.china_par),
            "ideal_pct": ideal_pct, "ideal_category": china_par_category(ideal),
            "factors": factors, "inputs": inputs,
            "assumptions": {"north": False, "urban": True, "smoker": said.get("smoking") == "current",
                            "bp_treated": said.get("rx_hypertension") == "yes"}}


# --- key indicators -------------------------------------------------------------------------
def _observations(session: Session, officer_id: int, codes) -> list[tuple]:
    return session.execute(
        select(Observation.code, Observation.value, Observation.observed_at, Observation.source_kind,
               Observation.source_id, Observation.station, Observation.exam_id)
        .where(Observation.officer_id == officer_id, Observation.code.in_(list(codes)))
        .order_by(Observation.observed_at)).all()


def _hospitals(session: Session) -> dict:
    return source_names(session)


def key_indicators(session: Session, officer_id: int, *, psych: bool = True) -> dict:
    """The latest value of each key indicator with class, tone, date, source, and the change
    since the exam (or screening) before it: {"cards": [...], "sex": ...}."""
    officer, _path, status = _officer_row(session, officer_id)
    latest = (status.latest if status is not None else None) or {}
    codes = [c for c in BY_CODE if psych or not BY_CODE[c].psych]
    before = _exam_values_before(session, officer_id, latest, codes)
    cards = []
    for key in CARD_ORDER:
        if key == "bp":
            s, d = latest.get("sbp"), latest.get("dbp")
            if not s or not d:
                continue
            cls = clinical.bp_category(s["value"], d["value"])
            tone = dict((c, t) for _, c, t in BY_CODE["sbp"].bands)[cls]
            cards.append({
                "key": "bp", "zh": "血压", "en": "Blood pressure", "unit": "mmHg",
                "value": f"{s['value']:.0f}/{d['value']:.0f}", "class": cls, "tone": tone,
                "class_zh": CLASS_NAMES[cls][0], "class_en": CLASS_NAMES[cls][1],
                "date": s["date"], "kind": s.get("kind"), "source": s.get("source") or "",
                "change": _bp_change(before.get("sbp"), before.get("dbp"), s["value"], d["value"]),
            })
            continue
        ind = BY_CODE.get(key)
        if ind is None or key not in codes or not latest.get(key):
            continue
        obs = latest[key]
        cls, tone = ind.classify(obs["value"], officer.sex)
        prev = before.get(key)
        cards.append({
            "key": key, "zh": ind.zh, "en": ind.en, "unit": ind.unit, "value": _fmt(obs["value"], ind.decimals),
            "class": cls, "tone": tone, "class_zh": CLASS_NAMES[cls][0] if cls else None,
            "class_en": CLASS_NAMES[cls][1] if cls else None, "date": obs["date"], "kind": obs.get("kind"),
            "source": obs.get("source") or "",
            "change": None if prev is None else {
                "delta": round(obs["value"] - prev["value"], ind.decimals),
                "text": _signed(obs["value"] - prev["value"], ind.decimals),
                "since": prev["date"], "kind": prev["kind"],
                "worse": _worse(ind.harmful, obs["value"] - prev["value"], ind.decimals)},
        })
    return {"cards": cards, "sex": officer.sex}


def _signed(delta: float, decimals: int) -> str:
    text = f"{delta:+.{decimals}f}"
    return "±0" if float(text) == 0 else text


def _worse(harmful: str | None, delta: float, decimals: int) -> bool | None:
    if round(delta, decimals) == 0 or harmful is None:
        return None
    return (delta > 0) == (harmful == "up")


def _bp_change(ps: dict | None, pd_: dict | None, sbp: float, dbp: float) -> dict | None:
    if ps is None or pd_ is None:
        return None
    ds, dd = sbp - ps["value"], dbp - pd_["value"]
    return {"delta": [round(ds), round(dd)], "text": f"{_signed(ds, 0)}/{_signed(dd, 0)}", "since": ps["date"],
            "kind": ps["kind"], "worse": [_worse("up", ds, 0), _worse("up", dd, 0)]}


def _exam_values_before(session: Session, officer_id: int, latest: dict, codes) -> dict[str, dict]:
    """Per code: the newest exam/screening value dated before the latest value's date."""
    rows = session.execute(
        select(Observation.code, Observation.value, Observation.observed_at, Observation.source_kind)
        .where(Observation.officer_id == officer_id, Observation.code.in_(list(codes)),
               Observation.source_kind.in_(EXAM_LIKE))
        .order_by(Observation.observed_at.desc())).all()
    out: dict[str, dict] = {}
    for code, value, at, kind in rows:
        if code in out or code not in latest:
            continue
        if at.date().isoformat() < latest[code]["date"]:
            out[code] = {"value": value, "date": at.date().isoformat(), "kind": kind}
    return out


# --- trends -------------------------------------------------------------------------------
def indicator_series(session: Session, officer_id: int, *, as_of: dt.date, psych: bool = True,
                     codes: tuple[str, ...] | None = None) -> dict:
    """Every reading per indicator, split by source, with the statistics drawn over them.

    {"sex", "series": [{code, zh, en, unit, decimals, bands, exam, kiosk, screening,
    trend, lowess, forecast}]} — indicators without readings are left out."""
    officer, _path, _status = _officer_row(session, officer_id)
    wanted = [c for c in (codes or tuple(BY_CODE)) if c in BY_CODE and (psych or not BY_CODE[c].psych)]
    hospitals = _hospitals(session)
    by_code: dict[str, dict[str, list]] = {c: {"exam": [], "kiosk": [], "screening": [], "self": []} for c in wanted}
    for code, value, at, kind, source, station, _exam in _observations(session, officer_id, wanted):
        bucket = by_code[code].setdefault(SERIES_KIND.get(kind, kind), [])
        bucket.append((at, value, source_label(kind, source, station, hospitals)))
    with trend_stats.single_threaded_blas():
        out = [_series_entry(BY_CODE[code], by_code[code], officer.sex, as_of) for code in wanted
               if any(by_code[code].values())]
    return {"sex": officer.sex, "series": out}


def _series_entry(ind: Indicator, parts: dict[str, list], sex: str, as_of: dt.date) -> dict:
    code = ind.code
    exam_like = parts["exam"] + parts["screening"]
    dense = parts["kiosk"] + parts["self"]
    everything = exam_like + dense
    trend = trend_stats.ols_trend([(at, v) for at, v, _ in exam_like], ind.harmful)
    forecast = trend_stats.holt_forecast([(at, v) for at, v, _ in everything], as_of=as_of,
                                         floor=0.0) if len(dense) >= trend_stats.MIN_FORECAST_MONTHS else None
    if forecast is None and trend is not None:  # seen only at yearly exams: the next exam's value from the trend
        forecast = trend_stats.yearly_forecast([(at, v) for at, v, _ in exam_like], as_of=as_of, floor=0.0)
    return {
        "code": code, "zh": ind.zh, "en": ind.en, "unit": ind.unit, "decimals": ind.decimals,
        "harmful": ind.harmful,
        "bands": [{"below": b, "class": c, "tone": t, "zh": CLASS_NAMES[c][0], "en": CLASS_NAMES[c][1]}
                  for b, c, t in ind.bands_for(sex)],
        **{kind: [(at.isoformat(timespec="minutes"), v, src) for at, v, src in rows] for kind, rows in parts.items()},
        "trend": trend.to_json() if trend else None,
        "lowess": trend_stats.lowess_curve([(at, v) for at, v, _ in dense]),
        "forecast": forecast.to_json() if forecast else None,
    }


# --- exam history ----------------------------------------------------------------------------
def exam_history(session: Session, officer_id: int, *, psych: bool = True) -> dict:
    """Every exam, oldest first, with its values (class and tone each) and text conclusions:
    {"exams": [{id, date, hospital, values: {code: {value, text, class, tone}}, ecg, ultrasound, summary,
    chest, fundus, hearing, extra (items outside the catalogue, as sent)}],
    "codes": [codes present in any exam]}."""
    officer, _path, _status = _officer_row(session, officer_id)
    exams = session.execute(
        select(Exam.id, Exam.exam_date, Hospital.name, Exam.ecg_text, Exam.ultrasound_text, Exam.summary_text,
               Exam.chest_text, Exam.fundus_text, Exam.hearing_text, Exam.extra, Exam.findings)
        .join(Hospital, Exam.hospital_id == Hospital.id).where(Exam.officer_id == officer_id)
        .order_by(Exam.exam_date)).all()
    ids = [e.id for e in exams]
    values: dict[int, dict[str, float]] = {i: {} for i in ids}
    if ids:
        for exam_id, code, value in session.execute(
                select(Observation.exam_id, Observation.code, Observation.value)
                .where(Observation.officer_id == officer_id, Observation.exam_id.in_(ids))):
            values[exam_id][code] = value
    present = set()
    rows = []
    for e in exams:
        cells = {}
        for code, value in values[e.id].items():
            ind = BY_CODE.get(code)
            if ind is None or (ind.psych and not psych):
                continue
            cls, tone = ind.classify(value, officer.sex)
            cells[code] = {"value": value, "text": _fmt(value, ind.decimals), "class": cls, "tone": tone,
                           "class_zh": CLASS_NAMES[cls][0] if cls else None,
                           "class_en": CLASS_NAMES[cls][1] if cls else None}
            present.add(code)
        rows.append({"id": e.id, "date": e.exam_date.isoformat(), "hospital": e.name, "values": cells,
                     "ecg": e.ecg_text, "ultrasound": e.ultrasound_text, "summary": e.summary_text,
                     "chest": e.chest_text, "fundus": e.fundus_text, "hearing": e.hearing_text,
                     "extra": _extra_text(e.extra), "findings": list(e.findings or [])})
    return {"exams": rows, "codes": [c for c in BY_CODE if c in present]}


def _extra_text(extra: dict | None) -> str | None:
    """Items outside the catalogue as the hospital sent them: "尿比重 1.020; 尿潜血 阴性"."""
    if not extra:
        return None
    return "; ".join(f"{label} {v.get('value')}{' ' + v['unit'] if v.get('unit') else ''}"
                     for label, v in extra.items())


# --- follow-ups and campaigns ---------------------------------------------------------------
def care(session: Session, officer_id: int, *, follow_ups: bool, as_of: dt.date, psych: bool = True,
         campaigns: list[dict] | None = None) -> dict:
    """Follow-ups of the officer (only when ``follow_ups``: managers and admins) and the
    campaigns the officer belongs to, with their progress, rank and points (``campaigns``: what
    ``officer_campaigns`` gave, when the caller has it cached). Without ``psych``
    a psychological follow-up reads as the neutral line, with no reason and no note."""
    out: dict = {"follow_ups": None, "campaigns": [], "points_total": 0}
    if follow_ups:
        opener, assignee = User.__table__.alias("opener"), User.__table__.alias("assignee")
        rows = session.execute(
            select(FollowUp, opener.c.username, assignee.c.username)
            .join(opener, opener.c.id == FollowUp.opened_by_id)
            .outerjoin(assignee, assignee.c.id == FollowUp.assignee_id)
            .where(FollowUp.officer_id == officer_id).order_by(FollowUp.opened_at.desc())).all()
        out["follow_ups"] = [{
            "id": f.id, "kind": f.kind, "status": f.status, "reason": f.reason, "outcome": f.outcome,
            "due": f.due.isoformat() if f.due else None,
            "overdue": f.status != "closed" and f.due is not None and f.due < as_of,
            "opened_at": f.opened_at.date().isoformat(), "opened_by": opened_by, "assignee": assigned,
            "closed_at": f.closed_at.date().isoformat() if f.closed_at else None,
            "last_note": (f.notes or [{}])[-1].get("text") if f.notes else None,
        } for f, opened_by, assigned in rows]
        if not psych:
            for f in out["follow_ups"]:
                if psych_model.is_psych_followup(f["kind"], f["reason"]):
                    f.update(reason=psych_model.PSYCH_FOLLOWUP[0], reason_en=psych_model.PSYCH_FOLLOWUP[1],
                             last_note=None, outcome=None)
    out["campaigns"] = officer_campaigns(session, officer_id, as_of) if campaigns is None else campaigns  # progress, rank, points
    out["points_total"] = sum(c["points"] for c in out["campaigns"])
    return out


# --- printed report ---------------------------------------------------------------------------
REPORT_CODES = ("sbp", "dbp", "bmi", "waist_cm", "fpg", "tc", "ldl", "ua")


def report(session: Session, officer_id: int, *, as_of: dt.date, psych: bool = True) -> dict:
    """Everything the one-page A4 report prints (the officer's own full view; ``psych=False`` for
    a manager without psychological access)."""
    return {
        "header": header(session, officer_id, lab_values=True, as_of=as_of, psych=psych),
        "indicators": key_indicators(session, officer_id, psych=psych),
        "series": indicator_series(session, officer_id, as_of=as_of, codes=REPORT_CODES),
        "as_of": as_of.isoformat(),
    }


__all__ = ["INDICATORS", "BY_CODE", "CLASS_NAMES", "TONES", "ADVICE", "Indicator",
           "header", "key_indicators", "indicator_series", "exam_history", "care", "report", "level_of",
           "leader_may_view", "REPORT_CODES"]
