"""Four-colour warning (四色预警): red 红 / orange 橙 / yellow 黄 / green 绿.

Pure functions over an officer's latest readings and a versioned rule file
(models/rules/warning_v2.json; PORTAL_RULES_FILE overrides it; warning_v1.json, the
set before issue 20, stays so that the history's rules_version still names a file).
Every result carries the reasons that fired, each with value, date and source, and the
rule-set version in force.

How a rule set is applied:

* A "threshold" rule has checks ``{code, op, threshold}`` on canonical codes
  (plus three derived ones: ``non_hdl`` = tc − hdl, ``bmi`` from weight and
  height when missing, ``china_par`` = China-PAR percent at one decimal).
* Within one measure only the worst level that fires is reported (SBP 185
  gives the red reason, not also orange and yellow), so thresholds need no
  upper bounds.
* "Three or more yellow reasons" counts yellow *rules* that fired, not
  readings: SBP 145 with DBP 95 is one reason (grade-1 hypertension).
* Confirmation: a red that rests only on kiosk readings is ``confirmed=False``
  unless the reading is ``confirmed_by_repeat`` (see ``repeat_confirms``) or
  another red reason comes from an exam (or screening). China-PAR and other
  derived values are confirmed only when all their inputs are.
"""

from __future__ import annotations

import json
import os
import string
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from models.clinical import FPG_DIABETES, OGTT_DIABETES, derived_bmi, egfr_ckd_epi_2021, non_hdl
from models.items import FINDING_TEST
from models.risk import china_par_10y, china_par_category, round1
from models.vocab import FINDING_TESTS, FINDING_WORDS, LEVELS

__all__ = [
    "Reading", "Reason", "WarningResult", "Rules", "load_rules", "evaluate",
    "repeat_confirms", "needs_confirmation_window_days", "LEVELS",
    "CRITICAL_ECG_FINDINGS", "ECG_FINDING_NAMES", "DEFAULT_RULES_PATH",
    "ECG_AF", "ECG_AFLUTTER", "ECG_VT", "ECG_AVB3", "ECG_STEMI", "ECG_QTC_GT500",
]

_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
READING_KINDS = ("exam", "kiosk", "self", "screening", "self-report")

needs_confirmation_window_days = 14

DEFAULT_RULES_PATH = Path(__file__).with_name("rules") / "warning_v2.json"
RULES_ENV_VAR = "PORTAL_RULES_FILE"

# --- critical ECG finding codes ----------------------------------------------
# ingest codes the ECG text of an exam into these; evaluate() receives the
# coded findings of the newest exam that did an ECG. Other codes are ignored.
ECG_AF = "af"                 # atrial fibrillation 心房颤动
ECG_AFLUTTER = "aflutter"     # atrial flutter 心房扑动
ECG_VT = "vt"                 # ventricular tachycardia 室性心动过速
ECG_AVB3 = "avb3"             # third-degree (complete) AV block 三度房室传导阻滞
ECG_STEMI = "stemi"           # acute ST elevation 急性ST段抬高
ECG_QTC_GT500 = "qtc_gt500"   # QTc > 500 ms
# their words live with every other finding's, in models.vocab.FINDING_WORDS
ECG_FINDING_NAMES: dict[str, tuple[str, str]] = {
    code: FINDING_WORDS[code] for code in (ECG_AF, ECG_AFLUTTER, ECG_VT, ECG_AVB3, ECG_STEMI, ECG_QTC_GT500)}
CRITICAL_ECG_FINDINGS = frozenset(ECG_FINDING_NAMES)

HBA1C_DIABETES = 6.5  # %, for the China-PAR diabetes flag

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda v, t: v >= t, ">": lambda v, t: v > t,
    "<": lambda v, t: v < t, "<=": lambda v, t: v <= t,
}
_PLACEHOLDERS = {
    "threshold": {"value", "threshold"},
    "ecg": {"finding", "exam_date", "source"},
    "finding": {"finding", "test", "exam_date", "source"},
    "exam_overdue": {"months", "last_exam", "threshold"},
    "yellow_count": {"count", "rules", "threshold"},
}


