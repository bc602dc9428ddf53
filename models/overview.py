"""Aggregates for the home page (the leaders' overview): counts over the status snapshot,
warning history, follow-ups and campaign participants, cut to a unit subtree."""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased

from models import followups
from models.participation import took_part
from models.schema import CampaignParticipant, FollowUp, Officer, OfficerStatus, Unit, WarningHistory
from models.suppression import Table
from models.unit_queries import invited_paths, status_scan
from models.vocab import LEVELS


def _in_scope(unit_path: str | None):
    return Unit.path.like(f"{unit_path}%") if unit_path else True


def overview_table(o: dict) -> Table:
    """What a leader may see of the overview, decided by ``models.suppression`` over one table:
    the officers by colour (and those without a status), examined or not, in a campaign or not,
    red+orange, the sub-units' officers and red+orange with the scope's own officers outside
    them, the colours at the quarter start, follow-ups (overdue or not), the monthly red+orange
    and the risk-factor counts. Keys: "officers", a level, "examined", "participants",
    ("before", level), ("sub", code, "officers" | "red_orange"), ("month", i), ("month", i, "red" | "orange"), ("factor", rule),
    "open", "overdue"."""
    t = Table()
    officers = t.add("officers", o["officers"])
    levels = [t.add(lvl, o["levels"][lvl]) for lvl in LEVELS]
    t.add("no_status", max(0, o["officers"] - sum(o["levels"].values())))
    t.sum_of(officers, [*levels, "no_status"])
    t.add("red_orange", o["levels"]["red"] + o["levels"]["orange"])
    t.sum_of("red_orange", ["red", "orange"])
    t.add("examined", o["examined"])
    t.add("not_examined", max(0, o["officers"] - o["examined"]))
    t.sum_of(officers, ["examined", "not_examined"])
    camp = o["campaign"]
    invited = camp.get("invited", camp["officers"])
    t.add("invited", invited)
    t.add("not_invited", max(0, camp["officers"] - invited))
    t.sum_of(officers, ["invited", "not_invited"])
    t.add("participants", camp["participants"])
    t.add("not_participants", max(0, invited - camp["participants"]))
    t.sum_of("invited", ["participants", "not_participants"])
    if o.get("level_change"):
        for lvl in LEVELS:
            t.add(("before", lvl), o["levels"][lvl] - o["level_change"][lvl])
    subs = o.get("sub_units") or []
    if subs:
        for u in subs:
            t.add(("sub", u["code"], "officers"), u["officers"])
            t.add(("sub", u["code"], "red_orange"), u["red_orange"])
            t.add(("sub", u["code"], "others"), u["officers"] - u["red_orange"])
            t.sum_of(("sub", u["code"], "officers"), [("sub", u["code"], "red_orange"), ("sub", u["code"], "others")])
        own_n = o["officers"] - sum(u["officers"] for u in subs)
        own_ro = o["levels"]["red"] + o["levels"]["orange"] - sum(u["red_orange"] for u in subs)
        t.add(("own", "officers"), max(0, own_n))
        t.add(("own", "red_orange"), max(0, own_ro))
        t.add(("own", "others"), max(0, own_n - own_ro))
        t.sum_of(("own", "officers"), [("own", "red_orange"), ("own", "others")])
        if own_n >= 0 and own_ro >= 0 and own_n >= own_ro:
            t.sum_of("officers", [*(("sub", u["code"], "officers") for u in subs), ("own", "officers")])
            t.sum_of("red_orange", [*(("sub", u["code"], "red_orange") for u in subs), ("own", "red_orange")])
    for i, m in enumerate(o.get("monthly") or []):
        if m["count"] is not None:
            t.add(("month", i), m["count"])
            t.add(("month", i, "red"), m["red"])
            t.add(("month", i, "orange"), m["orange"])
            t.sum_of(("month", i), [("month", i, "red"), ("month", i, "orange")])
    fu = o["follow_ups"]
    t.add("open", fu["open"])
    t.add("overdue", fu["overdue"])
    t.add("open_on_time", max(0, fu["open"] - fu["overdue"]))
    t.sum_of("open", ["overdue", "open_on_time"])
    for f in o.get("risk_factors") or []:
        t.add(("factor", f["rule"]), f["count"])
    return t.suppress()


