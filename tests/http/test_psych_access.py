"""Mental health is its own permission (issue 16): forged /warnings and list callbacks with every
psychological rule give a leader and a manager without ``psych`` no names; a counsellor (and a
manager with the grant) gets them, only in scope."""
import json

import pytest
from sqlalchemy import select

from models import psych
from models.db import session_scope
from models.schema import AuditLog, Officer, OfficerStatus, Unit, User
from models.warning import load_rules
from tests.helpers import admin_users_action, dash_callback, find_component, page_layout
from tests.http.test_warnings_access import FILTER_IDS, GRID_ID, _db, _district, _outputs

PSYCH_RULES = sorted(psych.psych_rule_ids(load_rules()))
PSYCH_WORDS = ("PHQ", "GAD", "抑郁", "焦虑", "自伤", "轻生", "depress", "anxiety", "self-harm")
NO_PSYCH = ("leader", "manager_d1")


def _key_of(app, output_prefix):
    return next(k for k in app.callback_map if k.startswith(output_prefix) or k.startswith(".." + output_prefix))


def _filters(values):
    return [{"id": i, "property": "value", "value": values.get(i)} for i in FILTER_IDS]


def _period():
    return [{"id": i, "property": "value", "value": None} for i in ("warn-move-period", "warn-move-from", "warn-move-to")]


def _call(app, client, output_prefix, inputs, state=None, changed=None):
    key = _key_of(app, output_prefix)
    return dash_callback(client, key, inputs, state, changed=changed, outputs_list=_outputs(key))


def counts(app, c, values):
    """The counts (with the map and the movement: one callback), after a change of the reason filter."""
    return _call(app, c, "warn-counts.children", _filters(values) + _period(), changed=["warn-f-rule.value"])


def wrap(app, c, values):
    return _call(app, c, "warn-list-wrap.children", _filters(values) + [{"id": "fu-changed", "property": "data",
                                                                          "value": 0}], changed=["warn-f-rule.value"])


def rows(app, c, values, end=500):
    inputs = [[{"id": GRID_ID, "property": "getRowsRequest", "value": {"startRow": 0, "endRow": end}}]]
    return _call(app, c, '..{"type":"warn-grid"', inputs, _filters(values),
                 changed=[json.dumps(GRID_ID) + ".getRowsRequest"])


def export(app, c, values):
    inputs = [{"id": "warn-export-csv", "property": "n_clicks", "value": 1},
              {"id": "warn-export-xlsx", "property": "n_clicks", "value": None}]
    return _call(app, c, "warn-download.data", inputs, _filters(values), changed=["warn-export-csv.n_clicks"])


def options(app, c):
    """The reasons the /warnings filter offers (built into the page's layout)."""
    return find_component(page_layout(c, "/warnings"), "warn-f-rule")["options"]


def _grid(res):
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    return next(iter(res.get_json()["response"].values()))["getRowsResponse"]


def _psych_only(app):
    """Badges of officers whose colour rests only on a psychological reason (open level differs)."""
    with session_scope(_db(app)) as s:
        return set(s.scalars(select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                             .where(OfficerStatus.level != OfficerStatus.open_level)))


def test_psy001_demo_has_psychological_cases():
    assert {"phq9_item9", "phq9_moderate", "gad7_moderate"} <= set(PSYCH_RULES)


@pytest.mark.parametrize("username", NO_PSYCH)
def test_psy002_forged_psychological_rule_filter_is_refused(app, as_user, username):
    c = as_user(username)
    for rule in PSYCH_RULES:
        values = {"warn-f-rule": rule}
        for res in (counts(app, c, values), wrap(app, c, values), rows(app, c, values),
                    rows(app, c, {**values, "warn-f-levels": ["red", "orange"]})):
            assert res.status_code == 403, (username, rule, res.status_code)
            assert "rowData" not in res.get_data(as_text=True)
        if username.startswith("manager"):
            assert export(app, c, values).status_code == 403


@pytest.mark.parametrize("username", NO_PSYCH)
def test_psy003_psychological_rules_are_not_offered(app, as_user, username):
    offered = {o["value"] for o in options(app, as_user(username))}
    assert offered and not offered & set(PSYCH_RULES)
    assert "bp_grade2" in offered or "bp_grade1" in offered


