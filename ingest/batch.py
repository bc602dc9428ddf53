"""Import batches: one transaction per file, quarantine, idempotent upsert, reprocess.

A batch reads a file into records (``ingest.hospital.parse``), matches each to an
officer (keyed hash of the ID number, or the badge), validates and converts
every value (``ingest.harmonise``), and upserts exams and observations:

* the same file again inserts nothing (``unchanged`` counts it); a corrected
  re-export updates only the values that changed;
* every refused row, value or unplaced column is kept in ``quarantine_row``
  with its raw content and the reason — nothing is dropped;
* the batch is one transaction: a crash mid-file leaves nothing behind (the
  batch is then recorded as failed, with the error, in its own transaction);
* the touched officers' status is recomputed and the data version bumped in
  the same transaction.

Counting (the summary every command prints): ``rows_read`` source rows (CSV/XLSX
rows, HL7 messages, FHIR entries other than valid Patients); each row is
``inserted``, ``updated``, ``unchanged`` or rejected (``rows_rejected``), so
``rows_read = inserted + updated + unchanged + rows_rejected``. ``quarantined``
counts the quarantine entries written: rejected rows, rejected values of loaded
rows, and one entry per column or item the loader could not place.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ingest import harmonise as hz
from ingest import idcard
from ingest.hospital import Record, Unreadable, parse, records_from_raw
from models.bulk import insert_rows, reserve_ids
from models.clinical import CANONICAL_UNITS
from models.db import bump_data_version, get_meta, session_scope, set_meta
from models.schema import Exam, Hospital, ImportBatch, Observation, Officer, QuarantineRow, utcnow

__all__ = ["load_hospital_file", "load_hospital_bytes", "reprocess", "record_failed", "id_hash_key",
           "OfficerIndex", "Unreadable", "save_hospital_mapping", "ERRORS_KEPT"]

Progress = Callable[[str, int, int], None]
CHUNK = 900                 # ids per IN (...) list
ERRORS_KEPT = 1000          # errors stored in import_batch.summary (the command prints them all)
EXAM_TIME = dt.time(8, 0)   # observations of an exam are dated at 08:00 of the exam day
EARLIEST_EXAM = dt.date(2000, 1, 1)
OBS_COLS = ("officer_id", "code", "value", "unit", "observed_at", "source_kind", "source_id", "exam_id", "station",
            "batch_id")


# --- the ID hash key and officer matching -------------------------------------------------------
def id_hash_key(session: Session) -> str:
    """The key ID numbers are hashed with: meta ``id_hash_key`` (the demo force sets it), else the portal secret."""
    key = get_meta(session, "id_hash_key")
    if key:
        return key
    env = os.environ.get("PORTAL_SECRET_KEY")
    if env:
        return env
    from portal.config import Config

    return Config().secret_key


def check_id_key(session: Session, key: str) -> None:
    """Refuse to match with a different key than the one the roster was loaded with (hashes would never match)."""
    probe = idcard.keyed_hash("000000190001010000", key)[:16]
    known = get_meta(session, "id_hash_probe")
    if known is None:
        set_meta(session, "id_hash_probe", probe)
    elif known != probe:
        raise Unreadable("the ID hash key differs from the one the officers were loaded with: set PORTAL_SECRET_KEY "
                         "to the secret used for the roster (or meta id_hash_key), otherwise no ID number can match")


class OfficerIndex:
    """Every officer's id by ID-number hash and by badge, loaded once per batch."""

    def __init__(self, session: Session):
        self.key = id_hash_key(session)
        self.by_hash: dict[str, int] = {}
        self.by_badge: dict[str, int] = {}
        self.names: dict[int, str] = {}
        for oid, badge, h, name in session.execute(select(Officer.id, Officer.badge, Officer.id_hash, Officer.name)):
            self.by_badge[badge] = oid
            if h:
                self.by_hash[h] = oid
            self.names[oid] = name
        if self.by_hash:
            check_id_key(session, self.key)

    def match(self, ident: dict) -> tuple[int | None, tuple[str, str] | None]:
        """(officer id, None) or (None, (field, reason))."""
        raw_id = ident.get("id_number")
        badge = (ident.get("badge") or "").strip()
        by_id = None
        if raw_id:
            number = idcard.normalise(raw_id)
            if not idcard.is_valid(number):
                return None, ("id_number", _id_problem(number))
            by_id = self.by_hash.get(idcard.keyed_hash(number, self.key))
        by_badge = self.by_badge.get(badge) if badge else None
        if by_id and by_badge and by_id != by_badge:
            return None, ("badge", f"the ID number and the badge {badge} belong to different officers")
        oid = by_id or by_badge
        if oid is None:
            what = " or ".join(x for x in (f"ID number {idcard.mask(raw_id) if raw_id and len(idcard.normalise(raw_id)) == 18 else raw_id}" if raw_id else "",
                                           f"badge {badge}" if badge else "") if x)
            if not what:
                return None, ("id_number", "the row has neither an ID number nor a badge")
            return None, ("id_number" if raw_id else "badge", f"no officer with {what}")
        name = (ident.get("name") or "").replace(" ", "")
        if name and name != self.names[oid].replace(" ", ""):
            return None, ("name", f"the name {name} does not match the officer's name {self.names[oid]}")
        return oid, None


