"""The messages of the notification centre that come from what happened (issue 19).

:func:`generate` is one idempotent pass: it scans what changed since its last pass (a watermark in
``meta``) — exams loaded, warning-level changes, follow-ups opened or overdue, kiosks gone stale,
campaigns starting or ending — and the weekly messages, and writes each message with an event key
(``models.notifications.notify``), so a second pass over the same events adds nothing.

Privacy: a manager without the ``psych`` grant never gets a psychological reason (a red that rests
on one only is not "new red" for them); counsellors hear of reds with a psychological reason; a
leader's summary is the suppressed counts of ``models.suppression`` and nothing named; an officer's
week in review encourages and never names a level.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import psych as psych_model
from models import suppression
from models.db import get_meta, set_meta
from models.notifications import notify
from models.schema import (
    Campaign, CampaignEntry, Device, Exam, FollowUp, HealthTarget, Hospital, ImportBatch, Observation, Officer,
    OfficerStatus, Unit, User, WarningHistory,
)
from models.source_words import english_names, english_reason
from models.vocab import FOLLOWUP_KINDS, LEVEL_WORDS, LEVELS, PLAN_ITEMS

WATERMARK = "notify_watermark"
FIRST_LOOKBACK = dt.timedelta(days=7)  # the first pass ever looks back this far
UNCONFIRMED_DAYS = 3  # a red from a single kiosk reading waits this long for confirmation before managers hear
ACTIVE = ("open", "in_progress")


@dataclass(frozen=True)
class Staff:
    user_id: int
    role: str
    path: str | None  # None: the whole force
    psych: bool

    def covers(self, path: str | None) -> bool:
        return self.path is None or bool(path) and path.startswith(self.path)


def _psych_ids(session: Session) -> frozenset[str]:
    from models.rule_versions import psych_rule_ids

    return psych_rule_ids(session)


def _staff(session: Session, roles: Iterable[str]) -> list[Staff]:
    rows = session.execute(select(User.id, User.role, Unit.path, User.psych_access)
                           .outerjoin(Unit, Unit.id == User.scope_unit_id)
                           .where(User.active, User.role.in_(list(roles))))
    return [Staff(uid, role, None if role == "admin" else path, role in ("counsellor", "admin") or bool(grant))
            for uid, role, path, grant in rows]


def _officer_users(session: Session, officer_ids: Iterable[int]) -> dict[int, int]:
    ids = list(set(officer_ids))
    out: dict[int, int] = {}
    for i in range(0, len(ids), 900):
        out.update(session.execute(select(User.officer_id, User.id).where(
            User.officer_id.in_(ids[i:i + 900]), User.active, User.role == "officer")).all())
    return out


def _reason_text(reasons: list[dict], level: str | None = None, names: dict | None = None) -> tuple[str, str]:
    chosen = [r for r in reasons if level is None or r.get("level") == level] or reasons
    zh = "；".join(r.get("text", "") for r in chosen[:4] if r.get("text"))
    chosen = [english_reason(r, names or {}) for r in chosen]  # sources named in English
    en = "; ".join(r.get("text_en") or r.get("text", "") for r in chosen[:4] if r.get("text_en") or r.get("text"))
    return zh, en


def _level(code: str | None) -> tuple[str, str]:
    return LEVEL_WORDS.get(code or "", ("—", "—"))


def generate(session: Session, as_of: dt.datetime, *, now: dt.datetime | None = None,
             unconfirmed_days: int = UNCONFIRMED_DAYS) -> dict[str, int]:
    """One pass over what changed since the last one; how many messages of each kind were added.
    ``as_of`` is the pass's clock (the app's today in tests), ``now`` the UTC clock devices report in."""
    now = now or as_of
    mark = get_meta(session, WATERMARK)
    since = dt.datetime.fromisoformat(mark) if mark else as_of - FIRST_LOOKBACK
    since = min(since, as_of)
    ids = _psych_ids(session)
    staff = _staff(session, ("manager", "counsellor"))
    counts: dict[str, int] = {}

    def add(kind: str, n: int | bool) -> None:
        counts[kind] = counts.get(kind, 0) + int(n)

    _exams(session, since, as_of, add)
    _levels(session, since, as_of, staff, ids, add)
    _unconfirmed(session, as_of, unconfirmed_days, staff, ids, add)
    _followups(session, since, as_of, add)
    _overdue(session, as_of, add)
    _stale(session, now, add)
    _campaigns(session, since, as_of, add)
    _weekly(session, as_of, add)
    set_meta(session, WATERMARK, max(as_of, since).isoformat())
    session.flush()
    return counts


# --- to officers -------------------------------------------------------------------------------
def _exams(session, since, as_of, add) -> None:
    rows = session.execute(
        select(Exam.id, Exam.officer_id, Exam.exam_date, Hospital.name)
        .join(ImportBatch, ImportBatch.id == Exam.batch_id).join(Hospital, Hospital.id == Exam.hospital_id)
        .where(ImportBatch.finished_at > since, ImportBatch.finished_at <= as_of)).all()
    users = _officer_users(session, [r[1] for r in rows])
    for exam_id, officer_id, day, hospital in rows:
        if officer_id in users:
            add("exam_loaded", notify(
                session, users[officer_id], "exam_loaded", f"exam:{exam_id}", ("新体检结果", "New exam results"),
                (f"{hospital} {day.isoformat()} 的体检结果已载入，可在“我的健康”查看。",
                 f"Your exam results of {day.isoformat()} ({hospital}) have been loaded: see “My health”."),
                "/me", officer_id))


def followup_message(kind: str, due: dt.date | None, reason: str | None) -> tuple[tuple[str, str], tuple[str, str]]:
    """The officer's message about a follow-up opened for them (they read their own reasons)."""
    k = FOLLOWUP_KINDS.get(kind, (kind, kind))
    when = (f"，请于 {due.isoformat()} 前完成" if due else "", f", due by {due.isoformat()}" if due else "")
    why = (f"原因：{reason}。" if reason else "", f"Reason: {reason}. " if reason else "")
    return ((f"健康管理师为您安排了跟进：{k[0]}", f"Your health manager scheduled a follow-up: {k[1]}"),
            (f"{k[0]}{when[0]}。{why[0]}可在“我的健康计划”中确认或申请改期。",
             f"{k[1]}{when[1]}. {why[1]}Confirm it or ask to reschedule on “My health plan”."))


