"""Roster import: units (code, name, parent code, level) and officers (badge, name, sex,
birth date, ID number, unit code, post type, hire date), CSV or XLSX, Chinese or English headers.

Same guarantees as hospital files (``ingest.batch``, ``ingest.hospital_load``): one transaction per file,
idempotent upsert by unit code / badge, refused rows kept in quarantine with the
reason, the touched officers' status recomputed. ID numbers must pass the GB
11643 check digit; a sex or birth date that contradicts the ID number is refused
and reported. The ID number itself is stored only as a keyed hash and a masked form.
"""
from __future__ import annotations

import datetime as dt
import functools
import time
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest import harmonise as hz
from ingest import idcard
from ingest.batch import add_quarantine, base_summary, file_hash, finish_batch, new_batch, read_file, recording_failure
from ingest.hospital import Unreadable, _jsonable, read_table
from ingest.matching import check_id_key, id_hash_key, id_problem
from models.accounts import sync_officer_accounts
from models.db import session_scope
from models.schema import ImportBatch, Officer, QuarantineRow, Unit, utcnow
from models.vocab import POST_TYPES, UNIT_LEVELS

__all__ = ["load_units_file", "load_officers_file", "load_units_bytes", "load_officers_bytes", "reprocess",
           "UNIT_LEVEL_WORDS", "POST_WORDS"]

Progress = Callable[[str, int, int], None]

UNIT_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("单位代码", "单位编码", "机构代码", "组织代码", "代码", "编码", "code", "unitcode", "orgcode"),
    "name": ("单位名称", "机构名称", "名称", "单位", "name", "unitname"),
    "name_en": ("英文名称", "英文名", "nameen", "englishname"),
    "parent": ("上级单位代码", "上级代码", "上级单位", "父级代码", "上级机构代码", "parent", "parentcode", "parentunit"),
    "level": ("级别", "层级", "单位级别", "单位类型", "level", "type", "unitlevel"),
    "lat": ("纬度", "lat", "latitude"),
    "lon": ("经度", "lon", "lng", "longitude"),
}
OFFICER_FIELDS: dict[str, tuple[str, ...]] = {
    "badge": hz.SYNONYMS["badge"],
    "name": hz.SYNONYMS["name"],
    "sex": hz.SYNONYMS["sex"],
    "birth_date": hz.SYNONYMS["birth_date"],
    "id_number": hz.SYNONYMS["id_number"],
    "unit_code": ("单位代码", "单位编码", "所属单位代码", "所在单位代码", "部门代码", "unitcode", "unit", "deptcode", "单位"),
    "post_type": ("岗位", "岗位类别", "岗位类型", "警种", "职位类别", "post", "posttype", "position"),
    "hire_date": ("入警日期", "入警时间", "参加工作时间", "参加工作日期", "入职日期", "hiredate", "startdate", "joined"),
    "active": ("在职", "状态", "在职状态", "active", "status"),
}

# words a roster may use for a unit level (the canonical words come from models.vocab)
UNIT_LEVEL_WORDS = {**{code: code for code in UNIT_LEVELS}, **{zh: code for code, (zh, _) in UNIT_LEVELS.items()},
                    "省": "province", "市": "city", "区": "district", "所": "station", "部门": "department",
                    "支队": "department", "大队": "department", "警种部门": "department", "科室": "department"}


def _post_words() -> dict[str, str]:
    words = {}
    for code, (zh, en) in POST_TYPES.items():
        words[code] = code
        words[zh] = code
        words[en.lower()] = code
    words.update({"巡逻": "patrol", "巡特警": "patrol", "社区": "community", "刑警": "investigation",
                  "侦查": "investigation", "交通": "traffic", "交管": "traffic", "内勤": "office", "综合": "office",
                  "机关": "office", "文职": "office", "网警": "cyber"})
    return words


POST_WORDS = _post_words()


def _norm(text: Any) -> str:
    return hz.norm_header(text)[0]


def _place(headers: list[Any], fields: dict[str, tuple[str, ...]]) -> tuple[dict[str, str], list[str]]:
    index = {}
    for f, names in fields.items():
        for n in names:
            index.setdefault(_norm(n), f)
    placed: dict[str, str] = {}
    unplaced: list[str] = []
    for h in headers:
        text = hz.nfkc(h).replace("\ufeff", "")
        if not text:
            continue
        f = index.get(_norm(text))
        if f and f not in placed:
            placed[f] = text
        elif hz.place_header(text)[0] != hz.IGNORED:
            unplaced.append(text)
    return placed, unplaced


