"""Forged /warnings and follow-up callbacks: scope, roles and lab values are decided on the server."""
import json
import uuid

import pytest
from sqlalchemy import func, select

from models.db import session_scope
from models.suppression import HIDDEN
from models.schema import AuditLog, FollowUp, Officer, OfficerStatus, Unit, User
from tests.helpers import dash_callback

FILTER_IDS = ("warn-f-levels", "warn-f-confirmed", "warn-f-rule", "warn-f-unit", "warn-f-age", "warn-f-sex",
              "warn-f-post", "warn-f-exam", "warn-f-followup")
GRID_ID = {"type": "warn-grid", "v": "forged"}


def _key(app, input_id):
    """The callback_map key (output spec) of the callback whose first input is ``input_id``."""
    for key, cb in app.callback_map.items():
        first = cb["inputs"][0]["id"]
        if first == input_id or (isinstance(input_id, str) and first.startswith("{") and input_id in first):
            return key
    raise KeyError(input_id)


def _outputs(key):
    out = []
    for part in [p for p in key.strip(".").split("...") if p] if key.startswith("..") else [key]:
        ident, prop = part.rsplit(".", 1)
        if ident.startswith("{"):
            ident = dict(json.loads(ident), v="forged")
            out.append([{"id": ident, "property": prop}])
        else:
            out.append({"id": ident, "property": prop})
    return out if key.startswith("..") else out[0]


def _filters(values=None, as_state=False):
    values = values or {}
    return [{"id": i, "property": "value", "value": values.get(i)} for i in FILTER_IDS]


def call(app, client, input_id, inputs, state=None, changed=None):
    key = _key(app, input_id)
    return dash_callback(client, key, inputs, state, changed=changed or [f"{input_id}.{inputs[0]['property']}"],
                         outputs_list=_outputs(key))


def rows(app, client, request, values=None):
    inputs = [[{"id": GRID_ID, "property": "getRowsRequest", "value": request}]]
    return call(app, client, "warn-grid", inputs, _filters(values), changed=[json.dumps(GRID_ID) + ".getRowsRequest"])


SUMMARY = "..warn-counts.children...warn-map.figure"  # counts, map and movement: one callback


def summary(app, client, values=None, period=None, start=None, end=None, changed="warn-f-levels"):
    """The counts, the map and the colour movement, as the browser asks for them after ``changed``."""
    key = next(k for k in app.callback_map if k.startswith(SUMMARY))
    inputs = _filters(values) + [{"id": "warn-move-period", "property": "value", "value": period},
                                 {"id": "warn-move-from", "property": "value", "value": start},
                                 {"id": "warn-move-to", "property": "value", "value": end}]
    return dash_callback(client, key, inputs, [], changed=[f"{changed}.value"], outputs_list=_outputs(key))


def counts(app, client, values=None):
    return summary(app, client, values)


def map_(app, client, unit=None):
    return summary(app, client, {"warn-f-unit": unit}, changed="warn-f-unit")


def _db(app):
    return app.server.config["DATABASE_URL"]


def _district(app, username):
    with session_scope(_db(app)) as s:
        return s.scalar(select(User).where(User.username == username)).scope_unit


def _badge_in(app, path, level=None):
    with session_scope(_db(app)) as s:
        q = select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id) \
            .where(OfficerStatus.unit_path.like(f"{path}%")).order_by(Officer.id)
        if level:
            q = q.where(OfficerStatus.level == level)
        return s.scalar(q.limit(1))


def _response(res):
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    return res.get_json()["response"]


