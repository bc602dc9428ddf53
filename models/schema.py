"""ORM schema: the core tables of DESIGN.md (SQLAlchemy 2, typed).

Migrations live in ``models/migrations``; change this file, then add a
revision (``alembic -c models/migrations/alembic.ini revision --autogenerate``).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from models.psych import open_level_default, open_reasons_default
from models.status_bits import measured_default


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrement needs INTEGER


class Unit(Base):
    """A unit of the force. ``path`` is the materialised path of codes
    (``/FS/FS-D1/FS-D1-S03/``) so a subtree is ``path LIKE '<scope>%'``."""

    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[Optional[str]] = mapped_column(String(120))
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"))
    level: Mapped[str] = mapped_column(String(20))  # city/district/station/department
    path: Mapped[str] = mapped_column(String(400), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    lat: Mapped[Optional[float]] = mapped_column(Float)
    lon: Mapped[Optional[float]] = mapped_column(Float)
    geometry: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)

    parent: Mapped[Optional["Unit"]] = relationship(remote_side="Unit.id")


class Officer(Base):
    __tablename__ = "officer"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    badge: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str] = mapped_column(String(6))  # male/female
    birth_date: Mapped[dt.date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    post_type: Mapped[str] = mapped_column(String(20))
    hire_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    id_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True)  # keyed HMAC of the ID number
    id_masked: Mapped[Optional[str]] = mapped_column(String(20))  # 440602********123X
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit] = relationship()


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (Index("ux_app_user_officer_id", "officer_id", unique=True),)  # one account per officer
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12))  # officer/manager/counsellor/leader/admin
    officer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("officer.id"))
    scope_unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"))
    language: Mapped[str] = mapped_column(String(5), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # a health manager an admin granted psychological detail (models.psych; issue 16)
    psych_access: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    last_login_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # a one-time activation code (keyed HMAC of it) while the account waits for its first password
    activation_hash: Mapped[Optional[str]] = mapped_column(String(64))
    activation_expires_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    officer: Mapped[Optional[Officer]] = relationship()
    scope_unit: Mapped[Optional[Unit]] = relationship()


class UserSession(Base):
    """One signed-in browser. The session cookie carries a random token, this row its SHA-256 digest;
    the row is checked on every request, so ending it (logout, timeout, password change, deactivation)
    refuses a copied cookie at once."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    end_reason: Mapped[Optional[str]] = mapped_column(String(20))  # logout/idle/lifetime/binding/password/deactivated
    ip: Mapped[Optional[str]] = mapped_column(String(64))  # the real peer at sign-in
    agent_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the User-Agent at sign-in


class LoginThrottle(Base):
    """Failed sign-ins of one (user name as typed, client address) pair: each failure past the free
    ones doubles the wait before that pair may try again. Names that do not exist are throttled the
    same way, so the answer never tells which exist."""

    __tablename__ = "login_throttle"
    username: Mapped[str] = mapped_column(String(60), primary_key=True)
    ip: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    blocked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


class Hospital(Base):
    __tablename__ = "hospital"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    mapping: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)  # per-hospital header overrides


class ImportBatch(Base):
    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # hospital/units/officers/activity/device/demo/boundaries
    source: Mapped[Optional[str]] = mapped_column(String(40))  # hospital code, device name ...
    filename: Mapped[Optional[str]] = mapped_column(String(400))
    file_hash: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    file_format: Mapped[Optional[str]] = mapped_column(String(20))
    created_by: Mapped[Optional[str]] = mapped_column(String(60))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(12), default="running")  # running/loaded/failed
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)


class QuarantineRow(Base):
    """A row, frame or message the loader would not accept, kept verbatim with the reason."""

    __tablename__ = "quarantine_row"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    row_number: Mapped[Optional[int]] = mapped_column(Integer)
    field: Mapped[Optional[str]] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open/reprocessed/discarded
    resolved_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    resolved_batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("import_batch.id"))  # the reprocess that loaded it
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # an admin's decision on /admin/imports (issue 18): who corrected or rejected the row, and why
    decided_by: Mapped[Optional[str]] = mapped_column(String(60))
    decision_note: Mapped[Optional[str]] = mapped_column(Text)


