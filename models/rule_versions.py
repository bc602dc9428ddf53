"""The warning rules in the database (issue 18): versions an admin drafts, checks and publishes.

A rule set has the format of models/rules/warning_v2.json (``RuleSet`` below is that format as a
pydantic model; ``models.warning.rules_from_dict`` then checks what the evaluation relies on). The
table ``rule_version`` holds every version: at most one ``published`` (the version in force), drafts
and retired ones. The rules file ($PORTAL_RULES_FILE, else the bundled warning_v2.json) only seeds
version 1 when the table is empty; from then on every evaluation (the snapshot after an ingest batch
or a gateway upload, ``portal recompute``, the screens' rule names) reads :func:`in_force`.

An admin copies the version in force to a draft (:func:`new_draft`), edits thresholds, levels and
texts (:func:`editable_rows`, :func:`apply_rows`, :func:`save_draft`: a bad value is a message in
both languages, never an exception), sees what it would change and publishes it (``models.rule_impact``: ``impact``, the draft evaluated
over the inputs of the current snapshot; ``publish``, which recomputes every officer, the history rows
that recompute writes carrying ``cause="rules"``, a rule change, not a change of health). Publishing
an older version again (``republish``) copies it to a new version number.
"""
from __future__ import annotations

import copy
import math
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import audit as audit_model
from models import psych as psych_model
from models import warning as warning_model
from models.items import plausible_range
from models.schema import RuleVersion, utcnow

Words = tuple[str, str]
STATUSES = ("draft", "published", "retired")
MAX_TEXT = 200  # a reason text, a rule name (zh or en)
MAX_NOTE = 500

# --- the rule format -------------------------------------------------------------------------------
Number = Annotated[int | float, Field(allow_inf_nan=False)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
WarnLevel = Literal["red", "orange", "yellow"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SexThreshold(_Strict):
    male: Number
    female: Number


class Check(_Strict):
    code: Annotated[str, Field(min_length=1, max_length=20)]
    op: Literal[">=", ">", "<", "<="]
    threshold: Number | SexThreshold
    text_zh: Text
    text_en: Text


class Rule(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
    level: WarnLevel
    type: Literal["threshold", "ecg", "finding", "exam_overdue", "yellow_count"] = "threshold"
    name_zh: Text
    name_en: Text
    checks: Optional[Annotated[list[Check], Field(min_length=1, max_length=20)]] = None
    findings: Optional[Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=100)]] = None
    months: Optional[Annotated[int, Field(ge=1, le=120)]] = None
    threshold: Optional[Annotated[int, Field(ge=1, le=20)]] = None
    source_zh: Optional[Annotated[str, Field(max_length=MAX_TEXT)]] = None
    text_zh: Optional[Text] = None
    text_en: Optional[Text] = None
    text_never_zh: Optional[Text] = None
    text_never_en: Optional[Text] = None


class Confirmation(_Strict):
    window_days: Annotated[int, Field(ge=1, le=365)] = 14
    needs_confirmation_kinds: list[Literal["exam", "kiosk", "self", "screening"]] = ["kiosk"]
    unconfirmed_suffix_zh: Annotated[str, Field(max_length=MAX_TEXT)] = ""
    unconfirmed_suffix_en: Annotated[str, Field(max_length=MAX_TEXT)] = ""


class Band(_Strict):
    level: Literal["red", "orange", "yellow", "green"]
    below_pct: Optional[Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]] = None


class Legend(_Strict):
    basis: Optional[str] = None
    bands: Annotated[list[Band], Field(min_length=1, max_length=4)]


class RuleSet(_Strict):
    """A whole rule set, as stored in ``rule_version.body`` and in the rules file."""
    version: Annotated[str, Field(min_length=1, max_length=20)]
    description: Optional[str] = None
    confirmation: Confirmation = Confirmation()
    rules: Annotated[list[Rule], Field(min_length=1, max_length=200)]
    map_legend: Legend