def test_wh001_anonymous_gets_401(app, client):
    request = [[{"id": GRID_ID, "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 100}}]]
    for input_id, inputs, state in (("warn-grid", request, _filters()), ("warn-f-levels", _filters(), []),
                                    ("fu-new-save", [{"id": "fu-new-save", "property": "n_clicks", "value": 1}], [])):
        key = _key(app, input_id)
        res = client.post("/_dash-update-component", json={"output": key, "outputs": _outputs(key), "inputs": inputs,
                                                           "state": state, "changedPropIds": []})
        assert res.status_code == 401 and "rowData" not in res.get_data(as_text=True), (input_id, res.get_data(as_text=True)[:200])


def test_wh002_officer_may_not_call_warnings(app, as_user):
    c = as_user("officer")
    assert counts(app, c).status_code == 403
    assert rows(app, c, {"startRow": 0, "endRow": 100}).status_code == 403


def test_wh003_district_manager_cannot_reach_another_district(app, as_user):
    c = as_user("manager_d1")
    other = _district(app, "manager_d2")
    for res in (map_(app, c, other.code), counts(app, c, {"warn-f-unit": other.code}),
                rows(app, c, {"startRow": 0, "endRow": 100}, {"warn-f-unit": other.code})):
        assert res.status_code == 403
        assert "rowData" not in res.get_data(as_text=True)


def test_wh004_rows_only_from_own_scope_with_clamped_range(app, as_user):
    c = as_user("manager_d1")
    d1 = _district(app, "manager_d1")
    res = _response(rows(app, c, {"startRow": -50, "endRow": 10 ** 9, "sortModel": [
        {"colId": "officer.name; DROP TABLE officer", "sort": "asc"}, {"colId": "sbp", "sort": "desc"}]}))
    data = next(iter(res.values()))["getRowsResponse"]
    with session_scope(_db(app)) as s:
        in_scope = s.scalar(select(func.count()).select_from(OfficerStatus).where(OfficerStatus.unit_path.like(f"{d1.path}%")))
        badges = set(s.scalars(select(Officer.badge).join(Unit).where(Unit.path.like(f"{d1.path}%"))))
    assert data["rowCount"] == in_scope
    assert len(data["rowData"]) == min(in_scope, 500)
    assert {r["badge"] for r in data["rowData"]} <= badges
    sbp = [r["sbp"] for r in data["rowData"] if r["sbp"] is not None]
    assert sbp == sorted(sbp, reverse=True)


def test_wh005_leader_gets_names_of_red_and_orange_without_lab_values(app, as_user):
    c = as_user("leader")
    res = _response(rows(app, c, {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "sbp", "sort": "desc"}]},
                         {"warn-f-levels": ["green", "yellow", "red"]}))
    data = next(iter(res.values()))["getRowsResponse"]
    assert data["rowData"], "the demo has red officers"
    for r in data["rowData"]:
        assert r["level"] == "red"
        assert not {"sbp", "dbp", "fpg", "ldl", "bmi", "reasons", "reasons_label", "latest", "last_exam"} & set(r)
    text = json.dumps(data, ensure_ascii=False)
    assert "mmHg" not in text and "mmol" not in text
    green = _response(rows(app, c, {"startRow": 0, "endRow": 100}, {"warn-f-levels": ["green"]}))
    assert next(iter(green.values()))["getRowsResponse"]["rowCount"] == 0


def test_wh006_leader_sees_small_counts_as_under_5(app, as_user):
    c = as_user("leader_d1")
    d1 = _district(app, "leader_d1")
    with session_scope(_db(app)) as s:
        small = s.execute(select(Unit.code, OfficerStatus.level, func.count())
                          .join(Officer, Officer.unit_id == Unit.id).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                          .where(Unit.path.like(f"{d1.path}%")).group_by(Unit.code, OfficerStatus.level)).all()
    unit, level, n = next((u, lvl, n) for u, lvl, n in small if 0 < n < 5)
    res = _response(counts(app, c, {"warn-f-unit": unit}))
    text = json.dumps(res, ensure_ascii=False)
    assert "<5" in text
    cards = res["warn-counts"]["children"]
    shown = {card["props"]["children"]["props"]["children"][1]["props"]["id"]:
             card["props"]["children"]["props"]["children"][1]["props"]["children"] for card in cards}
    assert shown[f"warn-count-{level}"] == HIDDEN
    # the map hover never carries the exact small count either
    fig = _response(map_(app, c, unit))
    assert f"{level_name_zh(level)} {n}<" not in json.dumps(fig, ensure_ascii=False)


def level_name_zh(level):
    return {"red": "红色", "orange": "橙色", "yellow": "黄色", "green": "绿色"}[level]


def test_wh007_export_is_audited_and_not_for_leaders(app, as_user):
    c = as_user("manager_d1")
    inputs = [{"id": "warn-export-csv", "property": "n_clicks", "value": 1},
              {"id": "warn-export-xlsx", "property": "n_clicks", "value": None}]
    with session_scope(_db(app)) as s:
        before = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export"))
    res = _response(call(app, c, "warn-export-csv", inputs, _filters({"warn-f-levels": ["red"]}),
                         changed=["warn-export-csv.n_clicks"]))
    content = res["warn-download"]["data"]["content"]
    assert content.startswith("\ufeff姓名,警号,单位,预警")
    assert content.count("\n") - 1 == sum(1 for line in content.splitlines()[1:] if "红色" in line)
    with session_scope(_db(app)) as s:
        last = s.scalars(select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id.desc())).first()
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export")) == before + 1
        assert last.username == "manager_d1" and last.detail["format"] == "csv"
    assert call(app, as_user("leader"), "warn-export-csv", inputs, _filters(),
                changed=["warn-export-csv.n_clicks"]).status_code == 403