def _table(data: bytes, fields: dict, required: tuple[str, ...], what: str):
    fmt, encoding, rows, ends_cleanly = read_table(data)
    for i, row in enumerate(rows[:15]):
        placed, unplaced = _place(row, fields)
        if all(r in placed for r in required):
            headers = [hz.nfkc(c).replace("\ufeff", "") for c in row]
            width = len(headers)
            while width and not headers[width - 1]:
                width -= 1
            out = []
            data_rows = rows[i + 1:]
            last = max((k for k, r in enumerate(data_rows) if any(c not in (None, "") for c in r)), default=-1)
            for k, r in enumerate(data_rows):
                if not any(c not in (None, "") for c in r):
                    continue
                number = i + k + 2
                cells = {headers[j] if j < len(headers) and headers[j] else f"column {j + 1}": _jsonable(v)
                         for j, v in enumerate(r) if j < len(headers) and headers[j] or v not in (None, "")}
                problem = None
                if r == ["\x00csv-error"]:
                    problem = "the file ends inside a quoted cell: it seems cut off here"
                elif fmt == "csv" and len(r) < width:
                    problem = f"the row has {len(r)} of {width} cells" + (
                        ": the file seems cut off here" if k == last and not ends_cleanly else "")
                out.append((number, cells, problem))
            return fmt, encoding, placed, unplaced, out
    names = " / ".join(fields[r][0] + "(" + fields[r][-1] + ")" for r in required)
    raise Unreadable(f"no header row with the {what} columns {names} found in the first 15 rows")


# --- units ----------------------------------------------------------------------------------------------
def load_units_file(url: str, path: str | Path, **kwargs) -> dict:
    return _load_file(url, path, load_units_bytes, **kwargs)


def load_officers_file(url: str, path: str | Path, **kwargs) -> dict:
    return _load_file(url, path, load_officers_bytes, **kwargs)


def _load_file(url, path, loader, **kwargs) -> dict:
    data, name = read_file(path)
    return loader(url, data, filename=kwargs.pop("filename", None) or name, **kwargs)


def _run(url: str, kind: str, data: bytes, filename: str | None, user: str | None, dry_run: bool,
         progress: Progress | None, fields: dict, required: tuple[str, ...], what: str, body) -> dict:
    digest = file_hash(data)
    t0 = time.perf_counter()
    with recording_failure(url, kind, None, filename, digest, user, enabled=not dry_run):
        with session_scope(url) as s:
            fmt, encoding, placed, unplaced, rows = _table(data, fields, required, what)
            batch = None if dry_run else new_batch(s, kind, None, filename, digest, fmt, user)
            summary = base_summary(batch.id if batch else None, filename, fmt)
            summary.update(encoding=encoding, file_hash=digest, dry_run=dry_run, unplaced_columns=unplaced,
                           rows_rejected=0)
            entries, touched = body(s, placed, rows, summary, progress)
            summary["rows_read"] = len(rows)
            summary["quarantined"] = len(entries)
            summary["errors"] = [{"row": e["row"], "field": e["field"], "reason": e["reason"]} for e in entries]
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            if dry_run:
                s.rollback()
                return summary
            add_quarantine(s, batch.id, entries)
            finish_batch(s, batch, summary, touched)
            return summary


def load_units_bytes(url: str, data: bytes, *, filename: str | None = None, user: str | None = None,
                     dry_run: bool = False, progress: Progress | None = None) -> dict:
    return _run(url, "units", data, filename, user, dry_run, progress, UNIT_FIELDS, ("code", "name"),
                "unit", _units_body)


