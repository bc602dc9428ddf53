"""The audit log's reads (viewer, "who looked at my record"), break the glass, take your data,
and retention (purge, the gateway journal's masking). Runs on its own tiny demo, since it
writes audit rows and grants."""
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from ingest import idcard
from ingest.demo import build_demo
from ingest.gateway import drivers
from ingest.gateway.journal import Journal
from models import audit as audit_model
from models import break_glass, retention, subject_data
from models.db import session_scope
from models.schema import (
    AuditLog, AuditSubject, ImportBatch, Officer, QuarantineRow, RawFrame, Unit, User, utcnow,
)
from models.vocab import AUDIT_ACTIONS, ROLE_WORDS
from tests.conftest import AS_OF, PASSWORD
from web.access import AccessDenied, Scope, officer_in_scope


@pytest.fixture(scope="module")
def url(new_db_url):
    url = new_db_url("audit")
    build_demo(url, scale="tiny", seed=13, as_of=AS_OF, password=PASSWORD)
    return url


def _user(s, username) -> User:
    return s.scalar(select(User).where(User.username == username))


def _scope(u: User) -> Scope:
    return Scope(u.id, u.username, u.role, u.officer_id, None if u.role == "admin" else
                 (u.scope_unit.path if u.scope_unit else None))


def _outside(s, path) -> Officer:
    return s.scalar(select(Officer).join(Unit).where(~Unit.path.like(f"{path}%")).order_by(Officer.id))


def test_aud001_every_code_written_has_words():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    codes = set()
    for path in list(root.glob("callbacks/*.py")) + list(root.glob("portal/*.py")) + list(root.glob("models/*.py")):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'\baudit\(\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'action="([a-z_]+)"', text))
        codes |= set(re.findall(r'_audit\(session, actor, "([a-z_]+)"', text))
    codes |= {"login", "login_failed", "activate_user", "deactivate_user", "campaign_create", "campaign_update"}
    assert codes and codes <= set(AUDIT_ACTIONS), codes - set(AUDIT_ACTIONS)
    assert "auditor" in ROLE_WORDS and all(zh and en for zh, en in AUDIT_ACTIONS.values())


def test_aud002_list_subjects_filter_page_and_csv(url):
    with session_scope(url) as s:
        admin = _user(s, "admin")
        badges = [b for b in s.scalars(select(Officer.badge).order_by(Officer.id).limit(7))]
        row = audit_model.record(s, action="export", target="warnings", detail={"filters": {"level": ["red"]}},
                                 user_id=admin.id, username=admin.username, ip="10.0.0.9",
                                 badges=badges + ["no-such-badge"])
        assert s.scalar(select(func.count()).select_from(AuditSubject).where(AuditSubject.audit_id == row.id)) == 7
        f = audit_model.AuditFilter(badge=badges[3], action="export")
        assert audit_model.count(s, f) >= 1
        top = audit_model.page(s, f, 0, 10)[0]
        assert top["subjects"] == 7 and top["ip"] == "10.0.0.9" and '"level"' in top["filters"]
        assert audit_model.count(s, audit_model.AuditFilter(person="nobody-at-all")) == 0
        later = audit_model.AuditFilter(since=dt.date.today() + dt.timedelta(days=2))
        assert audit_model.count(s, later) == 0
        text, n = audit_model.csv_text(s, f, {"at": "时间", "action:export": "导出名单或报表"})
        assert n >= 1 and text.startswith("\ufeff时间") and "导出名单或报表" in text
        assert admin.username in audit_model.people(s)


def test_aud003_officer_access_log_named_and_lists(url):
    with session_scope(url) as s:
        me_user = _user(s, "officer")
        me = s.get(Officer, me_user.officer_id)
        mgr = _user(s, "manager_d1")
        leader = _user(s, "leader_d1")
        for section in ("header", "record", "trends"):  # one portrait open writes three rows: shown once
            audit_model.record(s, action="view_officer", target=f"officer:{me.badge}", detail={"section": section},
                               user_id=mgr.id, username=mgr.username, ip=None)
        audit_model.record(s, action="export", target="warnings", detail={}, user_id=leader.id,
                           username=leader.username, ip=None, officer_ids=[me.id])
        audit_model.record(s, action="print_report", target=f"officer:{me.badge}", detail={"own": True},
                           user_id=me_user.id, username=me_user.username, ip=None)
        log = audit_model.officer_access_log(s, me.id, exclude_user_id=me_user.id)
        views = [e for e in log if e["action"] == "view_officer" and e["user"] == "manager_d1"]
        assert len(views) == 1 and views[0]["role"] == "manager" and views[0]["named"]
        lists = [e for e in log if e["action"] == "export"]
        assert lists and lists[0]["user"] is None and lists[0]["role"] == "leader"
        assert not [e for e in log if e["user"] == "officer"]  # the officer's own prints are not "someone"


def test_aud004_break_glass_grant_lasts_a_day_and_is_flagged(url):
    with session_scope(url) as s:
        mgr = _user(s, "manager_d1")
        scope = _scope(mgr)
        other = _outside(s, mgr.scope_unit.path)
        with pytest.raises(AccessDenied):
            officer_in_scope(s, scope, other.badge)
        with pytest.raises(break_glass.BreakGlassRefused):
            break_glass.grant(s, user_id=mgr.id, badge=other.badge, reason="look", ip=None)
        with pytest.raises(break_glass.BreakGlassRefused):
            break_glass.grant(s, user_id=_user(s, "leader_d1").id, badge=other.badge, reason="a long enough reason",
                              ip=None)
        g = break_glass.grant(s, user_id=mgr.id, badge=other.badge, reason="民警在本辖区执勤时晕倒，需要查看既往病史",
                              ip="10.1.1.1")
        assert g.expires_at - g.granted_at == dt.timedelta(days=1)
        assert officer_in_scope(s, scope, other.badge).id == other.id
        assert not break_glass.active(s, mgr.id, other.id, now=utcnow() + dt.timedelta(days=1, minutes=1))
        flagged = audit_model.page(s, audit_model.AuditFilter(flagged=True), 0, 5)
        assert flagged[0]["action"] == "break_glass" and flagged[0]["flagged"] and "晕倒" in flagged[0]["detail"]
        # a leader never gets through on a manager's grant
        leader = _scope(_user(s, "leader_d1"))
        with pytest.raises(AccessDenied):
            officer_in_scope(s, leader, other.badge)