def _save(app, client, badge, assignee, kind="phone", due=None):
    state = [{"id": "fu-new-badge", "property": "data", "value": {"badge": badge}},
             {"id": "fu-new-kind", "property": "value", "value": kind},
             {"id": "fu-new-assignee", "property": "value", "value": str(assignee)},
             {"id": "fu-new-due", "property": "value", "value": due},
             {"id": "fu-new-note", "property": "value", "value": "forged?"},
             {"id": "fu-new-token", "property": "data", "value": uuid.uuid4().hex}]
    return call(app, client, "fu-new-save", [{"id": "fu-new-save", "property": "n_clicks", "value": 1}], state)


def _user_id(app, username):
    with session_scope(_db(app)) as s:
        return s.scalar(select(User.id).where(User.username == username))


def test_wh008_followup_for_another_district_is_refused(app, as_user):
    c = as_user("manager_d1")
    foreign = _badge_in(app, _district(app, "manager_d2").path)
    with session_scope(_db(app)) as s:
        before = s.scalar(select(func.count()).select_from(FollowUp))
    assert _save(app, c, foreign, _user_id(app, "manager_d1")).status_code == 403
    opened = call(app, c, "fu-new-badge", [{"id": "fu-new-badge", "property": "data", "value": {"badge": foreign}}])
    assert opened.status_code == 403 and foreign not in opened.get_data(as_text=True)
    assert _save(app, as_user("leader"), foreign, _user_id(app, "manager")).status_code == 403
    with session_scope(_db(app)) as s:
        assert s.scalar(select(func.count()).select_from(FollowUp)) == before


def test_wh009_manager_opens_and_closes_a_followup_by_callback(app, as_user):
    c = as_user("manager_d1")
    badge = _badge_in(app, _district(app, "manager_d1").path, level="red")
    me = _user_id(app, "manager_d1")
    res = _response(_save(app, c, badge, me, kind="recheck"))
    assert next(v for k, v in res.items() if k == "fu-new-modal")["is_open"] is False
    with session_scope(_db(app)) as s:
        row = s.scalars(select(FollowUp).join(Officer).where(Officer.badge == badge).order_by(FollowUp.id.desc())).first()
        fid = row.id
        assert (row.kind, row.assignee_id, row.status) == ("recheck", me, "open")
    # another district's manager cannot close it, whatever id they send
    close_inputs = [{"id": i, "property": "n_clicks", "value": 1 if i == "fu-d-close" else None}
                    for i in ("fu-d-addnote", "fu-d-start", "fu-d-close", "fu-d-assign")]

    def close_state(fid_):
        return [{"id": "fu-detail-id", "property": "data", "value": {"id": fid_}},
                {"id": "fu-d-note", "property": "value", "value": "done"},
                {"id": "fu-d-outcome", "property": "value", "value": "improved"},
                {"id": "fu-d-assignee", "property": "value", "value": None},
                {"id": "fu-d-token", "property": "data", "value": uuid.uuid4().hex}]

    assert call(app, as_user("manager_d2"), "fu-d-addnote", close_inputs, close_state(fid),
                changed=["fu-d-close.n_clicks"]).status_code == 403
    _response(call(app, c, "fu-d-addnote", close_inputs, close_state(fid), changed=["fu-d-close.n_clicks"]))
    with session_scope(_db(app)) as s:
        row = s.get(FollowUp, fid)
        assert (row.status, row.outcome) == ("closed", "improved")
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.target == f"officer:{badge}")))
        assert "followup_open" in actions and "followup_close" in actions


