"""Officers take part (issue 19), over HTTP with forged callbacks: an officer answers and reads only their
own questionnaires and risk factors, a replayed save changes nothing, other roles are refused; only
callers with psychological access schedule screening rounds or see their completion, in scope."""
import json
import uuid

import pytest
from sqlalchemy import delete, func, select

from models import questionnaires as q
from models.db import session_scope
from models.schema import (AuditLog, Notification, Observation, Officer, OfficerStatus, QuestionnaireResponse,
                           SaveToken, ScreeningRound, Unit, User, WarningHistory)
from models.snapshot import recompute_officers
from tests.conftest import AS_OF
from tests.helpers import callback_key, dash_callback


def text(res) -> str:
    """The answer with its Chinese readable (Dash escapes it)."""
    return json.dumps(res.get_json(), ensure_ascii=False, separators=(",", ":"))


def _db(app):
    return app.server.config["DATABASE_URL"]


@pytest.fixture()
def clean(app):
    """Remove what a test wrote to the shared demo database and restore the officers' snapshots."""
    url = _db(app)
    with session_scope(url) as s:
        first_response = s.scalar(select(func.max(QuestionnaireResponse.id))) or 0
        first_note = s.scalar(select(func.max(Notification.id))) or 0
        first_round = s.scalar(select(func.max(ScreeningRound.id))) or 0
        first_history = s.scalar(select(func.max(WarningHistory.id))) or 0
    yield
    with session_scope(url) as s:
        touched = set(s.scalars(select(Observation.officer_id).where(Observation.source_kind == "self-report")))
        touched |= set(s.scalars(select(QuestionnaireResponse.officer_id).where(QuestionnaireResponse.id > first_response)))
        s.execute(delete(QuestionnaireResponse).where(QuestionnaireResponse.id > first_response))
        s.execute(delete(Observation).where(Observation.source_kind == "self-report"))
        s.execute(delete(Notification).where(Notification.id > first_note))
        s.execute(delete(ScreeningRound).where(ScreeningRound.id > first_round))
        if touched:
            recompute_officers(s, sorted(touched), as_of=AS_OF)
        s.execute(delete(WarningHistory).where(WarningHistory.id > first_history))


def submit(client, answers, instrument="phq9", token=None):
    key = callback_key(client, "q-result.children", "q-safety.children")
    state = [[{"id": {"type": "q-item", "index": i}, "property": "value", "value": a} for i, a in enumerate(answers)],
             {"id": "q-instrument", "property": "data", "value": instrument},
             {"id": "q-token", "property": "data", "value": token or uuid.uuid4().hex}]
    return dash_callback(client, key, [{"id": "q-submit", "property": "n_clicks", "value": 1}], state,
                         outputs_list=[{"id": "q-result", "property": "children"},
                                       {"id": "q-safety", "property": "children"},
                                       {"id": "q-error", "property": "children"},
                                       {"id": "q-token", "property": "data"},
                                       {"id": "q-form", "property": "style"}])


def history(client, instrument="phq9"):
    key = callback_key(client, "q-history.children")
    return dash_callback(client, key, [{"id": "q-token", "property": "data", "value": uuid.uuid4().hex}],
                         [{"id": "q-instrument", "property": "data", "value": instrument}])


FIELDS = ("smoking", "rx_hypertension", "dx_diabetes", "family_history_cvd", "physical_activity")


def save_risk(client, answers: dict, token=None):
    key = callback_key(client, "rf-result.children")
    state = [{"id": "rf-token", "property": "data", "value": token or uuid.uuid4().hex}] + \
        [{"id": f"rf-{f}", "property": "value", "value": answers.get(f)} for f in FIELDS]
    return dash_callback(client, key, [{"id": "rf-save", "property": "n_clicks", "value": 1}], state,
                         outputs_list=[{"id": "rf-result", "property": "children"},
                                       {"id": "rf-error", "property": "children"},
                                       {"id": "rf-token", "property": "data"}])


def load_risk(client):
    key = callback_key(client, "rf-smoking.value")
    return dash_callback(client, key, [{"id": "rf-load", "property": "data", "value": 0}])