def notify_followup_opened(session: Session, row: FollowUp) -> bool:
    """The officer hears of a follow-up a manager opened (called by ``models.followups.open_followup``)."""
    user = _officer_users(session, [row.officer_id]).get(row.officer_id)
    if user is None:
        return False
    title, body = followup_message(row.kind, row.due, row.reason)
    return notify(session, user, "followup_scheduled", f"followup:{row.id}", title, body, "/me/plan", row.officer_id)


def _followups(session, since, as_of, add) -> None:
    for row in session.scalars(select(FollowUp).where(FollowUp.opened_at > since, FollowUp.opened_at <= as_of)):
        add("followup_scheduled", notify_followup_opened(session, row))


def _campaigns(session, since, as_of, add) -> None:
    first, last = since.date(), as_of.date()
    paths = dict(session.execute(select(Unit.id, Unit.path)).all())
    for c in session.scalars(select(Campaign).where(
            ((Campaign.start_date > first) & (Campaign.start_date <= last))
            | ((Campaign.end_date >= first) & (Campaign.end_date < last)))):
        events = []
        if first < c.start_date <= last:
            events.append(("start", (f"健康活动开始：{c.name}", f"Campaign started: {c.name}"),
                           (f"您所在单位参加的“{c.name}”已于 {c.start_date.isoformat()} 开始，欢迎参与！",
                            f"“{c.name}”, which your unit takes part in, started on {c.start_date.isoformat()}. Join in!")))
        if first <= c.end_date < last:
            events.append(("end", (f"健康活动结束：{c.name}", f"Campaign ended: {c.name}"),
                           (f"“{c.name}”已于 {c.end_date.isoformat()} 结束，感谢参与，可查看最终排名。",
                            f"“{c.name}” ended on {c.end_date.isoformat()}. Thank you for taking part: see the final ranking.")))
        scope = [paths[i] for i in c.scope_unit_ids or [] if i in paths]
        unit_ids = [uid for uid, p in paths.items() if not scope or any(p.startswith(s) for s in scope)]
        members = session.execute(select(User.id, User.officer_id).join(Officer, Officer.id == User.officer_id)
                                  .where(User.active, User.role == "officer", Officer.active,
                                         Officer.unit_id.in_(unit_ids))).all()
        for what, title, body in events:
            for uid, oid in members:
                add("campaign_event", notify(session, uid, "campaign_event", f"campaign:{c.id}:{what}", title, body,
                                             f"/campaigns/{c.id}", oid))


