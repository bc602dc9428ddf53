"""Queries behind /warnings: map and treemap aggregates, counts per colour, the
filtered officer list (paged and sorted in SQL) and the movement between colours.

Everything reads the ``officer_status`` snapshot cut to a unit subtree with
``unit_path LIKE '<path>%'``. Filter values arrive from the browser, so
:meth:`Filters.parse` keeps only values from fixed whitelists; sort columns
and row ranges of the list are whitelisted and clamped the same way.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any, Iterable

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from models import followups
from models import psych as psych_rules
from models.schema import FollowUp, Officer, OfficerStatus, Unit, WarningHistory
from models.source_words import english_names, english_reason
from models.vocab import LEVELS, SMALL_GROUP

LEVEL_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
LEADER_LEVELS = ("red", "orange")  # leaders see names of red and orange officers only

AGE_BANDS = {"lt30": (None, 30), "30_39": (30, 40), "40_49": (40, 50), "50p": (50, None)}
EXAM_BANDS = ("within12", "12to18", "over18", "over24", "never")
FOLLOWUP_STATES = ("none", "active", "overdue", "closed", "needs_action")
CONFIRMED = ("all", "confirmed", "unconfirmed")
SEXES = ("male", "female")
KEY_CODES = ("sbp", "dbp", "fpg", "hba1c", "ldl", "bmi", "ua", "phq9")

MAX_PAGE = 500          # rows per list request, whatever the grid asks for
MAX_EXPORT = 20_000     # rows per export
_RULE_ID = re.compile(r"^[a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Filters:
    """Validated filters. ``unit_path`` must already be checked against the caller's scope."""

    levels: tuple[str, ...] = ()
    confirmed: str = "all"
    rule: str | None = None
    unit_path: str | None = None
    age_band: str | None = None
    sex: str | None = None
    post_type: str | None = None
    exam: str | None = None
    followup: str | None = None

    @classmethod
    def parse(cls, raw: dict | None, *, rule_ids: Iterable[str], post_types: Iterable[str] | None,
              unit_path: str | None = None) -> "Filters":
        """Keep only whitelisted values from a browser-supplied dict; anything else is ignored."""
        raw = raw if isinstance(raw, dict) else {}

        def pick(key: str, allowed: Iterable[str]) -> str | None:
            value = raw.get(key)
            return value if isinstance(value, str) and value in set(allowed) else None

        levels = raw.get("levels") or []
        levels = levels if isinstance(levels, list) else [levels]
        rule_ids = {r for r in rule_ids if _RULE_ID.match(r)}
        if post_types is None:  # any plain code; the value is only ever a bound parameter
            post = raw.get("post_type")
            post_types = [post] if isinstance(post, str) and _RULE_ID.match(post) else []
        return cls(
            levels=tuple(lvl for lvl in LEVELS if lvl in levels),
            confirmed=pick("confirmed", CONFIRMED) or "all",
            rule=pick("rule", rule_ids),
            unit_path=unit_path,
            age_band=pick("age_band", AGE_BANDS),
            sex=pick("sex", SEXES),
            post_type=pick("post_type", post_types),
            exam=pick("exam", EXAM_BANDS),
            followup=pick("followup", FOLLOWUP_STATES),
        )

    def population(self) -> "Filters":
        """Only the filters that define who is counted (not which colour/rule/follow-up)."""
        return Filters(unit_path=self.unit_path, age_band=self.age_band, sex=self.sex,
                       post_type=self.post_type, exam=self.exam)

    def as_dict(self) -> dict:
        return {"levels": list(self.levels), "confirmed": self.confirmed, "rule": self.rule,
                "unit_path": self.unit_path, "age_band": self.age_band, "sex": self.sex,
                "post_type": self.post_type, "exam": self.exam, "followup": self.followup}


