"""Per-unit indicator counts for the unit comparison page (SQL GROUP BY, then models.comparison).

One query per (indicator, year) counts, for every officer unit path, age band
and sex: the officers in the denominator (n), the events (or the sum and sum of
squares of a value, for mean China-PAR). Rolling those few hundred rows up to
the compared units and standardising happens in Python.

Which data a year uses (what the page's method note says):

* The current year reads the status snapshot (``officer_status``): each
  officer's latest value per measure, the same numbers the warning pages show.
* A past year is evaluated from that year's own data: the last reading of each
  measure dated in the year (exam, kiosk or screening), the warning level in
  force on 31 December (the last ``warning_history`` change up to then), and
  China-PAR recomputed from that year's readings with the snapshot's defaults.
* A case (``models.prevalence``): an exam or screening value at the cut-off; a kiosk or
  self-measured value only when readings met the cut-off on two separate days (the snapshot:
  in the 365 days to its date; a past year: in that year); a self-reported diagnosis or
  treatment of hypertension or diabetes.
* Prevalence counts only officers with the measure (denominator = measured: officers
  whose guideline class of that measure exists); who is measured and who is a case is
  defined once in ``models.prevalence``, for the snapshot flags and this SQL alike;
  red+orange share counts every officer with a level; exam coverage and
  campaign participation count every active officer (for past years those
  hired by the end of that year).
* Units are the units of today: officers are counted where they serve now.
* Age bands (<30, 30–39, 40–49, 50+) are taken at the reference date: today for
  the current year, 31 December for a past year. The standard population is the
  whole force's active officers by band and sex on that date.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from models import comparison as stats
from models import prevalence
from models.officers import age_on
from models.risk import china_par_10y
from models.schema import Campaign, CampaignParticipant, Exam, Observation, Officer, OfficerStatus, Unit, WarningHistory
from models.status_bits import MEASURED_BITS, PHQ9_TEN_BIT
from models.suppression import Table
from models.vocab import SMALL_GROUP

AGE_BANDS = ("<30", "30–39", "40–49", "50+")
AGE_CUTS = (30, 40, 50)
LEVEL_ORDER = ("city", "district", "department", "station")


@dataclass(frozen=True)
class Indicator:
    key: str
    zh: str
    en: str
    kind: str = "proportion"  # proportion | mean
    higher_is_worse: bool = True
    codes: tuple[str, ...] = ()


def _codes(key: str) -> tuple[str, ...]:
    return prevalence.DEFINITIONS[key].codes


INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("hypertension", "高血压患病率", "Hypertension", codes=_codes("hypertension")),
    Indicator("diabetes", "糖尿病患病率", "Diabetes", codes=_codes("diabetes")),
    Indicator("dyslipidemia", "血脂异常患病率", "Dyslipidaemia", codes=_codes("dyslipidemia")),
    Indicator("obesity", "肥胖率（BMI≥28）", "Obesity (BMI ≥ 28)", codes=_codes("obesity")),
    Indicator("central_obesity", "中心性肥胖率", "Central obesity", codes=_codes("central_obesity")),
    Indicator("hyperuricemia", "高尿酸血症患病率", "Hyperuricaemia", codes=_codes("hyperuricemia")),
    Indicator("red_orange", "红橙预警占比", "Red + orange share"),
    Indicator("china_par", "平均 China-PAR 10年风险", "Mean China-PAR 10-year risk", kind="mean",
              codes=("sbp", "tc", "hdl", "waist_cm", *_codes("diabetes"))),
    Indicator("phq9", "PHQ-9≥10 占比", "PHQ-9 ≥ 10 share", codes=_codes("phq9")),
    Indicator("exam_coverage", "体检覆盖率", "Exam coverage", higher_is_worse=False),
    Indicator("campaign", "健康活动参与率", "Campaign participation", higher_is_worse=False),
)}


def _years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def reference_date(year: int, as_of: dt.date) -> dt.date:
    return as_of if year >= as_of.year else dt.date(year, 12, 31)


def _band(ref: dt.date):
    """Age band index at ``ref`` from the birth date (born after ref − 30 y means under 30)."""
    return case(*[(Officer.birth_date > _years_back(ref, cut), i) for i, cut in enumerate(AGE_CUTS)],
                else_=len(AGE_CUTS))


def _year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)


def _roster(ref: dt.date, current: bool):
    """Active officers (for a past year: those hired by its end)."""
    cond = Officer.active
    if not current:
        cond = and_(cond, or_(Officer.hire_date.is_(None), Officer.hire_date <= ref))
    return cond


def _one(flag):
    return case((flag, 1), else_=0)


def _grouped(session: Session, cols, ref: dt.date, where, joins=()) -> list[tuple]:
    """Rows (unit path, band, sex, n, sum, sum of squares) grouped by path, band and sex."""
    band = _band(ref).label("band")
    q = select(Unit.path, band, Officer.sex, *cols).select_from(Officer).join(Unit, Officer.unit_id == Unit.id)
    for target, on in joins:
        q = q.join(target, on)
    q = q.where(*where).group_by(Unit.path, band, Officer.sex)
    return [tuple(r) for r in session.execute(q)]


def status_scan():
    """Always true (the level is never NULL), but it lets SQLite drive a join from
    ``ix_officer_status_cover`` (level first) instead of looking up each wide snapshot
    row by officer id; a query that reads only the index's columns never touches the rows."""
    return OfficerStatus.level >= ""