# --- warning levels: the officer, managers and counsellors --------------------------------------
def _levels(session, since, as_of, staff: list[Staff], ids, add) -> None:
    rows = session.execute(
        select(WarningHistory, Officer.badge, Officer.name).join(Officer, Officer.id == WarningHistory.officer_id)
        .where(WarningHistory.changed_at > since, WarningHistory.changed_at <= as_of,
               WarningHistory.previous_level.is_not(None), WarningHistory.previous_level != WarningHistory.level)
        .order_by(WarningHistory.changed_at)).all()
    users = _officer_users(session, [r[0].officer_id for r in rows])
    names = english_names(session)
    for wh, badge, name in rows:
        reasons = list(wh.reasons or [])
        was, now_ = _level(wh.previous_level), _level(wh.level)
        if wh.officer_id in users:  # the officer reads their own reasons, psychological ones included
            why = _reason_text(reasons, wh.level, names)
            better = LEVELS.index(wh.level) > LEVELS.index(wh.previous_level) if wh.previous_level in LEVELS \
                and wh.level in LEVELS else False
            zh = f"您的健康预警由{was[0]}变为{now_[0]}。" + (f"原因：{why[0]}。" if why[0] and not better else "") + \
                ("继续保持！" if better else "健康管理师会与您联系，也可在“我的健康”查看详情。")
            en = f"Your health warning changed from {was[1]} to {now_[1]}. " + \
                (f"Reason: {why[1]}. " if why[1] and not better else "") + \
                ("Keep it up!" if better else "Your health manager will be in touch; see “My health” for details.")
            add("level_changed", notify(session, users[wh.officer_id], "level_changed", f"level:{wh.id}",
                                        ("预警等级变化", "Warning level changed"), (zh, en), "/me", wh.officer_id))
        if wh.level != "red":
            continue
        psych_red = psych_model.has_psych([r for r in reasons if r.get("level") == "red"], ids)
        for person in staff:
            if not person.covers(wh.unit_path):
                continue
            shown = psych_model.visible_reasons(reasons, None, ids, person.psych)
            red = [r for r in shown if r.get("level") == "red"]
            if person.role == "counsellor" and not psych_red:
                continue  # counsellors follow psychological cases
            if not red:
                continue  # red only for a psychological reason: not for a manager without the grant
            why = _reason_text(red, names=names)
            tag = "" if wh.confirmed else ("（待确认）", " (unconfirmed)")
            add("new_red", notify(session, person.user_id, "new_red", f"new_red:{wh.id}",
                                  (f"新增红色预警：{name}（{badge}）", f"New red warning: {name} ({badge})"),
                                  (f"{name}（{badge}）转为红色{tag[0] if tag else ''}。原因：{why[0]}。",
                                   f"{name} ({badge}) turned red{tag[1] if tag else ''}. Reason: {why[1]}."),
                                  f"/officers/{badge}", wh.officer_id))


def _unconfirmed(session, as_of, days: int, staff: list[Staff], ids, add) -> None:
    became = (select(WarningHistory.officer_id, func.max(WarningHistory.changed_at).label("red_at"))
              .where(WarningHistory.level == "red", WarningHistory.changed_at <= as_of)
              .group_by(WarningHistory.officer_id).subquery())
    limit = as_of - dt.timedelta(days=days)
    rows = session.execute(
        select(OfficerStatus.officer_id, OfficerStatus.unit_path, OfficerStatus.open_level,
               became.c.red_at, Officer.badge, Officer.name)
        .join(became, became.c.officer_id == OfficerStatus.officer_id)
        .join(Officer, Officer.id == OfficerStatus.officer_id)
        .where(OfficerStatus.level == "red", OfficerStatus.confirmed.is_(False), Officer.active,
               became.c.red_at <= limit)).all()
    for officer_id, path, open_level, red_at, badge, name in rows:
        waited = (as_of.date() - red_at.date()).days
        for person in staff:
            if not person.covers(path) or person.role != "manager":
                continue
            if not person.psych and open_level != "red":
                continue
            add("red_unconfirmed", notify(
                session, person.user_id, "red_unconfirmed", f"unconfirmed:{officer_id}:{red_at.date().isoformat()}",
                (f"红色预警待确认：{name}（{badge}）", f"Red warning awaiting confirmation: {name} ({badge})"),
                (f"{name}（{badge}）的红色预警来自单次健康小屋读数，已等待确认 {waited} 天：请安排复测或体检。",
                 f"The red warning of {name} ({badge}) rests on a single kiosk reading and has waited {waited} days "
                 f"for confirmation: arrange a repeat reading or an exam."), f"/officers/{badge}", officer_id))


