"""Officers' own campaign entries and campaign authoring through the real callbacks, as any client
can post them: check-in and the daily quiz change the team standings; import, hand entry and
re-import give the same totals; forged requests — entering for someone else, answering twice,
reading the answer key, authoring without the right — are refused."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import delete, func, select

from ingest.activity import load_activity_bytes
from models.campaigns.quiz import draw
from models.campaigns.reads import team_leaderboard
from models.db import session_scope
from models.schema import (
    AuditLog, Campaign, CampaignEntry, CampaignQuestion, CampaignQuizAttempt, Officer, Points, Unit, User,
)
from tests.conftest import AS_OF
from tests.helpers import callback_key, dash_callback
from web.access import Scope

EXPLAIN = "解析秘密：每天步行六千步以上"


def _url(app):
    return app.server.config["DATABASE_URL"]


def _body(res) -> str:
    data = res.get_json(silent=True)
    return json.dumps(data, ensure_ascii=False) if data is not None else res.get_data(as_text=True)


def _question(n):
    return CampaignQuestion(text_zh=f"测试题{n}：成年人每天建议步行多少步？", text_en=f"Test {n}: steps a day?",
                            options_zh=["一千", "六千以上", "一百", "十"], options_en=["1k", "6k+", "100", "10"],
                            correct=1, explanation_zh=f"{EXPLAIN}{n}", explanation_en=f"Secret why {n}", active=True)


@pytest.fixture(scope="module")
def world(app):
    """Running check-in, quiz (two questions) and steps campaigns over the demo officer's district,
    and a check-in campaign of the other district."""
    url = _url(app)
    with session_scope(url) as s:
        user = s.scalar(select(User).where(User.username == "officer"))
        officer = s.get(Officer, user.officer_id)
        path = s.get(Unit, officer.unit_id).path
        district = next(u for u in s.scalars(select(Unit).where(Unit.level == "district")) if path.startswith(u.path))
        other = next(u for u in s.scalars(select(Unit).where(Unit.level == "district")) if u.id != district.id)
        start, end = AS_OF - dt.timedelta(days=10), AS_OF + dt.timedelta(days=20)

        def camp(name, kind, unit, target):
            c = Campaign(name=name, kind=kind, start_date=start, end_date=end, scope_unit_ids=[unit.id],
                         team_level="station", target_per_day=target, team_scoring="total")
            s.add(c)
            s.flush()
            return c.id

        ids = {"checkin": camp("测试微运动", "checkin", district, 1), "quiz": camp("测试答题", "quiz", district, 60),
               "steps": camp("测试健步走", "steps", district, 8000), "other": camp("他局微运动", "checkin", other, 1)}
        for n in (1, 2):
            q = _question(n)
            q.campaign_id = ids["quiz"]
            s.add(q)
        info = {"officer_id": officer.id, "badge": officer.badge, "user_id": user.id, "ids": ids,
                "team": s.get(Unit, officer.unit_id).code}
    yield info
    with session_scope(url) as s:
        cids = list(ids.values())
        s.execute(delete(Points).where(Points.campaign_id.in_(cids)))
        s.execute(delete(CampaignEntry).where(CampaignEntry.campaign_id.in_(cids)))
        s.execute(delete(CampaignQuizAttempt).where(CampaignQuizAttempt.campaign_id.in_(cids)))
        s.execute(delete(CampaignQuestion).where(CampaignQuestion.campaign_id.in_(cids)))
        s.execute(delete(Campaign).where(Campaign.id.in_(cids)))


def _path(cid):
    return {"id": "campaign-url", "property": "pathname", "value": f"/campaigns/{cid}"}


def _today_view(client, cid):
    key = callback_key(client, "campaign-today.children")
    return dash_callback(client, key, [_path(cid), {"id": "campaign-today-refresh", "property": "data", "value": 0}])


def _entry_key(client, trigger):
    deps = client.get("/_dash-dependencies").get_json()
    return next(d["output"] for d in deps if any(i["id"] == trigger for i in d["inputs"]))


def _post_checkin(client, cid, token=None):
    return dash_callback(client, _entry_key(client, "campaign-checkin"),
                         [{"id": "campaign-checkin", "property": "n_clicks", "value": 1}],
                         [_path(cid), {"id": "campaign-entry-token", "property": "data", "value": token or uuid.uuid4().hex},
                          {"id": "campaign-today-refresh", "property": "data", "value": 0}],
                         outputs_list=[{"id": "campaign-today-msg", "property": "children"},
                                       {"id": "campaign-today-refresh", "property": "data"}])


def _post_quiz(client, cid, answers, token=None):
    return dash_callback(client, _entry_key(client, "campaign-quiz-submit"),
                         [{"id": "campaign-quiz-submit", "property": "n_clicks", "value": 1}],
                         [_path(cid), {"id": "campaign-entry-token", "property": "data", "value": token or uuid.uuid4().hex},
                          {"id": "campaign-today-refresh", "property": "data", "value": 0},
                          [{"id": {"type": "campaign-quiz-answer", "index": int(a.split(":")[0])}, "property": "value",
                            "value": a} for a in answers]],
                         outputs_list=[{"id": "campaign-today-msg", "property": "children"},
                                       {"id": "campaign-today-refresh", "property": "data"}])


def _post_steps(client, cid, day, value, token=None):
    return dash_callback(client, _entry_key(client, "campaign-steps-save"),
                         [{"id": "campaign-steps-save", "property": "n_clicks", "value": 1}],
                         [_path(cid), {"id": "campaign-entry-token", "property": "data", "value": token or uuid.uuid4().hex},
                          {"id": "campaign-today-refresh", "property": "data", "value": 0},
                          {"id": "campaign-steps-day", "property": "value", "value": day},
                          {"id": "campaign-steps-value", "property": "value", "value": value}],
                         outputs_list=[{"id": "campaign-today-msg", "property": "children"},
                                       {"id": "campaign-today-refresh", "property": "data"}])


def _team_total(app, cid, code):
    with session_scope(_url(app)) as s:
        rows = team_leaderboard(s, Scope(None, "admin", "admin", None, None), cid, AS_OF)["rows"]
    return next(r["total"] for r in rows if r["team"]["code"] == code)


def _teams_html(client, cid):
    return _body(dash_callback(client, "campaign-teams.children", [_path(cid)]))


def test_cenh001_checkin_changes_team_standings_once(app, as_user, world):
    officer = as_user("officer")
    cid = world["ids"]["checkin"]
    before = _team_total(app, cid, world["team"])
    html_before = _teams_html(officer, cid)
    assert "今日打卡" in _body(_today_view(officer, cid))
    token = uuid.uuid4().hex
    assert _post_checkin(officer, cid, token).status_code == 200
    assert _post_checkin(officer, cid, token).status_code == 200  # the same request again: written once
    assert _post_checkin(officer, cid).status_code == 200  # a second check-in the same day: still one
    assert _team_total(app, cid, world["team"]) == before + 1
    assert _teams_html(officer, cid) != html_before
    assert "今天已打卡" in _body(_today_view(officer, cid))
    with session_scope(_url(app)) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "campaign_checkin", AuditLog.target == f"campaign:{cid}")) == 2


def test_cenh002_quiz_no_key_before_one_attempt_and_standings_change(app, as_user, world):
    officer = as_user("officer")
    cid = world["ids"]["quiz"]
    view = _body(_today_view(officer, cid))
    assert "测试题1" in view and "测试题2" in view
    assert EXPLAIN not in view and "Secret why" not in view and "correct" not in view  # no answer key before
    before = _team_total(app, cid, world["team"])
    with session_scope(_url(app)) as s:
        drawn = [(q.id, q.correct) for q in draw(s, cid, world["officer_id"], AS_OF)]
    answers = [f"{qid}:{correct}" for qid, correct in drawn]
    res = _post_quiz(officer, cid, answers)
    assert res.status_code == 200 and "campaign-today-error" not in _body(res)
    assert _team_total(app, cid, world["team"]) == before + 100
    after = _body(_today_view(officer, cid))
    assert EXPLAIN in after and "100" in after  # explanations once answered
    res = _post_quiz(officer, cid, [f"{qid}:{(c + 1) % 4}" for qid, c in drawn])  # a forged second attempt
    assert res.status_code == 200 and "今天已经答过题了" in _body(res)
    with session_scope(_url(app)) as s:
        assert s.scalar(select(func.count()).select_from(CampaignQuizAttempt).where(
            CampaignQuizAttempt.campaign_id == cid)) == 1
        assert s.scalar(select(CampaignEntry.value).where(CampaignEntry.campaign_id == cid,
                                                          CampaignEntry.officer_id == world["officer_id"])) == 100
    assert _team_total(app, cid, world["team"]) == before + 100


def test_cenh003_import_hand_entry_reimport_same_totals(app, as_user, world):
    officer = as_user("officer")
    cid = world["ids"]["steps"]
    day = AS_OF - dt.timedelta(days=2)
    data = f"警号,日期,步数\n{world['badge']},{day.isoformat()},10000\n".encode()
    load_activity_bytes(_url(app), data, cid, filename="steps.csv", today=AS_OF)
    first = _team_total(app, cid, world["team"])
    res = _post_steps(officer, cid, day.isoformat(), 7000)  # smaller than the device's: the device's stands
    assert res.status_code == 200 and "10,000" in _body(res)
    assert _team_total(app, cid, world["team"]) == first
    summary = load_activity_bytes(_url(app), data, cid, filename="steps.csv", today=AS_OF)
    assert summary["inserted"] == summary["updated"] == 0
    assert _team_total(app, cid, world["team"]) == first
    assert _post_steps(officer, cid, day.isoformat(), 12000).status_code == 200  # larger: replaces, not adds
    assert _team_total(app, cid, world["team"]) == first + 2000
    load_activity_bytes(_url(app), data, cid, filename="steps.csv", today=AS_OF)
    assert _team_total(app, cid, world["team"]) == first + 2000
    with session_scope(_url(app)) as s:
        assert s.scalar(select(func.count()).select_from(CampaignEntry).where(
            CampaignEntry.campaign_id == cid, CampaignEntry.officer_id == world["officer_id"],
            CampaignEntry.day == day)) == 1


def test_cenh004_steps_caps_give_clear_errors(app, as_user, world):
    officer = as_user("officer")
    cid = world["ids"]["steps"]
    for day, value, text in ((AS_OF, 60001, "60,000"), ((AS_OF + dt.timedelta(days=1)), 5000, "未来"),
                             (AS_OF - dt.timedelta(days=11), 5000, "开始"), (AS_OF, -3, "负数")):
        res = _post_steps(officer, cid, day.isoformat(), value)
        assert res.status_code == 200 and text in _body(res), (day, value)
    with session_scope(_url(app)) as s:
        assert s.scalar(select(func.count()).select_from(CampaignEntry).where(
            CampaignEntry.campaign_id == cid, CampaignEntry.day.in_([AS_OF, AS_OF + dt.timedelta(days=1),
                                                                     AS_OF - dt.timedelta(days=11)]))) == 0


def test_cenh005_nobody_enters_for_anyone_else(app, as_user, world):
    other = world["ids"]["other"]
    officer = as_user("officer")
    assert _post_checkin(officer, other).status_code == 403  # another district's campaign
    assert _today_view(officer, other).status_code == 403
    for user in ("manager_d1", "leader_d1", "admin"):  # entries are an officer's own, never on someone's behalf
        client = as_user(user)
        assert _post_checkin(client, world["ids"]["checkin"]).status_code == 403, user
        assert _post_steps(client, world["ids"]["steps"], AS_OF.isoformat(), 5000).status_code == 403, user
    with session_scope(_url(app)) as s:
        assert s.scalar(select(func.count()).select_from(CampaignEntry).where(
            CampaignEntry.campaign_id.in_(list(world["ids"].values())),
            CampaignEntry.officer_id != world["officer_id"])) == 0


def test_cenh006_officer_cannot_read_the_answer_key(as_user, world):
    officer = as_user("officer")
    cid = world["ids"]["quiz"]
    res = dash_callback(officer, "cq-list.children", [_path(cid), {"id": "cq-refresh", "property": "data", "value": 0}])
    assert res.status_code == 403 and EXPLAIN not in _body(res)
    key = callback_key(officer, "cq-collapse.is_open", "cq-title.children")
    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in key.strip(".").split("...")]
    res = dash_callback(officer, key, [{"id": "cq-new", "property": "n_clicks", "value": None},
                                       [{"id": {"type": "cq-edit", "index": 1}, "property": "n_clicks", "value": 1}],
                                       {"id": "cq-cancel", "property": "n_clicks", "value": None}],
                        [_path(cid)], changed=['{"index":1,"type":"cq-edit"}.n_clicks'], outputs_list=outputs)
    assert res.status_code == 403 and EXPLAIN not in _body(res)


def _save_question(client, cid, token=None, edit_id=None):
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if any(i["id"] == "cq-save" for i in d["inputs"]))
    fields = ["cq-text-zh", "cq-text-en", *[f"cq-opt-zh-{k}" for k in range(4)], *[f"cq-opt-en-{k}" for k in range(4)],
              "cq-expl-zh", "cq-expl-en"]
    values = ["伪造的题目内容", "Forged question", "甲", "乙", "丙", "丁", "a", "b", "c", "d", "解析", "why"]
    state = [_path(cid), {"id": "cq-edit-id", "property": "data", "value": edit_id},
             {"id": "cq-token", "property": "data", "value": token or uuid.uuid4().hex},
             {"id": "cq-refresh", "property": "data", "value": 0}]
    state += [{"id": f, "property": "value", "value": v} for f, v in zip(fields, values)]
    state += [{"id": "cq-correct", "property": "value", "value": "0"}, {"id": "cq-active", "property": "value", "value": True}]
    outputs = [{"id": o.split("@")[0].rsplit(".", 1)[0], "property": o.split("@")[0].rsplit(".", 1)[1]}
               for o in dep["output"].strip(".").split("...")]
    return dash_callback(client, dep["output"], [{"id": "cq-save", "property": "n_clicks", "value": 1}], state,
                         outputs_list=outputs)


def _close(client, cid):
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if any(i["id"] == "campaign-close" for i in d["inputs"]))
    outputs = [{"id": o.split("@")[0].rsplit(".", 1)[0], "property": o.split("@")[0].rsplit(".", 1)[1]}
               for o in dep["output"].strip(".").split("...")]
    return dash_callback(client, dep["output"], [{"id": "campaign-close", "property": "submit_n_clicks", "value": 1},
                                                 {"id": "campaign-archive", "property": "submit_n_clicks", "value": None}],
                         [_path(cid), {"id": "campaign-manage-token", "property": "data", "value": uuid.uuid4().hex},
                          {"id": "campaign-manage-refresh", "property": "data", "value": 0}],
                         changed=["campaign-close.submit_n_clicks"], outputs_list=outputs)


def test_cenh007_only_editors_author(app, as_user, world):
    cid = world["ids"]["quiz"]
    for user in ("officer", "leader_d1", "leader", "counsellor", "auditor"):
        client = as_user(user)
        assert _save_question(client, cid).status_code == 403, user
        assert _close(client, cid).status_code == 403, user
    with session_scope(_url(app)) as s:
        assert s.scalar(select(func.count()).select_from(CampaignQuestion).where(
            CampaignQuestion.campaign_id == cid)) == 2
        assert s.get(Campaign, cid).closed_at is None
    admin = as_user("admin")
    token = uuid.uuid4().hex
    assert _save_question(admin, cid, token).status_code == 200
    assert _save_question(admin, cid, token).status_code == 200  # a replay adds nothing
    with session_scope(_url(app)) as s:
        assert s.scalar(select(func.count()).select_from(CampaignQuestion).where(
            CampaignQuestion.campaign_id == cid)) == 3
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "campaign_question_create", AuditLog.target == f"campaign:{cid}")) == 1


def _archive(client, cid):
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if any(i["id"] == "campaign-archive" for i in d["inputs"]))
    outputs = [{"id": o.split("@")[0].rsplit(".", 1)[0], "property": o.split("@")[0].rsplit(".", 1)[1]}
               for o in dep["output"].strip(".").split("...")]
    return dash_callback(client, dep["output"], [{"id": "campaign-close", "property": "submit_n_clicks", "value": None},
                                                 {"id": "campaign-archive", "property": "submit_n_clicks", "value": 1}],
                         [_path(cid), {"id": "campaign-manage-token", "property": "data", "value": uuid.uuid4().hex},
                          {"id": "campaign-manage-refresh", "property": "data", "value": 0}],
                         changed=["campaign-archive.submit_n_clicks"], outputs_list=outputs)


def test_cenh008_close_then_archive(app, as_user, world):
    url = _url(app)
    with session_scope(url) as s:
        c = s.get(Campaign, world["ids"]["checkin"])
        copy = Campaign(name="将被关闭的活动", kind="checkin", start_date=c.start_date, end_date=c.end_date,
                        scope_unit_ids=list(c.scope_unit_ids), team_level="station", target_per_day=1, team_scoring="mean")
        s.add(copy)
        s.flush()
        cid = copy.id
    try:
        admin, officer = as_user("admin"), as_user("officer")
        assert _archive(admin, cid).status_code == 200
        with session_scope(url) as s:
            assert s.get(Campaign, cid).archived_at is None  # a running campaign is closed first
        assert _close(as_user("manager_d2"), cid).status_code == 403  # outside that manager's district
        assert _close(admin, cid).status_code == 200
        with session_scope(url) as s:
            c = s.get(Campaign, cid)
            assert c.closed_at is not None and c.end_date == AS_OF
        res = _post_checkin(officer, cid)
        assert "活动不在进行中" in _body(res)
        assert "已关闭" in _body(_today_view(officer, cid))
        assert _archive(admin, cid).status_code == 200
        listed = dash_callback(admin, "campaigns-list.children", [
            {"id": "campaigns-url", "property": "pathname", "value": "/campaigns"},
            {"id": "campaigns-refresh", "property": "data", "value": 0}])
        assert "将被关闭的活动" not in _body(listed)
        archived = dash_callback(admin, "campaigns-archived.children", [
            {"id": "campaigns-show-archived", "property": "value", "value": True},
            {"id": "campaigns-refresh", "property": "data", "value": 0}])
        assert "将被关闭的活动" in _body(archived) and "已归档" in _body(archived)
        assert dash_callback(officer, PROGRESS_KEY, [_path(cid)]).status_code == 200  # still readable
        with session_scope(url) as s:
            actions = set(s.scalars(select(AuditLog.action).where(AuditLog.target == f"campaign:{cid}")))
        assert {"campaign_close", "campaign_archive"} <= actions
    finally:
        with session_scope(url) as s:
            s.execute(delete(Campaign).where(Campaign.id == cid))


PROGRESS_KEY = "..campaign-header.children...campaign-kpis.children...campaign-progress-graph.figure..." \
               "campaign-projection.children.."


def test_cenh009_points_ledger_is_the_callers_own(app, as_user, world):
    officer = as_user("officer")
    res = dash_callback(officer, "me-points-ledger.children",
                        [{"id": "me-points-url", "property": "pathname", "value": "/me/points"}])
    assert res.status_code == 200
    with session_scope(_url(app)) as s:
        total = s.scalar(select(func.coalesce(func.sum(Points.points), 0)).where(
            Points.officer_id == world["officer_id"]))
    assert f"{total:,}" in _body(res)
    for user in ("manager_d1", "leader", "admin"):
        assert dash_callback(as_user(user), "me-points-ledger.children",
                             [{"id": "me-points-url", "property": "pathname", "value": "/me/points"}]).status_code == 403


def test_cenh010_editor_opens_a_question_with_its_key(app, as_user, world):
    cid = world["ids"]["quiz"]
    with session_scope(_url(app)) as s:
        qid = s.scalar(select(CampaignQuestion.id).where(CampaignQuestion.campaign_id == cid).order_by(CampaignQuestion.id))
    admin = as_user("admin")
    key = callback_key(admin, "cq-collapse.is_open", "cq-title.children")
    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in key.strip(".").split("...")]
    inputs = [{"id": "cq-new", "property": "n_clicks", "value": None},
              [{"id": {"type": "cq-edit", "index": qid}, "property": "n_clicks", "value": 1}],
              {"id": "cq-cancel", "property": "n_clicks", "value": None}]
    changed = [json.dumps({"index": qid, "type": "cq-edit"}, separators=(",", ":")) + ".n_clicks"]
    res = dash_callback(admin, key, inputs, [_path(cid)], changed=changed, outputs_list=outputs)
    assert res.status_code == 200 and f"{EXPLAIN}1" in _body(res) and "测试题1" in _body(res)
    # the campaign lies in the first district: its manager edits it, the other district's and a leader may not
    res = dash_callback(as_user("manager_d1"), key, inputs, [_path(cid)], changed=changed, outputs_list=outputs)
    assert res.status_code == 200 and f"{EXPLAIN}1" in _body(res)
    for user in ("manager_d2", "leader_d1"):
        res = dash_callback(as_user(user), key, inputs, [_path(cid)], changed=changed, outputs_list=outputs)
        assert res.status_code == 403 and EXPLAIN not in _body(res), user