class RawFrame(Base):
    """Device frames as forwarded from a gateway journal (one row per received frame)."""

    __tablename__ = "raw_frame"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(60))
    journal_seq: Mapped[int] = mapped_column(BigInteger)
    device: Mapped[str] = mapped_column(String(60), index=True)
    driver: Mapped[str] = mapped_column(String(20))
    station: Mapped[Optional[str]] = mapped_column(String(40))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), index=True)  # ok/rejected/unassigned/assigned
    reason: Mapped[Optional[str]] = mapped_column(Text)
    parsed: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    officer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("officer.id"))
    __table_args__ = (UniqueConstraint("gateway", "journal_seq", name="uq_raw_frame_journal"),)


class Device(Base):
    """A serial device of a station gateway, as last reported by the gateway (ingest/gateway)."""

    __tablename__ = "device"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(60), index=True)
    driver: Mapped[str] = mapped_column(String(20))
    station: Mapped[Optional[str]] = mapped_column(String(40))
    port: Mapped[Optional[str]] = mapped_column(String(300))
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    port_error: Mapped[Optional[str]] = mapped_column(Text)
    last_frame_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # UTC, any frame incl. idle polls
    backlog: Mapped[int] = mapped_column(Integer, default=0)  # journal rows not yet forwarded
    noise_bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # garbage between frames since gateway start
    reconnects: Mapped[int] = mapped_column(Integer, default=0)  # since gateway start
    stale_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # UTC
    __table_args__ = (UniqueConstraint("gateway", "name", name="uq_device_gateway_name"),)


class Exam(Base):
    __tablename__ = "exam"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospital.id"))
    exam_date: Mapped[dt.date] = mapped_column(Date, index=True)
    external_id: Mapped[Optional[str]] = mapped_column(String(60))
    ecg_text: Mapped[Optional[str]] = mapped_column(Text)
    ultrasound_text: Mapped[Optional[str]] = mapped_column(Text)
    summary_text: Mapped[Optional[str]] = mapped_column(Text)
    chest_text: Mapped[Optional[str]] = mapped_column(Text)     # chest X-ray / CT conclusion
    fundus_text: Mapped[Optional[str]] = mapped_column(Text)    # fundus (eye) examination
    hearing_text: Mapped[Optional[str]] = mapped_column(Text)   # audiometry
    # items outside the catalogue, kept as sent: {label: {"value": raw, "unit": unit or None}}
    extra: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)  # coded findings, e.g. ["af", "fatty_liver"]
    batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("import_batch.id"))

    hospital: Mapped[Hospital] = relationship()
    __table_args__ = (UniqueConstraint("officer_id", "hospital_id", "exam_date", name="uq_exam_officer_day"),)


class Observation(Base):
    """One measured value in canonical code and unit, with provenance."""

    __tablename__ = "observation"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    code: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(12))
    observed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source_kind: Mapped[str] = mapped_column(String(16))  # exam/kiosk/self/screening/self-report (vocab.SOURCES)
    source_id: Mapped[Optional[str]] = mapped_column(String(80))  # hospital code or device name
    exam_id: Mapped[Optional[int]] = mapped_column(ForeignKey("exam.id"), index=True)  # index: deleting an exam checks it
    station: Mapped[Optional[str]] = mapped_column(String(40))
    batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("import_batch.id"))
    # uq_observation also serves every (officer, code, time) lookup and ordered scan
    __table_args__ = (
        UniqueConstraint("officer_id", "code", "observed_at", "source_kind", "source_id", name="uq_observation"),
    )


