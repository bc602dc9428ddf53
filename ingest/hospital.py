"""Hospital files: format detection and parsing into records the batch loader validates.

Formats, detected from the content (never from the file name):

* CSV in UTF-8, UTF-8 with BOM or GBK/GB18030 (GB text is decoded as gb18030, so
  rare characters such as 䶮 survive), and XLSX — one row per exam ("wide") or
  one row per item ("long": item, result and unit columns);
* HL7 v2 ORU^R01, one or many messages, with or without MLLP framing (``hl7``);
* a FHIR R4 ``Bundle`` of ``Observation`` and ``Patient`` resources, each
  validated with ``fhir.resources`` (R4B models), codes matched by LOINC.

``parse(data, mapping)`` returns a :class:`Parsed`: one :class:`Record` per
source row (a CSV/XLSX row, an HL7 message, a FHIR entry) with the raw
content kept for quarantine, the identity, the exam date and the items. A file
that cannot be read at all raises :class:`Unreadable` with the reason.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ingest import harmonise as hz
from ingest import hl7msg
from ingest.hl7msg import field as hl7_field
from ingest.harmonise import IDENTITY_FIELDS, IGNORED, LONG_FIELDS
from models.items import LOINC

__all__ = ["Unreadable", "Item", "Record", "Parsed", "parse", "detect", "decode_text", "read_table",
           "records_from_raw", "hl7_messages", "parse_hl7_message"]


class Unreadable(Exception):
    """The file cannot be read at all; the message says why."""


@dataclass(slots=True)
class Item:
    field: str              # canonical code or ecg_text/ultrasound_text/summary_text
    raw: Any                # the value as sent
    unit: str | None        # unit declared by header, unit column, mapping or message
    label: str              # header, item name or code, for messages


@dataclass
class Record:
    row: int                                   # spreadsheet row, message number or bundle entry number
    raw: dict                                  # JSON-able raw content, kept in quarantine
    ident: dict = field(default_factory=dict)  # id_number, badge, name, sex
    exam_date: Any = None
    external_id: str | None = None
    items: list[Item] = field(default_factory=list)
    error: tuple[str, str] | None = None       # (field, reason): the whole record is refused
    unplaced: list[tuple[str, Any, str | None]] = field(default_factory=list)  # (label, value, unit)


@dataclass
class Parsed:
    format: str                    # csv-wide, csv-long, xlsx-wide, xlsx-long, hl7, fhir
    granularity: str               # "exam": a record is an exam; "item": a record is one item
    records: list[Record]
    encoding: str | None = None
    unplaced_columns: list[str] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)   # {row, field, note}: what harmonisation decided


# --- detection and decoding -------------------------------------------------------------
def detect(data: bytes) -> str:
    """csv, xlsx, hl7 or fhir from the first bytes."""
    head = data[:4096]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable("this is an old binary Excel file (.xls); save it as .xlsx or CSV and load that")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n\x0b")
    if stripped.startswith((b"MSH|", b"FHS|", b"BHS|")):
        return "hl7"
    if stripped.startswith(b"{") or stripped.startswith(b"["):
        return "fhir"
    if not data.strip():
        raise Unreadable("the file is empty")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable("the file is binary, not a table, HL7 or FHIR")
    return "csv"


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): BOM first, then strict UTF-8, then GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise Unreadable(f"the text is neither UTF-8 nor GBK/GB18030 (bad byte at offset {exc.start})") from None


# --- tables (CSV / XLSX) ------------------------------------------------------------------
def read_table(data: bytes) -> tuple[str, str | None, list[list[Any]], bool]:
    """(format, encoding, rows, ends_cleanly) of a CSV or XLSX file; rows are lists of cells."""
    kind = detect(data)
    if kind == "xlsx":
        return "xlsx", None, _xlsx_rows(data), True
    if kind != "csv":
        raise Unreadable(f"expected a CSV or XLSX table, found {kind.upper()}")
    text, encoding = decode_text(data)
    return "csv", encoding, _csv_rows(text), text.endswith(("\n", "\r"))


def _csv_rows(text: str) -> list[list[str]]:
    sample = "\n".join(text.splitlines()[:5])
    delimiter = max(",\t;|", key=sample.count) if any(d in sample for d in ",\t;|") else ","
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            rows.append(["\x00csv-error"])  # marks the row the reader broke on (e.g. a quote cut off)
            break
        rows.append(row)
    return rows


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise Unreadable(f"the Excel file is damaged or cut off ({type(exc).__name__}: {exc})") from None
    try:
        best: list[list[Any]] = []
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            if _header_index(rows) is not None:
                return rows
            best = best or rows
        return best
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise Unreadable(f"the Excel file is damaged or cut off ({type(exc).__name__}: {exc})") from None
    finally:
        wb.close()


def _header_index(rows: list[list[Any]], mapping: dict | None = None) -> int | None:
    """The header row: the first of the first 15 rows where at least two cells name known fields."""
    for i, row in enumerate(rows[:15]):
        known = sum(1 for c in row if c not in (None, "") and hz.place_header(c, mapping)[0] not in (None, IGNORED))
        if known >= 2:
            return i
    return None


def _jsonable(v: Any) -> Any:
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def _cells(row: list[Any], headers: list[str], names: list[str]) -> dict[str, Any]:
    """header -> JSON-able value of one row: every named column, and unnamed ones that hold a value."""
    cells = {}
    for name, header, v in zip(names, headers, row):
        if header or v not in (None, ""):
            cells[name] = v if v.__class__ is str else _jsonable(v)
    for j in range(len(headers), len(row)):
        if row[j] not in (None, ""):
            cells[f"column {j + 1}"] = _jsonable(row[j])
    return cells


def _table_records(rows: list[list[Any]], fmt: str, ends_cleanly: bool, mapping: dict | None) -> Parsed:
    h = _header_index(rows, mapping)
    if h is None:
        raise Unreadable("no header row found: no row names at least two known fields "
                         "(such as 身份证号/警号, 体检日期, 收缩压); add the headers to a mapping file")
    headers = [hz.nfkc(c).replace("\ufeff", "") for c in rows[h]]
    # make duplicate headers distinct so a raw row keeps every cell
    seen: dict[str, int] = {}
    for i, name in enumerate(headers):
        if name:
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                headers[i] = f"{name}#{seen[name]}"
    columns, unplaced = hz.place_headers(headers, mapping)
    fields = {c.field for c in columns}
    long_form = {"item", "value"} <= fields
    if not long_form and not ({"id_number", "badge"} & fields):
        raise Unreadable("no column for the ID number (身份证号) or badge (警号); found: " + ", ".join(h for h in headers if h))
    if "exam_date" not in fields:
        raise Unreadable("no column for the exam date (体检日期); found: " + ", ".join(h for h in headers if h))
    if long_form:
        # in long form a unit/reference column belongs to the item; nothing else is a measure
        pass
    else:
        columns = [c if c.field not in LONG_FIELDS else hz.Column(c.index, c.header, IGNORED, None) for c in columns]
    item_map: dict[Any, tuple[str | None, str | None]] = {}
    if long_form:
        item_col = next(c.index for c in columns if c.field == "item")
        for r in rows[h + 1:]:
            label = r[item_col] if len(r) > item_col else None
            if label not in (None, "") and label not in item_map:
                item_map[label] = hz.item_field(label, mapping)
    parsed = Parsed(f"{fmt}-{'long' if long_form else 'wide'}", "item" if long_form else "exam", [],
                    unplaced_columns=list(unplaced))
    width = len(headers)
    while width and not headers[width - 1]:
        width -= 1
    data_rows = rows[h + 1:]
    plan = column_plan(columns)
    names = [name or f"column {j + 1}" for j, name in enumerate(headers)]
    last_data = max((i for i, r in enumerate(data_rows) if any(c not in (None, "") for c in r)), default=-1)
    for i, row in enumerate(data_rows):
        number = h + i + 2  # the row number a spreadsheet shows
        if not any(c not in (None, "") for c in row):
            continue
        if row == ["\x00csv-error"]:
            parsed.records.append(Record(number, {"cells": None}, error=(
                "file", "the file ends inside a quoted cell: it seems cut off here")))
            continue
        cells = _cells(row, headers, names)
        raw = {"kind": "long" if long_form else "wide", "cells": cells}
        filled = len(row)
        while filled and row[filled - 1] in (None, ""):
            filled -= 1
        if fmt == "csv" and len(row) < width:
            cut = i == last_data and not ends_cleanly
            parsed.records.append(Record(number, raw, error=(
                "row", f"the row has {len(row)} of {width} cells" + (": the file seems cut off here" if cut else ""))))
            continue
        if filled > len(headers) or any(row[j] not in (None, "") for j in range(width, len(row)) if j >= len(headers)):
            parsed.records.append(Record(number, raw, error=(
                "row", f"the row has {filled} cells but the header only {width}")))
            continue
        parsed.records.append(record_from_cells(number, cells, plan, long_form, item_map))
    _unplaced_values(parsed, headers, unplaced)
    _judge_units(parsed)
    return parsed


@dataclass(frozen=True)
class ColumnPlan:
    """Where a row's identity and measures are, worked out once per file rather than once per row."""
    by_field: dict[str, hz.Column]
    measures: tuple[tuple[str, str, str | None], ...]   # (field, header, unit) of every value column