# --- date helpers --------------------------------------------------------------
def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _months_before(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(y, m, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- the filtered base query ----------------------------------------------------------------
def followup_summary(today: dt.date):
    """Per officer: active follow-ups, whether one is in progress, the earliest due date, count."""
    active = FollowUp.status != "closed"
    return (
        select(FollowUp.officer_id.label("officer_id"),
               func.sum(case((active, 1), else_=0)).label("active"),
               func.min(case((active, FollowUp.due), else_=None)).label("due"),
               func.max(case((FollowUp.status == "in_progress", 1), else_=0)).label("in_progress"),
               func.count().label("n"))
        .group_by(FollowUp.officer_id).subquery("fu")
    )


def _followup_state(fu, today: dt.date):
    return case(
        (fu.c.n.is_(None), literal("none")),
        (and_(fu.c.active > 0, fu.c.due < today), literal("overdue")),
        (and_(fu.c.active > 0, fu.c.in_progress > 0), literal("in_progress")),
        (fu.c.active > 0, literal("open")),
        else_=literal("closed"),
    )


def refuse_psych_rule(f: Filters, psych_ids, sees_psych: bool) -> None:
    """A filter by a psychological rule from a viewer without psychological access is refused
    (the option is not offered, so such a filter is forged)."""
    if not psych_rules.rule_filter_allowed(f.rule, psych_ids, sees_psych):
        raise PermissionError("psychological rules are not for this viewer")


def _conditions(f: Filters, scope_path: str | None, as_of: dt.date, fu=None, level_col=None) -> list:
    if f.unit_path and scope_path and not f.unit_path.startswith(scope_path):
        raise PermissionError("unit outside the caller's scope")
    level_col = OfficerStatus.level if level_col is None else level_col
    path = f.unit_path or scope_path
    conds: list = [Officer.active]
    if path:
        conds.append(OfficerStatus.unit_path.like(f"{path}%"))
    if f.levels:
        conds.append(level_col.in_(f.levels))
    if f.confirmed == "confirmed":
        conds.append(OfficerStatus.confirmed.is_(True))
    elif f.confirmed == "unconfirmed":
        conds.append(OfficerStatus.confirmed.is_(False))
    if f.rule:
        conds.append(OfficerStatus.rule_ids.like(f"%,{f.rule},%"))
    if f.age_band:
        low, high = AGE_BANDS[f.age_band]
        if low is not None:
            conds.append(Officer.birth_date <= _years_before(as_of, low))
        if high is not None:
            conds.append(Officer.birth_date > _years_before(as_of, high))
    if f.sex:
        conds.append(Officer.sex == f.sex)
    if f.post_type:
        conds.append(Officer.post_type == f.post_type)
    if f.exam:
        last = OfficerStatus.last_exam_date
        if f.exam == "never":
            conds.append(last.is_(None))
        elif f.exam == "within12":
            conds.append(last > _months_before(as_of, 12))
        elif f.exam == "12to18":
            conds.append(and_(last <= _months_before(as_of, 12), last > _months_before(as_of, 18)))
        elif f.exam == "over18":
            conds.append(or_(last <= _months_before(as_of, 18), last.is_(None)))
        elif f.exam == "over24":
            conds.append(or_(last <= _months_before(as_of, 24), last.is_(None)))
    if f.followup == "needs_action":  # the workbench's queue: no follow-up open, none since turning red
        conds.append(followups.without_followup(OfficerStatus.officer_id))
    elif f.followup and fu is not None:
        state = _followup_state(fu, as_of)
        if f.followup == "active":
            conds.append(state.in_(("open", "in_progress", "overdue")))
        else:
            conds.append(state == f.followup)
    return conds


def _needs_officer(f: Filters) -> bool:
    return bool(f.age_band or f.sex or f.post_type)


def _from(q: Select, f: Filters, fu=None) -> Select:
    q = q.select_from(OfficerStatus).join(Officer, Officer.id == OfficerStatus.officer_id)
    if fu is not None:
        q = q.outerjoin(fu, fu.c.officer_id == OfficerStatus.officer_id)
    return q


# --- counts per colour ------------------------------------------------------------------------
def level_counts(session: Session, scope_path: str | None, f: Filters, as_of: dt.date,
                 psych: bool = True) -> dict[str, int]:
    """Officers per colour under every filter except the colour filter itself. Without ``psych``
    the colours the viewer's named list shows (the open level, ``models.psych``), so that the
    counts above a list and the list itself never differ by the officers coloured by a
    psychological reason only."""
    f = replace(f, levels=())
    level_col = psych_rules.named_level(OfficerStatus, psych)
    fu = followup_summary(as_of) if f.followup else None
    q = _from(select(level_col, func.count()), f, fu).where(*_conditions(f, scope_path, as_of, fu))
    counts = {lvl: 0 for lvl in LEVELS}
    for level, n in session.execute(q.group_by(level_col)):
        if level in counts:
            counts[level] = n
    return counts


# --- map and treemap ------------------------------------------------------------------------
def _counts_by_unit_path(session: Session, root_path: str, f: Filters, as_of: dt.date,
                         psych: bool = True) -> dict[str, dict[str, int]]:
    level_col = psych_rules.named_level(OfficerStatus, psych)
    q = _from(select(OfficerStatus.unit_path, level_col, func.count()), f)
    q = q.where(*_conditions(replace(f, unit_path=root_path), None, as_of))
    out: dict[str, dict[str, int]] = defaultdict(lambda: {lvl: 0 for lvl in LEVELS})
    for path, level, n in session.execute(q.group_by(OfficerStatus.unit_path, level_col)):
        if level in LEVELS:
            out[path][level] += n
    return out


def legend_class(counts: dict[str, int], rules) -> tuple[str, float | None]:
    """The map class of a group: ('none', None) for no data or fewer than 5 officers,
    else the legend level of its red+orange share (percent)."""
    total = sum(counts.values())
    if total < SMALL_GROUP:  # from models.suppression
        return "none", None
    share = 100.0 * (counts.get("red", 0) + counts.get("orange", 0)) / total
    return rules.legend_level(share), share


def map_data(session: Session, scope_path: str | None, root: Unit, f: Filters, rules, as_of: dt.date,
             tree_depth: int = 2, psych: bool = True) -> dict:
    """Aggregates for the map (the root's direct sub-units) and the treemap (``tree_depth``
    levels below the root), over the population filters only: the map colours the share of
    red+orange officers among the officers selected by age, sex, post and exam date."""
    if scope_path and not root.path.startswith(scope_path):
        raise PermissionError("unit outside the caller's scope")
    f = f.population()
    by_path = _counts_by_unit_path(session, root.path, f, as_of, psych)
    units = session.execute(
        select(Unit.code, Unit.name, Unit.name_en, Unit.path, Unit.depth, Unit.level)
        .where(Unit.path.like(f"{root.path}%"), Unit.depth <= root.depth + tree_depth)
        .order_by(Unit.path)
    ).all()
    shown = {u.path: u for u in units}

    def rollup(path: str) -> dict[str, int]:
        c = {lvl: 0 for lvl in LEVELS}
        for p, counts in by_path.items():
            if p.startswith(path):
                for lvl in LEVELS:
                    c[lvl] += counts[lvl]
        return c

    nodes = []
    for u in units:
        counts = rollup(u.path)
        cls, share = legend_class(counts, rules)
        parent = u.path[: u.path.rstrip("/").rfind("/") + 1] if u.path != root.path else None
        nodes.append({"code": u.code, "name": u.name, "name_en": u.name_en or u.name, "path": u.path,
                      "parent_path": parent if parent in shown else None, "level": u.level,
                      "depth": u.depth - root.depth, "counts": counts, "total": sum(counts.values()),
                      "class": cls, "share": share})
    child_codes = [n["code"] for n in nodes if n["depth"] == 1]
    geometry = {code: g for code, g in session.execute(select(Unit.code, Unit.geometry).where(Unit.code.in_(child_codes)))
                if isinstance(g, dict) and g.get("coordinates")} if child_codes else {}
    root_node = next(n for n in nodes if n["depth"] == 0)
    ancestors = [{"code": c, "name": n, "name_en": e or n} for c, n, e in session.execute(
        select(Unit.code, Unit.name, Unit.name_en).where(Unit.path.in_(_prefixes(root.path, scope_path)))
        .order_by(Unit.depth))]
    return {
        "root": root_node,
        "ancestors": ancestors,
        "parent_code": ancestors[-2]["code"] if len(ancestors) > 1 else None,
        "children": [dict(n, geometry=geometry[n["code"]], label=_label_point(geometry[n["code"]]),
                          area=_area(geometry[n["code"]])) for n in nodes if n["code"] in geometry],
        "tree": nodes,
        "legend": [{"level": lvl, "below_pct": below} for lvl, below in rules.legend],
    }


def _prefixes(path: str, scope_path: str | None) -> list[str]:
    """The paths from the scope root down to ``path`` (inclusive)."""
    parts = path.strip("/").split("/")
    out = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    return [p for p in out if not scope_path or p.startswith(scope_path)]


def _area(geometry: dict) -> float:
    from shapely.geometry import shape

    return shape(geometry).area


def _label_point(geometry: dict) -> list[float]:
    from shapely.geometry import shape

    point = shape(geometry).representative_point()
    return [round(point.x, 5), round(point.y, 5)]


# --- the officer list ------------------------------------------------------------------------
SORTABLE = {  # grid column id -> SQL expression builder (whitelist); ``lv`` the viewer's level column
    "name": lambda fu, t, lv: Officer.name,
    "badge": lambda fu, t, lv: Officer.badge,
    "unit": lambda fu, t, lv: Unit.name,
    "level": lambda fu, t, lv: case({lvl: i for i, lvl in enumerate(LEVELS)}, value=lv),
    "confirmed": lambda fu, t, lv: OfficerStatus.confirmed,
    "last_exam": lambda fu, t, lv: OfficerStatus.last_exam_date,
    "followup": lambda fu, t, lv: _followup_state(fu, t),
    "age": lambda fu, t, lv: Officer.birth_date,
}
LAB_SORTABLE = {code: (lambda c: lambda fu, t, lv: OfficerStatus.latest[c]["value"].as_float())(code) for code in KEY_CODES}
MANAGER_COLUMNS = ("name", "badge", "unit", "level", "confirmed", "reasons", *KEY_CODES, "last_exam", "followup")
LEADER_COLUMNS = ("name", "unit", "level", "confirmed")


def caseload_condition(psych_ids):
    """Officers with a psychological reason (a counsellor's list)."""
    return or_(*[OfficerStatus.rule_ids.like(f"%,{rule},%") for rule in sorted(psych_ids)]) if psych_ids else literal(False)


def _list_query(scope_path: str | None, f: Filters, as_of: dt.date, leader: bool, psych: bool = False,
                caseload=None):
    """The named list. ``psych``: the viewer sees psychological detail, else the officers'
    open level and reasons (``models.psych``); ``caseload``: an extra condition (a counsellor's)."""
    level_col = psych_rules.named_level(OfficerStatus, psych)
    if leader:  # leaders only ever get the names of red and orange officers
        f = replace(f, levels=tuple(lvl for lvl in (f.levels or LEADER_LEVELS) if lvl in LEADER_LEVELS) or ("-",))
    fu = followup_summary(as_of)
    cols = [Officer.badge, Officer.name, Unit.name.label("unit"), Unit.name_en.label("unit_en"), Unit.code.label("unit_code"),
            level_col.label("level"), OfficerStatus.confirmed, OfficerStatus.level.label("true_level")]
    if not leader:
        cols += [Officer.birth_date, OfficerStatus.reasons, OfficerStatus.open_reasons, OfficerStatus.latest,
                 OfficerStatus.last_exam_date, _followup_state(fu, as_of).label("followup"), fu.c.due.label("followup_due"),
                 OfficerStatus.rules_version]
    q = _from(select(*cols), f, fu).join(Unit, Unit.id == Officer.unit_id)
    conds = _conditions(f, scope_path, as_of, fu, level_col=level_col)
    if not psych:  # nobody in a named list for a colour that rests only on a psychological reason
        conds.append(level_col.is_not(None))
    if caseload is not None:
        conds.append(caseload)
    return q.where(*conds), fu, level_col


def clamp_range(start: Any, end: Any, limit: int = MAX_PAGE) -> tuple[int, int]:
    """Row range from the grid, as integers, ``0 <= start <= end <= start + limit``."""
    try:
        start = max(0, min(int(start), 10_000_000))
    except (TypeError, ValueError, OverflowError):
        start = 0
    try:
        end = int(end)
    except (TypeError, ValueError, OverflowError):
        end = start + 100
    return start, max(start, min(end, start + limit))


def clean_sort(sort_model: Any, leader: bool, psych: bool = False) -> list[tuple[str, bool]]:
    """[(column, descending)] from an AG Grid sortModel, keeping whitelisted columns only."""
    allowed = set(SORTABLE) | (set() if leader else set(psych_rules.visible_codes(LAB_SORTABLE, psych)))
    if leader:
        allowed &= set(LEADER_COLUMNS) | {"level"}
    out = []
    for item in sort_model if isinstance(sort_model, list) else []:
        if isinstance(item, dict) and item.get("colId") in allowed and item.get("sort") in ("asc", "desc"):
            if item["colId"] not in [c for c, _ in out]:
                out.append((item["colId"], item["sort"] == "desc"))
    return out[:3]


def _row(r, leader: bool, as_of: dt.date, psych: bool, psych_ids, names: dict | None = None) -> dict:
    # the true level's "unconfirmed" is the open level's only when they agree (models.psych)
    row = {"badge": r.badge, "name": r.name, "unit": r.unit, "unit_en": r.unit_en or r.unit, "level": r.level,
           "confirmed": bool(r.confirmed) if psych or r.level == r.true_level else True}
    if leader:
        return row
    latest = r.latest or {}
    for code in psych_rules.visible_codes(KEY_CODES, psych):
        row[code] = (latest.get(code) or {}).get("value")
    reasons = psych_rules.visible_reasons(r.reasons, r.open_reasons, psych_ids, psych)
    shown = [x for x in reasons if x.get("level") in ("red", "orange", "yellow")]
    if not psych and r.level != "green" and psych_rules.needs_psych_followup(r.reasons, psych_ids):
        # a manager without ``psych`` learns only that a psychological follow-up is under way
        shown.append({"text": psych_rules.PSYCH_FOLLOWUP[0], "text_en": psych_rules.PSYCH_FOLLOWUP[1]})
    row.update(
        age=as_of.year - r.birth_date.year - ((as_of.month, as_of.day) < (r.birth_date.month, r.birth_date.day)),
        reasons="；".join(x.get("text", "") for x in shown),
        reasons_en="; ".join(english_reason(x, names or {})["text_en"] for x in shown),  # sources in English
        last_exam=r.last_exam_date.isoformat() if r.last_exam_date else None,
        followup=r.followup,
        followup_due=r.followup_due.isoformat() if r.followup_due else None,
        rules_version=r.rules_version,  # the rules version the reasons were computed under
    )
    return row


def officer_rows(session: Session, scope_path: str | None, f: Filters, as_of: dt.date, *, leader: bool,
                 sort: list[tuple[str, bool]] | None = None, start: int = 0, end: int = 100,
                 with_total: bool = True, max_rows: int = MAX_PAGE, psych: bool = False,
                 psych_ids=frozenset(), caseload: bool = False) -> dict:
    """One page of the filtered list: {"rows": [...], "total": n}. Leaders get red and orange
    officers only, and no lab values, reasons or exam dates. Without ``psych`` (the viewer's
    ``Scope.sees_psych``) a filter by a psychological rule is refused and the officers' open
    level and reasons are used (``models.psych``); ``caseload``: only officers with a
    psychological reason (counsellors)."""
    refuse_psych_rule(f, psych_ids, psych)
    start, end = clamp_range(start, end, max_rows)
    q, fu, level_col = _list_query(scope_path, f, as_of, leader, psych,
                                   caseload_condition(psych_ids) if caseload else None)
    order = []
    for col, desc in sort or [("level", False), ("name", False)]:
        builder = SORTABLE.get(col)
        if builder is None and not leader and col in psych_rules.visible_codes(LAB_SORTABLE, psych):
            builder = LAB_SORTABLE[col]
        if builder is None:
            continue
        expr = builder(fu, as_of, level_col)
        if col == "age":
            desc = not desc  # older = earlier birth date
        order.append(expr.desc().nulls_last() if desc else expr.asc().nulls_last())
    order.append(Officer.badge.asc())
    names = {} if leader else english_names(session)
    rows = [_row(r, leader, as_of, psych, psych_ids, names)
            for r in session.execute(q.order_by(*order).offset(start).limit(end - start))]
    total = session.scalar(select(func.count()).select_from(q.subquery())) if with_total else None
    return {"rows": rows, "total": total}


def export_rows(session: Session, scope_path: str | None, f: Filters, as_of: dt.date, *, leader: bool,
                sort: list[tuple[str, bool]] | None = None, psych: bool = False, psych_ids=frozenset(),
                caseload: bool = False) -> list[dict]:
    """Every matching row (up to MAX_EXPORT) for a CSV/Excel export."""
    return officer_rows(session, scope_path, f, as_of, leader=leader, sort=sort, start=0, end=MAX_EXPORT,
                        with_total=False, max_rows=MAX_EXPORT, psych=psych, psych_ids=psych_ids,
                        caseload=caseload)["rows"]


# --- movement between colours -------------------------------------------------------------------
PERIODS = ("quarter", "year", "12m")  # the presets; "custom" is a from/to pair
EARLIEST = dt.date(2000, 1, 1)        # no custom period starts before this


class PeriodError(ValueError):
    """A custom period that cannot be measured (from not before to, not a date)."""


def quarter_start(day: dt.date) -> dt.date:
    """The first day of the calendar quarter holding ``day`` (1 Jan, 1 Apr, 1 Jul, 1 Oct)."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def year_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 1, 1)


def period_bounds(period: Any, start: Any, end: Any, today: dt.date) -> tuple[str, dt.date, dt.date]:
    """(period, from, to) of a movement view. A preset ("quarter", "year", "12m") runs from its start
    to today; "custom" needs ISO dates with from < to: a ``to`` after today is clamped to today and a
    ``from`` before 2000 to 1 January 2000. Any other period name is the quarter (a forged value).
    Raises :class:`PeriodError` for a custom pair that cannot be measured."""
    if period == "custom":
        try:
            first = dt.date.fromisoformat(start) if isinstance(start, str) else None
            last = dt.date.fromisoformat(end) if isinstance(end, str) else None
        except ValueError:
            raise PeriodError("not a date") from None
        if first is None or last is None:
            raise PeriodError("both dates are needed")
        first, last = max(first, EARLIEST), min(last, today)
        if first >= last:
            raise PeriodError("from must be before to")
        return "custom", first, last
    if period == "year":
        return "year", year_start(today), today
    if period == "12m":
        return "12m", _months_before(today, 12), today
    return "quarter", quarter_start(today), today


def _rule_changed(rows: list[tuple], first: int, introduced: dict[str, dt.date]) -> bool:
    """Whether a history row (at, level, rules version, cause) from index ``first`` on came with a new
    rules version. Since 0022 the row says so: ``cause == "rules"`` (written by the recompute that
    publishing a rules version runs, ``models.rule_versions.publish``). A row written before (cause
    NULL) counts when it was written under another version than the row before it, on the day that
    version was first applied. A level change is written only when the level changes, so an officer
    whose colour the update left alone keeps a row of the old version: a later change of health under
    the new version is not a rule change."""
    return any(rows[i][3] == "rules" if rows[i][3] is not None else
               (rows[i][2] != rows[i - 1][2] and _day(rows[i][0]) == introduced.get(rows[i][2]))
               for i in range(max(first, 1), len(rows)))


def _day(at) -> dt.date:
    return (at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))).date()


def movement(session: Session, scope_path: str | None, start: dt.date, end: dt.date,
             f: Filters | None = None, as_of: dt.date | None = None, psych: bool = True) -> dict:
    """How officers moved between colours from the start of ``start`` to the end of ``end``.

    The level at a date is the one in force then (the newest warning_history row before it);
    officers without one at ``start`` are "new", officers without one at ``end`` are not counted.
    The population is the page's filters that describe officers (unit, sex, age band, post type,
    exam band, taken as of ``as_of``) and the colour filter applied to the level at ``end``; the
    confirmed, reason and follow-up filters describe today's snapshot and do not apply.

    A move whose history carries a change of rules version (a row written under another rules
    version than the row before it, on the day that version was first applied: see
    :func:`_rule_changed`) is counted under "rule change", apart from the officers who improved or
    worsened. Without ``psych`` the level at ``end`` of an officer whose level then is still in force
    today is the open level (``models.psych``), as the named lists show it; the history keeps only
    the real level, so "before" and a level that has changed since are real levels. Returns {"matrix": [[before, after, n]] (all officers but rule changes),
    "rule_matrix": [[before, after, n]], "improved", "worsened", "unchanged", "new", "rule_change"}."""
    f = f or Filters()
    as_of = as_of or end
    since = dt.datetime.combine(start, dt.time.min)
    until = dt.datetime.combine(end, dt.time.max)
    who = (_from(select(OfficerStatus.officer_id), f)
           .where(*_conditions(f.population(), scope_path, as_of)).subquery("who"))
    rows = session.execute(
        select(WarningHistory.officer_id, WarningHistory.changed_at, WarningHistory.level,
               WarningHistory.rules_version, WarningHistory.cause)
        .join(who, who.c.officer_id == WarningHistory.officer_id)
        .where(WarningHistory.changed_at <= until)
        .order_by(WarningHistory.officer_id, WarningHistory.changed_at, WarningHistory.id)).all()
    by_officer: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_officer[row[0]].append((row[1], row[2], row[3], row[4]))
    opened: dict[int, tuple[str, object]] = {}  # officer -> (open level, newest history row)
    if not psych:
        newest = (select(WarningHistory.officer_id, func.max(WarningHistory.changed_at).label("at"))
                  .join(who, who.c.officer_id == WarningHistory.officer_id)
                  .group_by(WarningHistory.officer_id).subquery("newest"))
        opened = {oid: (lvl, at) for oid, lvl, at in session.execute(
            select(OfficerStatus.officer_id, OfficerStatus.open_level, newest.c.at)
            .join(newest, newest.c.officer_id == OfficerStatus.officer_id)
            .where(OfficerStatus.open_level != OfficerStatus.level))}
    introduced = {version: _day(at) for version, at in session.execute(
        select(WarningHistory.rules_version, func.min(WarningHistory.changed_at))
        .group_by(WarningHistory.rules_version)) if at is not None}
    health: dict[tuple[str, str], int] = defaultdict(int)
    rule: dict[tuple[str, str], int] = defaultdict(int)
    for oid, history in by_officer.items():
        before_rows = [i for i, (at, _lvl, _v, _c) in enumerate(history) if at < since]
        before = history[before_rows[-1]][1] if before_rows else "new"
        after = history[-1][1]
        if oid in opened and history[-1][0] == opened[oid][1]:  # the level in force today: its open level
            after = opened[oid][0]
        if f.levels and after not in f.levels:
            continue
        first_in_period = before_rows[-1] + 1 if before_rows else 0
        if before != "new" and before != after and _rule_changed(history, first_in_period, introduced):
            rule[(before, after)] += 1
        else:
            health[(before, after)] += 1
    better = sum(n for (b, a), n in health.items() if b in LEVEL_RANK and LEVEL_RANK[a] > LEVEL_RANK[b])
    worse = sum(n for (b, a), n in health.items() if b in LEVEL_RANK and LEVEL_RANK[a] < LEVEL_RANK[b])
    hq = select(func.min(WarningHistory.changed_at))
    if f.unit_path or scope_path:
        hq = hq.where(WarningHistory.unit_path.like(f"{f.unit_path or scope_path}%"))
    first = session.scalar(hq)
    return {"from": start.isoformat(), "to": end.isoformat(),
            "first_recorded": first.date().isoformat() if first else None,
            "matrix": [[b, a, n] for (b, a), n in sorted(health.items())],
            "rule_matrix": [[b, a, n] for (b, a), n in sorted(rule.items())],
            "improved": better, "worsened": worse,
            "unchanged": sum(n for (b, a), n in health.items() if b == a),
            "new": sum(n for (b, a), n in health.items() if b == "new"),
            "rule_change": sum(rule.values())}


# --- filter options ---------------------------------------------------------------------------
def filter_options(session: Session, scope_path: str | None, rules, psych: bool = False) -> dict:
    """Values the filter controls offer (and the only values Filters.parse accepts); the
    psychological rules only for a viewer with psychological access."""
    q = select(Officer.post_type).distinct().join(Unit, Unit.id == Officer.unit_id).where(Officer.active)
    if scope_path:
        q = q.where(Unit.path.like(f"{scope_path}%"))
    posts = sorted(p for p in session.scalars(q) if p)
    uq = select(Unit.code, Unit.name, Unit.name_en, Unit.depth, Unit.path).order_by(Unit.path)
    if scope_path:
        uq = uq.where(Unit.path.like(f"{scope_path}%"))
    units = [{"code": c, "name": n, "name_en": e or n, "depth": d} for c, n, e, d, _p in session.execute(uq)]
    rule_list = [{"id": r["id"], "level": r["level"], "name": r.get("name_zh", r["id"]),
                  "name_en": r.get("name_en", r["id"])} for r in rules.rules
                 if psych_rules.rule_filter_allowed(r["id"], psych_rules.psych_rule_ids(rules), psych)]
    return {"post_types": posts, "units": units, "rules": rule_list}