class OfficerStatus(Base):
    """Snapshot per officer, recomputed after each ingest batch; pages read this."""

    __tablename__ = "officer_status"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    unit_path: Mapped[str] = mapped_column(String(400), index=True)
    latest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # code -> {value, unit, date, source, kind}
    classes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    china_par: Mapped[Optional[float]] = mapped_column(Float)
    china_par_category: Mapped[Optional[str]] = mapped_column(String(14))
    level: Mapped[str] = mapped_column(String(8), index=True)  # red/orange/yellow/green
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rule_ids: Mapped[str] = mapped_column(String(400), default="")  # ",sbp_red,fpg_orange," for LIKE filters
    # the level and reasons without psychological readings, for viewers without psychological
    # access (models.psych); open_reasons is NULL when they equal ``reasons``
    open_level: Mapped[Optional[str]] = mapped_column(String(8), default=open_level_default)
    open_reasons: Mapped[Optional[list[Any]]] = mapped_column(JSON, default=open_reasons_default)
    rules_version: Mapped[str] = mapped_column(String(20))
    last_exam_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    hypertension: Mapped[bool] = mapped_column(Boolean, default=False)
    diabetes: Mapped[bool] = mapped_column(Boolean, default=False)
    dyslipidemia: Mapped[bool] = mapped_column(Boolean, default=False)
    obesity: Mapped[bool] = mapped_column(Boolean, default=False)
    central_obesity: Mapped[bool] = mapped_column(Boolean, default=False)
    hyperuricemia: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # which guideline classes exist, as bits (models.status_bits), derived from ``classes`` on insert
    measured: Mapped[int] = mapped_column(Integer, default=measured_default, server_default="0")
    __table_args__ = (
        # the map and the per-colour counts GROUP BY unit path and level: answered from the index alone
        Index("ix_officer_status_path_level", "unit_path", "level"),
        # the same for viewers without psychological access, who count the open level (models.psych)
        Index("ix_officer_status_path_open_level", "unit_path", "open_level"),
        # the unit comparison and the leaders' overview aggregate these narrow columns for every
        # officer; this index holds them so that no scan reads the wide rows (``latest`` is ~3 KB)
        Index("ix_officer_status_cover", "level", "officer_id", "measured", "hypertension", "diabetes",
              "dyslipidemia", "obesity", "central_obesity", "hyperuricemia", "china_par", "rule_ids",
              "last_exam_date", "open_level"),
    )


class WarningHistory(Base):
    __tablename__ = "warning_history"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    unit_path: Mapped[str] = mapped_column(String(400), index=True)
    level: Mapped[str] = mapped_column(String(8))
    previous_level: Mapped[Optional[str]] = mapped_column(String(8))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rules_version: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    # why the level changed (models.vocab.HISTORY_CAUSES): "rules" when publishing a new rules version
    # recomputed it, NULL for a change of data (and for rows written before 0022)
    cause: Mapped[Optional[str]] = mapped_column(String(12))
    # each officer's changes in time order, with the levels: the overview's level at a date and
    # red+orange by month read this index alone (``reasons`` makes the rows wide); replaces the
    # plain officer_id index (0011)
    __table_args__ = (
        Index("ix_warning_history_officer_time", "officer_id", "changed_at", "level", "previous_level"),
    )


class FollowUp(Base):
    __tablename__ = "follow_up"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    assignee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[Optional[str]] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # phone/recheck/referral/counselling/lifestyle
    due: Mapped[Optional[dt.date]] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open/in_progress/closed
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{at, by, text}]
    outcome: Mapped[Optional[str]] = mapped_column(String(12))  # improved/unchanged/referred/declined
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


class Campaign(Base):
    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))  # steps/quiz/checkin
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    scope_unit_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    team_level: Mapped[str] = mapped_column(String(20), default="station")
    target_per_day: Mapped[float] = mapped_column(Float, default=0)
    target_total: Mapped[Optional[float]] = mapped_column(Float)
    team_scoring: Mapped[str] = mapped_column(String(12), default="mean")  # mean/total/share_target
    points_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # closed early by its editor (no more entries) / archived: out of the default lists, still readable (0025)
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    archived_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


class CampaignEntry(Base):
    """One officer's activity on one day of a campaign (highest value kept)."""

    __tablename__ = "campaign_entry"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("import_batch.id"))
    __table_args__ = (
        UniqueConstraint("campaign_id", "officer_id", "day", name="uq_campaign_entry"),
        # covering indexes for the campaign page (migration 0009): sums by day and by officer
        Index("ix_campaign_entry_day", "campaign_id", "day", "flagged", "value"),
        Index("ix_campaign_entry_officer", "campaign_id", "officer_id", "day", "flagged", "value"),
        # an officer's entries by day; replaces the plain officer_id index (0011). Who took part
        # in a year is kept apart, in campaign_participant (0013)
        Index("ix_campaign_entry_officer_day", "officer_id", "day"),
    )