def column_plan(columns: list[hz.Column]) -> ColumnPlan:
    by_field = {c.field: c for c in columns}
    measures = tuple((c.field, c.header, c.unit) for c in columns
                     if c.field not in IDENTITY_FIELDS and c.field != IGNORED and c.field not in LONG_FIELDS)
    return ColumnPlan(by_field, measures)


def record_from_cells(number: int, cells: dict, columns: list[hz.Column] | ColumnPlan, long_form: bool,
                      item_map: dict | None = None) -> Record:
    """One record from a row's cells (header -> value) and the placed columns (or their plan);
    ``item_map`` gives the (field, unit) of each long-form item name."""
    plan = columns if isinstance(columns, ColumnPlan) else column_plan(columns)
    by_field = plan.by_field
    rec = Record(number, {"kind": "long" if long_form else "wide", "cells": cells})
    for name in ("id_number", "badge", "name", "sex"):
        if name in by_field:
            v = cells.get(by_field[name].header)
            if v not in (None, ""):
                rec.ident[name] = hz.nfkc(v)
    if "exam_date" in by_field:
        rec.exam_date = cells.get(by_field["exam_date"].header)
    if "external_id" in by_field and cells.get(by_field["external_id"].header) not in (None, ""):
        rec.external_id = hz.nfkc(cells[by_field["external_id"].header])[:60]
    if long_form:
        label = cells.get(by_field["item"].header)
        value = cells.get(by_field["value"].header)
        unit = cells.get(by_field["unit"].header) if "unit" in by_field else None
        unit = hz.nfkc(unit) or None
        if label in (None, ""):
            rec.error = ("item", "the item name is empty")
            return rec
        target, header_unit = (item_map or {}).get(label) or (None, None)
        if target == IGNORED:
            return rec
        if target is None:
            rec.unplaced.append((hz.nfkc(label), value, unit))
        else:
            rec.items.append(Item(target, value, unit or header_unit, hz.nfkc(label)))
        return rec
    rec.items = [Item(f, cells.get(header), unit, header) for f, header, unit in plan.measures]
    return rec