# --- data types --------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """One latest value in canonical units; ``source`` is a human label
    (e.g. "广州市第一人民医院 体检", "kiosk 天河派出所")."""
    value: float
    date: date
    source: str
    kind: str                       # "exam" | "kiosk" | "self" | "screening" | "self-report"
    confirmed_by_repeat: bool = False


@dataclass(frozen=True)
class Reason:
    rule: str
    level: str
    text_zh: str
    text_en: str
    value: float | int | str | None   # str for an ECG finding code
    date: date | None
    source: str
    confirmed: bool = True            # False: red resting on one kiosk reading

    def to_json(self) -> dict:
        return {"rule": self.rule, "level": self.level, "text": self.text_zh,
                "text_en": self.text_en, "value": self.value,
                "date": self.date.isoformat() if self.date else None,
                "source": self.source}


@dataclass(frozen=True)
class WarningResult:
    level: str
    confirmed: bool
    rules_version: str
    reasons: list[Reason] = field(default_factory=list)
    china_par: float | None = None          # percent, unrounded
    china_par_category: str | None = None

    def to_json(self) -> dict:
        return {"level": self.level, "confirmed": self.confirmed,
                "rules_version": self.rules_version,
                "reasons": [r.to_json() for r in self.reasons]}


@dataclass(frozen=True, eq=False)
class Rules:
    """A validated rule set. ``raw`` is the parsed file (for the admin page)."""
    version: str
    rules: tuple[dict, ...]
    window_days: int
    needs_confirmation_kinds: frozenset[str]
    unconfirmed_suffix: tuple[str, str]        # (zh, en)
    legend: tuple[tuple[str, float | None], ...]  # (level, below_pct), ascending
    raw: dict

    def legend_level(self, red_orange_share_pct: float) -> str:
        """Map colour of a unit from the share (percent, 0–100) of its
        officers whose level is red or orange."""
        for level, below in self.legend:
            if below is None or red_orange_share_pct < below:
                return level
        raise AssertionError("legend validated to end with an open band")

    def rule(self, rule_id: str) -> dict:
        return next(r for r in self.rules if r["id"] == rule_id)


# --- loading and validation ---------------------------------------------------
class RulesError(ValueError):
    """The rule file is malformed."""


def load_rules(path: str | os.PathLike | None = None) -> Rules:
    """Load and validate a rule file: ``path``, else $PORTAL_RULES_FILE, else
    the bundled warning_v2.json."""
    path = Path(path or os.environ.get(RULES_ENV_VAR) or DEFAULT_RULES_PATH)
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    return rules_from_dict(raw, origin=str(path))


def rules_from_dict(raw: dict, origin: str = "<dict>") -> Rules:
    def need(cond: bool, msg: str) -> None:
        if not cond:
            raise RulesError(f"{origin}: {msg}")

    need(isinstance(raw.get("version"), str) and raw["version"], "missing version")
    rules = raw.get("rules")
    need(isinstance(rules, list) and rules, "missing rules")
    ids = [r.get("id") for r in rules]
    need(len(set(ids)) == len(ids) and all(ids), "rule ids must be unique and non-empty")
    for r in rules:
        _validate_rule(r, need)
    conf = raw.get("confirmation", {})
    legend = _validate_legend(raw.get("map_legend", {}), need)
    return Rules(
        version=raw["version"], rules=tuple(rules),
        window_days=int(conf.get("window_days", needs_confirmation_window_days)),
        needs_confirmation_kinds=frozenset(conf.get("needs_confirmation_kinds", ["kiosk"])),
        unconfirmed_suffix=(conf.get("unconfirmed_suffix_zh", ""),
                            conf.get("unconfirmed_suffix_en", "")),
        legend=legend, raw=raw)


def _template_fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _validate_rule(r: dict, need: Callable[[bool, str], None]) -> None:
    rid, kind = r["id"], r.get("type", "threshold")
    need(kind in _PLACEHOLDERS, f"{rid}: unknown type {kind!r}")
    need(r.get("level") in LEVELS[:-1], f"{rid}: level must be red/orange/yellow")
    need(bool(r.get("name_zh")) and bool(r.get("name_en")), f"{rid}: name_zh/name_en")
    allowed = _PLACEHOLDERS[kind]
    holders = r.get("checks", []) if kind == "threshold" else [r]
    need(bool(holders), f"{rid}: no checks")
    for h in holders:
        for key in ("text_zh", "text_en", "text_never_zh", "text_never_en"):
            if key in h:
                bad = _template_fields(h[key]) - allowed
                need(not bad, f"{rid}: unknown placeholders {bad} in {key}")
        need("text_zh" in h and "text_en" in h, f"{rid}: text_zh and text_en required")
    if kind == "threshold":
        for c in r["checks"]:
            need(isinstance(c.get("code"), str), f"{rid}: check without code")
            need(c.get("op") in _OPS, f"{rid}: op must be one of {list(_OPS)}")
            t = c.get("threshold")
            ok = isinstance(t, (int, float)) or (
                isinstance(t, dict) and set(t) == {"male", "female"}
                and all(isinstance(x, (int, float)) for x in t.values()))
            need(ok, f"{rid}/{c['code']}: threshold must be a number or {{male, female}}")
    elif kind == "ecg":
        unknown = set(r.get("findings", [])) - CRITICAL_ECG_FINDINGS
        need(not unknown, f"{rid}: unknown ECG finding codes {unknown}")
    elif kind == "finding":
        unknown = set(r.get("findings", [])) - set(FINDING_TEST)
        need(bool(r.get("findings")) and not unknown, f"{rid}: unknown finding codes {unknown}")
    elif kind == "exam_overdue":
        need(isinstance(r.get("months"), int) and r["months"] > 0, f"{rid}: months")
        need("text_never_zh" in r and "text_never_en" in r, f"{rid}: text_never_*")
    elif kind == "yellow_count":
        need(isinstance(r.get("threshold"), int) and r["threshold"] >= 1, f"{rid}: threshold")


def _validate_legend(legend: dict, need) -> tuple[tuple[str, float | None], ...]:
    bands = legend.get("bands", [])
    need(bool(bands), "map_legend.bands missing")
    out, last = [], float("-inf")
    for i, b in enumerate(bands):
        below = b.get("below_pct")
        need(b.get("level") in LEVELS, f"map_legend: bad level {b.get('level')!r}")
        need((below is None) == (i == len(bands) - 1), "map_legend: only the last band is open")
        need(below is None or below > last, "map_legend: below_pct must ascend")
        last = below if below is not None else last
        out.append((b["level"], below))
    return tuple(out)


# --- evaluation helpers ------------------------------------------------------
# Measures printed with at least one decimal (7.0 mmol/L, not 7).
_DECIMAL_CODES = frozenset({"fpg", "ogtt2h", "hba1c", "tc", "tg", "hdl", "ldl",
                            "non_hdl", "bmi", "china_par"})


def _fmt(x: Any, min_decimals: int = 0) -> str:
    """Up to two decimals, trailing zeros dropped: 185.0 -> "185",
    6.10 -> "6.1"; with min_decimals=1, 7 -> "7.0"."""
    if not isinstance(x, (int, float)):
        return str(x)
    s = f"{x:.2f}".rstrip("0")
    if s.endswith("."):
        s = s[:-1] if min_decimals == 0 else s + "0"
    return s


def _is_confirmed(r: Reading, rules: Rules) -> bool:
    return r.kind not in rules.needs_confirmation_kinds or r.confirmed_by_repeat


def _combine(inputs: list[Reading], value: float, rules: Rules,
             source: str | None = None) -> Reading:
    """A derived reading: latest date, joined sources, confirmed iff all
    inputs are (kind "computed" with confirmed_by_repeat carrying that)."""
    sources = list(dict.fromkeys(r.source for r in inputs))
    return Reading(value=value, date=max(r.date for r in inputs),
                   source=source or "; ".join(sources), kind="computed",
                   confirmed_by_repeat=all(_confirmed(r, rules) for r in inputs))


def _derived(latest: Mapping[str, Reading], rules: Rules) -> dict[str, Reading]:
    readings = {c: r for c, r in latest.items() if r is not None and r.value is not None}
    tc, hdl = readings.get("tc"), readings.get("hdl")
    if tc and hdl and "non_hdl" not in readings:
        readings["non_hdl"] = _combine([tc, hdl], non_hdl(tc.value, hdl.value), rules)
    w, h = readings.get("weight_kg"), readings.get("height_cm")
    if "bmi" not in readings and w and h and h.value > 0:
        readings["bmi"] = _combine([w], derived_bmi(w.value, h.value), rules)
    return readings


def _confirmed(r: Reading, rules: Rules) -> bool:
    if r.kind == "computed":
        return r.confirmed_by_repeat
    return _is_confirmed(r, rules)


def _risk(readings: dict[str, Reading], sex: str, age: float | None,
          risk_inputs: Mapping[str, Any] | None, rules: Rules
          ) -> tuple[float | None, Reading | None]:
    """China-PAR percent and a derived reading (value at one decimal)."""
    needed = ("sbp", "tc", "hdl", "waist_cm")
    if age is None or sex not in ("male", "female") or any(c not in readings for c in needed):
        return None, None
    inputs = dict(risk_inputs or {})
    if "diabetes" not in inputs:
        fpg, a1c, ogtt = (readings.get(c) for c in ("fpg", "hba1c", "ogtt2h"))
        inputs["diabetes"] = bool((fpg and fpg.value >= FPG_DIABETES)
                                  or (a1c and a1c.value >= HBA1C_DIABETES)
                                  or (ogtt and ogtt.value >= OGTT_DIABETES))
    pct = china_par_10y(
        sex=sex, age=age, sbp=readings["sbp"].value, tc=readings["tc"].value,
        hdl=readings["hdl"].value, waist=readings["waist_cm"].value,
        bp_treated=bool(inputs.get("bp_treated", False)),
        smoker=bool(inputs.get("smoker", False)), diabetes=bool(inputs["diabetes"]),
        north=bool(inputs.get("north", False)), urban=bool(inputs.get("urban", True)),
        family_history=bool(inputs.get("family_history", False)))
    if pct is None:
        return None, None
    srcs = [readings[c] for c in needed]
    label = "China-PAR: " + "; ".join(dict.fromkeys(r.source for r in srcs))
    return pct, _combine(srcs, round1(pct), rules, source=label)


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):          # clamp 31 Aug + 6 -> 28/29 Feb
        try:
            return d.replace(year=y, month=m, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _months_between(start: date, end: date) -> int:
    """Whole calendar months from start to end."""
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


# Each fired check: (suppression key, level, order in file, Reason)
_Hit = tuple[str, str, int, Reason]


def _threshold_hits(rule: dict, order: int, readings: dict[str, Reading], sex: str,
                    rules: Rules) -> list[_Hit]:
    hits = []
    for c in rule["checks"]:
        r = readings.get(c["code"])
        t = c["threshold"]
        t = t[sex] if isinstance(t, dict) else t
        if r is None or not _OPS[c["op"]](r.value, t):
            continue
        dec = 1 if c["code"] in _DECIMAL_CODES else 0
        fields = {"value": _fmt(r.value, dec),
                  "threshold": _fmt(t, 1 if isinstance(t, float) else dec)}
        reason = Reason(rule["id"], rule["level"], c["text_zh"].format(**fields),
                        c["text_en"].format(**fields), r.value, r.date, r.source,
                        confirmed=_confirmed(r, rules))
        hits.append((c["code"], rule["level"], order, reason))
    return hits


def _ecg_hits(rule: dict, order: int, findings: Iterable[str], exam_date: date | None,
              exam_source: str | None) -> list[_Hit]:
    """One reason per critical finding, naming the exam (date, source) whose ECG showed it."""
    hits = []
    coded = dict.fromkeys(str(f).strip().lower() for f in findings)
    source = exam_source or "体检"
    day = exam_date.isoformat() if exam_date else ""
    for code in coded:
        if code not in rule["findings"]:
            continue
        zh, en = ECG_FINDING_NAMES[code]
        reason = Reason(rule["id"], rule["level"],
                        rule["text_zh"].format(finding=zh, exam_date=day, source=source),
                        rule["text_en"].format(finding=en, exam_date=day, source=source), code, exam_date,
                        source)
        hits.append((f"ecg:{code}", rule["level"], order, reason))
    return hits


def _finding_hits(rule: dict, order: int, findings: Iterable[str],
                  reports: Mapping[str, tuple[date | None, str | None]]) -> list[_Hit]:
    """One reason per finding to follow up, naming the exam (date, source) of its test's newest report."""
    hits = []
    for code in dict.fromkeys(str(f).strip().lower() for f in findings):
        if code not in rule["findings"]:
            continue
        test = FINDING_TEST[code]
        day, source = reports.get(test, (None, None))
        fields = {"exam_date": day.isoformat() if day else "", "source": source or ""}
        zh = rule["text_zh"].format(finding=FINDING_WORDS[code][0], test=FINDING_TESTS[test][0], **fields)
        en = rule["text_en"].format(finding=FINDING_WORDS[code][1], test=FINDING_TESTS[test][1], **fields)
        hits.append((f"finding:{code}", rule["level"], order,
                     Reason(rule["id"], rule["level"], zh, en, code, day, source or "")))
    return hits