def _bit(mask: int):
    return OfficerStatus.measured.op("&")(mask) != 0


def _snapshot_terms(ind: Indicator):
    """(measured, event) SQL conditions on the status snapshot: measured means the guideline
    class of the measure exists (the ``measured`` bits, derived from ``classes`` on write)."""
    measured = _bit(MEASURED_BITS[ind.key]) if ind.key in MEASURED_BITS else literal(True)
    flags = {
        "hypertension": lambda: OfficerStatus.hypertension, "diabetes": lambda: OfficerStatus.diabetes,
        "dyslipidemia": lambda: OfficerStatus.dyslipidemia, "obesity": lambda: OfficerStatus.obesity,
        "central_obesity": lambda: OfficerStatus.central_obesity,
        "hyperuricemia": lambda: OfficerStatus.hyperuricemia,
        "red_orange": lambda: OfficerStatus.level.in_(("red", "orange")),
        "phq9": lambda: _bit(PHQ9_TEN_BIT),
    }
    return measured, flags[ind.key]()


def _grouped_snapshot(session: Session, cols, ref: dt.date, roster) -> list[tuple]:
    """``_grouped`` over the snapshot, reading only ``ix_officer_status_cover`` of it."""
    band = _band(ref).label("band")
    q = (select(Unit.path, band, Officer.sex, *cols).select_from(OfficerStatus)
         .join(Officer, Officer.id == OfficerStatus.officer_id).join(Unit, Officer.unit_id == Unit.id)
         .where(status_scan(), roster).group_by(Unit.path, band, Officer.sex))
    return [tuple(r) for r in session.execute(q)]


def _year_values(codes: tuple[str, ...], year: int):
    """Per officer, the last value of each code dated in ``year`` (one column per code) and the
    source kind of that reading (``<code>_kind``)."""
    start, end = _year_range(year)
    ranked = (select(Observation.officer_id, Observation.code, Observation.value, Observation.source_kind,
                     func.row_number().over(partition_by=(Observation.officer_id, Observation.code),
                                            order_by=Observation.observed_at.desc()).label("rn"))
              .where(Observation.code.in_(codes),
                     Observation.observed_at >= dt.datetime.combine(start, dt.time()),
                     Observation.observed_at < dt.datetime.combine(end, dt.time()))
              .subquery())
    return (select(ranked.c.officer_id,
                   *[func.max(case((ranked.c.code == c, ranked.c.value))).label(c) for c in codes],
                   *[func.max(case((ranked.c.code == c, ranked.c.source_kind))).label(f"{c}_kind") for c in codes])
            .where(ranked.c.rn == 1).group_by(ranked.c.officer_id).subquery())