def _units_body(s: Session, placed: dict, rows: list, summary: dict, progress: Progress | None):
    existing = {u.code: u for u in s.scalars(select(Unit))}
    entries: list[dict] = []
    parsed: dict[str, dict] = {}
    order: list[str] = []
    for number, cells, problem in rows:
        raw = {"kind": "units", "cells": cells}
        get = lambda f, cells=cells: hz.nfkc(cells.get(placed[f])) if f in placed else ""  # noqa: E731
        if problem:
            entries.append({"row": number, "field": "row", "reason": problem, "raw": raw})
            continue
        code, name = get("code"), get("name")
        if not code or not name:
            entries.append({"row": number, "field": "code" if not code else "name",
                            "reason": "the unit code and name must not be empty", "raw": raw})
            continue
        level_raw = get("level")
        level = UNIT_LEVEL_WORDS.get(level_raw.lower() if level_raw.isascii() else level_raw)
        if level is None:
            existing_level = existing[code].level if code in existing else None
            if level_raw or existing_level is None:
                entries.append({"row": number, "field": "level", "reason": f"level '{level_raw}' is not one of "
                                "province/city/district/station/department (省厅/市局/分局/派出所/部门)", "raw": raw})
                continue
            level = existing_level
        try:
            lat = float(get("lat")) if get("lat") else None
            lon = float(get("lon")) if get("lon") else None
        except ValueError:
            entries.append({"row": number, "field": "lat", "reason": "latitude/longitude are not numbers", "raw": raw})
            continue
        row = {"row": number, "raw": raw, "code": code[:40], "name": name[:120], "name_en": get("name_en") or None,
               "parent": get("parent") or None, "level": level, "lat": lat, "lon": lon}
        if code in parsed:
            prev = parsed[code]
            same = all(prev[k] == row[k] for k in ("name", "name_en", "parent", "level", "lat", "lon"))
            if same:
                summary["unchanged"] += 1
                summary.setdefault("duplicates", []).append({"row": number, "of": prev["row"]})
            else:
                entries.append({"row": number, "field": "code",
                                "reason": f"unit {code} is also in row {prev['row']} with different details", "raw": raw})
            continue
        parsed[code] = row
        order.append(code)
    # parents first; refuse unknown parents and cycles
    placed_paths: dict[str, tuple[str, int]] = {c: (u.path, u.depth) for c, u in existing.items()}
    pending = list(order)
    done: set[str] = set()
    touched_units: set[int] = set()
    moved: list[tuple[str, str]] = []
    while pending:
        progress_made = False
        for code in list(pending):
            row = parsed[code]
            parent = row["parent"]
            if parent and parent == code:
                entries.append({"row": row["row"], "field": "parent", "reason": "a unit cannot be its own parent",
                                "raw": row["raw"]})
                pending.remove(code)
                progress_made = True
                continue
            if parent and parent in parsed and parent not in done and parent in pending:
                continue  # wait for the parent
            if parent and parent not in placed_paths:
                entries.append({"row": row["row"], "field": "parent",
                                "reason": f"the parent unit {parent} is neither in the file nor in the database",
                                "raw": row["raw"]})
                pending.remove(code)
                progress_made = True
                continue
            ppath, pdepth = placed_paths[parent] if parent else ("/", -1)
            if parent and f"/{code}/" in ppath:
                entries.append({"row": row["row"], "field": "parent",
                                "reason": f"making {parent} the parent of {code} would create a cycle", "raw": row["raw"]})
                pending.remove(code)
                progress_made = True
                continue
            path, depth = f"{ppath}{code}/", pdepth + 1
            parent_id = (existing[parent].id if parent in existing else None) if parent else None
            unit = existing.get(code)
            values = {"name": row["name"], "name_en": row["name_en"], "level": row["level"], "path": path,
                      "depth": depth, "lat": row["lat"], "lon": row["lon"]}
            if unit is None:
                unit = Unit(code=code, parent_id=parent_id, **values)
                s.add(unit)
                s.flush()
                existing[code] = unit
                summary["inserted"] += 1
            else:
                if parent_id is None and parent:
                    parent_id = existing[parent].id
                diff = {k: v for k, v in values.items() if getattr(unit, k) != v}
                if unit.parent_id != parent_id:
                    diff["parent_id"] = parent_id
                if diff:
                    if "path" in diff:
                        moved.append((unit.path, path))
                    for k, v in diff.items():
                        setattr(unit, k, v)
                    summary["updated"] += 1
                    touched_units.add(unit.id)
                else:
                    summary["unchanged"] += 1
            if parent and unit.parent_id is None:
                unit.parent_id = existing[parent].id
            placed_paths[code] = (path, depth)
            done.add(code)
            pending.remove(code)
            progress_made = True
        if not progress_made:
            for code in pending:
                row = parsed[code]
                entries.append({"row": row["row"], "field": "parent",
                                "reason": f"unit {code} and its parent {row['parent']} form a cycle", "raw": row["raw"]})
            break
    s.flush()
    # a moved unit moves its subtree
    for old, new in moved:
        for u in s.scalars(select(Unit).where(Unit.path.like(f"{old}%"), Unit.path != new)):
            if u.path.startswith(old) and not u.path.startswith(new):
                u.path = new + u.path[len(old):]
                u.depth = u.path.count("/") - 2
                touched_units.add(u.id)
    s.flush()
    summary["rows_rejected"] = len({e["row"] for e in entries})
    touched = set(s.scalars(select(Officer.id).where(Officer.unit_id.in_(touched_units)))) if touched_units else set()
    return entries, touched


