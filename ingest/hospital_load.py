"""The hospital loader: parsed records in, exams and observations upserted.

A hospital file is read into records (``ingest.hospital.parse``), each matched to
an officer (``ingest.matching``), its values validated and converted
(``ingest.harmonise``), then exams and observations are upserted in one batch
(``ingest.batch``):

* the same file again inserts nothing (``unchanged`` counts it); a corrected
  re-export updates only the values that changed;
* every refused row or value is kept in quarantine with its raw content; a column
  or item outside the catalogue is kept with its exam as sent (``exam.extra``:
  value and unit) and listed in the summary (``kept_raw``), so the known items
  of the row load; a mapping added later places it when the file is loaded again;
* ``reprocess`` re-runs a hospital batch's open quarantine with the mapping now
  in force (``ingest.reprocess`` dispatches by batch kind).
"""
from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ingest import harmonise as hz
from ingest.batch import (ERRORS_KEPT, Progress, add_quarantine, base_summary, file_hash, finish_batch, new_batch,
                          read_file, recording_failure)
from ingest.hospital import Record, Unreadable, parse, records_from_raw
from ingest.matching import OfficerIndex
from models.bulk import insert_rows, reserve_ids
from models.clinical import CANONICAL_UNITS
from models.items import QUALITATIVE, plausible_range
from models.db import session_scope
from models.schema import Exam, Hospital, ImportBatch, Observation, Officer, QuarantineRow, utcnow

__all__ = ["load_hospital_file", "load_hospital_bytes", "reprocess", "load_mapping_file", "validate_mapping",
           "save_hospital_mapping", "get_or_register_hospital", "OBS_COLS"]

CHUNK = 900                 # ids per IN (...) list
EXAM_TIME = dt.time(8, 0)   # observations of an exam are dated at 08:00 of the exam day
EARLIEST_EXAM = dt.date(2000, 1, 1)
OBS_COLS = ("officer_id", "code", "value", "unit", "observed_at", "source_kind", "source_id", "exam_id", "station",
            "batch_id")


# --- hospitals ------------------------------------------------------------------------------------
def get_or_register_hospital(session: Session, code: str, name: str | None = None) -> tuple[Hospital, bool]:
    code = code.strip()
    if not code:
        raise Unreadable("the hospital code is empty")
    hospital = session.scalar(select(Hospital).where(Hospital.code == code))
    if hospital is not None:
        if name and hospital.name == hospital.code:
            hospital.name = name
        return hospital, False
    hospital = Hospital(code=code, name=name or code, mapping=None)
    session.add(hospital)
    session.flush()
    return hospital, True