def test_wh010_assignee_outside_the_officers_district_is_rejected(app, as_user):
    c = as_user("manager_d1")
    badge = _badge_in(app, _district(app, "manager_d1").path)
    res = _response(_save(app, c, badge, _user_id(app, "manager_d2")))
    assert "健康管理师" in json.dumps(res, ensure_ascii=False)  # the form says why and stays open
    with session_scope(_db(app)) as s:
        assert not s.scalar(select(func.count()).select_from(FollowUp)
                            .where(FollowUp.assignee_id == _user_id(app, "manager_d2"),
                                   FollowUp.officer_id.in_(select(Officer.id).where(Officer.badge == badge))))


@pytest.mark.parametrize("username", ["leader", "manager_d2"])
def test_wh011_workbench_and_followup_detail_refuse_others(app, as_user, username):
    c = as_user("manager_d1")
    badge = _badge_in(app, _district(app, "manager_d1").path)
    _response(_save(app, c, badge, _user_id(app, "manager_d1")))
    with session_scope(_db(app)) as s:
        fid = s.scalars(select(FollowUp.id).join(Officer).where(Officer.badge == badge).order_by(FollowUp.id.desc())).first()
    other = as_user(username)
    res = call(app, other, "fu-detail-id", [{"id": "fu-detail-id", "property": "data", "value": {"id": fid}},
                                             {"id": "fu-changed", "property": "data", "value": 0}])
    assert res.status_code == 403 and badge not in res.get_data(as_text=True)
    wb = call(app, other, "wb-url", [{"id": "wb-url", "property": "pathname", "value": "/workbench"},
                                     {"id": "fu-changed", "property": "data", "value": 0}])
    if username == "leader":
        assert wb.status_code == 403
    else:
        assert badge not in wb.get_data(as_text=True)


# --- movement by period (issue 20, item 6) -------------------------------------------------------------------
def movement(app, client, period=None, start=None, end=None, values=None):
    return summary(app, client, values, period, start, end, changed="warn-move-period")


def _cells(tree) -> list:
    """The texts of every table cell (Td) in a rendered component tree."""
    out = []
    if isinstance(tree, list):
        for item in tree:
            out += _cells(item)
    elif isinstance(tree, dict):
        if tree.get("type") == "Td":
            out.append(tree["props"]["children"])
        for value in (tree.get("props") or {}).values():
            out += _cells(value)
    return out