# --- officers ---------------------------------------------------------------------------------------------
def load_officers_bytes(url: str, data: bytes, *, filename: str | None = None, user: str | None = None,
                        dry_run: bool = False, progress: Progress | None = None, secret: str | None = None) -> dict:
    """``secret``: the portal secret ID numbers are hashed with (meta ``id_hash_key`` overrides it)."""
    return _run(url, "officers", data, filename, user, dry_run, progress, OFFICER_FIELDS, ("badge", "name"),
                "officer", functools.partial(_officers_body, secret=secret))


def _officers_body(s: Session, placed: dict, rows: list, summary: dict, progress: Progress | None,
                   secret: str | None = None):
    key = id_hash_key(s, secret)
    check_id_key(s, key)
    units = {code: uid for code, uid in s.execute(select(Unit.code, Unit.id))}
    officers = {o.badge: o for o in s.scalars(select(Officer))}
    by_hash = {o.id_hash: o.badge for o in officers.values() if o.id_hash}
    entries: list[dict] = []
    touched: set[int] = set()
    seen: dict[str, tuple[int, dict]] = {}
    today = dt.date.today()
    total = len(rows)
    for n, (number, cells, problem) in enumerate(rows):
        if progress and (n % 1000 == 0 or n == total - 1):
            progress("officers", n + 1, total)
        raw = {"kind": "officers", "cells": cells}
        if problem:
            entries.append({"row": number, "field": "row", "reason": problem, "raw": raw})
            continue
        try:
            row = _officer_row(cells, placed, units, today, officers)
        except hz.Rejected as exc:
            field, _, reason = str(exc).partition("|")
            entries.append({"row": number, "field": field, "reason": reason, "raw": raw})
            continue
        badge = row["badge"]
        if badge in seen:
            first, prev = seen[badge]
            if prev == row:
                summary["unchanged"] += 1
                summary.setdefault("duplicates", []).append({"row": number, "of": first})
            else:
                entries.append({"row": number, "field": "badge",
                                "reason": f"badge {badge} is also in row {first} with different details", "raw": raw})
            continue
        seen[badge] = (number, dict(row))
        id_number = row.pop("id_number")
        if id_number:
            row["id_hash"] = idcard.keyed_hash(id_number, key)
            row["id_masked"] = idcard.mask(id_number)
            owner = by_hash.get(row["id_hash"])
            if owner and owner != badge:
                entries.append({"row": number, "field": "id_number",
                                "reason": f"this ID number already belongs to the officer with badge {owner}",
                                "raw": raw})
                continue
        officer = officers.get(badge)
        if officer is None:
            officer = Officer(**row)
            s.add(officer)
            s.flush()
            officers[badge] = officer
            summary["inserted"] += 1
            touched.add(officer.id)
        else:
            diff = {k: v for k, v in row.items() if v is not None and getattr(officer, k) != v}
            if diff:
                for k, v in diff.items():
                    setattr(officer, k, v)
                summary["updated"] += 1
                touched.add(officer.id)
            else:
                summary["unchanged"] += 1
        if row.get("id_hash"):
            by_hash[row["id_hash"]] = badge
    s.flush()
    synced = sync_officer_accounts(s, touched)  # who left loses their account, who moved keeps it
    summary["accounts_deactivated"] = len(synced["deactivated"])
    summary["rows_rejected"] = len({e["row"] for e in entries})
    return entries, touched


def _reject(field: str, reason: str) -> hz.Rejected:
    return hz.Rejected(f"{field}|{reason}")