# --- the leaders' overview (issue 7) ---------------------------------------------------------
RED_ORANGE = ("red", "orange")
NOT_RISK_FACTORS = {"multiple_yellow", "exam_overdue"}  # reasons, but not health risk factors


def _scoped_officers(unit_path: str | None):
    return select(Officer.id).join(Unit, Officer.unit_id == Unit.id).where(Officer.active, _in_scope(unit_path))


def _scoped(query, officer_id, unit_path: str | None):
    """``query`` cut to the active officers of the subtree by joining officer and unit on
    ``officer_id``: the database can start from the few rows it needs, where an
    ``IN (scoped officers)`` first lists every officer of the scope."""
    return (query.join(Officer, Officer.id == officer_id).join(Unit, Officer.unit_id == Unit.id)
            .where(Officer.active, _in_scope(unit_path)))


def rule_change_by_level(session: Session, unit_path: str | None, since: dt.datetime) -> dict[str, int]:
    """The part of each level's change since ``since`` that publishing a rules version caused: per level,
    the warning_history rows marked ``cause="rules"`` (``models.rule_impact.publish``) into it minus
    those out of it, for the active officers of the subtree. All zero when no rules were published."""
    into = dict(session.execute(_scoped(
        select(WarningHistory.level, func.count()).select_from(WarningHistory), WarningHistory.officer_id, unit_path)
        .where(WarningHistory.cause == "rules", WarningHistory.changed_at >= since).group_by(WarningHistory.level)).all())
    out_of = dict(session.execute(_scoped(
        select(WarningHistory.previous_level, func.count()).select_from(WarningHistory), WarningHistory.officer_id,
        unit_path).where(WarningHistory.cause == "rules", WarningHistory.changed_at >= since)
        .group_by(WarningHistory.previous_level)).all())
    return {lvl: into.get(lvl, 0) - out_of.get(lvl, 0) for lvl in LEVELS}


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def history_start(session: Session) -> dt.datetime | None:
    """When the warning history begins (the first snapshot); before it, past levels are unknown."""
    return session.scalar(select(func.min(WarningHistory.changed_at)))


def last_recorded_before(session: Session, when: dt.datetime) -> dt.datetime | None:
    """The newest warning-history record before ``when``: the colours in force at ``when`` are those the
    snapshot recorded then (None: the history begins after ``when``)."""
    return session.scalar(select(func.max(WarningHistory.changed_at)).where(WarningHistory.changed_at < when))


def levels_at(session: Session, unit_path: str | None, when: dt.datetime) -> dict[str, int]:
    """Count of each level in force just before ``when`` (last warning_history change per officer,
    the later id on a tie): each change before ``when`` with no later one before ``when``, an
    indexed NOT EXISTS per change rather than ranking every officer's history."""
    later = aliased(WarningHistory)
    superseded = select(later.id).where(
        later.officer_id == WarningHistory.officer_id, later.changed_at < when,
        or_(later.changed_at > WarningHistory.changed_at,
            and_(later.changed_at == WarningHistory.changed_at, later.id > WarningHistory.id))).exists()
    rows = session.execute(select(WarningHistory.level, func.count())
                           .where(WarningHistory.changed_at < when, ~superseded,
                                  WarningHistory.officer_id.in_(_scoped_officers(unit_path)))
                           .group_by(WarningHistory.level))
    out = {lvl: 0 for lvl in LEVELS}
    out.update({lvl: n for lvl, n in rows if lvl in out})
    return out