def _unplaced_values(parsed: Parsed, headers: list[str], unplaced: list[str]) -> None:
    """Keep every value of a column the loader cannot place, per record (quarantined by the loader)."""
    if not unplaced:
        return
    names = set(unplaced)
    for rec in parsed.records:
        cells = rec.raw.get("cells") or {}
        if rec.error:
            continue
        for name in headers:
            if name in names and cells.get(name) not in (None, ""):
                rec.unplaced.append((name, cells[name], None))


def _judge_units(parsed: Parsed) -> None:
    """Give items without a unit the unit their column's (or item's) values point to."""
    groups: dict[tuple[str, str], list[Item]] = {}
    for rec in parsed.records:
        for item in rec.items:
            if item.unit is None and item.field in hz.UNIT_RANGES:
                groups.setdefault((item.label, item.field), []).append(item)
    for (label, code), items in groups.items():
        values = []
        for item in items:
            try:
                values.append(hz.clean_value(item.raw).value)
            except hz.Rejected:
                continue
        unit, note = hz.judge_unit(code, values)
        if unit is not None:
            for item in items:
                item.unit = unit
        if note:
            parsed.notes.append({"row": None, "field": label, "note": note})


# --- HL7 v2 ---------------------------------------------------------------------------------
_MLLP = re.compile(rb"[\x0b\x1c]")