def _overdue_hits(rule: dict, order: int, last_exam: date | None, as_of: date,
                  exam_source: str | None) -> list[_Hit]:
    months = rule["months"]
    if last_exam is None:
        f = {"threshold": months}
        reason = Reason(rule["id"], rule["level"], rule["text_never_zh"].format(**f),
                        rule["text_never_en"].format(**f), None, None, "")
        return [("exam_overdue", rule["level"], order, reason)]
    if as_of <= _add_months(last_exam, months):
        return []
    f = {"months": _months_between(last_exam, as_of), "threshold": months,
         "last_exam": last_exam.isoformat()}
    reason = Reason(rule["id"], rule["level"], rule["text_zh"].format(**f),
                    rule["text_en"].format(**f), f["months"], last_exam, exam_source or "")
    return [("exam_overdue", rule["level"], order, reason)]


def _yellow_count_hit(rule: dict, order: int, kept: list[_Hit], rules: Rules) -> list[_Hit]:
    yellow_ids = list(dict.fromkeys(h[3].rule for h in kept if h[1] == "yellow"))
    if len(yellow_ids) < rule["threshold"]:
        return []
    names = [rules.rule(i) for i in yellow_ids]
    dates = [h[3].date for h in kept if h[1] == "yellow" and h[3].date]
    zh = rule["text_zh"].format(count=len(yellow_ids), threshold=rule["threshold"],
                                rules="、".join(n["name_zh"] for n in names))
    en = rule["text_en"].format(count=len(yellow_ids), threshold=rule["threshold"],
                                rules=", ".join(n["name_en"] for n in names))
    reason = Reason(rule["id"], rule["level"], zh, en, len(yellow_ids),
                    max(dates) if dates else None, rule.get("source_zh", ""))
    return [("yellow_count", rule["level"], order, reason)]