def top_risk_factors(session: Session, unit_path: str | None, rules, k: int = 5) -> list[dict]:
    """The ``k`` rules that fire for the most officers in the scope (from the snapshot's rule_ids,
    read from its covering index).

    Officers share a few hundred distinct rule combinations, so the database groups by
    the ``,a,b,`` string and the rules are counted from those groups."""
    ids = [r["id"] for r in rules.raw["rules"] if r["id"] not in NOT_RISK_FACTORS]
    rows = session.execute(select(OfficerStatus.rule_ids, func.count()).select_from(OfficerStatus)
                           .join(Officer, Officer.id == OfficerStatus.officer_id)
                           .join(Unit, Officer.unit_id == Unit.id)
                           .where(status_scan(), Officer.active, _in_scope(unit_path))
                           .group_by(OfficerStatus.rule_ids))
    counts = dict.fromkeys(ids, 0)
    for combo, n in rows:
        for rid in (combo or "").strip(",").split(","):
            if rid in counts:
                counts[rid] += n
    by_id = {r["id"]: r for r in rules.raw["rules"]}
    ranked = sorted(((n, rid) for rid, n in counts.items() if n), key=lambda t: (-t[0], ids.index(t[1])))
    return [{"rule": rid, "count": n, "level": by_id[rid]["level"], "name_zh": by_id[rid]["name_zh"],
             "name_en": by_id[rid]["name_en"]} for n, rid in ranked[:k]]


def follow_up_counts(session: Session, unit_path: str | None, today: dt.date) -> dict[str, int]:
    """Follow-ups not closed, and those of them past their due date."""
    open_n = session.scalar(_scoped(select(func.count()).select_from(FollowUp), FollowUp.officer_id, unit_path)
                            .where(FollowUp.status != "closed"))
    return {"open": open_n or 0, "overdue": followups.overdue_count(session, unit_path, today)}


def path_counts(session: Session, unit_path: str | None) -> list[tuple]:
    """(unit path, officers) for the active officers of the subtree."""
    return [tuple(r) for r in session.execute(
        select(Unit.path, func.count()).select_from(Officer).join(Unit, Officer.unit_id == Unit.id)
        .where(Officer.active, _in_scope(unit_path)).group_by(Unit.path))]


def path_participants(session: Session, unit_path: str | None, year: int) -> list[tuple]:
    """(unit path, officers with any campaign activity in ``year``) for the subtree, from the
    (officer, year) pairs the database keeps (``models.participation``): the year's entries
    are dozens per participant, and a seek per officer into them cost a quarter second."""
    return [tuple(r) for r in session.execute(
        select(Unit.path, func.count()).select_from(Officer).join(Unit, Officer.unit_id == Unit.id)
        .join(CampaignParticipant, took_part(year))
        .where(Officer.active, _in_scope(unit_path)).group_by(Unit.path))]