def hl7_messages(data: bytes) -> tuple[list[str], str]:
    """The messages of a file (MLLP framing and FHS/BHS batch segments removed) and the encoding."""
    text, encoding = decode_text(_MLLP.sub(b"\r", data))
    return hl7msg.split_messages(text), encoding


def parse_hl7_message(number: int, text: str, mapping: dict | None) -> Record:
    """One ORU^R01 message -> one exam record (PID identity, OBR-7 date, OBX items)."""
    rec = Record(number, {"kind": "hl7", "message": text.replace("\r", "\n")})
    try:
        msg = hl7msg.parse(text)
    except hl7msg.NotHL7 as exc:
        rec.error = ("message", f"not a valid HL7 message: {exc}")
        return rec
    msh = msg.segment("MSH")
    rec.raw["control_id"] = hl7_field(msh, 10)
    mtype = hl7_field(msh, 9, 0, 0)
    if mtype and mtype != "ORU":
        rec.error = ("MSH-9", f"message type {hl7_field(msh, 9)} is not ORU^R01")
        return rec
    try:
        pid = msg.segment("PID")
    except KeyError:
        rec.error = ("PID", "the message has no PID segment")
        return rec
    for rep in range(len(pid[3]) if len(pid) > 3 else 0):
        ident = hl7_field(pid, 3, rep, 0)
        kind = hl7_field(pid, 3, rep, 4).upper()
        if kind in ("BADGE", "JH", "POLICE", "PN") or "警号" in kind:
            rec.ident["badge"] = ident
        elif re.fullmatch(r"\d{17}[\dXx]", ident) or kind in ("NNCHN", "ID", "SFZ", "NI", "CHN"):
            rec.ident.setdefault("id_number", ident)
    if len(pid) > 19 and hl7_field(pid, 19) and "id_number" not in rec.ident:
        rec.ident["id_number"] = hl7_field(pid, 19)
    name = hl7_field(pid, 5, 0, 0) + hl7_field(pid, 5, 0, 1)
    if name:
        rec.ident["name"] = name
    if hl7_field(pid, 8):
        rec.ident["sex"] = hl7_field(pid, 8)
    try:
        obr = msg.segment("OBR")
    except KeyError:
        obr = None
    if obr is not None:
        rec.exam_date = hl7_field(obr, 7) or None
        rec.external_id = (hl7_field(obr, 3) or hl7_field(obr, 2) or None)
        if rec.exam_date is None:
            rec.error = ("OBR-7", "the exam date (OBR-7) is empty")
            return rec
    obx_dates = []
    try:
        obxs = msg.segments("OBX")
    except KeyError:
        obxs = []
    for obx in obxs:
        code, text_, system = hl7_field(obx, 3, 0, 0), hl7_field(obx, 3, 0, 1), hl7_field(obx, 3, 0, 2).upper()
        value = hl7_field(obx, 5)
        if hl7_field(obx, 2) in ("TX", "FT", "ST") and len(obx) > 5 and len(obx[5]) > 1:
            value = "；".join(hl7_field(obx, 5, r) for r in range(len(obx[5])))
        unit = hl7_field(obx, 6, 0, 0) or None
        status = hl7_field(obx, 11).upper()
        if status in ("D", "W", "X"):
            continue  # deleted, wrong, cannot be obtained
        if hl7_field(obx, 14):
            obx_dates.append(hl7_field(obx, 14))
        target, implied = _code_target(code, text_, system, mapping)
        label = f"{code}^{text_}" if text_ else code
        _place_item(rec, target, value, unit, implied, label)
    if obr is None:
        if not obx_dates:
            rec.error = ("OBR-7", "the message has no OBR segment and no OBX date")
            return rec
        rec.exam_date = obx_dates[0]
    return rec


