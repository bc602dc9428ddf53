"""The officer status snapshot: latest values, guideline classes, China-PAR and the
four-colour level, one row per officer. Recomputed for the officers an ingest batch
touched (``recompute_officers``) and fully by ``portal recompute`` (``recompute_all``).

Pages read this table; they never evaluate rules on page view.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from sqlalchemy import DateTime, bindparam, delete, func, insert, select, text
from sqlalchemy.orm import Session

from models import items, prevalence, psych, vocab
from models.db import bump_data_version
from models import warning as warning_model
from models.bulk import insert_rows, is_postgresql
from models.clinical import CANONICAL_UNITS, classes_for
from models.officers import age_on
from models.risk import china_par_inputs
from models.schema import Exam, Hospital, Officer, OfficerStatus, Unit, WarningHistory, utcnow
from models.status_bits import measured_mask

CHUNK = 500
REPEAT_WINDOW = dt.timedelta(days=warning_model.needs_confirmation_window_days)


def recompute_all(session: Session, as_of: dt.date | None = None, rules=None, cause: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Recompute every active officer; returns the count per level."""
    ids = list(session.scalars(select(Officer.id).where(Officer.active).order_by(Officer.id)))
    return recompute_officers(session, ids, as_of=as_of, rules=rules, cause=cause, progress=progress)


def recompute_officers(session: Session, officer_ids: Iterable[int], as_of: dt.date | None = None,
                       rules=None, cause: str | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       write_before: Callable[[list[int]], None] | None = None) -> dict[str, int]:
    """Recompute the snapshot of these officers from observations up to ``as_of`` (default today)
    under ``rules`` (default: the version in force, ``models.rule_versions.in_force``).

    Writes a warning_history row for each officer whose level changed (or who had none), with its
    ``cause`` (models.vocab.HISTORY_CAUSES): "rules" when a newly published rules version is being
    applied, "data" otherwise. ``progress(done, total)`` is called after each chunk.

    ``write_before(ids)``, when given, writes what a chunk of officers' recompute must read (a
    loader's new rows of those officers) on this session, just before the chunk is read. On
    PostgreSQL it runs in a second thread while the previous chunk is evaluated: the database
    takes one chunk's rows while Python assesses the last (``_overlapped``)."""
    from models.rule_versions import in_force

    as_of = as_of or dt.date.today()
    rules = rules or in_force(session)
    hospitals = source_names(session)
    counts: dict[str, int] = defaultdict(int)
    ids = sorted(set(officer_ids))
    chunks = [ids[start:start + CHUNK] for start in range(0, len(ids), CHUNK)]
    done = 0

    def read(chunk: list[int]) -> ChunkInputs:
        return gather(session, chunk, as_of)

    def judge(inputs: ChunkInputs) -> tuple[list[dict], list[dict]]:
        return evaluate(inputs, as_of, rules, hospitals, cause or "data")

    def keep(inputs: ChunkInputs, judged: tuple[list[dict], list[dict]]) -> None:
        nonlocal done
        store(session, inputs.ids, *judged)
        for row in judged[0]:
            counts[row["level"]] += 1
        done += len(inputs.ids)
        if progress is not None:
            progress(done, len(ids))

    if write_before is not None and len(chunks) > 1 and is_postgresql(session):
        _overlapped(chunks, write_before, read, judge, keep)
    else:
        for chunk in chunks:
            if write_before is not None:
                write_before(chunk)
            inputs = read(chunk)
            keep(inputs, judge(inputs))
    if ids:
        bump_data_version(session, "health")  # statuses changed: every cached answer that reads health data moves on
    return dict(counts)