def path_levels(session: Session, unit_path: str | None, year: int, psych: bool = True) -> list[tuple]:
    """(unit path, warning level, officers, examined in ``year``) for the subtree, driven from
    a covering index of the snapshot (``status_scan``) instead of the wide snapshot rows.

    "Examined" reads the snapshot's last exam date, which every exam batch recomputes. That
    is exact for the current year: an officer examined this year has a last exam date in
    it. For a past year it would miss officers examined again since, so the overview asks
    only for the current one (``/units`` reads the exams themselves)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    examined = func.sum(case((OfficerStatus.last_exam_date.between(start, end), 1), else_=0))
    level = OfficerStatus.level if psych else OfficerStatus.open_level  # the colours /warnings shows this viewer
    return [tuple(r) for r in session.execute(
        select(Unit.path, level, func.count(), examined)
        .select_from(OfficerStatus).join(Officer, Officer.id == OfficerStatus.officer_id)
        .join(Unit, Officer.unit_id == Unit.id)
        .where(status_scan(), Officer.active, _in_scope(unit_path))
        .group_by(Unit.path, level))]


def merge_unit_rows(counts: list[tuple], participants: list[tuple], levels: list[tuple]) -> list[tuple]:
    """The three per-path results as (unit path, level, officers, examined, took part) rows:
    level is None on the per-path rows that carry the exam and campaign counts (officers
    counted once there, by level in the others)."""
    took = {path: n for path, n in participants}
    examined: dict[str, int] = {}
    for path, _level, _n, done in levels:
        examined[path] = examined.get(path, 0) + (done or 0)
    return ([(path, None, n, examined.get(path, 0), took.get(path, 0)) for path, n in counts]
            + [(path, level, n, 0, 0) for path, level, n, _done in levels])


def unit_level_rows(session: Session, unit_path: str | None, year: int) -> list[tuple]:
    """(unit path, level, officers, examined in ``year``, took part in a campaign in ``year``)
    for the active officers of the subtree (see ``merge_unit_rows``; ``year`` the current
    one, see ``path_levels``). The overview runs its three queries side by side; this is
    the same in one go."""
    return merge_unit_rows(path_counts(session, unit_path), path_participants(session, unit_path, year),
                           path_levels(session, unit_path, year))


def campaign_participation(session: Session, unit_path: str | None, year: int, rows=None) -> dict:
    """健康活动参与率: officers with any campaign activity in ``year``, of the officers of the
    scope's units invited to a campaign that year (``unit_queries.invited_paths``, as /units);
    no share at all where no unit was invited."""
    rows = rows if rows is not None else unit_level_rows(session, unit_path, year)
    officers = sum(r[2] for r in rows if r[1] is None)
    paths = invited_paths(session, year)
    invited = sum(r[2] for r in rows if r[1] is None and any(r[0].startswith(p) for p in paths))
    took_part = sum(r[4] for r in rows)
    return {"participants": took_part, "officers": officers, "invited": invited,
            "share": took_part / invited if invited else None}


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    out, y, m = [], today.year, today.month
    for _ in range(months):
        out.append(dt.date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def red_orange_by_month(session: Session, unit_path: str | None, today: dt.date, months: int = 12) -> list[dict]:
    """Red and orange officers at the end of each of the last ``months`` months (the current month: now),
    each colour apart (``red``, ``orange``) and together (``count``).

    Built from the changes into and out of each colour in warning_history; a month
    that ended before the history began has None (unknown, not zero)."""
    starts = _month_starts(today, months)
    ends = [dt.datetime.combine(dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1), dt.time()) for m in starts]
    begins = history_start(session)
    by_level = {}
    for level in RED_ORANGE:
        into = and_(WarningHistory.level == level,
                    or_(WarningHistory.previous_level.is_(None), WarningHistory.previous_level != level))
        out_of = and_(WarningHistory.previous_level == level, WarningHistory.level != level)
        delta = case((into, 1), else_=-1)
        # one row: the net change up to each month's end, summed in the database
        sums = select(*[func.coalesce(func.sum(case((WarningHistory.changed_at < end, delta), else_=0)), 0)
                        for end in ends]).select_from(WarningHistory)
        by_level[level] = session.execute(_scoped(sums, WarningHistory.officer_id, unit_path).where(or_(into, out_of))).one()
    out = []
    for i, (start, end) in enumerate(zip(starts, ends)):
        known = begins is not None and begins < end
        red, orange = (int(by_level["red"][i]), int(by_level["orange"][i])) if known else (None, None)
        out.append({"month": start.strftime("%Y-%m"), "red": red, "orange": orange,
                    "count": red + orange if known else None})
    return out


def sub_units(session: Session, unit_path: str | None, rows=None) -> list[dict]:
    """The scope root's direct sub-units with officers and red+orange counts (overview drill-down cards)."""
    root = session.scalar(select(Unit).where(Unit.path == unit_path)) if unit_path else \
        session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    if root is None:
        return []
    children = session.execute(select(Unit.code, Unit.name, Unit.name_en, Unit.path, Unit.level, Unit.id)
                               .where(Unit.parent_id == root.id).order_by(Unit.path)).all()
    parents = set(session.scalars(select(Unit.parent_id).where(Unit.path.like(f"{root.path}%"))))
    rows = rows if rows is not None else unit_level_rows(session, root.path, dt.date.today().year)
    out = []
    for code, name, name_en, path, level, uid in children:
        mine = [r for r in rows if r[0].startswith(path)]
        n = sum(r[2] for r in mine if r[1] is None)
        ro = sum(r[2] for r in mine if r[1] in RED_ORANGE)
        out.append({"code": code, "name": name, "name_en": name_en or name, "level": level, "officers": n,
                    "red_orange": ro, "share": ro / n if n else None, "has_children": uid in parents})
    return out