def _year_days(codes: tuple[str, ...], year: int):
    """Per officer, the separate days in ``year`` each prevalence criterion was met
    (``models.prevalence.high_days_columns``): device readings count only on two days."""
    start, end = _year_range(year)
    cols = prevalence.high_days_columns(Observation.code, Observation.value, func.date(Observation.observed_at),
                                        Officer.sex)
    return (select(Observation.officer_id, *cols).join(Officer, Officer.id == Observation.officer_id)
            .where(Observation.code.in_(codes),
                   Observation.observed_at >= dt.datetime.combine(start, dt.time()),
                   Observation.observed_at < dt.datetime.combine(end, dt.time()))
            .group_by(Observation.officer_id).subquery())


def _past_terms(ind: Indicator, v, days):
    """(measured, case) SQL conditions on one year's values (``models.prevalence``, as the snapshot flags)."""
    return prevalence.sql_terms(ind.key, lambda code: v.c[code], Officer.sex, kind=lambda code: v.c[f"{code}_kind"],
                                days=lambda name: days.c[name])


def strata_rows(session: Session, indicator: str, year: int, as_of: dt.date) -> list[tuple]:
    """(unit path, band, sex, n, sum, sum of squares) for the whole force, one indicator and year."""
    ind = INDICATORS[indicator]
    ref = reference_date(year, as_of)
    current = year >= as_of.year
    roster = _roster(ref, current)
    start, end = _year_range(year)
    if ind.key in ("exam_coverage", "campaign"):
        if ind.key == "exam_coverage":
            done = select(Exam.officer_id).where(Exam.exam_date >= start, Exam.exam_date < end)
        else:
            done = select(CampaignParticipant.officer_id).where(CampaignParticipant.year == year)
            invited = invited_paths(session, year)
            if not invited:  # no campaign ran that year: no data, not 0 %
                return []
            # only officers of units invited to a campaign that year: the rate and the benchmark
            # are over those who could take part (an uninvited unit has no rate at all)
            roster = and_(roster, or_(*[Unit.path.like(f"{p}%") for p in invited]))
        ev = func.sum(_one(Officer.id.in_(done)))
        return _grouped(session, [func.count(), ev, ev], ref, [roster])
    if current:
        if ind.key == "china_par":
            par = OfficerStatus.china_par
            cols = [func.count(par), func.coalesce(func.sum(par), 0.0), func.coalesce(func.sum(par * par), 0.0)]
        else:
            # the snapshot's flags are only ever set from a measured value, so the event needs no
            # second look at the measured bits
            measured, event = _snapshot_terms(ind)
            ev = func.sum(_one(event))
            cols = [func.sum(_one(measured)), ev, ev]
        return _grouped_snapshot(session, cols, ref, roster)
    if ind.key == "red_orange":
        ranked = (select(WarningHistory.officer_id, WarningHistory.level,
                         func.row_number().over(partition_by=WarningHistory.officer_id,
                                                order_by=(WarningHistory.changed_at.desc(), WarningHistory.id.desc()))
                         .label("rn"))
                  .where(WarningHistory.changed_at < dt.datetime.combine(end, dt.time())).subquery())
        ev = func.sum(_one(ranked.c.level.in_(("red", "orange"))))
        return _grouped(session, [func.count(), ev, ev], ref, [roster, ranked.c.rn == 1],
                        [(ranked, ranked.c.officer_id == Officer.id)])
    v = _year_values(ind.codes, year)
    if ind.key == "china_par":
        return _past_china_par(session, v, ref, roster)
    days = _year_days(ind.codes, year)
    measured, event = _past_terms(ind, v, days)
    ev = func.sum(_one(event))
    return _grouped(session, [func.sum(_one(measured)), ev, ev], ref, [roster],
                    [(v, v.c.officer_id == Officer.id), (days, days.c.officer_id == Officer.id)])


def invited_paths(session: Session, year: int) -> list[str]:
    """Unit paths invited to any campaign that ran in ``year`` (campaign participation is measured
    over their officers only)."""
    start, end = _year_range(year)
    ids = set()
    for unit_ids, in session.execute(select(Campaign.scope_unit_ids)
                                     .where(Campaign.start_date < end, Campaign.end_date >= start)):
        ids.update(i for i in (unit_ids or []) if isinstance(i, int))
    if not ids:
        return []
    return sorted(session.scalars(select(Unit.path).where(Unit.id.in_(ids))))