def _overlapped(chunks: list[list[int]], write_before: Callable, read: Callable, judge: Callable,
                keep: Callable) -> None:
    """A second thread does the writes on the session's connection (chunk k's new rows, then the
    status rows of chunk k-2, judged already), waiting on the server without holding the GIL, while
    chunk k-1, read already, is judged in pure Python; then chunk k is read. The connection is
    never used by both threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    def writes(chunk: list[int] | None, judged: tuple | None) -> None:
        if chunk is not None:
            write_before(chunk)
        if judged is not None:
            keep(*judged)

    pending: ChunkInputs | None = None   # read, to judge
    judged: tuple | None = None          # judged, to store
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-writer") as writer:
        for chunk in [*chunks, None]:
            written = writer.submit(writes, chunk, judged)
            judged = (pending, judge(pending)) if pending is not None else None
            written.result()  # a failed write is raised here, in the caller's thread
            pending = read(chunk) if chunk is not None else None
    if judged is not None:
        keep(*judged)


@dataclass
class ChunkInputs:
    """What the recompute of a chunk of officers reads from the database (``gather``)."""
    ids: list[int]
    officers: list[tuple]
    readings: dict
    exams: dict
    days: dict
    previous: dict


def gather(session: Session, ids: list[int], as_of: dt.date, previous: bool = True) -> ChunkInputs:
    """Every database read of a chunk's recompute: officers, two newest readings per code, exam
    reports, separate high days where a device reading needs them, and (``previous``) the levels
    before, which only a recompute that writes history needs."""
    officers = session.execute(
        select(Officer.id, Officer.sex, Officer.birth_date, Unit.path)
        .join(Unit, Officer.unit_id == Unit.id).where(Officer.id.in_(ids))
    ).all()
    readings = recent_readings(session, ids, as_of)
    exams = exam_reports(session, ids, as_of)
    window = (dt.datetime.combine(as_of - dt.timedelta(days=prevalence.SNAPSHOT_WINDOW_DAYS), dt.time.min),
              dt.datetime.combine(as_of, dt.time.max))
    # only an officer whose latest reading meeting a criterion came from a device needs the days counted
    sexes = {officer_id: sex for officer_id, sex, _birth, _path in officers}
    need = [oid for oid, codes in readings.items()
            if prevalence.needs_days({c: (rows[0][0], rows[0][2]) for c, rows in codes.items()}, sexes.get(oid))]
    days = prevalence.high_days(session, need, *window) if need else {}
    before = dict(session.execute(
        select(OfficerStatus.officer_id, OfficerStatus.level).where(OfficerStatus.officer_id.in_(ids))).all()) \
        if previous else {}
    return ChunkInputs(ids, officers, readings, exams, days, before)


def assess_officers(session: Session, ids: list[int], as_of: dt.date, rules, hospitals: dict) -> list[dict]:
    """The snapshot rows of these officers under ``rules``, without writing them (the rule editor's
    impact preview evaluates a draft this way; ``recompute_officers`` writes them)."""
    return _assess_all(gather(session, ids, as_of, previous=False), as_of, rules, hospitals)


def _assess_all(inputs: ChunkInputs, as_of: dt.date, rules, hospitals: dict) -> list[dict]:
    out = []
    for officer_id, sex, birth, path in inputs.officers:
        row = assess(inputs.readings.get(officer_id, {}), sex=sex, age=age_on(birth, as_of),
                     exams=inputs.exams.get(officer_id, ExamReports()), as_of=as_of, rules=rules,
                     hospitals=hospitals, high_days=inputs.days.get(officer_id, {}))
        row.update(officer_id=officer_id, unit_path=path)
        out.append(row)
    return out


def evaluate(inputs: ChunkInputs, as_of: dt.date, rules, hospitals: dict,
             cause: str = "data") -> tuple[list[dict], list[dict]]:
    """A chunk's status rows and history rows (a level that changed, or a first level); no database."""
    now = utcnow()
    stamp = dt.datetime.combine(as_of, dt.time(23, 59)) if as_of < dt.date.today() else now
    statuses, history = [], []
    previous = inputs.previous
    for row in _assess_all(inputs, as_of, rules, hospitals):
        officer_id, path = row["officer_id"], row["unit_path"]
        row.update(computed_at=stamp, measured=measured_mask(row["classes"]))
        statuses.append(row)
        if previous.get(officer_id) != row["level"]:
            history.append({"officer_id": officer_id, "unit_path": path, "level": row["level"],
                            "previous_level": previous.get(officer_id), "confirmed": row["confirmed"],
                            "reasons": row["reasons"], "rules_version": row["rules_version"], "changed_at": stamp,
                            # an officer's first row is no change of rules, whatever applied it
                            "cause": cause if officer_id in previous else "data"})
    return statuses, history


