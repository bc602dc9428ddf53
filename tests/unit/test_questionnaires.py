"""Officers take part (issue 19): PHQ-9/GAD-7 scoring, the self-harm safety path, the risk factors
China-PAR reads, and screening rounds with their suppressed completion.

Runs on its own tiny demo so what it writes does not leak into other tests."""
import datetime as dt

import pytest
from sqlalchemy import delete, func, select

from ingest.demo import build_demo
from models import questionnaires as q
from models import risk_factors, screenings, suppression
from models.db import session_scope
from models.officers import age_on
from models.risk import china_par_10y, china_par_ideal, china_par_inputs, round1
from models.schema import (Notification, Observation, Officer, OfficerStatus, QuestionnaireResponse, Unit, User)
from models.warning import Reading, evaluate, load_rules
from tests.conftest import AS_OF, PASSWORD


@pytest.fixture(scope="module")
def url(new_db_url):
    url = new_db_url("questionnaires")
    build_demo(url, scale="tiny", seed=7, as_of=AS_OF, password=PASSWORD)
    return url


def user(s, name) -> User:
    return s.scalar(select(User).where(User.username == name))


def officer_in(s, path, exclude=()) -> Officer:
    return s.scalars(select(Officer).join(Unit, Officer.unit_id == Unit.id)
                     .where(Unit.path.like(f"{path}%"), Officer.active, Officer.id.not_in(list(exclude) or [0]))
                     .order_by(Officer.id)).first()


# --- scoring -----------------------------------------------------------------------------------
@pytest.mark.parametrize("total,band", [(0, "none"), (4, "none"), (5, "mild"), (9, "mild"), (10, "moderate"),
                                        (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"),
                                        (20, "severe"), (27, "severe")])
def test_psq001_phq9_total_and_band(total, band):
    answers = [min(3, max(0, total - 3 * i)) for i in range(9)]
    scored = q.score("phq9", answers)
    assert (scored.total, scored.band, scored.answers) == (total, band, tuple(answers))
    assert scored.safety == (answers[8] >= 1)


@pytest.mark.parametrize("total,band", [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                                        (14, "moderate"), (15, "severe"), (21, "severe")])
def test_psq002_gad7_total_and_band(total, band):
    answers = [min(3, max(0, total - 3 * i)) for i in range(7)]
    scored = q.score("gad7", answers)
    assert (scored.total, scored.band, scored.self_harm, scored.safety) == (total, band, None, False)


def test_psq003_item_wording_and_bad_answers_refused():
    assert len(q.INSTRUMENTS["phq9"].items) == 9 and len(q.INSTRUMENTS["gad7"].items) == 7
    assert q.PHQ9_ITEMS[8][0] == "有不如死掉或用某种方式伤害自己的念头"
    assert q.INSTRUMENTS["phq9"].max_total == 27 and q.INSTRUMENTS["gad7"].max_total == 21
    for bad in ([0] * 8, [0] * 10, [0] * 8 + [None], [0] * 8 + [4], [0] * 8 + [-1], [0] * 8 + [True], [0] * 8 + [1.5]):
        with pytest.raises(q.QuestionnaireError):
            q.score("phq9", bad)
    with pytest.raises(q.QuestionnaireError) as exc:
        q.score("phq9", [0, 0, None, 0, 0, 0, 0, 0, 0])
    assert "3" in exc.value.words[0]
    with pytest.raises(q.QuestionnaireError):
        q.score("bdi", [0] * 21)
    assert q.score("phq9", [0] * 8 + [1]).safety and q.score("phq9", [0] * 8 + [1]).band == "none"


# --- the safety path ------------------------------------------------------------------------------
def test_psq004_item9_makes_red_and_notifies_psych_carers_in_scope(url):
    with session_scope(url) as s:
        me = user(s, "officer")
        officer = s.get(Officer, me.officer_id)
        saved = q.submit(s, officer.id, me.id, "phq9", [1, 0, 0, 0, 0, 0, 0, 0, 1], today=AS_OF)
        rid = saved.response_id
    assert saved.scored.total == 2 and saved.scored.safety and saved.level == "red"
    with session_scope(url) as s:
        status = s.get(OfficerStatus, officer.id)
        assert status.level == "red" and ",phq9_item9," in status.rule_ids and status.confirmed
        # the open view (viewers without psych) does not show the self-harm reason
        assert "phq9_item9" not in {r["rule"] for r in status.open_reasons or status.reasons}
        assert status.latest["phq9_item9"]["kind"] == "self-report" and status.latest["phq9"]["value"] == 2
        obs = s.execute(select(Observation.code, Observation.source_kind).where(
            Observation.officer_id == officer.id, Observation.source_kind == "self-report")).all()
        assert sorted(obs) == [("phq9", "self-report"), ("phq9_item9", "self-report")]
        row = s.get(QuestionnaireResponse, rid)
        assert row.answers == [1, 0, 0, 0, 0, 0, 0, 0, 1] and row.source == "self-report"
        told = {u for u, in s.execute(select(User.username).join(Notification, Notification.user_id == User.id)
                                      .where(Notification.kind == "self_harm", Notification.key == f"self_harm:{rid}"))}
        # counsellors covering NJ-D1 and the manager with psych access; not the manager without it, nor leaders
        assert told == {"counsellor", "counsellor_d1", "manager"}
        note = s.scalar(select(Notification).where(Notification.key == f"self_harm:{rid}",
                                                   Notification.user_id == user(s, "counsellor_d1").id))
        assert note.link == f"/officers/{officer.badge}" and note.officer_id == officer.id


def test_psq005_no_safety_path_without_item9_and_outside_scope_not_told(url):
    with session_scope(url) as s:
        d2 = s.scalar(select(Unit.path).where(Unit.code.like("%-D2")))
        other = officer_in(s, d2)
        before = s.scalar(select(func.count()).select_from(Notification)) or 0
        saved = q.submit(s, other.id, None, "phq9", [0] * 9, today=AS_OF)
        assert saved.notified == 0 and s.scalar(select(func.count()).select_from(Notification)) == before
        saved = q.submit(s, other.id, None, "phq9", [0] * 8 + [2], today=AS_OF, now=dt.datetime(2026, 11, 18, 9, 0))
        told = set(s.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                             .where(Notification.key == f"self_harm:{saved.response_id}")))
        assert told == {"counsellor", "manager"}  # counsellor_d1 covers another district