def _overdue(session, as_of, add) -> None:
    day = as_of.date()
    rows = session.execute(select(FollowUp, Officer.badge, Officer.name, User.psych_access, User.role)
                           .join(Officer, Officer.id == FollowUp.officer_id)
                           .join(User, User.id == func.coalesce(FollowUp.assignee_id, FollowUp.opened_by_id))
                           .where(FollowUp.status.in_(ACTIVE), FollowUp.due < day)).all()
    for row, badge, name, grant, role in rows:
        sees = role in ("admin", "counsellor") or bool(grant)
        if psych_model.is_psych_followup(row.kind, row.reason) and not sees:
            what = psych_model.PSYCH_FOLLOWUP
        else:
            what = FOLLOWUP_KINDS.get(row.kind, (row.kind, row.kind))
        late = (day - row.due).days
        add("followup_overdue", notify(
            session, row.assignee_id or row.opened_by_id, "followup_overdue", f"overdue:{row.id}:{row.due.isoformat()}",
            (f"跟进已超期：{name}（{badge}）", f"Follow-up overdue: {name} ({badge})"),
            (f"{what[0]}，期限 {row.due.isoformat()}，已超期 {late} 天。",
             f"{what[1]}, due {row.due.isoformat()}, {late} day(s) overdue."), "/workbench", row.officer_id))