# pydantic's error types in words an admin reads (the field is named before it)
_ERROR_WORDS: dict[str, Callable[[dict], Words]] = {
    "greater_than_equal": lambda c: (f"不能小于 {c.get('ge')}", f"must be at least {c.get('ge')}"),
    "greater_than": lambda c: (f"须大于 {c.get('gt')}", f"must be more than {c.get('gt')}"),
    "less_than_equal": lambda c: (f"不能大于 {c.get('le')}", f"must be at most {c.get('le')}"),
    "string_too_long": lambda c: (f"过长（最多 {c.get('max_length')} 字）", f"too long (at most {c.get('max_length')} characters)"),
    "string_too_short": lambda c: ("不能为空", "must not be empty"),
    "too_short": lambda c: ("不能为空", "must not be empty"),
    "finite_number": lambda c: ("须为有限数字", "must be a finite number"),
    "literal_error": lambda c: (f"须为以下之一：{c.get('expected')}", f"must be one of {c.get('expected')}"),
    "missing": lambda c: ("缺失", "is missing"),
    "extra_forbidden": lambda c: ("不是规则格式中的字段", "is not a field of the rule format"),
}


def _where(body: dict, loc: tuple) -> str:
    """A pydantic location as an admin reads it: "bp_grade3 · sbp · threshold"."""
    parts, node = [], body
    for step in loc:
        if isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            if isinstance(node, dict):
                parts.append(str(node.get("id") or node.get("code") or step))
            continue
        if not isinstance(step, str) or "[" in step or step in ("int", "float", "SexThreshold"):
            continue
        node = node.get(step) if isinstance(node, dict) else None
        if step not in ("rules", "checks"):
            parts.append(step)
    return " · ".join(parts)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_body(body: Any) -> list[Words]:
    """Everything wrong with a rule set, as (zh, en) messages; [] when it may be saved and published."""
    if not isinstance(body, dict):
        return [("规则集须为一个对象", "a rule set must be an object")]
    try:
        parsed = RuleSet.model_validate(body)
    except ValidationError as exc:
        out, seen = [], set()
        for err in exc.errors():
            where = _where(body, tuple(err["loc"]))
            if where in seen:  # a union (number or {male, female}) fails once per member
                continue
            seen.add(where)
            words = _ERROR_WORDS.get(err["type"])
            if words is None and where.rsplit(" · ", 1)[-1] in ("threshold", "male", "female", "months"):
                zh, en = "须为数字", "must be a number"
            else:
                zh, en = (words or (lambda c: ("取值无效", "is not valid")))(err.get("ctx") or {})
            out.append((f"{where}：{zh}", f"{where}: {en}"))
        return out[:20]
    problems: list[Words] = []
    for rule in parsed.rules:
        for c in rule.checks or []:
            low, high = plausible_range(c.code)
            values = [c.threshold] if _number(c.threshold) else [c.threshold.male, c.threshold.female]
            for v in values:
                if not low <= v <= high:
                    problems.append((f"规则 {rule.id} · {c.code}：阈值 {v:g} 超出该指标的合理范围 {low:g}–{high:g}",
                                     f"rule {rule.id} · {c.code}: threshold {v:g} is outside the item's plausible "
                                     f"range {low:g}–{high:g}"))
    if problems:
        return problems
    try:
        warning_model.rules_from_dict(body, origin="draft")
    except (warning_model.RulesError, ValueError, KeyError, TypeError) as exc:
        text = str(exc).removeprefix("draft: ")
        return [(f"规则格式错误：{text}（文字中的占位符只能是 {{value}}、{{threshold}} 等规则类型允许的名称）",
                 f"the rule format is broken: {text} (placeholders in a text may only be the names its rule type "
                 f"allows, such as {{value}} and {{threshold}})")]
    return []


# --- the version in force ----------------------------------------------------------------------------
_cache: dict[tuple, warning_model.Rules] = {}


def _published(session: Session):
    return session.execute(
        select(RuleVersion.id, RuleVersion.number, RuleVersion.label, RuleVersion.published_at)
        .where(RuleVersion.status == "published").order_by(RuleVersion.number.desc()).limit(1)).first()


def _published_or_seeded(session: Session):
    """The row of the version in force (seeded from the rules file on first use)."""
    row = _published(session)
    if row is None:
        seed(session)
        row = _published(session)
    return row