def store(session: Session, ids: list[int], statuses: list[dict], history: list[dict]) -> None:
    """Replace the chunk's status rows and add its history rows."""
    session.execute(delete(OfficerStatus).where(OfficerStatus.officer_id.in_(ids)))
    _insert(session, OfficerStatus, statuses, ("latest", "classes", "reasons", "open_reasons"))
    _insert(session, WarningHistory, history, ("reasons",))
    session.flush()


def _insert(session: Session, model, rows: list[dict], json_columns: tuple[str, ...]) -> None:
    """COPY on PostgreSQL (a recompute writes a row per officer); the ORM insert on SQLite."""
    if not rows:
        return
    if is_postgresql(session):
        columns = list(rows[0])
        insert_rows(session, model.__tablename__, columns, ([r[c] for c in columns] for r in rows), json_columns)
    else:
        session.execute(insert(model), rows)


# PostgreSQL keeps only the two newest rows of each (officer, code) on the server; SQLite scans in order
_NEWEST_TWO_SQL = text(
    "SELECT officer_id, code, value, observed_at, source_kind, source_id, station, n FROM ("
    "SELECT officer_id, code, value, observed_at, source_kind, source_id, station, "
    "row_number() OVER (PARTITION BY officer_id, code ORDER BY observed_at DESC) AS n "
    "FROM observation WHERE officer_id = ANY(:ids) AND observed_at <= :end) AS r WHERE n <= 2"
).bindparams(bindparam("end", type_=DateTime))
_READINGS_SQL = text(
    "SELECT officer_id, code, value, observed_at, source_kind, source_id, station FROM observation "
    "WHERE officer_id IN :ids AND observed_at <= :end ORDER BY officer_id, code, observed_at"
).bindparams(bindparam("ids", expanding=True), bindparam("end", type_=DateTime))


def recent_readings(session: Session, ids: list[int], as_of: dt.date) -> dict[int, dict[str, list[tuple]]]:
    """The two newest observations per officer and code: {officer: {code: [(value, at, kind, source, station), ...]}}.

    On PostgreSQL a window query keeps the two rows on the server. On SQLite (where a window
    query measured no faster) one ordered scan of the (officer, code, time) index keeps the
    last two rows of each group; plain SQL so that only the kept rows pay for turning the time
    into a datetime (SQLite hands it over as text): this query is most of a full recompute."""
    end = dt.datetime.combine(as_of, dt.time.max)
    if is_postgresql(session):
        return _newest_two(session, ids, end)
    out: dict[int, dict[str, list[tuple]]] = defaultdict(dict)
    rows = session.execute(_READINGS_SQL, {"ids": ids, "end": end}).fetchall()  # one fetch, not one call a row
    for officer_id, code, value, at, kind, source, station in rows:
        codes = out[officer_id]
        newer = (value, at, kind, source, station)
        older = codes.get(code)
        codes[code] = [newer, older[0]] if older else [newer]
    for codes in out.values():
        for code, rows in codes.items():
            codes[code] = [(v, _as_datetime(at), k, src, st) for v, at, k, src, st in rows]
    return out


def _newest_two(session: Session, ids: list[int], end: dt.datetime) -> dict[int, dict[str, list[tuple]]]:
    out: dict[int, dict[str, list[tuple]]] = defaultdict(dict)
    for officer_id, code, value, at, kind, source, station, n in session.execute(
            _NEWEST_TWO_SQL, {"ids": list(ids), "end": end}).fetchall():
        pair = out[officer_id].setdefault(code, [None, None])
        pair[n - 1] = (value, at, kind, source, station)
    for codes in out.values():
        for code, pair in codes.items():
            codes[code] = pair if pair[1] is not None else pair[:1]
    return out