def _officer_row(cells: dict, placed: dict, units: dict, today: dt.date, officers: dict) -> dict:
    get = lambda f: hz.nfkc(cells.get(placed[f])) if f in placed and cells.get(placed[f]) not in (None, "") else ""  # noqa: E731
    raw_of = lambda f: cells.get(placed[f]) if f in placed else None  # noqa: E731
    badge, name = get("badge"), get("name")
    if not badge:
        raise _reject("badge", "the badge (警号) is empty")
    if not name:
        raise _reject("name", "the name is empty")
    if len(badge) > 20:
        raise _reject("badge", f"badge '{badge}' is longer than 20 characters")
    id_number = idcard.normalise(get("id_number")) if get("id_number") else ""
    id_birth = id_sex = None
    if id_number:
        if not idcard.is_valid(id_number):
            raise _reject("id_number", id_problem(id_number))
        id_birth, id_sex = idcard.parse(id_number)
    try:
        sex = hz.parse_sex(get("sex")) if get("sex") else None
    except hz.Rejected as exc:
        raise _reject("sex", str(exc)) from None
    if sex and id_sex and sex != id_sex:
        raise _reject("sex", f"sex {get('sex')} does not match the ID number ({'男' if id_sex == 'male' else '女'})")
    birth = None
    if raw_of("birth_date") not in (None, ""):
        try:
            birth = hz.parse_date(raw_of("birth_date"), earliest=dt.date(1930, 1, 1), latest=today)
        except hz.Rejected as exc:
            raise _reject("birth_date", f"birth date: {exc}") from None
        if id_birth and birth != id_birth:
            raise _reject("birth_date", f"birth date {birth.isoformat()} does not match the ID number "
                                        f"({id_birth.isoformat()})")
    sex, birth = sex or id_sex, birth or id_birth
    existing = officers.get(badge)
    if sex is None:
        if existing is None:
            raise _reject("sex", "no sex and no ID number to take it from")
    if birth is None and existing is None:
        raise _reject("birth_date", "no birth date and no ID number to take it from")
    unit_code = get("unit_code")
    if not unit_code and existing is None:
        raise _reject("unit_code", "the unit code is empty")
    if unit_code and unit_code not in units:
        raise _reject("unit_code", f"no unit with code {unit_code}")
    post_raw = get("post_type")
    post = POST_WORDS.get(post_raw, POST_WORDS.get(post_raw.lower(), post_raw[:20])) if post_raw else None
    if post is None and existing is None:
        post = "other"
    hire = None
    if raw_of("hire_date") not in (None, ""):
        try:
            hire = hz.parse_date(raw_of("hire_date"), earliest=dt.date(1950, 1, 1), latest=today)
        except hz.Rejected as exc:
            raise _reject("hire_date", f"hire date: {exc}") from None
        if birth and hire < birth + dt.timedelta(days=365 * 16):
            raise _reject("hire_date", f"hire date {hire.isoformat()} is before the officer turned 16")
    active = None
    if get("active"):
        a = get("active").lower()
        active = a not in ("否", "离职", "退休", "0", "false", "no", "inactive", "调离")
    row = {"badge": badge, "name": name[:60], "sex": sex, "birth_date": birth,
           "unit_id": units[unit_code] if unit_code else None, "post_type": post, "hire_date": hire,
           "id_number": id_number or None, "active": active}
    if existing is None and row["active"] is None:
        row["active"] = True
    return row


# --- reprocess ---------------------------------------------------------------------------------------------
def reprocess(s: Session, original: ImportBatch, user: str | None, secret: str | None = None) -> dict:
    """Re-run a roster batch's open quarantine (after the roster or a unit was fixed), in a new batch."""
    rows = list(s.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == original.id,
                                                      QuarantineRow.status == "open").order_by(QuarantineRow.id)))
    batch = new_batch(s, original.kind, None, f"reprocess of batch {original.id}", original.file_hash, "reprocess",
                      user)
    summary = base_summary(batch.id, f"reprocess of batch {original.id}", "reprocess")
    summary.update(reprocess_of=original.id, quarantine_rows=len(rows), rows_rejected=0)
    fields = UNIT_FIELDS if original.kind == "units" else OFFICER_FIELDS
    body = _units_body if original.kind == "units" else functools.partial(_officers_body, secret=secret)
    good = [q for q in rows if (q.raw or {}).get("cells")]
    headers = list(dict.fromkeys(h for q in good for h in q.raw["cells"]))
    placed, _ = _place(headers, fields)
    table = [(q.row_number, q.raw["cells"], None) for q in good]
    entries, touched = body(s, placed, table, summary, None)
    failed = {e["row"]: e["reason"] for e in entries}
    now = utcnow()
    resolved = 0
    for q in rows:
        if q in good and q.row_number not in failed:
            q.status, q.resolved_at, q.resolved_batch_id = "reprocessed", now, batch.id
            resolved += 1
        elif q.row_number in failed:
            q.reason = failed[q.row_number]
    summary["rows_read"] = len(table)
    summary["resolved"] = resolved
    summary["still_open"] = len(rows) - resolved
    summary["quarantined"] = len(rows) - resolved
    summary["errors"] = [{"row": q.row_number, "field": q.field, "reason": q.reason} for q in rows if q.status == "open"]
    finish_batch(s, batch, summary, touched)
    return summary