def seed(session: Session) -> None:
    """Version 1 from the rules file, when the table is empty (two processes at once: one wins)."""
    if session.scalar(select(func.count()).select_from(RuleVersion)):
        return
    rules = warning_model.load_rules()
    now = utcnow()
    try:
        with session.begin_nested():
            session.add(RuleVersion(number=1, label=rules.version[:20], status="published", body=rules.raw,
                                    note=None, created_at=now, updated_at=now,
                                    published_at=now))
    except IntegrityError:
        return
    audit_model.record(session, action="rules_seeded", target=f"rules:{rules.version[:20]}",
                       detail={"number": 1}, user_id=None, username=None, ip=None)


def in_force(session: Session) -> warning_model.Rules:
    """The published rule set every evaluation uses (seeded from the rules file on first use)."""
    row = _published_or_seeded(session)
    key = (str(session.get_bind().url), row.id, str(row.published_at))
    if key not in _cache:
        body = session.scalar(select(RuleVersion.body).where(RuleVersion.id == row.id))
        _cache[key] = warning_model.rules_from_dict(body, origin=f"rule_version {row.number}")
    psych_model.remember(_cache[key])
    return _cache[key]


def in_force_info(session: Session) -> dict:
    """{"number", "label", "published_at"} of the version in force, for the badges on the screens."""
    v = _published_or_seeded(session)
    return {"number": v.number, "label": v.label, "published_at": v.published_at}


def labels(session: Session) -> dict[str, int]:
    """rules_version label -> version number (a reason names its label; screens show "v<number>")."""
    return dict(session.execute(select(RuleVersion.label, RuleVersion.number)).all())


# --- versions and drafts ---------------------------------------------------------------------------------
def versions(session: Session) -> list[dict]:
    """Every version, newest first, with who created and published it."""
    from models.schema import User

    names = dict(session.execute(select(User.id, User.username)).all())
    return [{"id": v.id, "number": v.number, "label": v.label, "status": v.status, "note": v.note or "",
             "based_on": v.based_on, "created_by": names.get(v.created_by_id) if v.created_by_id else None,
             "created_at": v.created_at, "published_by": names.get(v.published_by_id) if v.published_by_id else None,
             "published_at": v.published_at, "retired_at": v.retired_at}
            for v in session.scalars(select(RuleVersion).order_by(RuleVersion.number.desc()))]


def draft(session: Session) -> RuleVersion | None:
    return session.scalar(select(RuleVersion).where(RuleVersion.status == "draft")
                          .order_by(RuleVersion.number.desc()).limit(1))


def _next_number(session: Session) -> int:
    return (session.scalar(select(func.max(RuleVersion.number))) or 0) + 1