def _past_china_par(session: Session, v, ref: dt.date, roster) -> list[tuple]:
    """China-PAR from one year's readings, with the snapshot's defaults (non-smoker, untreated,
    south, urban, no family history; diabetes from FPG, 2-h OGTT or HbA1c in the diabetes range)."""
    rows = session.execute(
        select(Unit.path, Officer.sex, Officer.birth_date, v.c.sbp, v.c.tc, v.c.hdl, v.c.waist_cm, v.c.fpg, v.c.hba1c,
               v.c.ogtt2h)
        .select_from(Officer).join(Unit, Officer.unit_id == Unit.id).join(v, v.c.officer_id == Officer.id)
        .where(roster, v.c.sbp.is_not(None), v.c.tc.is_not(None), v.c.hdl.is_not(None), v.c.waist_cm.is_not(None)))
    acc: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for path, sex, birth, sbp, tc, hdl, waist, fpg, a1c, ogtt in rows:
        age = age_on(birth, ref)
        pct = china_par_10y(sex=sex, age=age, sbp=sbp, bp_treated=False, tc=tc, hdl=hdl, waist=waist, smoker=False,
                            diabetes=prevalence.event("diabetes", {"fpg": fpg, "hba1c": a1c, "ogtt2h": ogtt}),
                            north=False, urban=True,
                            family_history=False)
        if pct is None:
            continue
        band = sum(age >= cut for cut in AGE_CUTS)
        a = acc[(path, band, sex)]
        a[0] += 1
        a[1] += pct
        a[2] += pct * pct
    return [(k[0], k[1], k[2], *a) for k, a in acc.items()]


def standard_population(session: Session, ref: dt.date, current: bool = True) -> dict[tuple[int, str], int]:
    """The whole force's active officers by (age band, sex) at ``ref``: the standard population."""
    band = _band(ref).label("band")
    rows = session.execute(select(band, Officer.sex, func.count()).where(_roster(ref, current))
                           .group_by(band, Officer.sex))
    return {(b, sex): n for b, sex, n in rows}


# --- units -----------------------------------------------------------------------------------
def compared_units(session: Session, root_path: str, level: str) -> list[dict]:
    """Units of ``level`` inside the root's subtree (not the root itself), with whether they have sub-units."""
    units = session.execute(select(Unit.code, Unit.name, Unit.name_en, Unit.path, Unit.level, Unit.depth)
                            .where(Unit.path.like(f"{root_path}%"), Unit.path != root_path)).all()
    parents = {p.rsplit("/", 2)[0] + "/" for _, _, _, p, _, _ in units}
    return [{"code": c, "name": n, "name_en": e or n, "path": p, "has_children": p in parents}
            for c, n, e, p, lvl, _ in sorted(units, key=lambda u: u[3]) if lvl == level]


def level_options(session: Session, root_path: str) -> list[str]:
    """The levels found below the root, nearest first (e.g. district, department, station)."""
    rows = session.execute(select(Unit.level, func.min(Unit.depth))
                           .where(Unit.path.like(f"{root_path}%"), Unit.path != root_path).group_by(Unit.level)).all()
    return [lvl for lvl, _ in sorted(rows, key=lambda r: (r[1], LEVEL_ORDER.index(r[0]) if r[0] in LEVEL_ORDER else 9))]


def data_years(session: Session, as_of: dt.date) -> list[int]:
    """Years that have exams, up to the current year (newest first)."""
    first = session.scalar(select(func.min(Exam.exam_date)))
    start = first.year if first else as_of.year
    return list(range(as_of.year, start - 1, -1))


def breadcrumb(session: Session, scope_path: str | None, root_path: str) -> list[dict]:
    """The units from the caller's scope root down to ``root_path`` (for drilling back up)."""
    parts = [p for p in root_path.strip("/").split("/")]
    paths = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    paths = [p for p in paths if scope_path is None or p.startswith(scope_path)]
    rows = {p: (c, n, e) for c, n, e, p in session.execute(
        select(Unit.code, Unit.name, Unit.name_en, Unit.path).where(Unit.path.in_(paths)))}
    return [{"code": rows[p][0], "name": rows[p][1], "name_en": rows[p][2] or rows[p][1]} for p in paths if p in rows]