def _id_problem(number: str) -> str:
    import re

    if not re.fullmatch(r"\d{17}[\dX]", number):
        return f"'{number}' is not an 18-character ID number"
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"the ID number {idcard.mask(number)} holds no real birth date"
    expected = idcard.check_digit(number[:17])
    if expected != number[17]:
        return f"the ID number {idcard.mask(number)} fails the GB 11643 check digit (expected {expected})"
    return f"the ID number {idcard.mask(number)} holds a birth date outside 1900–today"


# --- batches --------------------------------------------------------------------------------------
def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_batch(session: Session, kind: str, source: str | None, filename: str | None, digest: str | None,
              fmt: str | None, user: str | None) -> ImportBatch:
    batch = ImportBatch(kind=kind, source=source, filename=(filename or "")[-400:] or None, file_hash=digest,
                        file_format=fmt, created_by=user, started_at=utcnow(), status="running")
    session.add(batch)
    session.flush()
    return batch


def record_failed(url: str, kind: str, source: str | None, filename: str | None, digest: str | None,
                  user: str | None, reason: str, fmt: str | None = None) -> int:
    """A failed batch in its own transaction (nothing of its data remains); returns its id."""
    with session_scope(url) as s:
        batch = new_batch(s, kind, source, filename, digest, fmt, user)
        batch.status = "failed"
        batch.finished_at = utcnow()
        batch.summary = {"error": reason}
        return batch.id


@contextlib.contextmanager
def recording_failure(url: str, kind: str, source: str | None, filename: str | None, digest: str | None,
                      user: str | None, enabled: bool = True) -> Iterator[None]:
    """Around a whole load: if it raises, the half batch has been rolled back, so record a failed
    batch (in its own transaction) that says why, then re-raise. Not for dry runs (``enabled``)."""
    try:
        yield
    except Unreadable as exc:
        if enabled:
            exc.batch_id = record_failed(url, kind, source, filename, digest, user, str(exc))
        raise
    except Exception as exc:
        if enabled:
            record_failed(url, kind, source, filename, digest, user,
                          f"the batch failed and was rolled back: {type(exc).__name__}: {exc}")
        raise


def add_quarantine(session: Session, batch_id: int, entries: list[dict]) -> None:
    if entries:
        now = utcnow()
        session.execute(insert(QuarantineRow), [
            {"batch_id": batch_id, "row_number": e["row"], "field": (e.get("field") or "")[:60] or None,
             "reason": e["reason"], "raw": e["raw"], "status": "open", "created_at": now} for e in entries])


def finish_batch(session: Session, batch: ImportBatch, summary: dict, touched: Iterable[int]) -> None:
    """Counts and summary on the batch row, recompute the touched officers, bump the data version."""
    from models.snapshot import recompute_officers

    ids = sorted(set(touched))
    if ids:
        recompute_officers(session, ids)
    summary["officers_recomputed"] = len(ids)
    for k in ("rows_read", "inserted", "updated", "unchanged", "quarantined"):
        setattr(batch, k, int(summary.get(k, 0)))
    stored = dict(summary)
    stored["errors"] = summary.get("errors", [])[:ERRORS_KEPT]
    if len(summary.get("errors", [])) > ERRORS_KEPT:
        stored["errors_truncated"] = len(summary["errors"])
    batch.summary = json.loads(json.dumps(stored, default=str))
    batch.status = "loaded"
    batch.finished_at = utcnow()
    bump_data_version(session)


