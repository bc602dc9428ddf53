"""Forged requests against the bell, /notifications and the health plan (issue 19): every user reads
and marks only their own messages; an officer sets targets and answers follow-ups for themself only;
a manager plans only for officers in scope; replayed saves write once."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import delete, select

from models.db import session_scope
from models.notifications import notify
from models.schema import (
    FollowUp, FollowUpReply, HealthTarget, MailOutbox, Notification, NotificationPreference, Officer, Unit, User,
)
from tests.conftest import AS_OF
from tests.helpers import dash_callback


def _key(app, *parts):
    found = [k for k in app.callback_map if all(p in k for p in parts)]
    assert len(found) == 1, (parts, found)
    return found[0]


def _outputs(key):
    out = []
    for part in [p for p in key.strip(".").split("...") if p] if key.startswith("..") else [key]:
        ident, prop = part.rsplit(".", 1)
        prop = re.sub(r"@[0-9a-f]+$", "", prop)
        out.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return out if key.startswith("..") else out[0]


def call(app, client, parts, inputs, state=None, changed=None):
    key = _key(app, *parts)
    return dash_callback(client, key, inputs, state, changed=changed, outputs_list=_outputs(key))


def text(res) -> str:
    return json.dumps(res.get_json(), ensure_ascii=False)


def pid(ident: dict) -> str:
    return json.dumps(ident, sort_keys=True, separators=(",", ":"))


@pytest.fixture()
def db(app):
    url = app.server.config["DATABASE_URL"]
    made = []
    yield url, made
    with session_scope(url) as s:  # leave the shared demo database as it was
        s.execute(delete(MailOutbox))
        s.execute(delete(FollowUpReply).where(FollowUpReply.follow_up_id.in_([m for k, m in made if k == "fu"])))
        s.execute(delete(FollowUp).where(FollowUp.id.in_([m for k, m in made if k == "fu"])))
        s.execute(delete(Notification).where(Notification.key.like("test:nth%") | Notification.key.like("reply:%")
                                             | Notification.key.like("followup:%")))
        s.execute(delete(HealthTarget))
        s.execute(delete(NotificationPreference))


def _uid(url, name):
    with session_scope(url) as s:
        return s.scalar(select(User.id).where(User.username == name))


def _message(url, name, key):
    with session_scope(url) as s:
        notify(s, _uid(url, name), "new_red", key, ("新增红色预警：测试", "New red warning: test"), ("正文", "body"))
        return s.scalar(select(Notification.id).where(Notification.key == key))


def _read_at(url, nid):
    with session_scope(url) as s:
        return s.get(Notification, nid).read_at


def mark(app, c, nid=None, all_=False):
    ident = {"type": "nt-read", "id": nid if nid is not None else 1}
    inputs = [[{"id": ident, "property": "n_clicks", "value": None if all_ else 1}],
              {"id": "nt-read-all", "property": "n_clicks", "value": 1 if all_ else None}]
    changed = ["nt-read-all.n_clicks"] if all_ else [pid(ident) + ".n_clicks"]
    return call(app, c, ("nt-changed.data",), inputs, [{"id": "nt-changed", "property": "data", "value": 0}], changed)


def listing(app, c, unread=False, page=0):
    inputs = [{"id": "nt-page", "property": "data", "value": page},
              {"id": "nt-unread-only", "property": "value", "value": unread},
              {"id": "nt-changed", "property": "data", "value": 0},
              {"id": "nt-prev", "property": "n_clicks", "value": None},
              {"id": "nt-next", "property": "n_clicks", "value": None}]
    return call(app, c, ("nt-list.children",), inputs, changed=["nt-page.data"])


def bell(app, c):
    return call(app, c, ("..bell-count.children...bell-count.className..",),
                [{"id": "bell-interval", "property": "n_intervals", "value": 1},
                 {"id": "_pages_location", "property": "pathname", "value": "/"}], changed=["bell-interval.n_intervals"])


def test_nth001_anonymous_gets_nothing(app, client):
    assert bell(app, client).status_code == 401
    assert listing(app, client).status_code == 401


def test_nth002_officer_cannot_read_or_mark_anothers_messages(app, as_user, db):
    url, _ = db
    theirs = _message(url, "manager_d1", "test:nth002-theirs")
    mine = _message(url, "officer", "test:nth002-mine")
    c = as_user("officer")
    res = listing(app, c)
    assert res.status_code == 200
    shown = text(res)
    assert "nth002" not in shown  # keys are never sent
    assert shown.count("新增红色预警：测试") == 1  # own message only
    assert mark(app, c, theirs).status_code == 200
    assert _read_at(url, theirs) is None  # the manager's message is untouched
    assert mark(app, c, all_=True).status_code == 200
    assert _read_at(url, theirs) is None and _read_at(url, mine) is not None
    m = as_user("manager_d1")
    assert "新增红色预警：测试" in text(listing(app, m, unread=True))


def test_nth003_bell_counts_own_unread(app, as_user, db):
    url, _ = db
    c = as_user("counsellor_d1")
    before = bell(app, c).get_json()["response"]["bell-count"]["children"]
    _message(url, "counsellor_d1", "test:nth003")
    after = bell(app, c).get_json()["response"]["bell-count"]["children"]
    assert int(after) == int(before or 0) + 1


def test_nth004_preferences_forged_kind_or_tokenless_refused(app, as_user, db):
    c = as_user("officer")

    def save(kinds, token="abcdefgh12345678", email="me@police.example"):
        return call(app, c, ("nt-pref-msg.children",), [{"id": "nt-pref-save", "property": "n_clicks", "value": 1}],
                    [{"id": "nt-email", "property": "value", "value": email},
                     {"id": "nt-email-kinds", "property": "value", "value": kinds},
                     {"id": "nt-pref-token", "property": "data", "value": token}], ["nt-pref-save.n_clicks"])

    assert save(["new_red"]).status_code == 403  # a manager's kind: not offered to an officer
    assert save(["exam_loaded"], token=None).status_code == 403
    bad = save(["exam_loaded"], email="nope", token="abcdefgh00000001")
    assert bad.status_code == 200 and "邮箱地址格式不正确" in text(bad)
    assert save(["exam_loaded"], token="abcdefgh00000002").status_code == 200
    url, _ = db
    with session_scope(url) as s:
        pref = s.get(NotificationPreference, _uid(url, "officer"))
        assert pref.email == "me@police.example" and pref.email_kinds == ["exam_loaded"]


def _badge_in(url, path, exclude=None):
    with session_scope(url) as s:
        return s.scalar(select(Officer.badge).join(Unit, Unit.id == Officer.unit_id)
                        .where(Unit.path.like(f"{path}%"), Officer.badge != (exclude or "")).order_by(Officer.id))


def plan_save(app, c, key, value=80, token="tok-plan-0001", code="weight_kg", date=None):
    date = date or (AS_OF + dt.timedelta(days=90)).isoformat()
    return call(app, c, ("plan-msg.children",), [{"id": "plan-save", "property": "n_clicks", "value": 1}],
                [{"id": "plan-key", "property": "data", "value": key},
                 {"id": "plan-item", "property": "value", "value": code},
                 {"id": "plan-value", "property": "value", "value": value},
                 {"id": "plan-date", "property": "value", "value": date},
                 {"id": "plan-token", "property": "data", "value": token},
                 {"id": "plan-changed", "property": "data", "value": 0}], ["plan-save.n_clicks"])


def plan_view(app, c, key):
    return call(app, c, ("plan-targets.children",), [{"id": "plan-key", "property": "data", "value": key},
                                                      {"id": "plan-changed", "property": "data", "value": 0}],
                changed=["plan-key.data"])


def _targets(url, badge):
    with session_scope(url) as s:
        oid = s.scalar(select(Officer.id).where(Officer.badge == badge))
        return [(t.code, t.target_value, t.set_by_role) for t in s.scalars(select(HealthTarget).where(HealthTarget.officer_id == oid))]


def test_nth005_officer_sets_only_own_targets(app, as_user, db):
    url, _ = db
    c = as_user("officer")
    with session_scope(url) as s:
        me = s.scalar(select(User).where(User.username == "officer")).officer.badge
    colleague = _badge_in(url, "/NJ/NJ-D1/", exclude=me)
    assert plan_save(app, c, colleague).status_code == 403
    assert plan_view(app, c, colleague).status_code == 403
    assert _targets(url, colleague) == []
    assert plan_save(app, c, "", value=75.5).status_code == 200
    assert plan_save(app, c, "", value=60).status_code == 200  # a replay of the same save: written once
    assert _targets(url, me) == [("weight_kg", 75.5, "officer")]
    res = plan_save(app, c, "", value=75, token="tok-plan-0002", date=(AS_OF - dt.timedelta(days=1)).isoformat())
    assert res.status_code == 200 and "目标日期须晚于今天" in text(res)


def test_nth006_manager_plans_in_scope_only(app, as_user, db):
    url, _ = db
    inside, outside = _badge_in(url, "/NJ/NJ-D1/"), _badge_in(url, "/NJ/NJ-D2/")
    m = as_user("manager_d1")
    assert plan_save(app, m, outside, token="tok-plan-0101").status_code == 403
    assert plan_save(app, m, inside, value=130, code="sbp", token="tok-plan-0102").status_code == 200
    assert _targets(url, inside) == [("sbp", 130.0, "manager")]
    assert plan_save(app, m, "", token="tok-plan-0103").status_code == 403  # "" is an officer's own plan
    for name in ("leader_d1", "counsellor_d1"):
        assert plan_save(app, as_user(name), inside, token=f"tok-plan-{name}").status_code == 403
        assert plan_view(app, as_user(name), inside).status_code == 403


def reply(app, c, fid, answer="reschedule", reason="值班冲突", token="tok-reply-0001"):
    ident = {"type": "plan-reply", "id": fid, "a": answer}
    return call(app, c, ("plan-reply-msg.children",), [[{"id": ident, "property": "n_clicks", "value": 1}]],
                [[{"id": {"type": "plan-reason", "id": fid}, "property": "value", "value": reason}],
                 {"id": "plan-reply-token", "property": "data", "value": token},
                 {"id": "plan-changed", "property": "data", "value": 0}], [pid(ident) + ".n_clicks"])


def test_nth007_officer_answers_only_own_follow_ups(app, as_user, db):
    url, made = db
    with session_scope(url) as s:
        me = s.scalar(select(User).where(User.username == "officer"))
        manager = s.scalar(select(User).where(User.username == "manager_d1"))
        other = s.scalar(select(Officer).join(Unit, Unit.id == Officer.unit_id)
                         .where(Unit.path.like("/NJ/NJ-D1/%"), Officer.id != me.officer_id).order_by(Officer.id))
        mine = FollowUp(officer_id=me.officer_id, opened_by_id=manager.id, assignee_id=manager.id, kind="recheck",
                        due=AS_OF + dt.timedelta(days=5), status="open", reason="复查血压")
        theirs = FollowUp(officer_id=other.id, opened_by_id=manager.id, assignee_id=manager.id, kind="recheck",
                          due=AS_OF + dt.timedelta(days=5), status="open")
        s.add_all([mine, theirs])
        s.flush()
        made += [("fu", mine.id), ("fu", theirs.id)]
        mine_id, theirs_id = mine.id, theirs.id
    c = as_user("officer")
    assert reply(app, c, theirs_id).status_code == 403
    assert reply(app, c, 2**31 - 1, token="tok-reply-0002").status_code == 403
    assert reply(app, as_user("manager_d1"), mine_id, token="tok-reply-0003").status_code == 403
    res = reply(app, c, mine_id, reason="", token="tok-reply-0004")
    assert res.status_code == 200 and "申请改期请填写理由" in text(res)
    assert reply(app, c, mine_id, token="tok-reply-0005").status_code == 200
    assert reply(app, c, mine_id, token="tok-reply-0005").status_code == 200  # replay: once
    with session_scope(url) as s:
        replies = s.scalars(select(FollowUpReply).where(FollowUpReply.follow_up_id.in_([mine_id, theirs_id]))).all()
        assert [(r.follow_up_id, r.reply, r.reason) for r in replies] == [(mine_id, "reschedule", "值班冲突")]
        notes = s.get(FollowUp, mine_id).notes
        assert notes[-1]["text"] == "民警申请改期：值班冲突"  # the manager reads it on the follow-up
        heard = s.scalars(select(Notification).where(Notification.user_id == _uid(url, "manager_d1"),
                                                     Notification.kind == "followup_reply")).all()
        assert len(heard) == 1 and "值班冲突" in heard[0].body_zh