# --- China-PAR inputs -----------------------------------------------------------------------------
def test_psq006_inputs_from_answers():
    assert china_par_inputs({}) == {"smoker": False, "bp_treated": False, "family_history": False}
    got = china_par_inputs({"smoking": 2, "rx_hypertension": 1, "family_history_cvd": 1, "dx_diabetes": 1})
    assert got == {"smoker": True, "bp_treated": True, "family_history": True, "diabetes": True}
    assert china_par_inputs({"smoking": 1})["smoker"] is False  # a former smoker is not a current one
    assert "diabetes" not in china_par_inputs({"dx_diabetes": 0})  # "no": the lab values decide


def test_psq007_guideline_worked_example_with_reported_inputs():
    """CLINICAL.md: man, 40, north, urban, waist 80, TC 5.2, HDL-C 1.3, SBP 145 untreated, non-smoker, no
    diabetes, family history positive -> 4.7% (low); at ideal values 1.1%."""
    day = dt.date(2026, 11, 1)
    latest = {c: Reading(value=v, date=day, source="exam", kind="exam")
              for c, v in (("sbp", 145), ("dbp", 85), ("tc", 5.2), ("hdl", 1.3), ("waist_cm", 80))}
    answers = {code: float(risk_factors.CHOICES[code][a]) for code, a in (
        ("smoking", "never"), ("rx_hypertension", "no"), ("dx_diabetes", "no"), ("family_history_cvd", "yes"))}
    inputs = {**china_par_inputs(answers), "north": True, "urban": True}
    result = evaluate(latest, sex="male", age=40, as_of=day, rules=load_rules(), risk_inputs=inputs)
    assert round1(result.china_par) == 4.7 and result.china_par_category == "low"
    assert round1(china_par_ideal(sex="male", age=40, north=True, urban=True)) == 1.1
    # without the family history the model gives less: the answer is what moved it
    plain = evaluate(latest, sex="male", age=40, as_of=day, rules=load_rules(),
                     risk_inputs={**china_par_inputs({}), "north": True, "urban": True})
    assert plain.china_par < result.china_par