def base_summary(batch_id: int | None, filename: str | None, fmt: str) -> dict:
    return {"batch_id": batch_id, "file": filename, "format": fmt, "rows_read": 0, "inserted": 0, "updated": 0,
            "unchanged": 0, "quarantined": 0, "errors": []}


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
    allowed = set(CANONICAL_UNITS) | set(hz.IDENTITY_FIELDS) | set(hz.TEXT_FIELDS) | set(hz.LONG_FIELDS) | {hz.IGNORED}
    for section in ("columns", "items"):
        for header, target in (data.get(section) or {}).items():
            f = target.get("field") if isinstance(target, dict) else target
            if f not in allowed:
                raise Unreadable(f"mapping {section}.{header}: '{f}' is not a field (one of {', '.join(sorted(allowed))})")
    for code, unit in (data.get("units") or {}).items():
        if code not in CANONICAL_UNITS:
            raise Unreadable(f"mapping units.{code}: not a measure code")
        try:
            hz.to_canonical(code, 1.0 if code not in hz.LIMITS else max(hz.LIMITS[code][0], 1.0), unit)
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
        try:
            cleaned = hz.clean_value(item.raw)
            if cleaned.value is None:
                c.not_done += 1 if cleaned.note else 0
                continue
            unit = item.unit
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


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# --- the loader -------------------------------------------------------------------------------------
@dataclass
class _ExamState:
    id: int | None
    texts: dict[str, str | None]
    external_id: str | None
    origin: Any                      # "db" or the first row that created it
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
                 today: dt.date | None = None) -> tuple[Outcome, set[int]]:
    """Validate and upsert records; fills ``summary``; returns per-record outcome and the touched officers."""
    today = today or dt.date.today()
    officers = OfficerIndex(session)
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
    unplaced: dict[str, list[dict]] = defaultdict(list)
    duplicates: list[dict] = []
    notes: list[dict] = []
    touched: set[int] = set()
    counts = defaultdict(int)
    for idx, c in enumerate(checked):
        rec = c.rec
        errs: list[tuple[str, str]] = []
        for label, value, unit in rec.unplaced:
            unplaced[label].append({"row": rec.row, "ident": rec.ident, "exam_date": _jsonable(rec.exam_date),
                                    "value": _jsonable(value), "unit": unit})
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
        if not c.values and not c.texts and (c.errors or rec.unplaced or granularity == "item"):
            # nothing to load from this row: its content is in quarantine (or was not done)
            if c.errors or rec.unplaced:
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
    for label, values in unplaced.items():
        source = "item" if granularity == "item" or summary.get("format") == "hl7" else "column"
        what = "column" if source == "column" else "item"
        reason = f"the {what} '{label}' is not a known field: add it to the hospital's mapping ({len(values)} values kept)"
        entries.append({"row": None, "field": label, "reason": reason,
                        "raw": {"kind": "unplaced", "source": source, "label": label, "values": values}})
    if progress:
        progress("write", 0, 1)
    written = _write(session, hospital, batch_id, exams, obs)
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
    summary.setdefault("unplaced", []).extend(sorted(unplaced))
    return outcome, touched


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
        for eid, oid, day, ecg, us, summ, ext in session.execute(
                select(Exam.id, Exam.officer_id, Exam.exam_date, Exam.ecg_text, Exam.ultrasound_text,
                       Exam.summary_text, Exam.external_id)
                .where(Exam.hospital_id == hospital.id, Exam.officer_id.in_(chunk),
                       Exam.exam_date >= lo, Exam.exam_date <= hi)):
            if (oid, day) in keys:
                exams[(oid, day)] = _ExamState(eid, {"ecg_text": ecg, "ultrasound_text": us, "summary_text": summ},
                                               ext, "db")
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
        ex = _ExamState(None, {"ecg_text": None, "ultrasound_text": None, "summary_text": None},
                        c.rec.external_id, c.rec.row)
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


def _write(session: Session, hospital: Hospital, batch_id: int | None, exams: dict, obs: dict) -> dict[str, int]:
    from ingest.harmonise import findings_for

    out = {"exams_inserted": 0, "exams_updated": 0, "obs_inserted": 0, "obs_updated": 0}
    new_keys = [k for k, e in exams.items() if e.id is None]
    if new_keys:
        _insert_exams(session, hospital, batch_id, new_keys, exams)
        out["exams_inserted"] = len(new_keys)
    dirty = [e for e in exams.values() if e.dirty]
    if dirty:
        session.execute(update(Exam), [
            {"id": e.id, "ecg_text": e.texts["ecg_text"], "ultrasound_text": e.texts["ultrasound_text"],
             "summary_text": e.texts["summary_text"], "external_id": e.external_id,
             "findings": findings_for(e.texts["ecg_text"], e.texts["ultrasound_text"]), "batch_id": batch_id}
            for e in dirty])
        out["exams_updated"] = len(dirty)
    # in index order (officer, code, time): b-tree inserts then touch neighbouring pages, not random ones
    new_obs = sorted(((k, st) for k, st in obs.items() if st.id is None), key=lambda kv: kv[0])
    if new_obs:
        rows = [(oid, code, st.value, CANONICAL_UNITS[code], dt.datetime.combine(day, EXAM_TIME), "exam",
                 hospital.code, exams[(oid, day)].id, None, batch_id) for (oid, code, day), st in new_obs]
        insert_rows(session, "observation", OBS_COLS, rows)
        out["obs_inserted"] = len(rows)
    changed = [st for st in obs.values() if st.dirty]
    if changed:
        session.execute(update(Observation), [{"id": st.id, "value": st.value, "batch_id": batch_id} for st in changed])
        out["obs_updated"] = len(changed)
    session.flush()
    return out