class CampaignParticipant(Base):
    """An officer with any campaign activity in a calendar year: kept by triggers on
    campaign_entry (migration 0013), so the overview counts participants without seeking
    every officer's entries. Read it; the database writes it."""

    __tablename__ = "campaign_participant"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)


class Points(Base):
    __tablename__ = "points"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(60))
    awarded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class OfficerPreference(Base):
    __tablename__ = "officer_preference"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    hide_from_leaderboards: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[Optional[str]] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))  # login/login_failed/view_officer/export/...
    target: Mapped[Optional[str]] = mapped_column(String(200))
    detail: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    ip: Mapped[Optional[str]] = mapped_column(String(64))
    __table_args__ = (Index("ix_audit_log_target", "target", "at"),)  # "who looked at my record" (0017)


class AuditSubject(Base):
    """The officers a list-like audited action showed (an export, a data download): one row per
    officer, so "who looked at my record" finds the lists an officer was in (migration 0017)."""

    __tablename__ = "audit_subject"
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id", ondelete="CASCADE"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"), primary_key=True, index=True)


class BreakGlass(Base):
    """A manager's reasoned, time-limited access to one officer outside their scope (migration 0017)."""

    __tablename__ = "break_glass"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    audit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("audit_log.id"))
    __table_args__ = (Index("ix_break_glass_user_officer", "user_id", "officer_id", "expires_at"),)


class SaveToken(Base):
    """A client token a save carried: a replay of the same save finds it and changes nothing."""
    __tablename__ = "save_token"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Meta(Base):
    """Key/value facts about the database (data version for the cache, demo seed)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Notification(Base):
    """One message to one user (the bell in the shell): written once per event (``key`` is unique per
    user, so a replayed or re-run event adds nothing), read/unread per user (``models.notifications``)."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(24))  # models.vocab.NOTIFICATION_KINDS
    key: Mapped[str] = mapped_column(String(120))  # what happened, e.g. "level:123:2026-11-18"
    officer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("officer.id"))  # whom it is about
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[Optional[str]] = mapped_column(String(200))  # a path inside the portal
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_notification_user_key"),
                      Index("ix_notification_user_read", "user_id", "read_at", "created_at"))


class CampaignQuestion(Base):
    """One question of a quiz campaign's bank: four options, the correct one and an explanation,
    in both languages; deactivated questions stay (past attempts name them) but are no longer drawn (0025)."""

    __tablename__ = "campaign_question"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    text_zh: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500))
    options_zh: Mapped[list[Any]] = mapped_column(JSON)   # four strings
    options_en: Mapped[list[Any]] = mapped_column(JSON)
    correct: Mapped[int] = mapped_column(Integer)          # 0-3
    explanation_zh: Mapped[str] = mapped_column(Text, default="")
    explanation_en: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CampaignQuizAttempt(Base):
    """An officer's one quiz attempt of a day in a campaign: the questions drawn, the answers given,
    the score (0-100) that became the day's entry (0025)."""

    __tablename__ = "campaign_quiz_attempt"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    question_ids: Mapped[list[Any]] = mapped_column(JSON)
    answers: Mapped[list[Any]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("campaign_id", "officer_id", "day", name="uq_campaign_quiz_attempt"),)


class NotificationPreference(Base):
    """A user's choices for the bell (issue 19): an e-mail address and the kinds that also go by e-mail."""

    __tablename__ = "notification_preference"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    email: Mapped[Optional[str]] = mapped_column(String(200))
    email_kinds: Mapped[list[Any]] = mapped_column(JSON, default=list)  # codes of vocab.NOTIFICATION_KINDS
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class MailOutbox(Base):
    """One e-mail waiting for (or done with) the SMTP server: written with its notification, sent by
    ``models.mail.deliver`` outside any page request, retried with back-off (issue 19)."""

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    notification_id: Mapped[Optional[int]] = mapped_column(ForeignKey("notification.id"), unique=True)
    to_addr: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending/sent/failed (vocab.MAIL_STATUSES)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_attempt_at"),)


