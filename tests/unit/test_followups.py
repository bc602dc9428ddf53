"""Follow-ups: the closed loop, scope enforced in the model, audit rows, queue and next assessment.

Runs on its own tiny demo so the follow-ups it opens do not leak into other tests."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from ingest.demo import build_demo
from models import followups as fu
from models.db import data_versions, session_scope
from models.schema import AuditLog, FollowUp, Officer, OfficerStatus, User, WarningHistory
from web.access import Scope
from tests.conftest import AS_OF, PASSWORD


@pytest.fixture(scope="module")
def url(new_db_url):
    url = new_db_url("followups")
    build_demo(url, scale="tiny", seed=11, as_of=AS_OF, password=PASSWORD)
    return url


def scope(s, username) -> Scope:
    u = s.scalar(select(User).where(User.username == username))
    return Scope(u.id, u.username, u.role, u.officer_id, u.scope_unit.path if u.scope_unit else None)


def officer_in(s, path, level=None, exclude=()):
    q = (select(Officer).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
         .where(OfficerStatus.unit_path.like(f"{path}%"), Officer.id.not_in(exclude or [0])).order_by(Officer.id))
    if level:
        q = q.where(OfficerStatus.level == level)
    return s.scalars(q).first()


def test_fu001_open_progress_note_close_with_audit(url):
    with session_scope(url) as s:
        me = scope(s, "manager_d1")
        officer = officer_in(s, me.unit_path)
        row = fu.open_followup(s, me, officer.badge, kind="phone", assignee_id=me.user_id,
                               due=AS_OF + dt.timedelta(days=7), note="首次电话", today=AS_OF)
        fid = row.id
        assert row.status == "open" and row.notes[0]["text"] == "首次电话"
        fu.start_progress(s, me, fid)
        fu.add_note(s, me, fid, "已预约复查")
        fu.close_followup(s, me, fid, "improved", "复查血压正常")
    with session_scope(url) as s:
        row = s.get(FollowUp, fid)
        assert (row.status, row.outcome) == ("closed", "improved") and row.closed_at is not None
        assert [n["text"] for n in row.notes] == ["首次电话", "已预约复查", "复查血压正常"]
        actions = [a for a, in s.execute(select(AuditLog.action).where(AuditLog.target == f"officer:{officer.badge}",
                                                                       AuditLog.action.like("followup_%"))
                                          .order_by(AuditLog.id))]
        assert actions == ["followup_open", "followup_progress", "followup_note", "followup_close"]
        with pytest.raises(fu.FollowUpError):
            fu.add_note(s, scope(s, "manager_d1"), fid, "太迟了")
        with pytest.raises(fu.FollowUpError):
            fu.close_followup(s, scope(s, "manager_d1"), fid, "unchanged")


def test_fu002_manager_cannot_touch_another_district(url):
    with session_scope(url) as s:
        d1, d2 = scope(s, "manager_d1"), scope(s, "manager_d2")
        foreign = officer_in(s, d2.unit_path)
        with pytest.raises(fu.FollowUpDenied):
            fu.open_followup(s, d1, foreign.badge, kind="phone", assignee_id=d1.user_id, due=None)
        with pytest.raises(fu.FollowUpDenied):
            fu.new_followup_context(s, d1, foreign.badge)
        theirs = fu.open_followup(s, d2, foreign.badge, kind="recheck", assignee_id=d2.user_id, due=None)
        for action in (lambda: fu.add_note(s, d1, theirs.id, "x"), lambda: fu.start_progress(s, d1, theirs.id),
                       lambda: fu.close_followup(s, d1, theirs.id, "declined"),
                       lambda: fu.assign(s, d1, theirs.id, d1.user_id),
                       lambda: fu.get_followup(s, d1, theirs.id, AS_OF)):
            with pytest.raises(fu.FollowUpDenied):
                action()
        assert s.get(FollowUp, theirs.id).status == "open"
        # an unknown badge or id gets the same answer as a foreign one
        with pytest.raises(fu.FollowUpDenied):
            fu.open_followup(s, d1, "NO-SUCH", kind="phone", assignee_id=d1.user_id, due=None)
        with pytest.raises(fu.FollowUpDenied):
            fu.add_note(s, d1, 10 ** 9, "x")


def test_fu003_assignee_must_be_a_manager_covering_the_officer(url):
    with session_scope(url) as s:
        d1 = scope(s, "manager_d1")
        officer = officer_in(s, d1.unit_path)
        ids = {u.username: u.id for u in s.scalars(select(User))}
        names = {a["username"] for a in fu.eligible_assignees(s, d1, officer.badge)}
        assert names == {"manager", "manager_d1"}
        for bad in (ids["manager_d2"], ids["leader_d1"], ids["officer"], "x", None):
            with pytest.raises(fu.FollowUpError):
                fu.open_followup(s, d1, officer.badge, kind="phone", assignee_id=bad, due=None)
        row = fu.open_followup(s, d1, officer.badge, kind="lifestyle", assignee_id=ids["manager"], due=None)
        assert row.assignee_id == ids["manager"]
        with pytest.raises(fu.FollowUpError):
            fu.open_followup(s, d1, officer.badge, kind="massage", assignee_id=ids["manager"], due=None)
        with pytest.raises(fu.FollowUpError):
            fu.open_followup(s, d1, officer.badge, kind="phone", assignee_id=ids["manager"],
                             due=AS_OF - dt.timedelta(days=1), today=AS_OF)


def test_fu004_only_managers_act(url):
    with session_scope(url) as s:
        leader, officer_user = scope(s, "leader"), scope(s, "officer")
        me = s.get(Officer, officer_user.officer_id)
        for actor in (leader, officer_user):
            with pytest.raises(fu.FollowUpDenied):
                fu.open_followup(s, actor, me.badge, kind="phone", assignee_id=actor.user_id, due=None)
            with pytest.raises(fu.FollowUpDenied):
                fu.workbench_counts(s, actor, AS_OF)


def test_fu005_overdue_first_in_my_list(url):
    with session_scope(url) as s:
        me = scope(s, "manager_d1")
        a = officer_in(s, me.unit_path, exclude=[])
        b = officer_in(s, me.unit_path, exclude=[a.id])
        past = dt.datetime.combine(AS_OF - dt.timedelta(days=30), dt.time(9))  # opened 30 days before the as-of date
        late = fu.open_followup(s, me, a.badge, kind="phone", assignee_id=me.user_id,
                                due=AS_OF - dt.timedelta(days=3), now=past, today=AS_OF - dt.timedelta(days=30))
        fine = fu.open_followup(s, me, b.badge, kind="phone", assignee_id=me.user_id, due=AS_OF + dt.timedelta(days=3),
                                today=AS_OF)
        mine = fu.my_followups(s, me, AS_OF, limit=1000)["rows"]
    ids = [r["id"] for r in mine]
    assert late.id in ids and fine.id in ids
    assert mine[0]["overdue"] and not next(r for r in mine if r["id"] == fine.id)["overdue"]
    assert all(r["overdue"] for r in mine[: sum(r["overdue"] for r in mine)])


def test_fu020_demo_queue_red_since_are_reading_dates(url):
    """Issue 20: not every red in the demo queue says the day of the recompute (runs before fu006 empties it)."""
    with session_scope(url) as s:
        rows = fu.needs_action(s, scope(s, "manager"), AS_OF, limit=500)["rows"]
    assert rows and all(r["red_since"] <= r["recorded"] for r in rows)
    assert any(r["red_since"] < AS_OF.isoformat() for r in rows)  # main said AS_OF for every row


def test_fu006_needs_action_queue_empties_when_followed_up(url):
    with session_scope(url) as s:
        me = scope(s, "manager")
        queue = fu.needs_action(s, me, AS_OF, limit=500)
        reds = s.scalar(select(func.count()).select_from(OfficerStatus).where(OfficerStatus.level == "red"))
        followed = {b for b, in s.execute(select(Officer.badge).join(FollowUp, FollowUp.officer_id == Officer.id)
                                          .where(FollowUp.status.in_(("open", "in_progress"))))}
        assert queue["total"] == len([r for r in queue["rows"]]) and queue["total"] > 0
        assert queue["total"] <= reds and not ({r["badge"] for r in queue["rows"]} & followed)
        first = queue["rows"][0]["badge"]
        fu.open_followup(s, me, first, kind="recheck", assignee_id=me.user_id, due=None)
        after = fu.needs_action(s, me, AS_OF, limit=500)
    assert after["total"] == queue["total"] - 1 and first not in {r["badge"] for r in after["rows"]}


def test_fu007_next_assessment_beside_a_closed_followup(url):
    with session_scope(url) as s:
        me = scope(s, "manager_d2")
        officer = officer_in(s, me.unit_path, level="red")
        status = s.get(OfficerStatus, officer.id)
        before = status.computed_at - dt.timedelta(days=2)
        row = fu.open_followup(s, me, officer.badge, kind="referral", assignee_id=me.user_id, due=None,
                               now=before - dt.timedelta(days=5))
        fu.close_followup(s, me, row.id, "referred", now=before)
        shown = fu.get_followup(s, me, row.id, AS_OF)["next"]
        assert shown == {"level": "red", "confirmed": status.confirmed, "at": status.computed_at.date().isoformat(),
                         "changed": False}
        s.add(WarningHistory(officer_id=officer.id, unit_path=status.unit_path, level="yellow", previous_level="red",
                             confirmed=True, reasons=[], rules_version="warning_v1",
                             changed_at=before + dt.timedelta(days=1)))
        s.flush()
        shown = fu.get_followup(s, me, row.id, AS_OF)["next"]
        assert shown["level"] == "yellow" and shown["changed"]
        # a follow-up closed after the latest assessment is still waiting for the next one
        late = fu.open_followup(s, me, officer.badge, kind="phone", assignee_id=me.user_id, due=None)
        fu.close_followup(s, me, late.id, "unchanged", now=status.computed_at + dt.timedelta(days=1))
        assert fu.get_followup(s, me, late.id, AS_OF)["next"] is None
        s.rollback()


def test_fu008_statuses_move_forward_only(url):
    with session_scope(url) as s:
        me = scope(s, "manager_d1")
        officer = officer_in(s, me.unit_path)
        row = fu.open_followup(s, me, officer.badge, kind="counselling", assignee_id=me.user_id, due=None)
        fu.start_progress(s, me, row.id)
        with pytest.raises(fu.FollowUpError):
            fu.start_progress(s, me, row.id)
        with pytest.raises(fu.FollowUpError):
            fu.close_followup(s, me, row.id, "")
        with pytest.raises(fu.FollowUpError):
            fu.add_note(s, me, row.id, "   ")
        fu.close_followup(s, me, row.id, "declined")
        assert fu.officer_followups(s, me, officer.badge, AS_OF)[0]["status"] == "closed"



def test_fu021_queue_is_ordered_by_clinical_urgency(url):
    """Issue 21: self-harm thoughts and a critical ECG first, then unconfirmed reds, then the
    confirmed ones, each by the age of the reading (oldest first); a viewer without psychological
    access is not shown the self-harm case's rank (nor its reason)."""
    with session_scope(url) as s:
        me = scope(s, "manager")
        psych_me = Scope(me.user_id, me.username, me.role, me.officer_id, me.unit_path, psych_access=True)
        rows = fu.needs_action(s, psych_me, AS_OF, limit=1000)["rows"]
        assert len(rows) >= 3
        newest_confirmed, newest_other = rows[-1]["badge"], rows[-2]["badge"]  # the last two in the queue
        was_confirmed = rows[-1]["confirmed"]
        saved = {}
        for badge, rule, text in ((newest_confirmed, "phq9_item9", "PHQ-9 第9题 1 分"),
                                  (newest_other, "ecg_critical", "心电图危急结果")):
            status = s.scalar(select(OfficerStatus).join(Officer, Officer.id == OfficerStatus.officer_id)
                              .where(Officer.badge == badge))
            saved[badge] = (status.reasons, status.open_reasons)
            status.reasons = [*status.reasons, {"rule": rule, "level": "red", "text": text, "text_en": text}]
            if rule == "ecg_critical" and status.open_reasons is not None:
                status.open_reasons = [*status.open_reasons, status.reasons[-1]]
            elif rule == "phq9_item9":
                status.open_reasons = saved[badge][1] if saved[badge][1] is not None else saved[badge][0]
        s.flush()
        try:
            ranked = fu.needs_action(s, psych_me, AS_OF, limit=1000)["rows"]
            assert {r["badge"] for r in ranked[:2]} == {newest_confirmed, newest_other}
            assert [r["urgency"] for r in ranked] == sorted(r["urgency"] for r in ranked)
            for tier in (0, 1, 2):
                dates = [r["red_since"] for r in ranked if r["urgency"] == tier]
                assert dates == sorted(dates)
            assert all(not r["confirmed"] for r in ranked if r["urgency"] == 1)
            # without psych: the critical ECG leads, the self-harm case keeps its place by its visible reasons
            plain = fu.needs_action(s, me, AS_OF, limit=1000)["rows"]
            assert plain[0]["badge"] == newest_other
            assert next(r for r in plain if r["badge"] == newest_confirmed)["urgency"] == (2 if was_confirmed else 1)
            # the page of rows is a slice of the same order, and the total counts them all
            page = fu.needs_action(s, psych_me, AS_OF, start=1, limit=2)
            assert [r["badge"] for r in page["rows"]] == [r["badge"] for r in ranked[1:3]]
            assert page["total"] == len(ranked)
        finally:
            for badge, (reasons, open_reasons) in saved.items():
                status = s.scalar(select(OfficerStatus).join(Officer, Officer.id == OfficerStatus.officer_id)
                                  .where(Officer.badge == badge))
                status.reasons, status.open_reasons = reasons, open_reasons


def test_fu022_every_follow_up_write_moves_only_the_follow_up_data_version(url):
    """/warnings filters on follow-up state and caches by data version: each write of a follow-up
    (open, progress, note, close) must move the "followup" version, and nothing else."""
    def versions():
        with session_scope(url) as s:
            return data_versions(s)

    first = versions()
    with session_scope(url) as s:
        me = scope(s, "manager_d2")
        officer = officer_in(s, me.unit_path)
        fid = fu.open_followup(s, me, officer.badge, kind="phone", assignee_id=me.user_id, due=None, today=AS_OF).id
    seen = [versions()]
    for write in (lambda s: fu.start_progress(s, scope(s, "manager_d2"), fid),
                  lambda s: fu.add_note(s, scope(s, "manager_d2"), fid, "已电话联系"),
                  lambda s: fu.close_followup(s, scope(s, "manager_d2"), fid, "improved")):
        with session_scope(url) as s:
            write(s)
        seen.append(versions())
    followups = [int(first["followup"])] + [int(v["followup"]) for v in seen]
    assert all(b > a for a, b in zip(followups, followups[1:])), followups
    assert {(v["health"], v["campaign"]) for v in seen} == {(first["health"], first["campaign"])}