def test_psq008_saved_answers_feed_the_snapshot_china_par(url):
    with session_scope(url) as s:
        me = user(s, "officer")
        officer = s.get(Officer, me.officer_id)
        status = s.get(OfficerStatus, officer.id)
        before = status.china_par
        latest = {c: status.latest[c]["value"] for c in ("sbp", "tc", "hdl", "waist_cm")}
        assert risk_factors.assumptions(status.latest)[0] == {"field": "smoking", "reported": False, "code": None,
                                                              "date": None}
        risk_factors.save(s, officer.id, {"smoking": "current", "rx_hypertension": "yes", "family_history_cvd": "no",
                                          "physical_activity": "active", "dx_diabetes": None}, today=AS_OF)
    with session_scope(url) as s:
        status = s.get(OfficerStatus, officer.id)
        expected = china_par_10y(sex=officer.sex, age=age_on(officer.birth_date, AS_OF), sbp=latest["sbp"],
                                 bp_treated=True, tc=latest["tc"], hdl=latest["hdl"], waist=latest["waist_cm"],
                                 smoker=True, diabetes=False, north=False, urban=True, family_history=False)
        assert status.china_par == pytest.approx(expected) and status.china_par > before
        said = {i["field"]: i for i in risk_factors.assumptions(status.latest)}
        assert said["smoking"]["code"] == "current" and said["smoking"]["date"] == AS_OF.isoformat()
        assert said["dx_diabetes"]["reported"] is False
        assert status.latest["smoking"]["kind"] == "self-report"
        assert risk_factors.current(s, officer.id)["physical_activity"]["code"] == "active"
        with pytest.raises(risk_factors.RiskFactorError):
            risk_factors.save(s, officer.id, {"smoking": "sometimes"}, today=AS_OF)
        with pytest.raises(risk_factors.RiskFactorError):
            risk_factors.save(s, officer.id, {"smoking": None}, today=AS_OF)
        with pytest.raises(risk_factors.RiskFactorError):
            risk_factors.save(s, officer.id, {"badge": "x"}, today=AS_OF)


# --- screening rounds -----------------------------------------------------------------------------
def test_psq009_round_validation_and_scope(url):
    with session_scope(url) as s:
        c1 = user(s, "counsellor_d1")
        path = c1.scope_unit.path
        d2 = s.scalar(select(Unit.code).where(Unit.code.like("%-D2")))
        common = dict(scope_path=path, user_id=c1.id, today=AS_OF)
        with pytest.raises(screenings.NotAllowed):
            screenings.create_round(s, unit_code=d2, instrument="phq9", start="2026-11-18", end="2026-11-30",
                                    reminder=None, **common)
        with pytest.raises(screenings.ScreeningError) as exc:
            screenings.create_round(s, unit_code=c1.scope_unit.code, instrument="bdi", start="2026-11-20",
                                    end="2026-11-19", reminder="2026-12-30", **common)
        assert set(exc.value.errors) == {"instrument", "end", "reminder"}
        with pytest.raises(screenings.ScreeningError) as exc:
            screenings.create_round(s, unit_code=c1.scope_unit.code, instrument="gad7", start="2026-11-01",
                                    end="2026-11-30", reminder="2026-12-03", **common)
        assert set(exc.value.errors) == {"reminder"}
        with pytest.raises(screenings.ScreeningError) as exc:
            screenings.create_round(s, unit_code=None, instrument="gad7", start=None, end="2026-11-30",
                                    reminder=None, **common)
        assert set(exc.value.errors) == {"unit", "start"}