EXAM_COLS = ("id", "officer_id", "hospital_id", "exam_date", "external_id", "ecg_text", "ultrasound_text",
             "summary_text", "findings", "batch_id")


def _insert_exams(session: Session, hospital: Hospital, batch_id: int | None, keys: list, exams: dict) -> None:
    """Insert the new exams and set their ids on the states: ids reserved and COPY on PostgreSQL; on
    SQLite one executemany, then the ids read back in one pass (RETURNING there goes row by row)."""
    from ingest.harmonise import findings_for

    def row(k):
        t = exams[k].texts
        return {"officer_id": k[0], "hospital_id": hospital.id, "exam_date": k[1], "external_id": exams[k].external_id,
                "ecg_text": t["ecg_text"], "ultrasound_text": t["ultrasound_text"], "summary_text": t["summary_text"],
                "findings": findings_for(t["ecg_text"], t["ultrasound_text"]), "batch_id": batch_id}

    ids = reserve_ids(session, "exam", len(keys))
    if ids is not None:
        for k, eid in zip(keys, ids):
            exams[k].id = eid
        rows = (row(k) | {"id": exams[k].id} for k in keys)
        insert_rows(session, "exam", EXAM_COLS, ([r[c] for c in EXAM_COLS] for r in rows), json_columns=("findings",))
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
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot open {p}: {exc.strerror or exc}") from None
    return load_hospital_bytes(url, data, hospital_code, filename=kwargs.pop("filename", None) or p.name, **kwargs)


def load_hospital_bytes(url: str, data: bytes, hospital_code: str, *, filename: str | None = None,
                        mapping: dict | None = None, hospital_name: str | None = None, dry_run: bool = False,
                        user: str | None = None, progress: Progress | None = None,
                        today: dt.date | None = None) -> dict:
    """One batch: parse, validate, upsert, quarantine, recompute — all in one transaction.

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
            _, touched = load_records(s, parsed.records, parsed.granularity, hospital, batch.id if batch else None,
                                      summary, progress, quarantine=not dry_run, today=today)
            summary["notes"] = parsed.notes + summary.get("notes", [])
            if dry_run:
                summary["officers_to_recompute"] = len(touched)
                summary["seconds"] = round(time.perf_counter() - t0, 2)
                s.rollback()
                return summary
            if progress:
                progress("recompute status", 0, 1)
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            finish_batch(s, batch, summary, touched)
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            if progress:
                progress("recompute status", 1, 1)
            return summary


# --- reprocess ------------------------------------------------------------------------------------------
def reprocess(url: str, batch_id: int, user: str | None = None, progress: Progress | None = None,
              mapping: dict | None = None, today: dt.date | None = None) -> dict:
    """Re-run a batch's open quarantine with the hospital's mapping now in force, in a new batch.

    Rows that now load are marked ``reprocessed`` (with the new batch id); the others stay open
    with the new reason."""
    from ingest import roster

    with session_scope(url) as s:
        original = s.get(ImportBatch, batch_id)
        if original is None:
            raise Unreadable(f"no import batch {batch_id}")
        if original.kind in ("units", "officers"):
            return roster.reprocess(s, original, user)
        if original.kind == "activity":
            from ingest import activity

            return activity.reprocess(s, original, user, today)
        if original.kind != "hospital":
            raise Unreadable(f"batch {batch_id} is a {original.kind} batch; only hospital, roster and activity "
                             "batches can be re-processed")
        hospital = s.scalar(select(Hospital).where(Hospital.code == original.source))
        if hospital is None:
            raise Unreadable(f"the hospital {original.source} of batch {batch_id} no longer exists")
        if mapping is not None:
            hospital.mapping = validate_mapping(mapping)
        rows = list(s.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == batch_id,
                                                          QuarantineRow.status == "open").order_by(QuarantineRow.id)))
        batch = new_batch(s, "hospital", hospital.code, f"reprocess of batch {batch_id}", original.file_hash,
                          "reprocess", user)
        summary = base_summary(batch.id, f"reprocess of batch {batch_id}", "reprocess")
        summary.update(hospital=hospital.code, hospital_registered=False, reprocess_of=batch_id,
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
        granularity = "item" if any(q.raw.get("kind") in ("long", "fhir", "unplaced") for q in rows) else "exam"
        outcome, touched = load_records(s, records, granularity, hospital, batch.id, summary, progress,
                                        quarantine=False)
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
        summary["still_open"] = len(rows) - resolved
        summary["quarantined"] = len(rows) - resolved
        summary["errors"] = [{"row": q.row_number, "field": q.field, "reason": q.reason}
                             for q in rows if q.status == "open"]
        finish_batch(s, batch, summary, touched)
        return summary