def schedule(client, unit, instrument="phq9", start="2026-11-18", end="2026-11-30", token=None):
    key = callback_key(client, "scr-error.children")
    state = [{"id": "scr-token", "property": "data", "value": token or uuid.uuid4().hex},
             {"id": "scr-refresh", "property": "data", "value": 0},
             {"id": "scr-unit", "property": "value", "value": unit},
             {"id": "scr-instrument", "property": "value", "value": instrument},
             {"id": "scr-start", "property": "value", "value": start},
             {"id": "scr-end", "property": "value", "value": end},
             {"id": "scr-reminder", "property": "value", "value": None}]
    return dash_callback(client, key, [{"id": "scr-save", "property": "n_clicks", "value": 1}], state,
                         outputs_list=[{"id": "scr-error", "property": "children"},
                                       {"id": "scr-saved", "property": "children"},
                                       {"id": "scr-refresh", "property": "data"},
                                       {"id": "scr-token", "property": "data"}])


def completion(client, round_id):
    key = callback_key(client, "scr-completion.children")
    return dash_callback(client, key, [{"id": "scr-round", "property": "value", "value": str(round_id)}])


def load_rounds(client):
    key = callback_key(client, "scr-rounds.children")
    return dash_callback(client, key, [{"id": "scr-refresh", "property": "data", "value": 0}])


def _officer(s) -> Officer:
    return s.scalar(select(Officer).join(User, User.officer_id == Officer.id).where(User.username == "officer"))


def test_htq001_officer_answers_for_themself_and_a_replay_changes_nothing(app, as_user, clean):
    c = as_user("officer")
    token = uuid.uuid4().hex
    res = submit(c, [0, 1, 0, 0, 0, 0, 0, 0, 0], token=token)
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    assert "总分 1" in text(res)
    again = submit(c, [3] * 9, token=token)  # the same save replayed (even with other answers)
    assert again.status_code == 200
    with session_scope(_db(app)) as s:
        me = _officer(s)
        rows = s.scalars(select(QuestionnaireResponse).where(QuestionnaireResponse.officer_id == me.id)).all()
        assert [(r.total, r.answers) for r in rows] == [(1, [0, 1, 0, 0, 0, 0, 0, 0, 0])]
        assert s.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 1  # nobody else's record
        assert s.scalar(select(SaveToken.action).where(SaveToken.token == token)) == "questionnaire_submit"
        assert s.scalar(select(AuditLog.target).where(AuditLog.action == "questionnaire_submit")
                        .order_by(AuditLog.id.desc())) == f"officer:{me.badge}"
    bad = submit(c, [0] * 8)  # an item left out: a message, nothing stored
    assert bad.status_code == 200 and "请回答全部题目" in text(bad)
    assert submit(c, [0] * 9, instrument="bdi").status_code == 403


@pytest.mark.parametrize("username", ["manager", "manager_d1", "counsellor_d1", "leader_d1", "admin"])
def test_htq002_no_one_else_answers_or_reads_an_officers_questionnaire(app, as_user, username, clean):
    c = as_user(username)
    assert submit(c, [0] * 8 + [1]).status_code == 403
    assert history(c).status_code == 403
    assert save_risk(c, {"smoking": "current"}).status_code == 403
    assert load_risk(c).status_code == 403
    with session_scope(_db(app)) as s:
        assert s.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0
        assert s.scalar(select(func.count()).select_from(Observation).where(Observation.source_kind == "self-report")) == 0


def test_htq003_officer_reads_only_their_own_answers(app, as_user, clean):
    with session_scope(_db(app)) as s:
        me = _officer(s)
        other = s.scalar(select(Officer).where(Officer.id != me.id, Officer.active).order_by(Officer.id))
        q.submit(s, other.id, None, "phq9", [3, 3, 3, 3, 3, 3, 3, 2, 0], today=AS_OF)  # total 23
        q.submit(s, me.id, None, "phq9", [1, 1, 1, 1, 1, 0, 0, 0, 0], today=AS_OF)  # total 5
    c = as_user("officer")
    res = history(c)
    assert res.status_code == 200
    body = text(res)
    assert '"children":5' in body and '"children":23' not in body