def label_target(label: str, mapping: dict | None, source: str) -> tuple[str | None, str | None]:
    """(field, unit) of an unplaced column header, item name or message code label ("code^text")."""
    if source == "column":
        return hz.place_header(label, mapping)
    if "^" in label:
        code, text = label.split("^", 1)
        return _code_target(code, text, "", mapping)
    return _code_target(label, "", "", mapping)


def _code_target(code: str, text: str, system: str, mapping: dict | None) -> tuple[str | None, str | None]:
    mapping = mapping or {}
    items = mapping.get("items") or {}
    for key in (code, text, f"{code}^{text}"):
        if key and key in items:
            t = items[key]
            return (t.get("field"), t.get("unit")) if isinstance(t, dict) else (t, None)
    if code in LOINC and system in ("LN", "LOINC", "HTTP://LOINC.ORG", ""):
        return LOINC[code]
    for candidate in (text, code):
        if candidate:
            target, unit = hz.item_field(candidate, mapping)
            if target:
                return target, unit
    return None, None


def _parse_hl7(data: bytes, mapping: dict | None) -> Parsed:
    messages, encoding = hl7_messages(data)
    if not messages:
        raise Unreadable("no HL7 message (MSH segment) found")
    parsed = Parsed("hl7", "exam", [], encoding=encoding)
    for i, text in enumerate(messages, 1):
        parsed.records.append(parse_hl7_message(i, text, mapping))
    _judge_units(parsed)
    return parsed


# --- FHIR R4 (R4B models) ---------------------------------------------------------------------
def _fhir_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors()[:3]]
            return "invalid resource: " + "; ".join(parts)
        except Exception:  # noqa: BLE001 - fall back to the plain message
            pass
    return f"invalid resource: {str(exc).splitlines()[0]}"


OBSERVATION_STATUS = ("registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error",
                      "unknown")


def _parse_fhir(data: bytes, mapping: dict | None) -> Parsed:
    from fhir.resources.R4B import get_fhir_model_class

    text, encoding = decode_text(data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); the file may be cut off") from None
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        kind = doc.get("resourceType") if isinstance(doc, dict) else type(doc).__name__
        raise Unreadable(f"expected a FHIR Bundle, found {kind}")
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        raise Unreadable("Bundle.entry is not a list")
    patients: dict[str, dict] = {}
    bad_patients: dict[str, str] = {}
    parsed = Parsed("fhir", "item", [], encoding=encoding)
    pending: list[tuple[int, dict, dict]] = []
    for i, entry in enumerate(entries, 1):
        res = (entry or {}).get("resource") if isinstance(entry, dict) else None
        raw = {"kind": "fhir", "entry": entry}
        if not isinstance(res, dict) or not res.get("resourceType"):
            parsed.records.append(Record(i, raw, error=("resource", "the entry has no resource")))
            continue
        rtype = res["resourceType"]
        try:
            model = get_fhir_model_class(rtype)
        except KeyError:
            parsed.records.append(Record(i, raw, error=("resourceType", f"unknown resource type {rtype!r}")))
            continue
        refs = {entry.get("fullUrl")} | ({f"{rtype}/{res['id']}"} if res.get("id") else set())
        refs.discard(None)
        try:
            model.model_validate(res)
        except Exception as exc:  # pydantic ValidationError and fhir_core errors
            if rtype == "Patient":
                for r in refs:
                    bad_patients[r] = _fhir_error(exc)
            parsed.records.append(Record(i, raw, error=(rtype, _fhir_error(exc))))
            continue
        if rtype == "Observation" and res.get("status") not in OBSERVATION_STATUS:
            parsed.records.append(Record(i, raw, error=("status", f"invalid resource: status {res.get('status')!r} "
                                                                  "is not an Observation status")))
            continue
        if rtype == "Patient":
            ident = _patient_ident(res)
            for r in refs:
                patients[r] = ident
        elif rtype == "Observation":
            pending.append((i, entry, res))
        else:
            parsed.records.append(Record(i, raw, error=("resourceType", f"{rtype} resources are not loaded")))
    for i, entry, res in pending:
        parsed.records.append(_fhir_observation(i, entry, res, patients, bad_patients, mapping))
    parsed.records.sort(key=lambda r: r.row)
    _judge_units(parsed)
    return parsed


