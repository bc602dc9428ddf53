"""E-mail of notifications: the outbox, delivery through a real local SMTP server (aiosmtpd), retry with
back-off when the server fails, nothing lost."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from models import mail
from models.db import session_scope
from models.notifications import notify, set_preferences, PreferenceError
from models.schema import MailOutbox, User
from tests.helpers import free_port
from tests.smtp_sink import start_sink, text_of


@pytest.fixture()
def sink():
    controller, box, port = start_sink()
    yield box, port
    controller.stop()


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def test_ntm001_chosen_kind_arrives_in_the_users_language(demo_url, sink):
    box, port = sink
    with session_scope(demo_url) as s:
        officer = _user(s, "officer")
        set_preferences(s, officer.id, "officer@police.example", ["exam_loaded"])
        assert notify(s, officer.id, "exam_loaded", "test:ntm001", ("新体检结果", "New exam results"),
                      ("2026-11-10 的体检结果已载入。", "Your exam results of 2026-11-10 have been loaded."), "/me")
        # a kind the user did not choose stays in the portal
        notify(s, officer.id, "campaign_event", "test:ntm001b", ("活动消息", "Campaign news"), ("x", "x"))
        rows = s.scalars(select(MailOutbox).where(MailOutbox.user_id == officer.id, MailOutbox.status == "pending")).all()
        assert len(rows) == 1
        out = mail.deliver(s, f"smtp://127.0.0.1:{port}?from=portal@police.example")
        assert out["sent"] == 1 and out["retry"] == 0
        assert len(box.messages) == 1
        msg = box.messages[0]
        assert msg["To"] == "officer@police.example"
        assert "新体检结果" in msg["Subject"]  # the officer reads Chinese (the default)
        assert "2026-11-10 的体检结果已载入" in text_of(msg) and "/me" in text_of(msg)
        assert s.get(MailOutbox, rows[0].id).status == "sent"
        assert mail.deliver(s, f"smtp://127.0.0.1:{port}")["sent"] == 0  # sent once, never twice
        s.rollback()


def test_ntm002_english_user_gets_english(demo_url, sink):
    box, port = sink
    with session_scope(demo_url) as s:
        manager = _user(s, "manager_d1")
        manager.language = "en"
        set_preferences(s, manager.id, "m1@police.example", ["new_red"])
        notify(s, manager.id, "new_red", "test:ntm002", ("新增红色预警：张三", "New red warning: Zhang San"),
               ("张三转为红色。", "Zhang San turned red."), "/officers/1")
        assert mail.deliver(s, f"smtp://127.0.0.1:{port}")["sent"] == 1
        assert "New red warning: Zhang San" in box.messages[0]["Subject"]
        assert "Zhang San turned red." in text_of(box.messages[0])
        s.rollback()


def test_ntm003_failing_server_retries_with_backoff_and_loses_nothing(demo_url):
    dead = free_port()  # nothing listens here: the connection is refused
    with session_scope(demo_url) as s:
        officer = _user(s, "officer")
        set_preferences(s, officer.id, "officer@police.example", ["level_changed"])
        notify(s, officer.id, "level_changed", "test:ntm003", ("预警等级变化", "Warning level changed"), ("a", "a"))
        row = s.scalar(select(MailOutbox).where(MailOutbox.user_id == officer.id, MailOutbox.status == "pending"))
        now = row.next_attempt_at
        out = mail.deliver(s, f"smtp://127.0.0.1:{dead}?timeout=3", now=now)
        assert out["retry"] == 1 and out["sent"] == 0
        assert row.attempts == 1 and row.last_error and row.next_attempt_at == now + dt.timedelta(minutes=1)
        # not yet due: the next pass leaves it alone
        assert mail.deliver(s, f"smtp://127.0.0.1:{dead}", now=now + dt.timedelta(seconds=30))["retry"] == 0
        out = mail.deliver(s, f"smtp://127.0.0.1:{dead}?timeout=3", now=now + dt.timedelta(minutes=2))
        assert out["retry"] == 1 and row.attempts == 2 and row.next_attempt_at == now + dt.timedelta(minutes=4)
        # the server comes back: the same message goes out
        controller, box, port = start_sink()
        try:
            assert mail.deliver(s, f"smtp://127.0.0.1:{port}", now=now + dt.timedelta(minutes=5))["sent"] == 1
        finally:
            controller.stop()
        assert row.status == "sent" and row.attempts == 3 and len(box.messages) == 1
        s.rollback()


def test_ntm004_gives_up_after_max_attempts_but_keeps_the_row(demo_url):
    dead = free_port()
    with session_scope(demo_url) as s:
        officer = _user(s, "officer")
        set_preferences(s, officer.id, "officer@police.example", ["weekly_review"])
        notify(s, officer.id, "weekly_review", "test:ntm004", ("本周回顾", "Week in review"), ("a", "a"))
        row = s.scalar(select(MailOutbox).where(MailOutbox.user_id == officer.id, MailOutbox.status == "pending"))
        row.attempts = mail.MAX_ATTEMPTS - 1
        out = mail.deliver(s, f"smtp://127.0.0.1:{dead}?timeout=3", now=row.next_attempt_at)
        assert out["failed"] == 1 and row.status == "failed" and "Connection" in row.last_error
        s.rollback()


def test_ntm005_no_server_configured_keeps_the_outbox(demo_url):
    with session_scope(demo_url) as s:
        officer = _user(s, "officer")
        set_preferences(s, officer.id, "officer@police.example", ["weekly_review"])
        notify(s, officer.id, "weekly_review", "test:ntm005", ("本周回顾", "Week in review"), ("a", "a"))
        out = mail.deliver(s, None)
        assert out["sent"] == 0 and out["pending"] >= 1
        s.rollback()


def test_ntm006_preferences_are_checked(demo_url):
    with session_scope(demo_url) as s:
        officer = _user(s, "officer")
        for email, kinds in (("not an address", []), ("a@b.cn", ["no_such_kind"]), (None, ["exam_loaded"])):
            with pytest.raises(PreferenceError):
                set_preferences(s, officer.id, email, kinds)
        assert set_preferences(s, officer.id, " a@b.cn ", [])["email"] == "a@b.cn"
        s.rollback()


def test_ntm007_smtp_url_parsing():
    cfg = mail.parse_smtp_url("smtp://portal%40x:p%40ss@mail.police.local:587?starttls=1&from=jk@police.local")
    assert (cfg.host, cfg.port, cfg.user, cfg.password, cfg.starttls, cfg.sender) == \
        ("mail.police.local", 587, "portal@x", "p@ss", True, "jk@police.local")
    assert mail.parse_smtp_url("smtps://mail.police.local").port == 465
    with pytest.raises(ValueError):
        mail.parse_smtp_url("http://mail")
    assert [mail.backoff(n).total_seconds() / 60 for n in (1, 2, 3)] == [1, 2, 4]
    assert mail.backoff(30) == mail.BACKOFF_MAX
