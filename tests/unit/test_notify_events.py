"""The event generator of the notification centre: one idempotent pass over what changed, messages to
the right people, nothing psychological to a manager without the grant, leaders' counts suppressed."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from models import followups as fu
from models import notify_events as ev
from models.db import session_scope, set_meta
from models.schema import Device, FollowUp, Notification, Officer, OfficerStatus, Unit, User, WarningHistory
from tests.conftest import AS_OF

AS_OF_DT = dt.datetime.combine(AS_OF, dt.time(12, 0))
PSYCH_RED = {"rule": "phq9_item9", "level": "red", "text": "自伤/轻生念头（PHQ-9 第9题=2）",
             "text_en": "thoughts of self-harm (PHQ-9 item 9 = 2)"}
BP_RED = {"rule": "bp_grade3", "level": "red", "text": "3级高血压水平（血压 186/112）",
          "text_en": "grade 3 hypertension range (BP 186/112)"}


def _user(s, name) -> User:
    return s.scalar(select(User).where(User.username == name))


def _messages(s, name, key_prefix) -> list[Notification]:
    uid = _user(s, name).id
    return list(s.scalars(select(Notification).where(Notification.user_id == uid, Notification.key.like(f"{key_prefix}%"))))


def _change(s, officer: Officer, level, previous, reasons, minutes_ago=30, confirmed=True) -> WarningHistory:
    row = WarningHistory(officer_id=officer.id, unit_path=officer.unit.path, level=level, previous_level=previous,
                         confirmed=confirmed, reasons=reasons, rules_version="test",
                         changed_at=AS_OF_DT - dt.timedelta(minutes=minutes_ago))
    s.add(row)
    s.flush()
    return row


def _d1_officer(s, exclude=()) -> Officer:
    return s.scalar(select(Officer).join(Unit, Unit.id == Officer.unit_id)
                    .where(Unit.path.like("/NJ/NJ-D1/%"), Officer.active, Officer.id.notin_(list(exclude)))
                    .order_by(Officer.id))


def test_nte001_second_pass_adds_nothing(demo_url):
    with session_scope(demo_url) as s:
        officer = _user(s, "officer").officer
        _change(s, officer, "orange", "yellow", [{"rule": "bp_grade2", "level": "orange", "text": "2级高血压水平",
                                                   "text_en": "grade 2 hypertension range"}])
        first = ev.generate(s, AS_OF_DT)
        assert sum(first.values()) > 0 and first.get("level_changed", 0) >= 1
        again = ev.generate(s, AS_OF_DT)
        assert sum(again.values()) == 0, again
        # a later pass with the watermark past the events still adds nothing
        assert sum(ev.generate(s, AS_OF_DT + dt.timedelta(hours=1)).values()) == 0
        s.rollback()


def test_nte002_officer_hears_of_a_level_change_with_the_reason(demo_url):
    with session_scope(demo_url) as s:
        set_meta(s, ev.WATERMARK, (AS_OF_DT - dt.timedelta(hours=1)).isoformat())
        officer = _user(s, "officer").officer
        wh = _change(s, officer, "red", "yellow", [BP_RED])
        ev.generate(s, AS_OF_DT)
        mine = _messages(s, "officer", f"level:{wh.id}")
        assert len(mine) == 1 and mine[0].kind == "level_changed"
        assert "3级高血压水平" in mine[0].body_zh and "grade 3 hypertension" in mine[0].body_en
        s.rollback()


def test_nte003_new_red_privacy(demo_url):
    """A red for a psychological reason only: the psych manager and the counsellors hear of it, the
    manager without the grant does not; a red for blood pressure: the managers, without any psych text."""
    with session_scope(demo_url) as s:
        set_meta(s, ev.WATERMARK, (AS_OF_DT - dt.timedelta(hours=1)).isoformat())
        a = _d1_officer(s)
        b = _d1_officer(s, exclude=[a.id])
        psych_only = _change(s, a, "red", "green", [PSYCH_RED])
        mixed = _change(s, b, "red", "yellow", [BP_RED, PSYCH_RED])
        ev.generate(s, AS_OF_DT)
        assert len(_messages(s, "manager", f"new_red:{psych_only.id}")) == 1  # psych grant
        assert len(_messages(s, "counsellor_d1", f"new_red:{psych_only.id}")) == 1
        assert _messages(s, "manager_d1", f"new_red:{psych_only.id}") == []  # no grant: nothing at all
        assert _messages(s, "manager_d2", f"new_red:{mixed.id}") == []  # outside the scope
        d1 = _messages(s, "manager_d1", f"new_red:{mixed.id}")
        assert len(d1) == 1 and "3级高血压" in d1[0].body_zh
        text = d1[0].title_zh + d1[0].body_zh + d1[0].title_en + d1[0].body_en
        assert "PHQ" not in text and "自伤" not in text and "self-harm" not in text
        full = _messages(s, "manager", f"new_red:{mixed.id}")
        assert "自伤" in full[0].body_zh
        assert _messages(s, "leader_d1", f"new_red:{mixed.id}") == []  # leaders get no named messages
        s.rollback()


def test_nte004_manager_follow_up_reaches_the_officer_at_once(demo_url):
    with session_scope(demo_url) as s:
        officer_user = _user(s, "officer")
        manager = _user(s, "manager_d1")
        actor = type("A", (), {"user_id": manager.id, "username": "manager_d1", "role": "manager",
                               "unit_path": manager.scope_unit.path, "sees_psych": False})()
        row = fu.open_followup(s, actor, officer_user.officer.badge, kind="recheck", assignee_id=manager.id,
                               due=AS_OF + dt.timedelta(days=7), note="复查血压", today=AS_OF)
        msgs = _messages(s, "officer", f"followup:{row.id}")
        assert len(msgs) == 1 and msgs[0].kind == "followup_scheduled" and msgs[0].link == "/me/plan"
        assert (AS_OF + dt.timedelta(days=7)).isoformat() in msgs[0].body_zh
        row.opened_at = AS_OF_DT - dt.timedelta(minutes=5)  # the generator's scan finds the same event: nothing new
        set_meta(s, ev.WATERMARK, (AS_OF_DT - dt.timedelta(hours=1)).isoformat())
        assert ev.generate(s, AS_OF_DT).get("followup_scheduled", 0) == 0
        s.rollback()


def test_nte005_overdue_unconfirmed_and_stale(demo_url):
    with session_scope(demo_url) as s:
        manager = _user(s, "manager_d1")
        officer = _d1_officer(s)
        late = FollowUp(officer_id=officer.id, opened_by_id=manager.id, assignee_id=manager.id, reason="PHQ-9 18 分",
                        kind="counselling", due=AS_OF - dt.timedelta(days=3), status="open",
                        opened_at=AS_OF_DT - dt.timedelta(days=20))
        s.add(late)
        status = s.get(OfficerStatus, officer.id)
        status.level, status.open_level, status.confirmed = "red", "red", False
        wh = _change(s, officer, "red", "yellow", [BP_RED], minutes_ago=60 * 24 * 5, confirmed=False)
        station = s.scalar(select(Unit).where(Unit.path.like("/NJ/NJ-D1/%")).order_by(Unit.id))
        kiosk = Device(gateway="gw-test", name="kiosk-test", driver="tanita", station=station.code, connected=True,
                       last_frame_at=AS_OF_DT - dt.timedelta(days=2), stale_minutes=60, reported_at=AS_OF_DT)
        s.add(kiosk)
        s.flush()
        out = ev.generate(s, AS_OF_DT)
        assert out.get("followup_overdue", 0) >= 1 and out.get("red_unconfirmed", 0) >= 1 and out.get("kiosk_stale", 0) >= 1
        overdue = _messages(s, "manager_d1", f"overdue:{late.id}:")
        assert len(overdue) == 1 and "3 天" in overdue[0].body_zh
        assert "PHQ" not in overdue[0].body_zh + overdue[0].body_en  # a counselling follow-up, manager without psych
        assert len(_messages(s, "manager_d1", f"unconfirmed:{officer.id}:{wh.changed_at.date().isoformat()}")) == 1
        stale = f"stale:{kiosk.id}:"
        assert len(_messages(s, "manager_d1", stale)) == 1 and _messages(s, "manager_d2", stale) == []
        assert len(_messages(s, "admin", stale)) == 1
        assert sum(ev.generate(s, AS_OF_DT + dt.timedelta(minutes=5)).values()) == 0
        s.rollback()


def test_nte006_weekly_leader_summary_is_suppressed_and_nameless(demo_url):
    with session_scope(demo_url) as s:
        ev.generate(s, AS_OF_DT)
        _, _, week = ev.last_week(AS_OF_DT)
        for name in ("leader", "leader_d1"):
            msg = _messages(s, name, f"weekly:{week}")
            assert len(msg) == 1 and msg[0].kind == "weekly_summary" and msg[0].officer_id is None
            counts = re.findall(r"(?:红|橙|黄|绿|新转红) (\S+?)[、；。]", msg[0].body_zh)
            assert len(counts) == 5
            for c in counts:  # every count is either hidden or at least 5
                assert c == "<5*" or int(c.replace(",", "")) >= 5 or int(c.replace(",", "")) == 0, c
            names = {o for o in s.scalars(select(Officer.name).limit(300))}
            assert not any(n in msg[0].body_zh for n in names)
        s.rollback()


def test_nte007_officer_week_in_review_encourages(demo_url):
    with session_scope(demo_url) as s:
        ev.generate(s, AS_OF_DT)
        _, _, week = ev.last_week(AS_OF_DT)
        msg = _messages(s, "officer", f"review:{week}")
        assert len(msg) == 1 and msg[0].kind == "weekly_review"
        text = msg[0].body_zh + msg[0].body_en
        assert any(w in text for w in ("继续保持", "新的开始")) and "红" not in text and "red" not in text.lower()
        s.rollback()


def test_nte008_portal_notify_run_does_one_pass_of_both(new_db_url, tmp_path):
    from typer.testing import CliRunner

    from ingest.demo import build_demo
    from models.notifications import set_preferences
    from models.schema import MailOutbox
    from portal.cli import _load_commands, app
    from tests.smtp_sink import start_sink

    url = new_db_url("notify_cli")
    build_demo(url, scale="tiny", seed=7, as_of=AS_OF, password="demo12345")
    with session_scope(url) as s:
        set_preferences(s, _user(s, "officer").id, "officer@police.example", ["weekly_review"])
    _load_commands()
    controller, box, port = start_sink()
    try:
        env = {"PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path), "PORTAL_TODAY": AS_OF.isoformat(),
               "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{port}"}
        first = CliRunner().invoke(app, ["notify", "run"], env=env)
        assert first.exit_code == 0, first.output
        assert "weekly_review 1" in first.output and "sent 1" in first.output
        assert len(box.messages) == 1 and "本周回顾" in box.messages[0]["Subject"]
        second = CliRunner().invoke(app, ["notify", "run"], env=env)
        assert second.exit_code == 0 and "messages added: none" in second.output and "sent 0" in second.output
    finally:
        controller.stop()
    with session_scope(url) as s:
        assert [r.status for r in s.scalars(select(MailOutbox))] == ["sent"]
