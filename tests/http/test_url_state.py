"""/warnings keeps its filters and drill position in the address bar (issue 21): the page reads them
on every load, writes them back on each change, refuses a forged one, names what it could not apply."""
import json

from tests.helpers import callback_key, dash_callback, find_component, page_layout

FILTER_IDS = ("warn-f-levels", "warn-f-confirmed", "warn-f-rule", "warn-f-unit", "warn-f-age", "warn-f-sex",
              "warn-f-post", "warn-f-exam", "warn-f-followup")


def _url(client, values=None, trigger="warn-f-levels", extra=None, state=None):
    values = values or {}
    extra = extra or {}
    key = callback_key(client, "warn-url.search")
    inputs = [{"id": i, "property": "value", "value": values.get(i)} for i in FILTER_IDS] + [
        {"id": "warn-map", "property": "clickData", "value": extra.get("map")},
        {"id": "warn-tree", "property": "clickData", "value": extra.get("tree")},
        {"id": "warn-up", "property": "n_clicks", "value": extra.get("up")},
        {"id": "warn-reset", "property": "n_clicks", "value": extra.get("reset")}]
    state = state or {}
    states = [{"id": "warn-map-codes", "property": "data", "value": state.get("codes")},
              {"id": "warn-parent", "property": "data", "value": state.get("parent")},
              {"id": "warn-move-query", "property": "data", "value": state.get("period")}]
    prop = {"warn-map": "clickData", "warn-tree": "clickData", "warn-up": "n_clicks", "warn-reset": "n_clicks"}
    return dash_callback(client, key, inputs, states, changed=[f"{trigger}.{prop.get(trigger, 'value')}"])


def test_url001_every_load_applies_the_links_filters(as_user):
    c = as_user("manager")
    for _ in range(2):  # the same link twice in one session: both loads keep the unit and the colour
        tree = page_layout(c, "/warnings", "?level=red&unit=NJ-D1")
        assert find_component(tree, "warn-f-unit")["value"] == "NJ-D1"
        assert find_component(tree, "warn-f-levels")["value"] == ["red"]
        assert "NJ-D1" in {o["value"] for o in find_component(tree, "warn-f-unit")["options"]}
        active = json.dumps(find_component(tree, "warn-active"), ensure_ascii=False)
        assert "红色" in active and "东城分局" in active
    tree = page_layout(c, "/warnings", "?level=red,orange&followup=overdue&sex=female")
    assert find_component(tree, "warn-f-levels")["value"] == ["red", "orange"]
    assert find_component(tree, "warn-f-followup")["value"] == "overdue"
    assert find_component(tree, "warn-f-sex")["value"] == "female"


def test_url002_a_unit_outside_the_scope_is_named_not_silently_dropped(as_user):
    c = as_user("manager_d1")
    tree = page_layout(c, "/warnings", "?level=red&unit=NJ-D2")
    assert find_component(tree, "warn-f-unit")["value"] is None
    assert find_component(tree, "warn-f-levels")["value"] == ["red"]
    refused = json.dumps(find_component(tree, "warn-refused"), ensure_ascii=False)
    assert "单位" in refused and "权限范围" in refused


def test_url003_changes_and_drills_are_written_to_the_address_bar(as_user):
    c = as_user("manager")
    res = _url(c, {"warn-f-levels": ["orange", "red"], "warn-f-unit": "NJ-D1"}, state={"period": "period=year"})
    assert res.status_code == 200
    assert res.get_json()["response"]["warn-url"]["search"] == "?level=red%2Corange&unit=NJ-D1&period=year"
    res = _url(c, {"warn-f-levels": ["red"]}, trigger="warn-map",
               extra={"map": {"points": [{"customdata": "NJ-D2", "curveNumber": 0}]}})
    assert res.get_json()["response"]["warn-url"]["search"] == "?level=red&unit=NJ-D2"
    # up one level from a district returns to the top of the scope: no unit in the address
    res = _url(c, {"warn-f-unit": "NJ-D2"}, trigger="warn-up", extra={"up": 1}, state={"parent": "NJ"})
    assert res.get_json()["response"]["warn-url"]["search"] == "?"
    res = _url(c, {"warn-f-unit": "NJ-D2", "warn-f-sex": "male"}, trigger="warn-reset", extra={"reset": 1})
    assert res.get_json()["response"]["warn-url"]["search"] == "?"


def test_url004_a_forged_drill_outside_the_scope_is_refused(as_user):
    c = as_user("manager_d1")
    res = _url(c, {}, trigger="warn-tree", extra={"tree": {"points": [{"customdata": "NJ-D2"}]}})
    assert res.status_code == 403
    res = _url(c, {"warn-f-unit": "NJ-D2"})
    assert res.status_code == 403
    # up from the top of a district scope stays at the top
    res = _url(c, {"warn-f-unit": "NJ-D1"}, trigger="warn-up", extra={"up": 1}, state={"parent": "NJ"})
    assert res.status_code == 200 and res.get_json()["response"]["warn-url"]["search"] == "?"


def test_url005_dropdowns_and_grids_speak_the_users_language(as_user):
    tree = page_layout(as_user("manager"), "/warnings", "?level=red")
    labels = find_component(tree, "warn-f-unit")["labels"]
    assert labels["selected_count"] == "已选 {num_selected} 项" and labels["no_options_found"] == "没有匹配的选项"


def test_url006_a_leaders_yellow_link_says_why_the_list_is_empty(as_user):
    """The overview's yellow card links to /warnings?level=yellow: a leader is told that lists name red and
    orange officers only, not "共 0 人"."""
    c = as_user("leader")
    grid = {"type": "warn-grid", "v": "x"}
    res = dash_callback(c, callback_key(c, "warn-list-count.children"),
                        [[{"id": grid, "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 100}}]],
                        [{"id": i, "property": "value", "value": ["yellow"] if i == "warn-f-levels" else None}
                         for i in FILTER_IDS],
                        changed=[json.dumps(grid) + ".getRowsRequest"],
                        outputs_list=[[{"id": grid, "property": "getRowsResponse"}],
                                      {"id": "warn-list-count", "property": "children"}])
    body = res.get_json()["response"]
    assert "只列红色、橙色" in body["warn-list-count"]["children"]
    assert body["warn-list-count"]["children"] != "共 0 人"
