"""Issue 15: bad input is refused, saves are idempotent, work is bounded, names in figures are text.

Each test forges the requests a browser (or an attacker) could send and checks what a user
would see: one record after a replayed save, the page-not-found answer for a malformed id,
a refusal instead of a 22-second request, a message when exporting too often, a unit name
shown as text instead of a link."""
from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import func, select

from models.db import session_scope
from models.schema import Campaign, FollowUp, Officer, OfficerStatus, Unit, User
from tests.helpers import dash_callback
from web.inputs import is_checked

EVIL = '<a href="http://evil.example/">点我</a>'


def _url(app):
    return app.server.config["DATABASE_URL"]


def _key(app, fragment: str) -> str:
    return next(k for k in app.callback_map if fragment in k)


def _outputs(key: str):
    if not key.startswith(".."):
        ident, prop = key.rsplit(".", 1)
        return {"id": ident, "property": prop.split("@")[0]}
    out = []
    for part in [p for p in key.strip(".").split("...") if p]:
        ident, prop = part.rsplit(".", 1)
        out.append({"id": ident, "property": prop.split("@")[0]})
    return out


def _call(app, client, fragment, inputs, state=None, changed=None):
    key = _key(app, fragment)
    return dash_callback(client, key, inputs, state, changed=changed, outputs_list=_outputs(key))


def _d1(app):
    with session_scope(_url(app)) as s:
        user = s.scalar(select(User).where(User.username == "manager_d1"))
        badge = s.scalar(select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                         .where(OfficerStatus.unit_path.like(f"{user.scope_unit.path}%")).order_by(Officer.id.desc()))
        return user.id, badge, user.scope_unit.code


def _followups(app, badge) -> int:
    with session_scope(_url(app)) as s:
        return s.scalar(select(func.count()).select_from(FollowUp).join(Officer).where(Officer.badge == badge))


def _save_followup(app, client, badge, assignee, token):
    state = [{"id": "fu-new-badge", "property": "data", "value": {"badge": badge}},
             {"id": "fu-new-kind", "property": "value", "value": "phone"},
             {"id": "fu-new-assignee", "property": "value", "value": str(assignee)},
             {"id": "fu-new-due", "property": "value", "value": None},
             {"id": "fu-new-note", "property": "value", "value": "电话告知复查"},
             {"id": "fu-new-token", "property": "data", "value": token}]
    return _call(app, client, "fu-toast-wrap", [{"id": "fu-new-save", "property": "n_clicks", "value": 1}], state)


def test_fuz003_a_replayed_followup_save_makes_one_record(app, as_user):
    c = as_user("manager_d1")
    me, badge, _ = _d1(app)
    before = _followups(app, badge)
    token = uuid.uuid4().hex
    first, again = _save_followup(app, c, badge, me, token), _save_followup(app, c, badge, me, token)
    assert first.status_code == again.status_code == 200
    assert "fu-toast" in first.get_data(as_text=True) and "fu-toast" in again.get_data(as_text=True)
    assert _followups(app, badge) == before + 1
    # a new form (a new token) is a new follow-up
    assert _save_followup(app, c, badge, me, uuid.uuid4().hex).status_code == 200
    assert _followups(app, badge) == before + 2


def test_fuz004_a_save_without_its_token_is_refused_and_writes_nothing(app, as_user):
    c = as_user("manager_d1")
    me, badge, _ = _d1(app)
    before = _followups(app, badge)
    for token in (None, "", "short", "x" * 100_000, 12345, ["a" * 32], "bad token with spaces"):
        assert _save_followup(app, c, badge, me, token).status_code == 403, token
    assert _followups(app, badge) == before