def _worst_per_measure(hits: list[_Hit]) -> list[_Hit]:
    """Keep, for each measure, only the hits at its worst level."""
    worst: dict[str, int] = {}
    for key, level, _, _ in hits:
        worst[key] = min(worst.get(key, 99), _RANK[level])
    return [h for h in hits if _RANK[h[1]] == worst[h[0]]]


def _mark_unconfirmed(reason: Reason, rules: Rules) -> Reason:
    if reason.level != "red" or reason.confirmed:
        return reason
    zh, en = rules.unconfirmed_suffix
    return Reason(reason.rule, reason.level, reason.text_zh + zh, reason.text_en + en,
                  reason.value, reason.date, reason.source, confirmed=False)


def _last_exam_from(readings: Mapping[str, Reading]) -> tuple[date | None, str | None]:
    exams = [r for r in readings.values() if r is not None and r.kind == "exam"]
    if not exams:
        return None, None
    r = max(exams, key=lambda r: r.date)
    return r.date, r.source


# --- public API ---------------------------------------------------------------
def evaluate(latest: Mapping[str, Reading], *, sex: str, age: float | None,
             exam_findings: Iterable[str] = (), last_exam_date: date | None = None,
             as_of: date, rules: Rules, risk_inputs: Mapping[str, Any] | None = None,
             exam_source: str | None = None, ecg_date: date | None = None,
             ecg_source: str | None = None,
             finding_reports: Mapping[str, tuple[date | None, str | None]] | None = None) -> WarningResult:
    """Four-colour level of one officer from their latest reading per code.

    ``exam_findings``: coded findings in force (see ECG_* codes): each test's
    from the newest exam that reported it (``models.snapshot.exam_reports``).
    ``ecg_date``/``ecg_source``: the exam whose ECG the findings come from
    (default: the latest exam). ``finding_reports``: test -> (date, source)
    of the exam whose report of that test is in force (other findings).
    eGFR is derived from creatinine (CKD-EPI 2021) when none is reported.
    ``last_exam_date``: date of the latest exam; when None it is taken from
    the newest exam-kind reading in ``latest`` (no exam at all fires
    exam_overdue). ``exam_source`` labels ECG/overdue reasons; when None it
    is the source of an exam reading dated ``last_exam_date``, if any.
    ``risk_inputs`` for China-PAR: smoker, diabetes, bp_treated, north,
    urban, family_history. Defaults: non-smoker, untreated, diabetes from
    FPG >= 7.0 / HbA1c >= 6.5 / 2-h OGTT >= 11.1, north=False (the demo
    force is in Guangdong, south of the Yangtze), urban=True, no family
    history. China-PAR needs sbp, tc, hdl, waist_cm and age 20–85.
    """
    readings = _derived(latest, rules)
    cr = readings.get("cr")
    if "egfr" not in readings and cr is not None and age is not None and sex in ("male", "female"):
        readings["egfr"] = _combine([cr], egfr_ckd_epi_2021(cr.value, age, sex), rules)
    pct, par_reading = _risk(readings, sex, age, risk_inputs, rules)
    if par_reading is not None:
        readings["china_par"] = par_reading
    if last_exam_date is None:
        last_exam_date, derived_source = _last_exam_from(latest)
        exam_source = exam_source or derived_source
    elif exam_source is None:
        exam_source = next((r.source for r in latest.values() if r is not None
                            and r.kind == "exam" and r.date == last_exam_date), None)

    hits: list[_Hit] = []
    count_rules = []
    for order, rule in enumerate(rules.rules):
        kind = rule.get("type", "threshold")
        if kind == "threshold":
            hits += _threshold_hits(rule, order, readings, sex, rules)
        elif kind == "ecg":
            hits += _ecg_hits(rule, order, exam_findings, ecg_date or last_exam_date,
                              ecg_source or exam_source)
        elif kind == "finding":
            reports = dict(finding_reports or {})
            for test in set(FINDING_TESTS) - set(reports):
                reports[test] = (last_exam_date, exam_source)
            hits += _finding_hits(rule, order, exam_findings, reports)
        elif kind == "exam_overdue":
            hits += _overdue_hits(rule, order, last_exam_date, as_of, exam_source)
        else:
            count_rules.append((order, rule))
    kept = _worst_per_measure(hits)
    for order, rule in count_rules:
        kept += _yellow_count_hit(rule, order, kept, rules)

    kept.sort(key=lambda h: (_RANK[h[1]], h[2]))
    reasons = [_mark_unconfirmed(h[3], rules) for h in kept]
    level = reasons[0].level if reasons else "green"
    confirmed = level != "red" or any(r.confirmed for r in reasons if r.level == "red")
    return WarningResult(level=level, confirmed=confirmed, rules_version=rules.version,
                         reasons=reasons, china_par=pct,
                         china_par_category=china_par_category(pct))


def repeat_confirms(readings: list[Reading], threshold_fn: Callable[[float], bool],
                    window_days: int = needs_confirmation_window_days) -> bool:
    """True when the newest reading meets ``threshold_fn`` and another reading
    of the same code (any kind: a kiosk repeat or an exam) dated within
    ``window_days`` before it meets it too. The snapshot sets
    ``Reading.confirmed_by_repeat`` from this."""
    rs = sorted(readings, key=lambda r: r.date)
    if len(rs) < 2 or not threshold_fn(rs[-1].value):
        return False
    last = rs[-1]
    return any(0 <= (last.date - r.date).days <= window_days and threshold_fn(r.value)
               for r in rs[:-1])