def load_mapping_file(path: str | Path) -> dict:
    """A mapping file: JSON ``{"columns": {...}, "items": {...}, "units": {...}, "ignore": [...]}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"cannot read the mapping file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise Unreadable(f"the mapping file {path} is not valid JSON: {exc}") from None
    return validate_mapping(data)


def validate_mapping(data: Any) -> dict:
    if not isinstance(data, dict):
        raise Unreadable("a mapping is a JSON object with columns, items, units and ignore")
    unknown = set(data) - {"columns", "items", "units", "ignore", "name"}
    if unknown:
        raise Unreadable(f"unknown mapping keys: {', '.join(sorted(unknown))} (allowed: columns, items, units, ignore)")
    allowed = (set(CANONICAL_UNITS) | set(hz.IDENTITY_FIELDS) | set(hz.TEXT_FIELDS) | set(hz.LONG_FIELDS)
               | set(hz.COMBINED_FIELDS) | {hz.IGNORED})
    for section in ("columns", "items"):
        for header, target in (data.get(section) or {}).items():
            f = target.get("field") if isinstance(target, dict) else target
            if f not in allowed:
                raise Unreadable(f"mapping {section}.{header}: '{f}' is not a field (one of {', '.join(sorted(allowed))})")
    for code, unit in (data.get("units") or {}).items():
        if code not in CANONICAL_UNITS:
            raise Unreadable(f"mapping units.{code}: not a measure code")
        try:
            hz.to_canonical(code, max(plausible_range(code)[0], 1.0), unit)
        except hz.Rejected as exc:
            if "cannot be converted" in str(exc):
                raise Unreadable(f"mapping units.{code}: {exc}") from None
    if not isinstance(data.get("ignore", []), list):
        raise Unreadable("mapping ignore: a list of headers")
    return data


def save_hospital_mapping(session: Session, code: str, mapping: dict | None) -> None:
    h = session.scalar(select(Hospital).where(Hospital.code == code))
    if h is None:
        raise Unreadable(f"no hospital with code {code}")
    h.mapping = validate_mapping(mapping) if mapping else None


# --- validation of records ------------------------------------------------------------------------
@dataclass
class Checked:
    rec: Record
    officer_id: int | None = None
    day: dt.date | None = None
    values: dict[str, tuple[float, str]] = field(default_factory=dict)   # code -> (value, label)
    texts: dict[str, str] = field(default_factory=dict)
    extra: dict[str, dict] = field(default_factory=dict)                 # label -> {value, unit}: not in the catalogue
    errors: list[tuple[str, str]] = field(default_factory=list)          # field-level (label, reason)
    row_error: tuple[str, str] | None = None
    not_done: int = 0
    notes: list[tuple[str, str]] = field(default_factory=list)


def check_record(rec: Record, officers: OfficerIndex, today: dt.date) -> Checked:
    c = Checked(rec)
    if rec.error:
        c.row_error = rec.error
        return c
    oid, problem = officers.match(rec.ident)
    if problem:
        c.row_error = problem
        return c
    try:
        c.day = hz.parse_date(rec.exam_date, earliest=EARLIEST_EXAM, latest=today)
    except hz.Rejected as exc:
        c.row_error = ("exam_date", f"exam date: {exc}")
        return c
    c.officer_id = oid
    for item in rec.items:
        if item.field in hz.TEXT_FIELDS:
            text = "" if item.raw is None else str(item.raw).strip()
            if text and hz.nfkc(text).lower() not in hz.NOT_DONE:
                c.texts[item.field] = text if item.field not in c.texts else c.texts[item.field] + "；" + text
            continue
        if item.field in hz.COMBINED_FIELDS:
            _check_combined(c, item)
            continue
        try:
            if item.field in QUALITATIVE:
                cleaned = hz.clean_qualitative(item.field, item.raw, item.unit)
            else:
                cleaned = hz.clean_value(item.raw)
            if cleaned.value is None:
                c.not_done += 1 if cleaned.note else 0
                continue
            unit = None if item.field in QUALITATIVE else item.unit
            if unit is None and item.field in hz.UNIT_RANGES:
                unit = hz.judge_value_unit(item.field, cleaned.value)
                if unit != CANONICAL_UNITS[item.field]:
                    c.notes.append((item.label, f"{cleaned.value:g} judged to be in {unit} from its range"))
            value = hz.to_canonical(item.field, cleaned.value, unit)
        except hz.Rejected as exc:
            c.errors.append((item.label, str(exc)))
            continue
        if cleaned.note:
            c.notes.append((item.label, cleaned.note))
        if item.field in c.values and not _close(c.values[item.field][0], value):
            c.errors.append((item.label, f"{item.field} given twice with different values "
                                         f"({c.values[item.field][0]:g} and {value:g})"))
            del c.values[item.field]
            continue
        c.values[item.field] = (value, item.label)
    if "sbp" in c.values and "dbp" in c.values and c.values["sbp"][0] <= c.values["dbp"][0]:
        (s, sl), (d, dl) = c.values.pop("sbp"), c.values.pop("dbp")
        c.errors.append((f"{sl}/{dl}", f"systolic {s:g} is not above diastolic {d:g} (columns swapped?)"))
    return c


def _check_combined(c: Checked, item) -> None:
    """One cell holding two items (blood pressure "150/96"): each part checked as its own value."""
    try:
        parts = hz.split_combined(item.field, item.raw)
    except hz.Rejected as exc:
        c.errors.append((item.label, str(exc)))
        return
    if parts is None:
        c.not_done += 1 if hz.nfkc(item.raw) else 0
        return
    unit = item.unit if item.unit and hz.ucum(item.unit) != "mmHg" else None
    for code, value in parts:
        try:
            value = hz.to_canonical(code, value, unit)
        except hz.Rejected as exc:
            c.errors.append((item.label, str(exc)))
            return
        if code in c.values and not _close(c.values[code][0], value):
            c.errors.append((item.label, f"{code} given twice with different values ({c.values[code][0]:g} and {value:g})"))
            del c.values[code]
            continue
        c.values[code] = (value, item.label)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# --- the loader -------------------------------------------------------------------------------------
@dataclass
class _ExamState:
    id: int | None
    texts: dict[str, str | None]
    external_id: str | None
    origin: Any                      # "db" or the first row that created it
    extra: dict[str, dict] = field(default_factory=dict)
    text_origin: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False


@dataclass
class _ObsState:
    id: int | None
    value: float
    origin: Any                      # "db" or the row that set it
    dirty: bool = False


@dataclass
class Outcome:
    """What happened to each record, for the summary and for reprocess."""
    status: dict[int, str] = field(default_factory=dict)                 # record index -> status
    errors: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


def load_records(session: Session, records: list[Record], granularity: str, hospital: Hospital, batch_id: int | None,
                 summary: dict, progress: Progress | None = None, quarantine: bool = True,
                 today: dt.date | None = None, secret: str | None = None,
                 defer_new_observations: bool = False) -> tuple[Outcome, set[int], "NewObservations | None"]:
    """Validate and upsert records; fills ``summary``; returns per-record outcome, the touched officers
    and, with ``defer_new_observations``, the new observation rows still to write (``NewObservations``:
    the recompute writes each chunk of officers' rows just before reading them)."""
    today = today or dt.date.today()
    officers = OfficerIndex(session, secret)
    total = len(records)
    checked: list[Checked] = []
    for i, rec in enumerate(records):
        checked.append(check_record(rec, officers, today))
        if progress and (i % 2000 == 0 or i == total - 1):
            progress("check rows", i + 1, total)

    keys = {(c.officer_id, c.day) for c in checked if c.officer_id is not None}
    exams, obs = _fetch_state(session, hospital, keys)
    if progress:
        progress("compare with the database", 1, 1)

    outcome = Outcome()
    entries: list[dict] = []
    kept_raw: dict[str, int] = defaultdict(int)   # label outside the catalogue -> values kept with their exam
    duplicates: list[dict] = []
    notes: list[dict] = []
    touched: set[int] = set()
    counts = defaultdict(int)
    for idx, c in enumerate(checked):
        rec = c.rec
        errs: list[tuple[str, str]] = []
        if c.row_error:
            errs.append(c.row_error)
            entries.append({"row": rec.row, "field": c.row_error[0], "reason": c.row_error[1], "raw": rec.raw})
            outcome.status[idx], outcome.errors[idx] = "rejected", errs
            counts["rows_rejected"] += 1
            continue
        for label, reason in c.errors:
            errs.append((label, reason))
            entries.append({"row": rec.row, "field": label, "reason": reason, "raw": rec.raw})
        for label, note in c.notes:
            notes.append({"row": rec.row, "field": label, "note": note})
        counts["not_done"] += c.not_done
        for label, value, unit in rec.unplaced:
            # an item outside the catalogue is kept with its exam as sent (value and unit), not quarantined:
            # the known items of the row load, and a mapping added later places it when the file is loaded again
            if value not in (None, ""):
                c.extra[label] = {"value": _jsonable(value), "unit": unit}
                kept_raw[label] += 1
        if not c.values and not c.texts and not c.extra and (c.errors or granularity == "item"):
            # nothing to load from this row: its content is in quarantine (or was not done)
            if c.errors:
                outcome.status[idx] = "rejected"
                counts["rows_rejected"] += 1
            else:
                outcome.status[idx] = "unchanged"
                counts["unchanged"] += 1
            outcome.errors[idx] = errs
            continue
        key = (c.officer_id, c.day)
        conflict = _conflicts(c, exams.get(key), obs)
        if conflict:
            reason = f"conflicts with row {conflict[0]} (same officer and exam date): {conflict[1]}"
            errs.append(("row", reason))
            entries.append({"row": rec.row, "field": "row", "reason": reason, "raw": rec.raw})
            outcome.status[idx], outcome.errors[idx] = "rejected", errs
            counts["rows_rejected"] += 1
            continue
        status = _apply(c, key, exams, obs, granularity)
        if status == "unchanged":
            first = _duplicate_of(c, key, exams, obs)
            if first is not None:
                duplicates.append({"row": rec.row, "of": first})
        else:
            touched.add(c.officer_id)
        outcome.status[idx], outcome.errors[idx] = status, errs
        counts[status] += 1
    if progress:
        progress("write", 0, 1)
    written, later = _write(session, hospital, batch_id, exams, obs, defer_new_observations)
    if progress:
        progress("write", 1, 1)
    if quarantine and batch_id is not None:
        add_quarantine(session, batch_id, entries)
    summary["rows_read"] += total
    for k in ("inserted", "updated", "unchanged"):
        summary[k] += counts[k]
    summary["quarantined"] += len(entries)
    summary["errors"] += [{"row": e["row"], "field": e["field"], "reason": e["reason"]} for e in entries]
    summary["rows_rejected"] = summary.get("rows_rejected", 0) + counts["rows_rejected"]
    summary["not_done"] = summary.get("not_done", 0) + counts["not_done"]
    summary["observations_inserted"] = summary.get("observations_inserted", 0) + written["obs_inserted"]
    summary["observations_updated"] = summary.get("observations_updated", 0) + written["obs_updated"]
    summary["exams_inserted"] = summary.get("exams_inserted", 0) + written["exams_inserted"]
    summary["exams_updated"] = summary.get("exams_updated", 0) + written["exams_updated"]
    summary.setdefault("duplicates", []).extend(duplicates)
    summary.setdefault("notes", []).extend(notes[:ERRORS_KEPT])
    summary.setdefault("unplaced", []).extend(sorted(set(kept_raw) - set(summary.get("unplaced", []))))
    kept = summary.setdefault("kept_raw", {})
    for label, n in kept_raw.items():
        kept[label] = kept.get(label, 0) + n
    return outcome, touched, later


def _jsonable(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def _fetch_state(session: Session, hospital: Hospital, keys: set[tuple[int, dt.date]]):
    """Existing exams of this hospital and their observations for the (officer, day) keys of the file."""
    exams: dict[tuple[int, dt.date], _ExamState] = {}
    obs: dict[tuple[int, str, dt.date], _ObsState] = {}
    if not keys:
        return exams, obs
    officer_ids = sorted({k[0] for k in keys})
    lo, hi = min(k[1] for k in keys), max(k[1] for k in keys)
    for start in range(0, len(officer_ids), CHUNK):
        chunk = officer_ids[start:start + CHUNK]
        found_before = len(exams)
        for eid, oid, day, ext, extra, *texts in session.execute(
                select(Exam.id, Exam.officer_id, Exam.exam_date, Exam.external_id, Exam.extra,
                       *[getattr(Exam, f) for f in hz.TEXT_FIELDS])
                .where(Exam.hospital_id == hospital.id, Exam.officer_id.in_(chunk),
                       Exam.exam_date >= lo, Exam.exam_date <= hi)):
            if (oid, day) in keys:
                exams[(oid, day)] = _ExamState(eid, dict(zip(hz.TEXT_FIELDS, texts)), ext, "db",
                                               extra=dict(extra or {}))
        if len(exams) == found_before:
            continue  # no exam of these officers yet, so no observation either
        for oid_, code, at, value, obs_id in session.execute(
                select(Observation.officer_id, Observation.code, Observation.observed_at, Observation.value,
                       Observation.id)
                .where(Observation.officer_id.in_(chunk), Observation.source_kind == "exam",
                       Observation.source_id == hospital.code,
                       Observation.observed_at >= dt.datetime.combine(lo, dt.time.min),
                       Observation.observed_at <= dt.datetime.combine(hi, dt.time.max))):
            day = at.date()
            if (oid_, day) in keys:
                obs[(oid_, code, day)] = _ObsState(obs_id, value, "db")
    return exams, obs


def _conflicts(c: Checked, ex: _ExamState | None, obs: dict) -> tuple[int, str] | None:
    """A value this batch already set from another row and this row contradicts."""
    for code, (value, _label) in c.values.items():
        st = obs.get((c.officer_id, code, c.day))
        if st is not None and st.origin != "db" and not _close(st.value, value):
            origin = st.origin[1] if isinstance(st.origin, tuple) else st.origin
            return origin, f"{code} {st.value:g} there, {value:g} here"
    if ex is not None:
        for f, text in c.texts.items():
            origin = ex.text_origin.get(f)
            if origin is not None and ex.texts.get(f) != text:
                return origin, f"{f} differs"
    return None


def _apply(c: Checked, key, exams: dict, obs: dict, granularity: str) -> str:
    ex = exams.get(key)
    existed = ex is not None and (ex.origin == "db" or granularity == "item")
    added = changed = False
    if ex is None:
        ex = _ExamState(None, dict.fromkeys(hz.TEXT_FIELDS), c.rec.external_id, c.rec.row)
        exams[key] = ex
        added = True
    elif c.rec.external_id and not ex.external_id:
        ex.external_id = c.rec.external_id
        ex.dirty = ex.id is not None
    for f, text in c.texts.items():
        old = ex.texts.get(f)
        if old == text:
            ex.text_origin.setdefault(f, c.rec.row)
            continue
        if old is None:
            added = True
        else:
            changed = True
        ex.texts[f] = text
        ex.text_origin[f] = c.rec.row
        ex.dirty = ex.id is not None
    for label, entry in c.extra.items():
        if ex.extra.get(label) != entry:
            added, changed = added or label not in ex.extra, changed or label in ex.extra
            ex.extra[label] = entry
            ex.dirty = ex.id is not None
    for _value, label in c.values.values():
        if label in ex.extra:  # placed now (a mapping was added): no longer kept raw
            del ex.extra[label]
            ex.dirty = ex.id is not None
    oid, day = key
    for code, (value, _label) in c.values.items():
        st = obs.get((oid, code, day))
        if st is None:
            obs[(oid, code, day)] = _ObsState(None, value, c.rec.row)
            added = True
        elif not _close(st.value, value):
            st.value, st.origin = value, c.rec.row
            st.dirty = st.id is not None
            changed = True
        elif st.origin == "db":
            st.origin = ("db", c.rec.row)
    if changed:
        return "updated"
    if added:
        return "updated" if existed and granularity == "exam" else "inserted"
    return "unchanged"


def _duplicate_of(c: Checked, key, exams: dict, obs: dict) -> int | None:
    """The earlier row of this file that already gave exactly this content (None if it came from the database)."""
    ex = exams.get(key)
    if ex is None:
        return None
    rows = [ex.origin] if ex.origin != "db" else []
    rows += [o for o in ex.text_origin.values() if o != c.rec.row]
    for code in c.values:
        st = obs.get((key[0], code, key[1]))
        if st is not None and st.origin != "db":
            rows.append(st.origin[1] if isinstance(st.origin, tuple) else st.origin)
    rows = [r for r in rows if isinstance(r, int) and r != c.rec.row]
    return min(rows) if rows else None


class NewObservations:
    """New observation rows held back by officer, written chunk by chunk (``write``) as the recompute
    reaches those officers (``models.snapshot.recompute_officers`` ``write_before``), then the rest."""

    def __init__(self, session: Session, rows: list[tuple]):
        self.session = session
        self.by_officer: dict[int, list[tuple]] = defaultdict(list)
        for row in rows:  # already in index order; an officer's rows stay in that order
            self.by_officer[row[0]].append(row)

    def write(self, officer_ids: list[int]) -> None:
        rows = [row for oid in sorted(officer_ids) for row in self.by_officer.pop(oid, ())]
        if rows:
            insert_rows(self.session, "observation", OBS_COLS, rows)

    def write_rest(self) -> None:
        self.write(list(self.by_officer))


def _write(session: Session, hospital: Hospital, batch_id: int | None, exams: dict, obs: dict,
           defer_new: bool = False) -> tuple[dict[str, int], NewObservations | None]:
    out = {"exams_inserted": 0, "exams_updated": 0, "obs_inserted": 0, "obs_updated": 0}
    new_keys = [k for k, e in exams.items() if e.id is None]
    if new_keys:
        _insert_exams(session, hospital, batch_id, new_keys, exams)
        out["exams_inserted"] = len(new_keys)
    dirty = [e for e in exams.values() if e.dirty]
    if dirty:
        session.execute(update(Exam), [
            {"id": e.id, **{f: e.texts[f] for f in hz.TEXT_FIELDS}, "external_id": e.external_id,
             "extra": e.extra or None, "findings": hz.exam_findings(e.texts), "batch_id": batch_id}
            for e in dirty])
        out["exams_updated"] = len(dirty)
    # in index order (officer, code, time): b-tree inserts then touch neighbouring pages, not random ones
    new_obs = sorted(((k, st) for k, st in obs.items() if st.id is None), key=lambda kv: kv[0])
    later = None
    if new_obs:
        source, at = hospital.code, {}  # one lookup of the ORM attribute, one datetime per exam day
        rows = [(oid, code, st.value, CANONICAL_UNITS[code],
                 at.get(day) or at.setdefault(day, dt.datetime.combine(day, EXAM_TIME)), "exam",
                 source, exams[(oid, day)].id, None, batch_id) for (oid, code, day), st in new_obs]
        out["obs_inserted"] = len(rows)
        if defer_new:
            later = NewObservations(session, rows)
        else:
            insert_rows(session, "observation", OBS_COLS, rows)
    changed = [st for st in obs.values() if st.dirty]
    if changed:
        session.execute(update(Observation), [{"id": st.id, "value": st.value, "batch_id": batch_id} for st in changed])
        out["obs_updated"] = len(changed)
    session.flush()
    return out, later


EXAM_COLS = ("id", "officer_id", "hospital_id", "exam_date", "external_id", *hz.TEXT_FIELDS, "extra", "findings",
             "batch_id")


def _insert_exams(session: Session, hospital: Hospital, batch_id: int | None, keys: list, exams: dict) -> None:
    """Insert the new exams and set their ids on the states: ids reserved and COPY on PostgreSQL; on
    SQLite one executemany, then the ids read back in one pass (RETURNING there goes row by row)."""
    def row(k):
        t = exams[k].texts
        return {"officer_id": k[0], "hospital_id": hospital.id, "exam_date": k[1], "external_id": exams[k].external_id,
                **{f: t[f] for f in hz.TEXT_FIELDS}, "extra": exams[k].extra or None,
                "findings": hz.exam_findings(t), "batch_id": batch_id}

    ids = reserve_ids(session, "exam", len(keys))
    if ids is not None:
        for k, eid in zip(keys, ids):
            exams[k].id = eid
        rows = (row(k) | {"id": exams[k].id} for k in keys)
        insert_rows(session, "exam", EXAM_COLS, ([r[c] for c in EXAM_COLS] for r in rows), json_columns=("findings", "extra"))
        return
    session.execute(insert(Exam), [row(k) for k in keys])
    wanted = set(keys)
    officer_ids = sorted({k[0] for k in keys})
    lo, hi = min(k[1] for k in keys), max(k[1] for k in keys)
    for start in range(0, len(officer_ids), CHUNK):
        for eid, oid, day in session.execute(
                select(Exam.id, Exam.officer_id, Exam.exam_date)
                .where(Exam.hospital_id == hospital.id, Exam.officer_id.in_(officer_ids[start:start + CHUNK]),
                       Exam.exam_date >= lo, Exam.exam_date <= hi)):
            if (oid, day) in wanted:
                exams[(oid, day)].id = eid


# --- entry points ------------------------------------------------------------------------------------
def load_hospital_file(url: str, path: str | Path, hospital_code: str, **kwargs) -> dict:
    """Load one hospital file (see ``load_hospital_bytes``); an unreadable path raises Unreadable."""
    data, name = read_file(path)
    return load_hospital_bytes(url, data, hospital_code, filename=kwargs.pop("filename", None) or name, **kwargs)


def load_hospital_bytes(url: str, data: bytes, hospital_code: str, *, filename: str | None = None,
                        mapping: dict | None = None, hospital_name: str | None = None, dry_run: bool = False,
                        user: str | None = None, progress: Progress | None = None,
                        today: dt.date | None = None, secret: str | None = None) -> dict:
    """One batch: parse, validate, upsert, quarantine, recompute — all in one transaction.

    ``secret`` is the portal secret ID numbers are hashed with (meta ``id_hash_key`` overrides it).
    Raises Unreadable when the file cannot be read at all (a failed batch is recorded unless dry-run)."""
    digest = file_hash(data)
    t0 = time.perf_counter()
    with recording_failure(url, "hospital", hospital_code, filename, digest, user, enabled=not dry_run):
        with session_scope(url) as s:
            hospital, registered = get_or_register_hospital(s, hospital_code, hospital_name)
            if mapping is not None:
                hospital.mapping = validate_mapping(mapping)
            if progress:
                progress("read file", 0, 1)
            parsed = parse(data, hospital.mapping)
            if progress:
                progress("read file", 1, 1)
            batch = None if dry_run else new_batch(s, "hospital", hospital.code, filename, digest, parsed.format, user)
            summary = base_summary(batch.id if batch else None, filename, parsed.format)
            summary.update(hospital=hospital.code, hospital_registered=registered, encoding=parsed.encoding,
                           file_hash=digest, dry_run=dry_run, unplaced_columns=parsed.unplaced_columns)
            _, touched, later = load_records(s, parsed.records, parsed.granularity, hospital,
                                             batch.id if batch else None, summary, progress, quarantine=not dry_run,
                                             today=today, secret=secret, defer_new_observations=not dry_run)
            summary["notes"] = parsed.notes + summary.get("notes", [])
            if dry_run:
                summary["officers_to_recompute"] = len(touched)
                summary["seconds"] = round(time.perf_counter() - t0, 2)
                s.rollback()
                return summary
            if progress:
                progress("recompute status", 0, 1)
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            # each chunk of officers' new values is written just before their recompute reads them,
            # overlapped with judging the chunk before (models.snapshot.recompute_officers)
            finish_batch(s, batch, summary, touched, write_before=later.write if later else None)
            if later:
                later.write_rest()
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            if progress:
                progress("recompute status", 1, 1)
            return summary


# --- reprocess ------------------------------------------------------------------------------------------
def _kept_raw_records(session: Session, hospital: Hospital) -> list[Record]:
    """The items this hospital's exams keep raw (outside the catalogue) that the mapping now in force
    places: one record per exam, the placed items as values, the rest left raw."""
    from ingest.hospital import Item, label_target

    records = []
    for badge, day, extra in session.execute(
            select(Officer.badge, Exam.exam_date, Exam.extra).join(Officer, Officer.id == Exam.officer_id)
            .where(Exam.hospital_id == hospital.id, Exam.extra.is_not(None)).order_by(Exam.id)):
        rec = Record(0, {"kind": "kept-raw"}, ident={"badge": badge}, exam_date=day)
        for label, entry in (extra or {}).items():
            target, unit = label_target(label, hospital.mapping, "item")
            if target in (None, hz.IGNORED) or target in hz.IDENTITY_FIELDS or target in hz.LONG_FIELDS:
                rec.unplaced.append((label, entry.get("value"), entry.get("unit")))
            else:
                rec.items.append(Item(target, entry.get("value"), entry.get("unit") or unit, label))
        if rec.items:
            records.append(rec)
    return records



def reprocess(session: Session, original: ImportBatch, user: str | None, progress: Progress | None = None,
              mapping: dict | None = None, secret: str | None = None) -> dict:
    """Re-run a hospital batch's open quarantine with the hospital's mapping now in force, in a new batch.

    Rows that now load are marked ``reprocessed`` (with the new batch id); the others stay open
    with the new reason."""
    hospital = session.scalar(select(Hospital).where(Hospital.code == original.source))
    if hospital is None:
        raise Unreadable(f"the hospital {original.source} of batch {original.id} no longer exists")
    if mapping is not None:
        hospital.mapping = validate_mapping(mapping)
    rows = list(session.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == original.id,
                                                            QuarantineRow.status == "open")
                                .order_by(QuarantineRow.id)))
    batch = new_batch(session, "hospital", hospital.code, f"reprocess of batch {original.id}", original.file_hash,
                      "reprocess", user)
    summary = base_summary(batch.id, f"reprocess of batch {original.id}", "reprocess")
    summary.update(hospital=hospital.code, hospital_registered=False, reprocess_of=original.id,
                   quarantine_rows=len(rows))
    groups: dict[str, list[QuarantineRow]] = defaultdict(list)
    for q in rows:
        groups[json.dumps(q.raw, sort_keys=True, ensure_ascii=False, default=str)].append(q)
    records: list[Record] = []
    owners: list[str] = []
    for key, qs in groups.items():
        for rec in records_from_raw(qs[0].raw, qs[0].row_number or 0, hospital.mapping):
            records.append(rec)
            owners.append(key)
    kept = _kept_raw_records(session, hospital)
    granularity = "item" if kept or any(q.raw.get("kind") in ("long", "fhir", "unplaced") for q in rows) else "exam"
    outcome, touched, _ = load_records(session, records + kept, granularity, hospital, batch.id, summary, progress,
                                    quarantine=False, secret=secret)
    placed = sum(len(rec.items) for rec in kept)
    now = utcnow()
    resolved = 0
    by_owner: dict[str, list[int]] = defaultdict(list)
    for idx, key in enumerate(owners):
        by_owner[key].append(idx)
    for key, qs in groups.items():
        idxs = by_owner.get(key, [])
        errors = [e for i in idxs for e in outcome.errors.get(i, [])]
        rejected = [i for i in idxs if outcome.status.get(i) == "rejected"]
        for q in qs:
            if q.raw.get("kind") == "unplaced":
                left = [r for i in idxs for r in records[i].unplaced]
                still = errors + [("unplaced", f"'{left[0][0]}' is still not a known field")] if left else errors
            else:
                still = [e for e in errors if e[0] == q.field]
                if rejected and not still:
                    still = [e for i in rejected for e in outcome.errors.get(i, [])][:1] or [
                        ("row", "the row still has nothing that can be loaded")]
            if not still:
                q.status, q.resolved_at, q.resolved_batch_id = "reprocessed", now, batch.id
                resolved += 1
            else:
                q.reason = "; ".join(dict.fromkeys(r for _, r in still))
    summary["resolved"] = resolved
    summary["kept_raw_placed"] = placed
    summary["still_open"] = len(rows) - resolved
    summary["quarantined"] = len(rows) - resolved
    summary["errors"] = [{"row": q.row_number, "field": q.field, "reason": q.reason}
                         for q in rows if q.status == "open"]
    finish_batch(session, batch, summary, touched)
    return summary
