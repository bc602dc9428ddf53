"""Campaign activity files: daily steps, quiz scores or check-ins (CSV or XLSX).

One file is one import batch (kind "activity") for one campaign, loaded in a
single transaction with the guarantees of every import (``ingest.batch``):

* headers in Chinese or English (警号/badge, 身份证号/ID number, 日期/date,
  步数/steps, 得分/score, 打卡/check-in ...);
* each row is matched to an officer (ID number or badge) who must be a member
  of the campaign, dated inside the campaign, and carry a value the campaign's
  kind accepts; anything else goes to ``quarantine_row`` with the reason;
* one entry per officer per day: devices sync more than once, so the highest
  plausible value is kept. A step count above 60,000 is implausible: it is
  stored flagged (never counted) and only when the day has no plausible value.
  Officers' own entries (hand-entered steps, check-ins, quiz scores) meet the
  file's under the same rule, in the one write path
  ``models.campaigns.entries.merge_entries``: the larger plausible value wins;
* idempotent: the same file again changes nothing (``unchanged``);
* afterwards the campaign's points are recomputed and the data version bumped.

Rows: ``rows_read = inserted + updated + unchanged + rows_rejected``.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ingest import harmonise as hz
from ingest.batch import add_quarantine, base_summary, file_hash, finish_batch, new_batch, read_file, recording_failure
from ingest.hospital import Unreadable, read_table
from ingest.matching import OfficerIndex
from models.campaigns.entries import better, merge_entries
from models.campaigns.rules import IMPLAUSIBLE_STEPS
from models.campaigns.writes import award_points
from models.db import session_scope
from models.schema import Campaign, Officer, Unit

LATE_DAYS = 7   # a finished campaign still takes late device syncs for a week, then its data is frozen

# field -> header names, compared after ``harmonise.norm_header`` (case, brackets, punctuation folded)
HEADERS: dict[str, tuple[str, ...]] = {
    "badge": ("警号", "警员编号", "警员号", "工号", "badge", "badgeno", "badgenumber", "policeno"),
    "id_number": ("身份证号", "身份证号码", "身份证", "证件号码", "idnumber", "idno", "idcard"),
    "name": ("姓名", "名字", "name", "fullname"),
    "day": ("日期", "记录日期", "运动日期", "打卡日期", "答题日期", "统计日期", "date", "day", "recorddate"),
    "steps": ("步数", "每日步数", "当日步数", "运动步数", "行走步数", "steps", "stepcount", "dailysteps"),
    "score": ("得分", "分数", "成绩", "答题得分", "测试得分", "score", "quizscore", "result"),
    "checkin": ("打卡", "是否打卡", "签到", "是否签到", "完成", "是否完成", "checkin", "checkedin", "done",
                "completed"),
    "value": ("数值", "数量", "value"),
}
_LOOKUP = {hz.norm_header(name)[0]: f for f, names in HEADERS.items() for name in names}
KIND_FIELD = {"steps": "steps", "quiz": "score", "checkin": "checkin"}
YES = {"1", "是", "已打卡", "已签到", "完成", "已完成", "y", "yes", "true", "√", "✓", "✔", "t", "done"}
NO = {"0", "否", "未打卡", "未签到", "未完成", "n", "no", "false", "×", "✗", "f"}


def place(header: Any) -> str | None:
    return _LOOKUP.get(hz.norm_header(header)[0]) if header not in (None, "") else None


def _header_row(rows: list[list[Any]]) -> int:
    for i, row in enumerate(rows[:15]):
        fields = {place(c) for c in row} - {None}
        if ("badge" in fields or "id_number" in fields) and "day" in fields:
            return i
    raise Unreadable("no header row found: the file needs a badge (警号) or ID number (身份证号) column and a "
                     "date (日期) column, plus the value (步数 / 得分 / 打卡)")


def _columns(header: list[Any], kind: str) -> dict[str, int]:
    cols: dict[str, int] = {}
    for j, cell in enumerate(header):
        f = place(cell)
        if f and f not in cols:
            cols[f] = j
    wanted = KIND_FIELD[kind]
    if wanted not in cols:
        if "value" in cols:
            cols[wanted] = cols["value"]
        else:
            found = [f for f in ("steps", "score", "checkin") if f in cols]
            what = {"steps": "步数 steps", "score": "得分 score", "checkin": "打卡 check-in"}
            if found:
                raise Unreadable(f"this campaign counts {what[wanted]}, but the file holds "
                                 f"{', '.join(what[f] for f in found)}: is it the right campaign?")
            raise Unreadable(f"no value column: this campaign needs a {what[wanted]} column")
    return cols


def parse_value(kind: str, raw: Any) -> tuple[float, bool]:
    """(value, flagged) for one cell; harmonise.Rejected with the reason when it cannot count."""
    if kind == "checkin":
        s = hz.nfkc(raw).lower()
        if s in YES or (isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw == 1) or raw is True:
            return 1.0, False
        if s in NO or raw is False or (isinstance(raw, (int, float)) and raw == 0):
            return 0.0, False
        raise hz.Rejected(f"'{raw}' is not a check-in (是/否, 1/0)" if s else "no check-in value")
    value = hz.clean_value(raw).value
    if value is None:
        raise hz.Rejected("no value")
    if value < 0:
        raise hz.Rejected(f"{value:g} is negative")
    if kind == "quiz":
        if value > 100:
            raise hz.Rejected(f"a quiz score of {value:g} is above 100")
        return value, False
    if not float(value).is_integer():
        raise hz.Rejected(f"{value:g} is not a whole number of steps")
    return value, value > IMPLAUSIBLE_STEPS


def _members(session: Session, campaign: Campaign) -> set[int]:
    paths = list(session.scalars(select(Unit.path).where(Unit.id.in_(campaign.scope_unit_ids or [0]))))
    if not paths:
        return set()
    return set(session.scalars(select(Officer.id).join(Unit, Officer.unit_id == Unit.id).where(
        Officer.active, or_(*[Unit.path.like(f"{p}%") for p in paths]))))


def _raw(header: list[Any], row: list[Any]) -> dict:
    return {str(h if h not in (None, "") else f"col{j + 1}"): hz.nfkc(row[j]) if j < len(row) and row[j] is not None
            else None for j, h in enumerate(header)}


def load_rows(session: Session, campaign: Campaign, header: list[Any], rows: list[tuple[int, list[Any]]],
              batch_id: int | None, summary: dict, today: dt.date, secret: str | None = None) -> list[dict]:
    """Validate and upsert; returns the quarantine entries (also listed in ``summary['errors']``)."""
    cols = _columns(header, campaign.kind)
    index = OfficerIndex(session, secret)
    members = _members(session, campaign)
    last_day = min(campaign.end_date, today)
    quarantine: list[dict] = []
    best: dict[tuple[int, dt.date], tuple[float, bool, int]] = {}

    def cell(row, field):
        j = cols.get(field)
        return row[j] if j is not None and j < len(row) else None

    def reject(number, row, field, reason):
        quarantine.append({"row": number, "field": field, "reason": reason, "raw": _raw(header, row)})

    for number, row in rows:
        ident = {"badge": hz.nfkc(cell(row, "badge")) or None, "id_number": hz.nfkc(cell(row, "id_number")) or None,
                 "name": hz.nfkc(cell(row, "name")) or None}
        if ident["badge"] and re.fullmatch(r"\d+\.0", ident["badge"]):
            ident["badge"] = ident["badge"][:-2]  # Excel turned the badge into a number
        oid, problem = index.match(ident)
        if oid is None:
            reject(number, row, *problem)
            continue
        if oid not in members:
            who = ident["badge"] or index.names.get(oid, "")
            reject(number, row, "badge", f"officer {who} is not a member of this campaign's units")
            continue
        try:
            day = hz.parse_date(cell(row, "day"), earliest=dt.date(2000, 1, 1), latest=today)
        except hz.Rejected as exc:
            reject(number, row, "day", str(exc))
            continue
        if not campaign.start_date <= day <= last_day:
            reject(number, row, "day", f"{day.isoformat()} is outside the campaign "
                                       f"({campaign.start_date.isoformat()} – {last_day.isoformat()})")
            continue
        try:
            value, flagged = parse_value(campaign.kind, cell(row, KIND_FIELD[campaign.kind]))
        except hz.Rejected as exc:
            reject(number, row, KIND_FIELD[campaign.kind], str(exc))
            continue
        key = (oid, day)
        if key not in best or better((value, flagged), best[key][:2]):
            if key in best:
                summary["unchanged"] += 1  # the earlier, lower reading of the same day
            best[key] = (value, flagged, number)
        else:
            summary["unchanged"] += 1
    inserted, updated, unchanged = merge_entries(session, campaign.id, {k: v[:2] for k, v in best.items()}, batch_id)
    summary["unchanged"] += unchanged
    summary["inserted"] += inserted
    summary["updated"] += updated
    summary["flagged"] = sum(1 for v in best.values() if v[1])
    summary["rows_rejected"] = len(quarantine)
    summary["quarantined"] = len(quarantine)
    summary["errors"] = [{"row": q["row"], "field": q["field"], "reason": q["reason"]} for q in quarantine]
    return quarantine


def load_activity_bytes(url: str, data: bytes, campaign_id: int, *, filename: str | None = None,
                        dry_run: bool = False, user: str | None = None, today: dt.date | None = None,
                        secret: str | None = None) -> dict:
    """One batch for one file. Raises Unreadable when the file (or the campaign) cannot be used at all;
    a failed batch is then recorded unless it is a dry run. ``secret``: the portal secret ID numbers
    are hashed with (meta ``id_hash_key`` overrides it)."""
    today = today or dt.date.today()
    digest = file_hash(data)
    t0 = time.perf_counter()
    source = f"campaign {campaign_id}"
    with recording_failure(url, "activity", source, filename, digest, user, enabled=not dry_run):
        with session_scope(url) as s:
            campaign = s.get(Campaign, int(campaign_id))
            if campaign is None:
                raise Unreadable(f"there is no campaign {campaign_id}")
            if today < campaign.start_date:
                raise Unreadable(f"campaign {campaign.id} starts on {campaign.start_date.isoformat()}: no activity yet")
            if (today - campaign.end_date).days > LATE_DAYS:
                raise Unreadable(f"campaign {campaign.id} ended on {campaign.end_date.isoformat()}; its data was "
                                 f"frozen {LATE_DAYS} days later")
            fmt, encoding, rows, _clean = read_table(data)
            rows = [r for r in rows if any(c not in (None, "") for c in r)]
            h = _header_row(rows)
            header = rows[h]
            body = [(h + 2 + i, r) for i, r in enumerate(rows[h + 1:])]  # file row numbers, 1-based
            batch = None if dry_run else new_batch(s, "activity", source, filename, digest, fmt, user)
            summary = base_summary(batch.id if batch else None, filename, fmt)
            summary.update(campaign_id=campaign.id, campaign=campaign.name, kind=campaign.kind, encoding=encoding,
                           file_hash=digest, dry_run=dry_run, rows_read=len(body))
            quarantine = load_rows(s, campaign, header, body, batch.id if batch else None, summary, today, secret)
            if dry_run:
                summary["seconds"] = round(time.perf_counter() - t0, 2)
                s.rollback()
                return summary
            add_quarantine(s, batch.id, quarantine)
            s.flush()
            summary["points"] = award_points(s, campaign.id, today)
            summary["seconds"] = round(time.perf_counter() - t0, 2)
            finish_batch(s, batch, summary, [])
            return summary


def load_activity_file(url: str, path: str | Path, campaign_id: int, **kwargs) -> dict:
    data, name = read_file(path)
    return load_activity_bytes(url, data, campaign_id, filename=name, **kwargs)


def reprocess(session: Session, original, user: str | None, today: dt.date | None = None,
              secret: str | None = None) -> dict:
    """Re-run an activity batch's open quarantine (after the roster or the campaign's units were fixed),
    in a new batch: rows that now load are marked ``reprocessed``, the others keep the new reason."""
    from models.schema import QuarantineRow, utcnow

    today = today or dt.date.today()
    campaign_id = (original.summary or {}).get("campaign_id") or int(str(original.source).split()[-1])
    campaign = session.get(Campaign, int(campaign_id))
    if campaign is None:
        raise Unreadable(f"the campaign {campaign_id} of batch {original.id} no longer exists")
    if (today - campaign.end_date).days > LATE_DAYS:
        raise Unreadable(f"campaign {campaign.id} ended on {campaign.end_date.isoformat()}; its data is frozen")
    rows = list(session.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == original.id,
                                                            QuarantineRow.status == "open").order_by(QuarantineRow.id)))
    if not rows:  # nothing open: nothing to do, and no empty batch either
        return {**base_summary(None, f"reprocess of batch {original.id}", "reprocess"), "reprocess_of": original.id,
                "resolved": 0, "still_open": 0}
    header = list(dict.fromkeys(h for q in rows for h in (q.raw or {})))
    table = [(q.row_number, [(q.raw or {}).get(h) for h in header]) for q in rows]
    label = f"reprocess of batch {original.id}"
    batch = new_batch(session, "activity", original.source, label, original.file_hash, "reprocess", user)
    summary = base_summary(batch.id, label, "reprocess")
    summary.update(campaign_id=campaign.id, campaign=campaign.name, kind=campaign.kind, reprocess_of=original.id,
                   rows_read=len(table))
    failed = {e["row"]: e["reason"] for e in load_rows(session, campaign, header, table, batch.id, summary, today,
                                                               secret)}
    now = utcnow()
    for q in rows:
        if q.row_number in failed:
            q.reason = failed[q.row_number]
        else:
            q.status, q.resolved_at, q.resolved_batch_id = "reprocessed", now, batch.id
    summary["resolved"] = len(rows) - len(failed)
    summary["still_open"] = len(failed)
    summary["points"] = award_points(session, campaign.id, today)
    finish_batch(session, batch, summary, [])
    return summary