def _stale(session, now, add) -> None:
    devices = list(session.scalars(select(Device).where(Device.last_frame_at.is_not(None))))
    if not devices:
        return
    units = {code: (path, name, name_en) for code, path, name, name_en
             in session.execute(select(Unit.code, Unit.path, Unit.name, Unit.name_en))}
    people = _staff(session, ("manager", "admin"))
    for d in devices:
        limit = dt.timedelta(minutes=max(1, d.stale_minutes or 1440))
        if now - d.last_frame_at <= limit:
            continue
        path, uname, uname_en = units.get(d.station or "", (None, d.station or "", d.station or ""))
        hours = int((now - d.last_frame_at).total_seconds() // 3600)
        for person in people:
            if person.role != "admin" and (path is None or not person.covers(path)):
                continue
            add("kiosk_stale", notify(
                session, person.user_id, "kiosk_stale", f"stale:{d.id}:{d.last_frame_at.isoformat(timespec='minutes')}",
                (f"健康小屋设备超时：{d.name}", f"Kiosk gone stale: {d.name}"),
                (f"{uname or ''} 的设备 {d.name} 已 {hours} 小时没有数据，请联系站点检查设备和网络。",
                 f"Device {d.name} at {uname_en or uname or ''} has sent nothing for {hours} hours: ask the station to "
                 f"check the device and its network."), "/admin/devices" if person.role == "admin" else None, None))


# --- weekly ------------------------------------------------------------------------------------
def last_week(as_of: dt.datetime) -> tuple[dt.date, dt.date, str]:
    """The last full ISO week before ``as_of``: (Monday, Sunday, "2026-W46")."""
    monday = as_of.date() - dt.timedelta(days=as_of.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return monday, monday + dt.timedelta(days=6), f"{year}-W{week:02d}"


def _weekly(session, as_of, add) -> None:
    first, last, label = last_week(as_of)
    start, end = dt.datetime.combine(first, dt.time.min), dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min)
    for leader in _staff(session, ("leader",)):
        add("weekly_summary", _leader_summary(session, leader, first, last, label, start, end))
    _officer_reviews(session, first, last, label, start, end, add)


def leader_counts(session: Session, path: str | None, start: dt.datetime, end: dt.datetime) -> dict:
    """The counts a leader's weekly summary shows, each through ``models.suppression`` (text, e.g. "<5*")."""
    q = select(OfficerStatus.open_level, func.count()).join(Officer, Officer.id == OfficerStatus.officer_id) \
        .where(Officer.active)
    if path:
        q = q.where(OfficerStatus.unit_path.like(f"{path}%"))
    levels = {lvl: 0 for lvl in LEVELS}
    levels.update({lvl: n for lvl, n in session.execute(q.group_by(OfficerStatus.open_level)) if lvl in levels})
    table = suppression.counts_table(levels, {"red_orange": (levels["red"] + levels["orange"], ["red", "orange"])})
    nq = select(func.count(func.distinct(WarningHistory.officer_id))).where(
        WarningHistory.level == "red", WarningHistory.previous_level.is_distinct_from("red"),
        WarningHistory.changed_at >= start, WarningHistory.changed_at < end)
    if path:
        nq = nq.where(WarningHistory.unit_path.like(f"{path}%"))
    return {**{lvl: table.text(lvl) for lvl in LEVELS}, "total": table.text(suppression.TOTAL),
            "new_red": suppression.single(session.scalar(nq) or 0)}


def _leader_summary(session, leader: Staff, first, last, label, start, end) -> bool:
    c = leader_counts(session, leader.path, start, end)
    zh = (f"{first.isoformat()} 至 {last.isoformat()}：辖区 {c['total']} 人，红 {c['red']}、橙 {c['orange']}、"
          f"黄 {c['yellow']}、绿 {c['green']}；本周新转红 {c['new_red']}。（少于 5 人的数字显示为 <5*）")
    en = (f"{first.isoformat()} to {last.isoformat()}: {c['total']} officers in your scope — red {c['red']}, "
          f"orange {c['orange']}, yellow {c['yellow']}, green {c['green']}; newly red this week {c['new_red']}. "
          f"(Counts under 5 read <5*.)")
    return notify(session, leader.user_id, "weekly_summary", f"weekly:{label}",
                  (f"本周概况（{label}）", f"Weekly summary ({label})"), (zh, en), "/", None)


def _officer_reviews(session, first, last, label, start, end, add) -> None:
    users = dict(session.execute(select(User.officer_id, User.id).join(Officer, Officer.id == User.officer_id)
                                 .where(User.active, User.role == "officer", Officer.active)).all())
    if not users:
        return
    readings = dict(session.execute(
        select(Observation.officer_id, func.count()).where(Observation.observed_at >= start, Observation.observed_at < end,
                                                           Observation.code.notin_(psych_model.PSYCH_CODES),
                                                           Observation.code != "steps")
        .group_by(Observation.officer_id)).all())
    steps = dict(session.execute(
        select(CampaignEntry.officer_id, func.sum(CampaignEntry.value)).join(Campaign, Campaign.id == CampaignEntry.campaign_id)
        .where(Campaign.kind == "steps", CampaignEntry.day >= first, CampaignEntry.day <= last,
               CampaignEntry.flagged.is_(False)).group_by(CampaignEntry.officer_id)).all())
    active_days = dict(session.execute(
        select(CampaignEntry.officer_id, func.count(func.distinct(CampaignEntry.day)))
        .where(CampaignEntry.day >= first, CampaignEntry.day <= last).group_by(CampaignEntry.officer_id)).all())
    targets = dict(session.execute(select(HealthTarget.officer_id, func.count()).group_by(HealthTarget.officer_id)).all())
    for officer_id, user_id in users.items():
        n, s, d, t = readings.get(officer_id, 0), int(steps.get(officer_id) or 0), active_days.get(officer_id, 0), \
            targets.get(officer_id, 0)
        zh, en = [], []
        if s:
            zh.append(f"走了 {s:,} 步")
            en.append(f"walked {s:,} steps")
        if d:
            zh.append(f"{d} 天参加健康活动")
            en.append(f"took part in a campaign on {d} day(s)")
        if n:
            zh.append(f"记录了 {n} 项测量")
            en.append(f"recorded {n} reading(s)")
        if zh:
            body = ("上周您" + "、".join(zh) + "。每一步都算数，继续保持！",
                    "Last week you " + ", ".join(en) + ". Every step counts — keep it up!")
        else:
            body = ("新的一周，新的开始：去健康小屋量一次血压，或者约同事走一走吧。",
                    "A new week, a fresh start: take a reading at the station kiosk or go for a walk with a colleague.")
        if t:
            body = (body[0] + f"您的健康计划有 {t} 个目标，去看看进展吧。",
                    body[1] + f" Your health plan has {t} target(s): have a look at your progress.")
        else:
            body = (body[0] + "可以在“我的健康计划”里给自己定一个小目标。",
                    body[1] + " Why not set yourself a small target in “My health plan”?")
        add("weekly_review", notify(session, user_id, "weekly_review", f"review:{label}",
                                    (f"本周回顾（{label}）", f"Week in review ({label})"), body, "/me/plan", officer_id))


__all__ = ["generate", "notify_followup_opened", "followup_message", "leader_counts", "last_week", "PLAN_ITEMS"]