def test_wh012_movement_period_is_clamped_and_forged_values_refused(app, as_user):
    c = as_user("manager_d1")
    res = _response(movement(app, c, "decade'; DROP TABLE officer; --"))  # a forged preset: this quarter
    assert res["warn-movement-title"]["children"].endswith("（2026-10-01 → 2026-11-18）")
    assert "warn-movement-matrix" in json.dumps(res) and res["warn-move-query"]["data"] == ""
    res = _response(movement(app, c, "year"))
    assert "2026-01-01 → 2026-11-18" in res["warn-movement-title"]["children"]
    assert res["warn-move-query"]["data"] == "period=year"
    res = _response(movement(app, c, "custom", "1900-01-01", "2999-12-31"))  # clamped to [2000, today]
    assert "2000-01-01 → 2026-11-18" in res["warn-movement-title"]["children"]
    assert res["warn-move-query"]["data"] == "from=2000-01-01&to=2026-11-18"
    for start, end in (("2026-05-01", "2026-04-01"), ("2026-02-30", "2026-04-01"), (None, "2026-04-01")):
        res = _response(movement(app, c, "custom", start, end))
        assert "请选择有效的起止日期" in json.dumps(res, ensure_ascii=False)
        assert "warn-movement-matrix" not in json.dumps(res)
    for start in ("2026-1-1", "x" * 5000, 20260101, ["2026-01-01"]):  # not what a date field sends
        assert movement(app, c, "custom", start, "2026-04-01").status_code == 403
    other = _district(app, "manager_d2")
    assert movement(app, c, "year", values={"warn-f-unit": other.code}).status_code == 403
    res = _response(movement(app, c, "year", values={"warn-f-sex": "alien", "warn-f-age": "' OR 1=1"}))
    plain = _response(movement(app, c, "year"))
    assert res["warn-movement"] == plain["warn-movement"]  # values off the whitelists are ignored


def test_wh013_leader_gets_suppressed_movement_counts(app, as_user):
    c = as_user("leader_d1")
    d1 = _district(app, "leader_d1")
    with session_scope(_db(app)) as s:
        small = s.execute(select(Unit.code, OfficerStatus.level, func.count())
                          .join(Officer, Officer.unit_id == Unit.id)
                          .join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                          .where(Unit.path.like(f"{d1.path}%")).group_by(Unit.code, OfficerStatus.level)).all()
    unit = next(u for u, _lvl, n in small if 0 < n < 5)
    res = _response(movement(app, c, "custom", "2026-09-01", "2026-11-18", {"warn-f-unit": unit}))
    cells = _cells(res["warn-movement"]["children"])
    assert HIDDEN in cells
    assert all(x in ("–", HIDDEN) or int(x.replace(",", "")) >= 5 for x in cells), cells
    summary = json.dumps(res["warn-movement"], ensure_ascii=False)
    assert not any(f" {n} 人" in summary for n in range(1, 5))
    manager = _response(movement(app, as_user("manager_d1"), "custom", "2026-09-01", "2026-11-18",
                                 {"warn-f-unit": unit}))
    assert any(x in ("1", "2", "3", "4") for x in _cells(manager["warn-movement"]["children"]))


def test_wh014_counts_map_and_movement_come_in_one_answer_redrawn_by_what_changed(app, as_user):
    """One request when the page opens (no change named: all three); afterwards each part only when an
    input it follows changed: a period the movement alone, a colour the counts and the movement, a unit all."""
    c = as_user("manager_d1")
    parts = {"counts": "warn-counts", "map": "warn-map", "movement": "warn-movement"}

    def drawn(res):
        return {name for name, ident in parts.items() if ident in _response(res)}

    key = next(k for k in app.callback_map if k.startswith(SUMMARY))
    first = dash_callback(c, key, _filters() + [{"id": i, "property": "value", "value": v} for i, v in
                                                (("warn-move-period", "quarter"), ("warn-move-from", None),
                                                 ("warn-move-to", None))], [], changed=[], outputs_list=_outputs(key))
    assert drawn(first) == {"counts", "map", "movement"}
    assert drawn(summary(app, c, period="year", changed="warn-move-period")) == {"movement"}
    assert drawn(summary(app, c, {"warn-f-levels": ["red"]}, changed="warn-f-levels")) == {"counts", "movement"}
    assert drawn(summary(app, c, {"warn-f-sex": "male"}, changed="warn-f-sex")) == {"counts", "map", "movement"}
    other = _district(app, "manager_d2")
    assert summary(app, c, {"warn-f-unit": other.code}, period="year", changed="warn-move-period").status_code == 403