def test_aud005_take_your_data_holds_the_whole_record(url):
    with session_scope(url) as s:
        me_user = _user(s, "officer")
        data = subject_data.officer_data(s, me_user.officer_id, as_of=AS_OF, generated_for="officer")
    assert data["officer"]["badge"] and "*" in (data["officer"]["id_number_masked"] or "*")
    assert data["exams"] and data["readings"] and data["warning"]["level"]["code"] in ("red", "orange")
    assert {r["source"]["code"] for r in data["readings"]} >= {"exam", "kiosk"}
    assert data["warning"]["reasons"] and all(r["zh"] and r["en"] for r in data["warning"]["reasons"])
    assert "campaign_entries" in data and "access_log" in data and "follow_ups" in data
    text = json.dumps(data, ensure_ascii=False)
    assert not idcard.holds_number(text)  # the ID number only ever masked


def test_aud006_purge_counts_then_deletes_only_old_rows_with_id_numbers(url):
    number = idcard.make("440604", dt.date(1985, 3, 2), 17, "male")
    assert idcard.holds_number(number) and not idcard.holds_number(idcard.mask(number))
    old = utcnow() - dt.timedelta(days=400)
    with session_scope(url) as s:
        batch = ImportBatch(kind="officers", status="loaded", summary={})
        s.add(batch)
        s.flush()
        s.add_all([QuarantineRow(batch_id=batch.id, reason="bad unit", raw={"id_number": number}, created_at=old),
                   QuarantineRow(batch_id=batch.id, reason="bad unit", raw={"id_number": idcard.mask(number)},
                                 created_at=old),
                   QuarantineRow(batch_id=batch.id, reason="bad unit", raw={"id_number": number})])
        s.add_all([RawFrame(gateway="gw-old", journal_seq=1, device="card1", driver="card_reader", station="S1",
                            received_at=old, raw=number.encode() + b"\r\n", status="ok"),
                   RawFrame(gateway="gw-old", journal_seq=2, device="card1", driver="card_reader", station="S1",
                            received_at=old, raw=idcard.mask(number).encode() + b"\r\n", status="ok")])
        batch_id = batch.id
    with session_scope(url) as s:
        dry = retention.purge(s, holds_id=idcard.holds_number, raw_days=90, quarantine_days=180, dry_run=True)
    assert (dry["raw_frames"], dry["quarantine_rows"]) == (1, 1)
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(QuarantineRow).where(QuarantineRow.batch_id == batch_id)) == 3
        done = retention.purge(s, holds_id=idcard.holds_number, raw_days=90, quarantine_days=180)
    assert (done["raw_frames"], done["quarantine_rows"]) == (1, 1)
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(QuarantineRow).where(QuarantineRow.batch_id == batch_id)) == 2
        assert s.scalar(select(func.count()).select_from(RawFrame).where(RawFrame.gateway == "gw-old")) == 1
        assert s.get(ImportBatch, batch_id).summary["purged"] == 1
        assert s.scalar(select(AuditLog.id).where(AuditLog.action == "purge"))
        again = retention.purge(s, holds_id=idcard.holds_number, raw_days=90, quarantine_days=180)
    assert (again["raw_frames"], again["quarantine_rows"]) == (0, 0)
    with pytest.raises(ValueError):
        with session_scope(url) as s:
            retention.purge(s, holds_id=idcard.holds_number, raw_days=0, quarantine_days=1)


def test_aud007_journal_masks_forwarded_frames_and_holds_recent_card_swipes(tmp_path):
    number = idcard.make("440604", dt.date(1990, 1, 5), 22, "female")
    j = Journal(tmp_path / "journal.db")
    t0 = dt.datetime(2026, 1, 1, 8, 0)
    old_card = j.append("card1", "card_reader", "S1", number.encode() + b"\r\n", "ok", received_at=t0)
    reading = j.append("scale1", "tanita", "S1", b'{0,16,~0,1,~1,1,~2,1,ID,"' + number.encode() + b'",Wk,70.0}',
                       "ok", received_at=t0 + dt.timedelta(minutes=1))
    new_card = j.append("card1", "card_reader", "S1", number.encode() + b"\r\n", "ok",
                        received_at=t0 + dt.timedelta(minutes=30))
    pending = j.append("scale1", "tanita", "S1", b"no id here", "ok", received_at=t0 + dt.timedelta(minutes=31))
    j.set_cursor(new_card)
    n = j.mask_forwarded(drivers.redact, hold_cards_since=t0 + dt.timedelta(minutes=25))
    raw = {r.seq: r.raw for r in j.rows()}
    assert n == 2
    assert not idcard.holds_number(raw[old_card]) and not idcard.holds_number(raw[reading])
    assert idcard.holds_number(raw[new_card])  # still inside the card-session window
    assert j.get_state("masked_through") == str(reading)
    j.set_cursor(pending)
    assert j.mask_forwarded(drivers.redact, hold_cards_since=t0 + dt.timedelta(hours=2)) == 1
    assert not any(idcard.holds_number(r.raw) for r in j.rows())
    assert j.get_state("masked_through") == str(pending)
    j.close()