def comparison_choices(session: Session, scope_path: str | None, root_path: str, as_of: dt.date) -> dict:
    """What the page's pickers offer below this root: levels, years, and the way back up."""
    return {"levels": level_options(session, root_path), "years": data_years(session, as_of),
            "breadcrumb": breadcrumb(session, scope_path, root_path)}


# --- the comparison ---------------------------------------------------------------------------
def _roll_up(rows: list[tuple], units: list[dict]) -> dict[str, dict]:
    """Sum leaf-path strata rows into the compared units: {unit path: {(band, sex): [n, s, ss]}}."""
    targets = {u["path"] for u in units}
    out: dict[str, dict] = {u["path"]: defaultdict(lambda: [0, 0.0, 0.0]) for u in units}
    for path, band, sex, n, s, ss in rows:
        parts = path.strip("/").split("/")
        for i in range(len(parts), 0, -1):
            anc = "/" + "/".join(parts[:i]) + "/"
            if anc in targets:
                acc = out[anc][(band, sex)]
                acc[0] += n or 0
                acc[1] += s or 0
                acc[2] += ss or 0
                break
    return out


def _summarise(ind: Indicator, strata: dict, standard: dict, pooled_var: float | None) -> dict:
    n = sum(v[0] for v in strata.values())
    s = sum(v[1] for v in strata.values())
    ss = sum(v[2] for v in strata.values())
    if ind.kind == "mean":
        crude = stats.mean_ci(n, s, ss)
        std, var = stats.standardised_mean(strata, standard, pooled_var)
    else:
        crude = stats.wilson(s, n)
        two = {k: (v[0], v[1]) for k, v in strata.items()}
        std = stats.direct_standardised(two, standard)
        var = stats.dsr_variance(two, standard)
    return {"n": int(n), "events": s, "sum_sq": ss, "crude": crude, "std": std, "std_var": var}


def unit_comparison(session: Session, root_path: str, level: str, indicator: str, year: int, as_of: dt.date,
                    rate: str = "standardised", suppress: bool = False) -> dict:
    """Every unit of ``level`` below ``root_path`` on one indicator and year: n, crude and
    standardised rates with 95% CIs, position against funnel limits around the force rate,
    the funnel's limit lines and a chi-square test of heterogeneity.

    ``suppress`` (leaders): what a row shows is decided by ``models.suppression`` over one table
    (each unit's officers = cases + the rest, and the units' sums when they make up the force):
    a row whose officers or cases are hidden gets no numbers at all (a rate times the officers
    would give the cases back), and event counts are left out of every row."""
    ind = INDICATORS[indicator]
    ref = reference_date(year, as_of)
    rows = strata_rows(session, indicator, year, as_of)
    standard = standard_population(session, ref, current=year >= as_of.year)
    force_strata: dict = defaultdict(lambda: [0, 0.0, 0.0])
    for _path, band, sex, n, s, ss in rows:
        acc = force_strata[(band, sex)]
        acc[0] += n or 0
        acc[1] += s or 0
        acc[2] += ss or 0
    fn = sum(v[0] for v in force_strata.values())
    pooled_var = None
    if ind.kind == "mean" and fn > 1:
        fs = sum(v[1] for v in force_strata.values())
        pooled_var = max(sum(v[2] for v in force_strata.values()) - fs * fs / fn, 0.0) / (fn - 1)
    force = _summarise(ind, force_strata, standard, pooled_var)
    shown = "crude" if rate == "crude" else "std"
    centre = force[shown].value
    spread = pooled_var ** 0.5 if pooled_var else None

    units = compared_units(session, root_path, level)
    per_unit = _roll_up(rows, units)
    out_rows, het_in = [], []
    for u in units:
        summ = _summarise(ind, per_unit[u["path"]], standard, pooled_var)
        n = summ["n"]
        value = summ[shown].value
        row = {**u, "n": n, "suppressed": False, "_events": summ["events"],
               "crude": summ["crude"].value, "crude_lo": summ["crude"].lo, "crude_hi": summ["crude"].hi,
               "std": summ["std"].value, "std_lo": summ["std"].lo, "std_hi": summ["std"].hi,
               "coverage": summ["std"].coverage, "value": value, "position": None,
               "events": None if suppress or ind.kind == "mean" else int(summ["events"])}
        if n:
            het_in.append(summ)
        out_rows.append(row)
    if centre is not None:
        for row, pos in zip(out_rows, stats.positions([r["value"] for r in out_rows], [r["n"] for r in out_rows],
                                                      ind.kind, centre, spread)):
            row["position"] = pos
    if suppress:
        _suppress_rows(out_rows, force["n"], ind.kind)
    for row in out_rows:
        row.pop("_events", None)
        if row["suppressed"]:
            row.update({k: None for k in ("n", "crude", "crude_lo", "crude_hi", "std", "std_lo", "std_hi",
                                          "coverage", "value", "position")})

    if shown == "std":
        het = stats.cochran_q([h["std"].value for h in het_in], [h["std_var"] for h in het_in])
    elif ind.kind == "mean":
        het = stats.chi_square_means([h["n"] for h in het_in], [h["events"] for h in het_in],
                                     [h["sum_sq"] for h in het_in])
    else:
        het = stats.chi_square_proportions([h["events"] for h in het_in], [h["n"] for h in het_in])
    visible = [r["n"] for r in out_rows if r["n"]]
    # the limit lines start a little left of the smallest unit (never below 5 officers)
    funnel = (stats.funnel_curve(ind.kind, centre, max(visible), spread,
                                 n_min=max(SMALL_GROUP, int(min(visible) * 0.6)))
              if visible and centre is not None else None)
    return {
        "indicator": ind.key, "kind": ind.kind, "higher_is_worse": ind.higher_is_worse, "year": year,
        "level": level, "rate": "crude" if shown == "crude" else "standardised",
        "current": year >= as_of.year, "reference_date": ref.isoformat(),
        "force": {"n": force["n"], "crude": force["crude"].value, "std": force["std"].value, "centre": centre,
                  "sd": spread},
        "rows": out_rows, "funnel": funnel,
        "heterogeneity": None if het is None else {"statistic": het.statistic, "df": het.df, "p": het.p_value,
                                                   "method": het.method},
        "suppressed": sum(1 for r in out_rows if r["suppressed"]),
    }