def copy_version(session: Session, source: RuleVersion, user_id: int | None, note: str) -> RuleVersion:
    number = _next_number(session)
    label = f"rules_v{number}"
    body = copy.deepcopy(source.body)
    body["version"] = label
    now = utcnow()
    row = RuleVersion(number=number, label=label, status="draft", body=body, note=note[:MAX_NOTE],
                      based_on=source.number, created_by_id=user_id, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return row


def new_draft(session: Session, user_id: int | None) -> RuleVersion:
    """A draft copied from the version in force; the open draft when there is one already."""
    existing = draft(session)
    if existing is not None:
        return existing
    in_force(session)
    source = session.scalar(select(RuleVersion).where(RuleVersion.status == "published")
                            .order_by(RuleVersion.number.desc()).limit(1))
    return copy_version(session, source, user_id, "")


def discard_draft(session: Session, version_id: int) -> bool:
    row = session.get(RuleVersion, version_id)
    if row is None or row.status != "draft":
        return False
    session.delete(row)
    session.flush()
    return True


# --- the form: what an admin edits --------------------------------------------------------------------
RULE_FIELDS = ("level", "param", "text_zh", "text_en", "text_never_zh", "text_never_en")
CHECK_FIELDS = ("threshold", "male", "female", "text_zh", "text_en")


def editable_rows(body: dict) -> tuple[list[dict], list[dict]]:
    """(one row per rule, one row per threshold check): the values the editor's two grids show.

    A rule row's ``param`` is the months of "exam overdue" or the count of "several yellow factors";
    its texts are those of the rule types without checks. Ids, codes, operators and finding lists are
    not edited here (they decide which readings a rule reads, including the psychological ones)."""
    rules, checks = [], []
    for r in body.get("rules", []):
        kind = r.get("type", "threshold")
        rules.append({"rule": r["id"], "type": kind, "level": r["level"], "name_zh": r.get("name_zh"),
                      "name_en": r.get("name_en"),
                      "param": r.get("months") if kind == "exam_overdue" else r.get("threshold") if kind == "yellow_count"
                      else None,
                      **{k: r.get(k) for k in ("text_zh", "text_en", "text_never_zh", "text_never_en")}})
        for i, c in enumerate(r.get("checks") or []):
            t = c.get("threshold")
            by_sex = isinstance(t, dict)
            checks.append({"key": f"{r['id']}#{i}", "rule": r["id"], "level": r["level"], "code": c.get("code"),
                           "op": c.get("op"), "threshold": None if by_sex else t,
                           "male": t.get("male") if by_sex else None, "female": t.get("female") if by_sex else None,
                           "text_zh": c.get("text_zh"), "text_en": c.get("text_en")})
    return rules, checks


def _as_number(value: Any) -> Any:
    """A grid cell typed as text: "180" -> 180, "6.5" -> 6.5; anything else is left for the check."""
    if isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            return value
        return int(x) if x.is_integer() and "." not in value else x
    return value


def _as_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def apply_rows(body: dict, rule_rows: list[dict] | None, check_rows: list[dict] | None) -> tuple[dict, list[Words]]:
    """The rule set with the grids' values put in, and what could not be put in (unknown rows)."""
    out = copy.deepcopy(body)
    by_id = {r["id"]: r for r in out.get("rules", [])}
    problems: list[Words] = []
    for row in rule_rows or []:
        rule = by_id.get(row.get("rule")) if isinstance(row, dict) else None
        if rule is None:
            problems.append(("表格中有未知的规则行", "the table holds a rule that is not in the draft"))
            continue
        kind = rule.get("type", "threshold")
        if "level" in row:
            rule["level"] = row["level"]
        if kind in ("exam_overdue", "yellow_count") and "param" in row:
            rule["months" if kind == "exam_overdue" else "threshold"] = _as_number(row["param"])
        for key in ("text_zh", "text_en", "text_never_zh", "text_never_en"):
            if key in rule and key in row:
                rule[key] = _as_text(row[key])
    for row in check_rows or []:
        key = row.get("key") if isinstance(row, dict) else None
        rid, _, idx = str(key or "").partition("#")
        rule = by_id.get(rid)
        checks = (rule or {}).get("checks") or []
        if not idx.isdigit() or int(idx) >= len(checks):
            problems.append(("表格中有未知的阈值行", "the table holds a threshold that is not in the draft"))
            continue
        check = checks[int(idx)]
        if isinstance(check.get("threshold"), dict):
            check["threshold"] = {"male": _as_number(row.get("male")), "female": _as_number(row.get("female"))}
        elif "threshold" in row:
            check["threshold"] = _as_number(row["threshold"])
        for k in ("text_zh", "text_en"):
            if k in row:
                check[k] = _as_text(row[k])
    return out, problems


def save_draft(session: Session, version_id: int, body: dict, note: str | None) -> tuple[RuleVersion | None, list[Words]]:
    """Save a checked body into the draft; (None, problems) when it does not pass (nothing is written)."""
    row = session.get(RuleVersion, version_id)
    if row is None or row.status != "draft":
        return None, [("这个草稿已不存在（可能已发布或被放弃）", "this draft no longer exists (published or discarded)")]
    body = {**body, "version": row.label}
    problems = check_body(body)
    if note is not None and len(note) > MAX_NOTE:
        problems.append((f"说明过长（最多 {MAX_NOTE} 字）", f"the note is too long (at most {MAX_NOTE} characters)"))
    if problems:
        return None, problems
    row.body = body
    if note is not None:
        row.note = note.strip()
    row.updated_at = utcnow()
    session.flush()
    return row, []


def psych_rule_ids(session: Session) -> frozenset[str]:
    """The psychological rules of the version in force (``models.psych``)."""
    return psych_model.psych_rule_ids(in_force(session))


def rule_names(session: Session) -> dict[str, Words]:
    return {r["id"]: (r["name_zh"], r["name_en"]) for r in in_force(session).rules}