@pytest.mark.parametrize("username", NO_PSYCH)
def test_psy004_named_lists_carry_no_psychological_reason_nor_psychological_only_officer(app, as_user, username):
    c = as_user(username)
    hidden = _psych_only(app)
    assert hidden, "the demo has officers whose colour rests on a psychological reason only"
    with session_scope(_db(app)) as s:
        open_level = dict(s.execute(select(Officer.badge, OfficerStatus.open_level)
                                    .join(OfficerStatus, OfficerStatus.officer_id == Officer.id)).all())
    for levels in (["red"], ["orange"], ["red", "orange"], ["yellow"], None):
        data = _grid(rows(app, c, {"warn-f-levels": levels}))
        text = json.dumps(data, ensure_ascii=False)
        assert not any(w in text for w in PSYCH_WORDS), (username, levels)
        for r in data["rowData"]:
            assert "phq9" not in r
            assert r["level"] == open_level[r["badge"]]
            if levels:
                assert r["badge"] not in hidden or open_level[r["badge"]] in levels
    if username == "manager_d1":  # the neutral line, with no detail
        data = _grid(rows(app, c, {"warn-f-levels": ["red", "orange", "yellow"]}))
        assert any("需要心理随访" in r.get("reasons", "") for r in data["rowData"])
        res = export(app, c, {"warn-f-levels": ["red", "orange", "yellow"]})
        content = next(iter(res.get_json()["response"].values()))["data"]["content"]
        assert "PHQ-9" not in content.splitlines()[0] and not any(w in content for w in PSYCH_WORDS)


@pytest.mark.parametrize("username", ("counsellor_d1", "manager"))
def test_psy005_counsellor_and_granted_manager_get_names_in_scope(app, as_user, username):
    c = as_user(username)
    with session_scope(_db(app)) as s:
        scope = s.scalar(select(User).where(User.username == username)).scope_unit.path
        in_scope = set(s.scalars(select(Officer.badge).join(Unit).where(Unit.path.like(f"{scope}%"))))
        expected = {rule: set(s.scalars(select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                                        .where(OfficerStatus.rule_ids.like(f"%,{rule},%"),
                                               OfficerStatus.unit_path.like(f"{scope}%"), Officer.active)))
                    for rule in PSYCH_RULES}
    assert any(expected.values())
    for rule in PSYCH_RULES:
        data = _grid(rows(app, c, {"warn-f-rule": rule}))
        got = {r["badge"] for r in data["rowData"]}
        assert got == expected[rule] and got <= in_scope, (username, rule)
        if got:
            assert any(w in json.dumps(data, ensure_ascii=False) for w in PSYCH_WORDS)
    offered = {o["value"] for o in options(app, c)}
    assert set(PSYCH_RULES) <= offered


def test_psy006_counsellor_lists_only_psychological_cases_and_only_in_scope(app, as_user):
    c = as_user("counsellor_d1")
    data = _grid(rows(app, c, {}))
    with session_scope(_db(app)) as s:
        ids = {b: r for b, r in s.execute(select(Officer.badge, OfficerStatus.rule_ids)
                                          .join(OfficerStatus, OfficerStatus.officer_id == Officer.id))}
    assert data["rowData"]
    for r in data["rowData"]:
        assert any(f",{rule}," in ids[r["badge"]] for rule in PSYCH_RULES)
    other = _district(app, "manager_d2")
    for res in (rows(app, c, {"warn-f-unit": other.code, "warn-f-rule": PSYCH_RULES[0]}),
                counts(app, c, {"warn-f-unit": other.code})):
        assert res.status_code == 403
    assert export(app, c, {}).status_code == 403  # exports are for health managers