def _rule_change_or_none(session: Session, unit_path: str | None, since: dt.datetime) -> dict[str, int] | None:
    changes = rule_change_by_level(session, unit_path, since)
    return changes if any(changes.values()) else None


def leader_overview(session: Session, unit_path: str | None, today: dt.date, rules=None, psych: bool = True) -> dict:
    """Everything on the leaders' home page for one scope: KPIs, level changes since the
    start of the quarter, top risk factors, follow-ups, campaign participation, the
    red+orange count by month and the sub-units. Without ``psych`` the colours are the open
    levels (``models.psych``), as /warnings shows them to the same viewer, and this month's
    red+orange is theirs too."""
    from models.rule_versions import in_force

    rules = rules or in_force(session)
    q_start = dt.datetime.combine(quarter_start(today), dt.time())
    begins = history_start(session)
    known_before = begins is not None and begins < q_start
    # the largest first, so the two readers finish close together
    before, levels, risk_factors, monthly, participants, counts, follow_ups = side_by_side(
        session,
        lambda s: levels_at(s, unit_path, q_start) if known_before else None,
        lambda s: path_levels(s, unit_path, today.year, psych),
        lambda s: top_risk_factors(s, unit_path, rules),
        lambda s: red_orange_by_month(s, unit_path, today),
        lambda s: path_participants(s, unit_path, today.year),
        lambda s: path_counts(s, unit_path),
        lambda s: follow_up_counts(s, unit_path, today))
    rows = merge_unit_rows(counts, participants, levels)
    officers = sum(r[2] for r in rows if r[1] is None)
    examined = sum(r[3] for r in rows)
    levels = {lvl: sum(r[2] for r in rows if r[1] == lvl) for lvl in LEVELS}
    if not psych and monthly and monthly[-1]["count"] is not None:
        monthly[-1] = {**monthly[-1], "red": levels["red"], "orange": levels["orange"],
                       "count": levels["red"] + levels["orange"]}
    return {
        "officers": officers, "examined": examined, "year": today.year,
        "coverage": examined / officers if officers else None, "levels": levels,
        "quarter_start": q_start.date().isoformat(),
        "history_start": begins.date().isoformat() if begins else None,
        # the day the colours in force at the quarter start were last recorded (None: history begins later,
        # and no change since the quarter start is shown rather than one from a later date)
        "quarter_start_recorded": _day_or_none(last_recorded_before(session, q_start)) if known_before else None,
        "level_change": {lvl: levels[lvl] - before[lvl] for lvl in LEVELS} if before else None,
        # of which a new rules version, not officers getting better or worse (None: no rules published)
        "rule_change": _rule_change_or_none(session, unit_path, q_start) if before else None,
        "risk_factors": risk_factors,
        "follow_ups": follow_ups,
        "campaign": campaign_participation(session, unit_path, today.year, rows),
        "monthly": monthly,
        "sub_units": sub_units(session, unit_path, rows),
    }


def _day_or_none(at: dt.datetime | None) -> str | None:
    return at.date().isoformat() if at else None


def side_by_side(session: Session, *jobs: Callable[[Session], Any]) -> list[Any]:
    """The results of independent read-only ``jobs``, run two at a time, each on its own
    connection to the session's database (SQLite and PostgreSQL both run two queries at
    once on two cores; the overview's aggregates are each a full scan of the scope)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine):  # a session on one connection: that connection, in turn
        return [job(session) for job in jobs]

    def run(job):
        with Session(bind) as s:
            return job(s)

    # a pool per call: no thread outlives the request (a test server stops its threads by force)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="overview") as readers:
        return list(readers.map(run, jobs))