def _patient_ident(res: dict) -> dict:
    ident: dict[str, str] = {}
    for idf in res.get("identifier") or []:
        value = str(idf.get("value") or "")
        system = str(idf.get("system") or "").lower()
        type_text = json.dumps(idf.get("type") or {}, ensure_ascii=False).lower()
        if "badge" in system or "警号" in type_text or "badge" in type_text:
            ident["badge"] = value
        elif re.fullmatch(r"\d{17}[\dXx]", value) or "2.16.156.10011.1.3" in system or "身份证" in type_text:
            ident.setdefault("id_number", value)
    names = res.get("name") or []
    if names:
        n = names[0]
        ident["name"] = n.get("text") or (n.get("family") or "") + "".join(n.get("given") or [])
    if res.get("gender") in ("male", "female"):
        ident["sex"] = res["gender"]
    return ident


def _fhir_observation(i: int, entry: dict, res: dict, patients: dict, bad: dict, mapping: dict | None) -> Record:
    rec = Record(i, {"kind": "fhir", "entry": entry})
    ref = ((res.get("subject") or {}).get("reference")) or ""
    if ref in bad:
        rec.error = ("subject", f"the subject {ref} is an invalid Patient resource")
        return rec
    if ref not in patients:
        rec.error = ("subject", f"the subject {ref or '(none)'} is not a Patient in this bundle")
        return rec
    rec.ident = dict(patients[ref])
    rec.raw["patient"] = patients[ref]
    status = res.get("status")
    if status in ("entered-in-error", "cancelled"):
        rec.error = ("status", f"the observation status is {status}")
        return rec
    rec.exam_date = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start") or res.get("issued")
    if not rec.exam_date:
        rec.error = ("effectiveDateTime", "the observation has no date")
        return rec
    parts = [(res.get("code") or {}, res)]
    if res.get("component"):
        parts = [(c.get("code") or {}, c) for c in res["component"]]
    for code_obj, holder in parts:
        target, implied, label = _fhir_code(code_obj, mapping)
        value, unit = _fhir_value(holder)
        _place_item(rec, target, value, unit, implied, label)
    return rec


def _place_item(rec: "Record", target: str | None, value, unit, implied, label: str) -> None:
    """A coded value from an HL7 OBX or a FHIR Observation: a known item, kept aside
    as unplaced (reported and quarantined, never dropped), or deliberately ignored."""
    if target == IGNORED:
        return
    if target is None:
        rec.unplaced.append((label, value, unit))
    else:
        rec.items.append(Item(target, value, unit or implied, label))


def _fhir_code(code_obj: dict, mapping: dict | None) -> tuple[str | None, str | None, str]:
    codings = code_obj.get("coding") or []
    label = ""
    for c in codings:
        system, code = str(c.get("system") or ""), str(c.get("code") or "")
        label = label or (f"{code}^{c.get('display')}" if c.get("display") else code)
        if "loinc" in system.lower() and code in LOINC:
            target, unit = LOINC[code]
            return target, unit, label
    for c in codings:
        target, unit = _code_target(str(c.get("code") or ""), str(c.get("display") or ""), "LOCAL", mapping)
        if target:
            return target, unit, label
    if code_obj.get("text"):
        target, unit = hz.item_field(code_obj["text"], mapping)
        return target, unit, label or code_obj["text"]
    return None, None, label or "(no code)"