def test_psq010_completion_due_and_reminders_with_suppression(url):
    with session_scope(url) as s:
        c1 = user(s, "counsellor_d1")
        unit = c1.scope_unit
        r = screenings.create_round(s, scope_path=unit.path, user_id=c1.id, unit_code=unit.code, instrument="gad7",
                                    start="2026-11-10", end="2026-11-30", reminder="2026-11-18", today=AS_OF)
        rid = r.id
        me = user(s, "officer")
        assert [d["id"] for d in screenings.due_for_officer(s, me.officer_id, AS_OF) if d["id"] == rid] == [rid]
        assert screenings.due_for_officer(s, me.officer_id, dt.date(2026, 12, 1)) == []  # window over
        added = screenings.notify_due(s, AS_OF, round_id=rid)
        assert added >= 1 and screenings.notify_due(s, AS_OF, round_id=rid) == 0  # once per round
        assert screenings.notify_due(s, dt.date(2026, 11, 12), round_id=rid) == 0  # before the reminder day
        note = s.scalar(select(Notification).where(Notification.key == f"screening_due:{rid}",
                                                   Notification.user_id == me.id))
        assert note.kind == "screening_due" and note.link == "/me/questionnaire/gad7"
        # two officers of the officer's station answer inside the window: a count of 2 is hidden
        station = s.get(Officer, me.officer_id).unit
        other = officer_in(s, station.path, exclude=[me.officer_id])
        q.submit(s, me.officer_id, me.id, "gad7", [0] * 7, today=AS_OF)
        q.submit(s, other.id, None, "gad7", [1] * 7, today=AS_OF)
        q.submit(s, officer_in(s, "/NJ/NJ-D2/").id, None, "gad7", [0] * 7, today=AS_OF)  # outside the round
        assert [d for d in screenings.due_for_officer(s, me.officer_id, AS_OF) if d["id"] == rid] == []
        data = screenings.completion(s, rid, unit.path)
        rows = {row.code: row for row in data["rows"]}
        assert rows[station.code].completed == suppression.HIDDEN and rows[station.code].rate is None
        assert data["total"].completed == suppression.HIDDEN
        invited = s.scalar(select(func.count()).select_from(Officer).join(Unit, Officer.unit_id == Unit.id)
                           .where(Officer.active, Unit.path.like(f"{unit.path}%")))
        assert data["total"].invited == f"{invited:,}"
        # everyone in the station completes: the station's counts show, with the rate
        station_ids = set(s.scalars(select(Officer.id).where(Officer.unit_id == station.id, Officer.active)))
        assert len(station_ids) >= suppression.SMALL_GROUP
        for oid in sorted(station_ids - {me.officer_id, other.id}):
            q.submit(s, oid, None, "gad7", [0] * 7, today=AS_OF)
        data = screenings.completion(s, rid, unit.path)
        row = next(r for r in data["rows"] if r.code == station.code)
        n = len(station_ids)
        assert (row.invited, row.completed, row.rate) == (f"{n:,}", f"{n:,}", 1.0)
        assert data["total"].completed == f"{n:,}"
        # another scope does not see the round
        with pytest.raises(screenings.NotAllowed):
            screenings.completion(s, rid, "/NJ/NJ-D2/")
        assert all(x["id"] != rid for x in screenings.rounds(s, "/NJ/NJ-D2/", AS_OF))
        assert any(x["id"] == rid and x["status"] == "running" for x in screenings.rounds(s, unit.path, AS_OF))


def test_psq011_cli_remind_tells_officers_still_due_once(url, tmp_path):
    from typer.testing import CliRunner

    from portal.cli import _load_commands, app

    _load_commands()
    with session_scope(url) as s:
        # the officer answered PHQ-9 in the tests above (that completes any round of it): start afresh
        s.execute(delete(QuestionnaireResponse).where(QuestionnaireResponse.officer_id == user(s, "officer").officer_id))
        c = user(s, "counsellor")
        r = screenings.create_round(s, scope_path=c.scope_unit.path, user_id=c.id, unit_code=c.scope_unit.code,
                                    instrument="phq9", start="2026-11-01", end="2026-11-30", reminder="2026-11-15",
                                    today=AS_OF)
        rid, me = r.id, user(s, "officer").id
    env = {"PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path), "PORTAL_TODAY": AS_OF.isoformat()}
    first = CliRunner().invoke(app, ["screenings", "remind"], env=env)
    second = CliRunner().invoke(app, ["screenings", "remind"], env=env)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "screening reminders sent: 0" in second.output and "screening reminders sent: 0" not in first.output
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(Notification).where(
            Notification.key == f"screening_due:{rid}", Notification.user_id == me)) == 1


def test_psq012_portrait_says_what_china_par_assumed_and_what_was_reported(url):
    from models import portrait

    with session_scope(url) as s:
        d2 = s.scalar(select(Unit.path).where(Unit.code.like("%-D2")))
        officer = next(o for o in s.scalars(select(Officer).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                                            .join(Unit, Officer.unit_id == Unit.id)
                                            .where(Unit.path.like(f"{d2}%"), OfficerStatus.china_par.is_not(None))))
        risk = portrait.header(s, officer.id, lab_values=True, as_of=AS_OF)["risk"]
        assert {i["field"]: i["reported"] for i in risk["inputs"]} == dict.fromkeys(risk_factors.CHINA_PAR_FIELDS, False)
        assert "smoking" not in {f["code"] for f in risk["factors"]}
        risk_factors.save(s, officer.id, {"smoking": "current", "dx_diabetes": "no"}, today=AS_OF)
        risk = portrait.header(s, officer.id, lab_values=True, as_of=AS_OF)["risk"]
        said = {i["field"]: i for i in risk["inputs"]}
        assert said["smoking"] == {"field": "smoking", "reported": True, "code": "current", "date": AS_OF.isoformat()}
        assert said["dx_diabetes"]["code"] == "no" and said["family_history_cvd"]["reported"] is False
        assert "smoking" in {f["code"] for f in risk["factors"]} and risk["assumptions"]["smoker"] is True
        # a leader's header carries no China-PAR at all
        assert portrait.header(s, officer.id, lab_values=False, as_of=AS_OF)["risk"] is None