def _suppress_rows(rows: list[dict], force_n: int, kind: str) -> None:
    """Mark the rows a leader may not read (``suppressed``): one suppression table over the units'
    officers, cases and non-cases (a mean indicator: officers only)."""
    t = Table()
    for i, r in enumerate(rows):
        t.add((i, "n"), r["n"])
        if kind != "mean":
            cases = int(round(r["_events"] or 0))
            t.add((i, "cases"), cases)
            t.add((i, "rest"), max(0, r["n"] - cases))
            t.sum_of((i, "n"), [(i, "cases"), (i, "rest")])
    if sum(r["n"] for r in rows) == force_n:  # the units make up the force, whose count is shown
        t.add(("force", "n"), force_n)
        t.sum_of(("force", "n"), [(i, "n") for i in range(len(rows))])
    t.suppress()
    for i, r in enumerate(rows):
        r["suppressed"] = bool(r["n"]) and not (t.shown((i, "n")) and (kind == "mean" or t.shown((i, "cases"))))


def unit_trend(session: Session, root_path: str, level: str, indicator: str, codes: list[str],
               years: list[int] | None, as_of: dt.date, rate: str = "standardised", suppress: bool = False) -> dict:
    """The indicator by year (default: every year with data) for the chosen units and the force:
    {"years", "units": {code: [{year, value, lo, hi}]}, "names", "force": [...]}. Codes outside
    the root's subtree find no rows."""
    years = years or data_years(session, as_of)
    series: dict[str, list] = {c: [] for c in codes}
    force = []
    names = {}
    for year in sorted(years):
        res = unit_comparison(session, root_path, level, indicator, year, as_of, rate, suppress)
        force.append(res["force"]["centre"])
        for r in res["rows"]:
            if r["code"] in series:
                names[r["code"]] = (r["name"], r["name_en"])
                series[r["code"]].append({"year": year, "value": r["value"],
                                          "lo": r["std_lo"] if res["rate"] == "standardised" else r["crude_lo"],
                                          "hi": r["std_hi"] if res["rate"] == "standardised" else r["crude_hi"]})
    return {"years": sorted(years), "units": series, "names": names, "force": force,
            "kind": INDICATORS[indicator].kind}