class HealthTarget(Base):
    """One target of an officer's personal health plan (issue 19): one row per (officer, item), the
    value when it was set (baseline) kept beside the target so progress can be shown."""

    __tablename__ = "health_target"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    code: Mapped[str] = mapped_column(String(20))  # vocab.PLAN_ITEMS
    target_value: Mapped[float] = mapped_column(Float)
    target_date: Mapped[dt.date] = mapped_column(Date)
    baseline_value: Mapped[Optional[float]] = mapped_column(Float)
    baseline_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    set_by_role: Mapped[str] = mapped_column(String(12))  # officer / manager / admin: "agreed with the manager"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("officer_id", "code", name="uq_health_target_officer_code"),)


class FollowUpReply(Base):
    """An officer's answer to one of their follow-ups: confirmed, or a request to reschedule with a reason
    (issue 19); the manager reads it on the follow-up."""

    __tablename__ = "follow_up_reply"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    reply: Mapped[str] = mapped_column(String(12))  # vocab.FOLLOWUP_REPLIES: confirm / reschedule
    reason: Mapped[Optional[str]] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QuestionnaireResponse(Base):
    """One questionnaire an officer answered in the portal (PHQ-9, GAD-7: ``models.questionnaires``), with
    every item's answer. The totals (and PHQ-9 item 9) are also observations, source "self-report", so the
    portrait, the warning rules and the unit comparison read them like any other reading (migration 0023)."""

    __tablename__ = "questionnaire_response"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("app_user.id"))  # who answered (the officer's account)
    instrument: Mapped[str] = mapped_column(String(8))  # phq9/gad7
    answers: Mapped[list[Any]] = mapped_column(JSON)  # 0-3 per item, in item order
    total: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(16), default="self-report")
    round_id: Mapped[Optional[int]] = mapped_column(ForeignKey("screening_round.id"))  # the round it answered, if any
    __table_args__ = (Index("ix_questionnaire_response_officer", "officer_id", "instrument", "answered_at"),)


class ScreeningRound(Base):
    """A psychological screening round: one instrument for a unit subtree within a window (migration 0023).
    An officer of the subtree has completed it with an answer of that instrument dated inside the window."""

    __tablename__ = "screening_round"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    instrument: Mapped[str] = mapped_column(String(8))  # phq9/gad7
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    reminder_date: Mapped[dt.date] = mapped_column(Date)  # officers still due get the screening_due message from then
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    """One background job (an import, a recompute, accounts from the roster, a large export): who started
    it, its progress while it runs and its result (``models.jobs``; listed on /admin/jobs)."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # models.vocab.JOB_KINDS
    status: Mapped[str] = mapped_column(String(12), default="running")  # models.vocab.JOB_STATUSES
    key: Mapped[Optional[str]] = mapped_column(String(120), unique=True)  # one job per key: a replayed start adds none
    label: Mapped[Optional[str]] = mapped_column(String(400))  # what it works on: a file name, a unit
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[Optional[str]] = mapped_column(String(60))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    step: Mapped[Optional[str]] = mapped_column(String(200))
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[Optional[str]] = mapped_column(Text)
    host: Mapped[Optional[str]] = mapped_column(String(120))
    pid: Mapped[Optional[int]] = mapped_column(Integer)
    __table_args__ = (Index("ix_job_status_started", "status", "started_at"), Index("ix_job_started", "started_at"))


class RuleVersion(Base):
    """One version of the four-colour warning rules (``models.rule_versions``): a draft an admin edits,
    the one published version in force, or a retired one. ``body`` is the rule set (the format of
    models/rules/warning_v2.json), validated before it is saved; ``label`` is its ``version`` field, the
    ``rules_version`` every status and history row names."""

    __tablename__ = "rule_version"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    label: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # models.vocab.RULE_VERSION_STATUSES
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[Optional[str]] = mapped_column(Text)
    based_on: Mapped[Optional[int]] = mapped_column(Integer)  # the number of the version it was copied from
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("app_user.id"))  # NULL: seeded from the file
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("app_user.id"))
    published_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    retired_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