def test_fuz005_a_replayed_followup_note_is_added_once(app, as_user):
    c = as_user("manager_d1")
    me, badge, _ = _d1(app)
    assert _save_followup(app, c, badge, me, uuid.uuid4().hex).status_code == 200
    with session_scope(_url(app)) as s:
        fid = s.scalars(select(FollowUp.id).join(Officer).where(Officer.badge == badge).order_by(FollowUp.id.desc())).first()
        notes_before = len(s.get(FollowUp, fid).notes)
    inputs = [{"id": i, "property": "n_clicks", "value": 1 if i == "fu-d-addnote" else None}
              for i in ("fu-d-addnote", "fu-d-start", "fu-d-close", "fu-d-assign")]
    token = uuid.uuid4().hex
    state = [{"id": "fu-detail-id", "property": "data", "value": {"id": fid}},
             {"id": "fu-d-note", "property": "value", "value": "已电话随访"},
             {"id": "fu-d-outcome", "property": "value", "value": None},
             {"id": "fu-d-assignee", "property": "value", "value": None},
             {"id": "fu-d-token", "property": "data", "value": token}]
    for _ in range(2):
        res = _call(app, c, "fu-d-msg.children", inputs, state, changed=["fu-d-addnote.n_clicks"])
        assert res.status_code == 200 and "fu-d-done" in res.get_data(as_text=True)
    with session_scope(_url(app)) as s:
        assert len(s.get(FollowUp, fid).notes) == notes_before + 1


FIELDS = ["cf-name", "cf-kind", "cf-start", "cf-end", "cf-units", "cf-team-level", "cf-target-day", "cf-target-total",
          "cf-scoring", "cf-pts-active", "cf-pts-target", "cf-pts-week"]


def _save_campaign(app, client, name, units, token):
    import datetime as dt

    start = dt.date.today() + dt.timedelta(days=5)
    values = {"cf-name": name, "cf-kind": "steps", "cf-start": start.isoformat(),
              "cf-end": (start + dt.timedelta(days=27)).isoformat(), "cf-units": units, "cf-team-level": "station",
              "cf-target-day": 8000, "cf-target-total": None, "cf-scoring": "mean", "cf-pts-active": 0,
              "cf-pts-target": 1, "cf-pts-week": 10}
    state = [{"id": "cf-edit-id", "property": "data", "value": None},
             {"id": "cf-token", "property": "data", "value": token}]
    state += [{"id": f, "property": "value", "value": values[f]} for f in FIELDS]
    return _call(app, client, "cf-error.children", [{"id": "cf-save", "property": "n_clicks", "value": 1}], state)


def _campaigns_named(app, name) -> int:
    with session_scope(_url(app)) as s:
        return s.scalar(select(func.count()).select_from(Campaign).where(Campaign.name == name))


def test_fuz006_a_replayed_campaign_save_makes_one_campaign(app, as_user):
    c = as_user("manager_d1")
    _, _, d1 = _d1(app)
    token = uuid.uuid4().hex
    for _ in range(2):
        res = _save_campaign(app, c, "重放测试活动", [d1], token)
        assert res.status_code == 200 and "campaigns-saved" in res.get_data(as_text=True)
    assert _campaigns_named(app, "重放测试活动") == 1


def test_fuz007_unit_lists_are_bounded_and_repeats_count_once(app, as_user):
    c = as_user("manager_d1")
    _, _, d1 = _d1(app)
    started = time.perf_counter()
    res = _save_campaign(app, c, "两万份单位", [d1] * 20_000, uuid.uuid4().hex)
    assert res.status_code == 403 and time.perf_counter() - started < 3
    assert _campaigns_named(app, "两万份单位") == 0
    res = _save_campaign(app, c, "重复单位活动", [d1] * 400, uuid.uuid4().hex)  # inside the cap: one unit, once
    assert res.status_code == 200 and "campaigns-saved" in res.get_data(as_text=True)
    with session_scope(_url(app)) as s:
        assert len(s.scalar(select(Campaign).where(Campaign.name == "重复单位活动")).scope_unit_ids) == 1


def test_fuz008_a_malformed_campaign_id_gives_the_not_found_page(app, as_user):
    c = as_user("manager_d1")
    key = _key(app, "_pages_content.children")
    for path in ("/campaigns/99999999999999999999", "/campaigns/1e3", "/campaigns/-1", "/campaigns/%00"):
        res = dash_callback(c, key, [{"id": "_pages_location", "property": "pathname", "value": path},
                                     {"id": "_pages_location", "property": "search", "value": ""}],
                            outputs_list=_outputs(key))
        text = json.dumps(res.get_json(), ensure_ascii=False)
        assert res.status_code == 200 and "页面不存在" in text and "campaign-url" not in text, path
    # the page's callbacks, forged with that path anyway, refuse it instead of failing
    res = _call(app, c, "campaign-teams.children",
                [{"id": "campaign-url", "property": "pathname", "value": "/campaigns/99999999999999999999"}])
    assert res.status_code == 403