def _as_datetime(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


@dataclass(frozen=True)
class TestReport:
    """The newest exam that reported one test (ECG, ultrasound, …): when, where, what it found."""
    date: dt.date
    hospital: str
    findings: tuple[str, ...]


@dataclass(frozen=True)
class ExamReports:
    """An officer's exams as the rules read them: the date and hospital of the newest exam (overdue),
    and for each finding-type test the newest exam that actually reported it."""
    last_date: dt.date | None = None
    last_hospital: str | None = None
    tests: dict[str, TestReport] = field(default_factory=dict)

    @property
    def findings(self) -> list[str]:
        """The coded findings in force: each test's from its own newest report."""
        return sorted({f for report in self.tests.values() for f in report.findings})


def exam_reports(session: Session, ids: list[int], as_of: dt.date) -> dict[int, ExamReports]:
    """Per officer, the newest exam and the newest report of each finding-type test up to ``as_of``.

    An exam at another hospital that did no ECG does not erase the ECG of an earlier exam: a
    finding stays until a newer report of the same test (its text, or a finding of that test)
    replaces it. Two exams on one day: both count, their findings of that test are joined."""
    reported = [(test, func.coalesce(func.length(getattr(Exam, column)), 0))
                for test, column in items.FINDING_TEXT_COLUMNS.items()]
    rows = session.execute(
        select(Exam.officer_id, Exam.exam_date, Hospital.code, Exam.findings, *[length for _, length in reported])
        .join(Hospital, Exam.hospital_id == Hospital.id)
        .where(Exam.officer_id.in_(ids), Exam.exam_date <= as_of)
        .order_by(Exam.officer_id, Exam.exam_date, Exam.id)).all()
    state: dict[int, dict] = {}
    for officer_id, day, hospital, findings, *lengths in rows:
        st = state.setdefault(officer_id, {"last": None, "hospital": None, "tests": {}})
        st["last"], st["hospital"] = day, hospital  # rows come oldest first
        codes = [str(f).strip().lower() for f in findings or []]
        for (test, _), length in zip(reported, lengths):
            own = tuple(c for c in codes if items.FINDING_TEST.get(c) == test)
            if not length and not own:
                continue  # this exam did not do the test: the earlier report stands
            prev = st["tests"].get(test)
            if prev is not None and prev.date == day:
                own = tuple(sorted(set(prev.findings) | set(own)))
                hospital_of = prev.hospital
            else:
                hospital_of = hospital
            st["tests"][test] = TestReport(day, hospital_of, own)
    return {oid: ExamReports(st["last"], st["hospital"], st["tests"]) for oid, st in state.items()}


def source_names(session: Session) -> dict:
    """What ``source_label`` names sources by: hospital codes -> names, ("station", unit code) ->
    the unit's name (a kiosk stands in a station: "冲桥派出所健康小屋", not a code)."""
    names: dict = dict(session.execute(select(Hospital.code, Hospital.name)).all())
    names.update({("station", code): name for code, name in session.execute(select(Unit.code, Unit.name))})
    return names


def source_label(kind: str, source: str | None, station: str | None, hospitals: dict) -> str:
    """A source a manager recognises: the hospital's name for exams, the place of the kiosk (the
    station's name, see ``source_names``) for kiosks."""
    word = vocab.SOURCES.get(kind, ("", ""))[0]
    if kind == "exam":
        return f"{hospitals.get(source, source or '')} {word}"
    if kind == "kiosk":
        place = hospitals.get(("station", station)) if station else None
        return f"{place}{word}" if place else f"{word} {station or source or ''}".strip()
    if kind in ("screening", "self-report"):
        return word
    return source or kind


def assess(readings: dict[str, list[tuple]], *, sex: str, age: int, exams: "ExamReports",
           as_of: dt.date, rules, hospitals: dict, high_days: dict[str, int] | None = None) -> dict:
    """One officer's snapshot row (without ids) from the newest reading of each code and the
    newest report of each finding-type test (``exam_reports``)."""
    latest: dict[str, warning_model.Reading] = {}
    latest_json: dict[str, dict] = {}
    for code, rows in readings.items():
        value, at, kind, source, station = rows[0]
        label = source_label(kind, source, station, hospitals)
        day = at.date()
        latest[code] = warning_model.Reading(value=value, date=day, source=label, kind=kind)
        latest_json[code] = {"value": value, "unit": CANONICAL_UNITS.get(code, ""), "date": day.isoformat(),
                             "source": label, "kind": kind}
    values = {code: r.value for code, r in latest.items()}
    ecg = exams.tests.get("ecg")
    kwargs = dict(sex=sex, age=age, exam_findings=exams.findings, last_exam_date=exams.last_date, as_of=as_of,
                  rules=rules, ecg_date=ecg.date if ecg else None,
                  ecg_source=source_label("exam", ecg.hospital, None, hospitals) if ecg else None,
                  finding_reports={test: (r.date, source_label("exam", r.hospital, None, hospitals))
                                   for test, r in exams.tests.items()})
    # China-PAR's self-reported inputs (smoking, BP treatment, diagnosed diabetes, family history)
    kwargs["risk_inputs"] = china_par_inputs(values)
    if exams.last_hospital is not None:
        kwargs["exam_source"] = source_label("exam", exams.last_hospital, None, hospitals)
    result = warning_model.evaluate(latest, **kwargs)
    if result.level == "red" and not result.confirmed:
        result = _confirm_by_repeat(latest, _previous_readings(readings, hospitals), result, kwargs)
    classes = classes_for(values, sex, age)
    out = result.to_json()
    open_level, open_reasons = result.level, None
    psych_ids = psych.psych_rule_ids(rules)
    if any(r.rule in psych_ids for r in result.reasons):
        # what viewers without psychological access see: the evaluation without those readings
        plain = {code: r for code, r in latest.items() if code not in psych.PSYCH_CODES}
        opened = warning_model.evaluate(plain, **kwargs)
        if opened.level == "red" and not opened.confirmed:
            opened = _confirm_by_repeat(plain, _previous_readings(
                {c: r for c, r in readings.items() if c not in psych.PSYCH_CODES}, hospitals), opened, kwargs)
        open_level, open_reasons = opened.level, opened.to_json()["reasons"]
    return {
        "latest": latest_json,
        "classes": classes,
        "china_par": result.china_par,
        "china_par_category": result.china_par_category,
        "level": result.level,
        "confirmed": result.confirmed,
        "reasons": out["reasons"],
        "rule_ids": "," + ",".join(sorted({r["rule"] for r in out["reasons"]})) + ",",
        "open_level": open_level,
        "open_reasons": open_reasons,
        "rules_version": result.rules_version,
        "last_exam_date": exams.last_date,
        **prevalence_flags(values, sex, prevalence.Evidence({c: r.kind for c, r in latest.items()}, high_days or {})),
    }


def _previous_readings(readings: dict[str, list[tuple]], hospitals: dict) -> dict[str, warning_model.Reading]:
    """Per code, the reading before the newest when it lies within the 14-day repeat window."""
    out = {}
    for code, rows in readings.items():
        if len(rows) > 1 and rows[0][1] - rows[1][1] <= REPEAT_WINDOW:
            value, at, kind, source, station = rows[1]
            out[code] = warning_model.Reading(value=value, date=at.date(), kind=kind,
                                              source=source_label(kind, source, station, hospitals))
    return out


def _confirm_by_repeat(latest: dict, previous: dict, result, kwargs: dict):
    """A kiosk red is confirmed when the reading before it (within 14 days) fires the same red rule."""
    red_rules = {r.rule for r in result.reasons if r.level == "red"}
    confirmed = dict(latest)
    for code, prev in previous.items():
        if latest[code].kind != "kiosk":
            continue
        trial = warning_model.evaluate({**latest, code: prev}, **kwargs)
        if red_rules & {r.rule for r in trial.reasons if r.level == "red"}:
            confirmed[code] = warning_model.Reading(value=latest[code].value, date=latest[code].date,
                                                    source=latest[code].source, kind="kiosk", confirmed_by_repeat=True)
    return warning_model.evaluate(confirmed, **kwargs) if confirmed != latest else result


# phq9 has no flag column: the unit comparison reads it from the measured bits
FLAG_COLUMNS = tuple(key for key in prevalence.DEFINITIONS if key in OfficerStatus.__table__.c)


def prevalence_flags(values: dict[str, float], sex: str, evidence: "prevalence.Evidence | None" = None
                     ) -> dict[str, bool]:
    """The snapshot's prevalence flags from the latest values, their sources and the separate days
    device readings met each criterion (definitions: ``models.prevalence``)."""
    return {key: prevalence.flag(key, values, sex, evidence) for key in FLAG_COLUMNS}