def test_psy007_workbench_and_portrait_of_a_manager_without_psych(app):
    """The workbench lists and a portrait through the models the callbacks call, as manager_d1 sees them."""
    from models import followups, portrait
    from web.access import Scope

    with session_scope(_db(app)) as s:
        user = s.scalar(select(User).where(User.username == "manager_d1"))
        plain = Scope(user.id, user.username, "manager", None, user.scope_unit.path, psych_access=False)
        granted = Scope(user.id, user.username, "manager", None, user.scope_unit.path, psych_access=True)
        assert not plain.sees_psych and granted.sees_psych
        wb = {name: fn(s, plain, load_today(), limit=10_000)  # every workbench list, every page
              for name, fn in (("queue", followups.needs_action), ("mine", followups.my_followups),
                               ("closed", followups.recently_closed), ("changes", followups.recent_changes))}
        text = json.dumps(wb, ensure_ascii=False, default=str)
        assert not any(w in text for w in PSYCH_WORDS)
        hidden = _psych_only(app)
        assert not {r["badge"] for r in wb["queue"]["rows"]} & hidden
        badge = s.scalar(select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                         .where(OfficerStatus.rule_ids.like("%,phq9_%"),
                                OfficerStatus.unit_path.like(f"{user.scope_unit.path}%")).limit(1))
        officer = s.scalar(select(Officer).where(Officer.badge == badge))
        h = portrait.header(s, officer.id, lab_values=True, as_of=load_today(), psych=False)
        d = _record(s, officer.id, psych=False)
        assert not any(w in json.dumps([h, d], ensure_ascii=False, default=str) for w in ("PHQ", "GAD", "抑郁", "焦虑"))
        assert "phq9" not in {c["key"] for c in d["indicators"]["cards"]}
        full = _record(s, officer.id, psych=True)
        assert "phq9" in {c["key"] for c in full["indicators"]["cards"]}


def _record(s, officer_id: int, psych: bool) -> dict:
    """What the portrait's record callback reads below the header: indicators, exam history, care."""
    from models import portrait

    return {"indicators": portrait.key_indicators(s, officer_id, psych=psych),
            "history": portrait.exam_history(s, officer_id, psych=psych),
            "care": portrait.care(s, officer_id, follow_ups=True, as_of=load_today(), psych=psych)}


def load_today():
    from tests.conftest import AS_OF

    return AS_OF


def test_psy008_leader_cannot_open_a_psychological_only_red_or_orange_officer(app, as_user):
    with session_scope(_db(app)) as s:
        badge = s.scalar(select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                         .where(OfficerStatus.level.in_(("red", "orange")),
                                OfficerStatus.open_level.not_in(("red", "orange"))).order_by(Officer.id).limit(1))
    assert badge, "the demo has a red or orange officer for a psychological reason only"
    c = as_user("leader")
    res = dash_callback(c, "pt-header.children", [{"id": "pt-key", "property": "data", "value": badge}])
    assert res.status_code == 403
    frame = dash_callback(c, "portrait-body.children", [{"id": "portrait-badge", "property": "data", "value": badge}])
    assert badge not in frame.get_data(as_text=True) or "无权" in frame.get_data(as_text=True)
    granted = dash_callback(as_user("manager"), "pt-header.children", [{"id": "pt-key", "property": "data", "value": badge}])
    assert granted.status_code == 200 and any(w in granted.get_data(as_text=True) for w in ("PHQ", "GAD"))


def test_psy009_admin_grants_and_revokes_psych_and_it_is_audited(app, as_user):
    c = as_user("admin")

    def toggle():
        return admin_users_action(c, "au-psych", "manager_d2")

    def granted():
        with session_scope(_db(app)) as s:
            return s.scalar(select(User.psych_access).where(User.username == "manager_d2"))

    assert granted() is False
    assert toggle().status_code == 200 and granted() is True
    assert toggle().status_code == 200 and granted() is False
    with session_scope(_db(app)) as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.target == "manager_d2").order_by(AuditLog.id)))
    assert actions[-2:] == ["grant_psych", "revoke_psych"]


@pytest.mark.parametrize("username", NO_PSYCH)
def test_psy010_counts_above_the_list_agree_with_the_list(app, as_user, username):
    """The per-colour counts and the named list of a colour count the same officers, so their
    difference never tells how many are coloured by a psychological reason only."""
    c = as_user(username)
    res = counts(app, c, {})
    assert res.status_code == 200
    cards = res.get_json()["response"]["warn-counts"]["children"]
    shown = {card["props"]["children"]["props"]["children"][1]["props"]["id"]:
             card["props"]["children"]["props"]["children"][1]["props"]["children"] for card in cards}
    for level in ("red", "orange"):
        listed = _grid(rows(app, c, {"warn-f-levels": [level]}))["rowCount"]
        text = shown[f"warn-count-{level}"]
        if text != "<5*":
            assert int(text.replace(",", "")) == listed, (username, level)