def test_htq004_risk_factors_feed_china_par_and_a_replay_changes_nothing(app, as_user, clean):
    c = as_user("officer")
    with session_scope(_db(app)) as s:
        before = s.get(OfficerStatus, _officer(s).id).china_par
    token = uuid.uuid4().hex
    res = save_risk(c, {"smoking": "current", "family_history_cvd": "yes"}, token=token)
    assert res.status_code == 200 and "rf-saved" in res.get_data(as_text=True)
    with session_scope(_db(app)) as s:
        me = _officer(s)
        after = s.get(OfficerStatus, me.id).china_par
        n = s.scalar(select(func.count()).select_from(Observation).where(Observation.officer_id == me.id,
                                                                         Observation.source_kind == "self-report"))
    assert after > before and n == 2
    assert save_risk(c, {"smoking": "never"}, token=token).status_code == 200  # replayed: nothing changes
    with session_scope(_db(app)) as s:
        assert s.get(OfficerStatus, me.id).china_par == after
    loaded = load_risk(c).get_json()["response"]
    assert loaded["rf-smoking"]["value"] == "current" and loaded["rf-family_history_cvd"]["value"] == "yes"
    assert loaded["rf-dx_diabetes"]["value"] is None
    assert save_risk(c, {"smoking": "sometimes"}).status_code == 403  # not an option the form offers
    assert save_risk(c, {"smoking": "never"}, token="x").status_code == 403  # not a client token


@pytest.mark.parametrize("username", ["leader", "leader_d1", "manager_d1", "manager_d2", "officer", "auditor"])
def test_htq005_without_psych_no_scheduling_and_no_completion(app, as_user, username, clean):
    with session_scope(_db(app)) as s:
        city = s.scalar(select(Unit).where(Unit.parent_id.is_(None)))
        creator = s.scalar(select(User.id).where(User.username == "counsellor"))
        r = ScreeningRound(instrument="phq9", unit_id=city.id, start_date=AS_OF, end_date=AS_OF, reminder_date=AS_OF,
                           created_by_id=creator)
        s.add(r)
        s.flush()
        rid, code = r.id, city.code
    c = as_user(username)
    assert schedule(c, code).status_code == 403
    assert completion(c, rid).status_code == 403
    assert load_rounds(c).status_code == 403
    with session_scope(_db(app)) as s:
        assert s.scalar(select(func.count()).select_from(ScreeningRound)) == 1


def test_htq006_psych_carers_schedule_in_scope_only(app, as_user, clean):
    with session_scope(_db(app)) as s:
        d1, d2 = (s.scalar(select(Unit.code).where(Unit.code.like(f"%-D{i}"))) for i in (1, 2))
    c1 = as_user("counsellor_d1")
    assert schedule(c1, d2).status_code == 403  # outside the scope
    token = uuid.uuid4().hex
    res = schedule(c1, d1, token=token)
    assert res.status_code == 200 and "scr-saved-alert" in res.get_data(as_text=True)
    assert schedule(c1, d1, token=token).status_code == 200  # replayed
    bad = schedule(c1, d1, start="2026-11-20", end="2026-11-19")
    assert bad.status_code == 200 and "结束日期不能早于开始日期" in text(bad)
    with session_scope(_db(app)) as s:
        rounds = s.scalars(select(ScreeningRound)).all()
        assert len(rounds) == 1
        rid = rounds[0].id
        officer_user = s.scalar(select(User.id).where(User.username == "officer"))
        assert s.scalar(select(Notification.kind).where(Notification.user_id == officer_user,
                                                        Notification.key == f"screening_due:{rid}")) == "screening_due"
    res = completion(c1, rid)
    assert res.status_code == 200 and "scr-completion-table" in res.get_data(as_text=True)
    assert completion(as_user("manager"), rid).status_code == 200  # psych grant, city scope
    assert completion(as_user("counsellor"), rid).status_code == 200
    with session_scope(_db(app)) as s:  # a round of D2 (by the city counsellor) is out of D1's reach
        d2_unit = s.scalar(select(Unit).where(Unit.code == d2))
        r2 = ScreeningRound(instrument="gad7", unit_id=d2_unit.id, start_date=AS_OF, end_date=AS_OF,
                            reminder_date=AS_OF)
        s.add(r2)
        s.flush()
        rid2 = r2.id
    assert completion(c1, rid2).status_code == 403
    assert f'"value":"{rid2}"' not in text(load_rounds(c1))