def test_fuz009_exports_are_throttled_per_user_with_a_message(app, as_user):
    app.server.config["EXPORT_INTERVAL_SECONDS"] = 60
    try:
        c = as_user("manager_d2")  # users no other test exports as
        state = [{"id": i, "property": "value", "value": ["red"] if i == "warn-f-levels" else None}
                 for i in ("warn-f-levels", "warn-f-confirmed", "warn-f-rule", "warn-f-unit", "warn-f-age",
                           "warn-f-sex", "warn-f-post", "warn-f-exam", "warn-f-followup")]
        inputs = [{"id": "warn-export-csv", "property": "n_clicks", "value": 1},
                  {"id": "warn-export-xlsx", "property": "n_clicks", "value": None}]
        first = _call(app, c, "warn-download.data", inputs, state, changed=["warn-export-csv.n_clicks"])
        again = _call(app, c, "warn-download.data", inputs, state, changed=["warn-export-csv.n_clicks"])
        assert first.get_json()["response"]["warn-download"]["data"]["content"]
        body = again.get_json()["response"]
        assert "warn-download" not in body and "导出过于频繁" in body["warn-export-msg"]["children"]
        # another user is not held up by this one's export
        other = _call(app, as_user("manager"), "warn-download.data", inputs, state, changed=["warn-export-csv.n_clicks"])
        assert other.get_json()["response"]["warn-download"]["data"]["content"]
    finally:
        app.server.config["EXPORT_INTERVAL_SECONDS"] = 0


def test_fuz010_unit_names_are_text_in_the_map_treemap_and_funnel(app, as_user):
    with session_scope(_url(app)) as s:
        root = s.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
        district = s.scalar(select(Unit).where(Unit.parent_id == root.id, Unit.level == "district").order_by(Unit.id))
        code, saved = district.code, (district.name, district.name_en)
        district.name = district.name_en = EVIL
    try:
        c = as_user("admin")
        inputs = [{"id": i, "property": "value", "value": None}  # the map comes with the counts and the movement
                  for i in ("warn-f-levels", "warn-f-confirmed", "warn-f-rule", "warn-f-unit", "warn-f-age", "warn-f-sex",
                            "warn-f-post", "warn-f-exam", "warn-f-followup", "warn-move-period", "warn-move-from",
                            "warn-move-to")]
        res = _call(app, c, "warn-map.figure", inputs, [])
        text = json.dumps(res.get_json()["response"], ensure_ascii=False)
        assert "&lt;a href=" in text and "<a href" not in text
        inputs = [{"id": "units-root", "property": "data", "value": root.code},
                  {"id": "units-level", "property": "value", "value": "district"},
                  {"id": "units-indicator", "property": "value", "value": "red_orange"},
                  {"id": "units-year", "property": "value", "value": __import__("datetime").date.today().year},
                  {"id": "units-rate", "property": "value", "value": "crude"}]
        res = _call(app, c, "units-funnel.figure", inputs)
        funnel = json.dumps(res.get_json()["response"]["units-funnel"], ensure_ascii=False)
        assert "&lt;a href=" in funnel and "<a href" not in funnel
        # the table beside the plot is not HTML: it shows the name as it is
        assert any(r["label"].startswith(EVIL) for r in res.get_json()["response"]["units-grid"]["rowData"])
    finally:
        with session_scope(_url(app)) as s:
            unit = s.scalar(select(Unit).where(Unit.code == code))
            unit.name, unit.name_en = saved


def test_fuz011_every_callback_goes_through_the_input_check(app, as_user):
    as_user("admin").get("/")  # Dash adds its page router on the first request
    unchecked = [key for key, cb in app.callback_map.items()
                 if cb.get("callback") is not None and not is_checked(cb["callback"])]
    assert not unchecked