def _fhir_value(holder: dict) -> tuple[Any, str | None]:
    if "valueQuantity" in holder:
        q = holder["valueQuantity"] or {}
        return q.get("value"), q.get("unit") or q.get("code")
    for key in ("valueString", "valueInteger"):
        if key in holder:
            return holder[key], None
    if "valueCodeableConcept" in holder:
        return (holder["valueCodeableConcept"] or {}).get("text"), None
    if holder.get("dataAbsentReason"):
        return "未做", None
    return None, None


# --- entry points -------------------------------------------------------------------------------
def parse(data: bytes, mapping: dict | None = None, progress: Callable[[int, int], None] | None = None) -> Parsed:
    """Parse a file's bytes into records; Unreadable when it cannot be read at all."""
    kind = detect(data)
    if kind == "hl7":
        return _parse_hl7(data, mapping)
    if kind == "fhir":
        return _parse_fhir(data, mapping)
    fmt, encoding, rows, ends_cleanly = read_table(data)
    parsed = _table_records(rows, fmt, ends_cleanly, mapping)
    parsed.encoding = encoding
    return parsed


def records_from_raw(raw: dict, row: int, mapping: dict | None) -> list[Record]:
    """Rebuild the record(s) of quarantined raw content with the mapping now in force (reprocess).

    An "unplaced" entry (every value of a column or item the loader could not place) gives one
    record per value."""
    kind = raw.get("kind")
    if kind in ("wide", "long"):
        cells = raw.get("cells") or {}
        columns, unplaced = hz.place_headers(list(cells), mapping)
        long_form = kind == "long"
        item_map = {}
        if long_form:
            item_col = next((c for c in columns if c.field == "item"), None)
            label = cells.get(item_col.header) if item_col else None
            if label not in (None, ""):
                item_map[label] = hz.item_field(label, mapping)
        else:
            columns = [c if c.field not in LONG_FIELDS else hz.Column(c.index, c.header, IGNORED, None) for c in columns]
        rec = record_from_cells(row, cells, columns, long_form, item_map)
        if not long_form:
            rec.unplaced = [(h, cells[h], None) for h in unplaced if cells.get(h) not in (None, "")]
        _judge_units(Parsed("x", "exam", [rec]))
        return [rec]
    if kind == "hl7":
        return [parse_hl7_message(row, raw["message"].replace("\n", "\r"), mapping)]
    if kind == "fhir":
        entry = raw.get("entry") or {}
        res = (entry.get("resource") if isinstance(entry, dict) else None) or {}
        patient = raw.get("patient")
        if res.get("resourceType") == "Observation" and patient is not None:
            ref = (res.get("subject") or {}).get("reference") or ""
            return [_fhir_observation(row, entry, res, {ref: patient}, {}, mapping)]
        parsed = _parse_fhir(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [entry]}).encode(),
                             mapping)
        for rec in parsed.records:
            rec.row = row
        return parsed.records or [Record(row, raw, error=("resource", "the entry holds no observation"))]
    if kind == "unplaced":
        label = raw["label"]
        target, unit = label_target(label, mapping, raw.get("source") or "item")
        placed = target not in (None, IGNORED) and target not in IDENTITY_FIELDS and target not in LONG_FIELDS
        out = []
        for v in raw.get("values") or []:
            rec = Record(v.get("row") or row, {"kind": "unplaced-value", **v}, ident=dict(v.get("ident") or {}),
                         exam_date=v.get("exam_date"))
            if placed:
                rec.items.append(Item(target, v.get("value"), v.get("unit") or unit, label))
            elif target != IGNORED:
                rec.unplaced.append((label, v.get("value"), v.get("unit")))
            out.append(rec)
        if placed:
            _judge_units(Parsed("x", "item", out))
        return out
    return [Record(row, raw, error=("row", "this quarantined content cannot be re-read"))]
