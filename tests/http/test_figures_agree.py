"""Issue 21: each headline figure has one definition, and every page that shows it shows the same number.
Each figure is computed here through the callbacks of every page that shows it (over HTTP)."""
import json
import re

import pytest

from tests.helpers import callback_key, dash_callback

FILTER_IDS = ("warn-f-levels", "warn-f-confirmed", "warn-f-rule", "warn-f-unit", "warn-f-age", "warn-f-sex",
              "warn-f-post", "warn-f-exam", "warn-f-followup")


def _find(node, component_id):
    if isinstance(node, dict):
        if isinstance(node.get("props"), dict) and node["props"].get("id") == component_id:
            return node
        return next((f for f in (_find(v, component_id) for v in node.values()) if f is not None), None)
    if isinstance(node, list):
        return next((f for f in (_find(v, component_id) for v in node) if f is not None), None)
    return None


def _text(node) -> str:
    """Every string inside a component, joined."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        return " ".join(_text(v) for k, v in node.items() if k in ("props", "children"))
    if isinstance(node, list):
        return " ".join(_text(v) for v in node)
    return ""


def _number(text: str, after: str = "") -> int:
    m = re.search(re.escape(after) + r"\s*([\d,]+)", text)
    assert m, (after, text[:300])
    return int(m.group(1).replace(",", ""))


def workbench_kpis(c) -> dict:
    res = dash_callback(c, callback_key(c, "wb-kpis.children"),
                        [{"id": "wb-url", "property": "pathname", "value": "/workbench"},
                         {"id": "fu-changed", "property": "data", "value": 0}])
    assert res.status_code == 200
    body = res.get_json()["response"]["wb-kpis"]["children"]
    return {k: int(re.findall(r"[\d,]+", _text(_find(body, f"wb-kpi-{k}")))[0].replace(",", ""))
            for k in ("queue", "mine", "overdue", "scope-overdue")}


def workbench_list_total(c, key) -> int:
    res = dash_callback(c, callback_key(c, f"wb-{key}-body.children"),
                        [{"id": f"wb-{key}-prev", "property": "n_clicks", "value": None},
                         {"id": f"wb-{key}-next", "property": "n_clicks", "value": None},
                         {"id": "fu-changed", "property": "data", "value": 0}],
                        [{"id": f"wb-{key}-page", "property": "data", "value": 0}])
    assert res.status_code == 200
    text = res.get_json()["response"][f"wb-{key}-count"]["children"]
    return _number(text, "共")


def warnings_count(c, values: dict, level: str) -> int:
    res = dash_callback(c, callback_key(c, "warn-counts.children"),  # with the map and the movement: one callback
                        [{"id": i, "property": "value", "value": values.get(i)} for i in FILTER_IDS] +
                        [{"id": i, "property": "value", "value": None}
                         for i in ("warn-move-period", "warn-move-from", "warn-move-to")])
    assert res.status_code == 200
    card = _find(res.get_json()["response"]["warn-counts"]["children"], f"warn-count-{level}")
    return int(card["props"]["children"].replace(",", ""))


def warnings_list_total(c, values: dict) -> int:
    grid = {"type": "warn-grid", "v": "x"}
    res = dash_callback(c, callback_key(c, "warn-list-count.children"),
                        [[{"id": grid, "property": "getRowsRequest", "value": {"startRow": 0, "endRow": 100}}]],
                        [{"id": i, "property": "value", "value": values.get(i)} for i in FILTER_IDS],
                        changed=[json.dumps(grid) + ".getRowsRequest"],
                        outputs_list=[[{"id": grid, "property": "getRowsResponse"}],
                                      {"id": "warn-list-count", "property": "children"}])
    assert res.status_code == 200
    return _number(res.get_json()["response"]["warn-list-count"]["children"], "共")


def overview(c) -> dict:
    res = dash_callback(c, callback_key(c, "home-kpis.children"), [{"id": "home-url", "property": "search", "value": ""}])
    assert res.status_code == 200
    body = res.get_json()["response"]["home-kpis"]["children"]
    followups = _text(_find(body, "home-card-followups"))
    red = _text(_find(body, "home-card-red"))
    return {"overdue": _number(followups, "逾期"), "red": int(re.findall(r"[\d,]+", red)[0].replace(",", ""))}


@pytest.mark.parametrize("username", ["manager", "manager_d1", "manager_d2"])
def test_num001_red_needing_action_is_one_number_everywhere(as_user, username):
    """The workbench card, its queue, and the /warnings list the card links to agree."""
    c = as_user(username)
    kpi = workbench_kpis(c)["queue"]
    values = {"warn-f-levels": ["red"], "warn-f-followup": "needs_action"}
    assert kpi == workbench_list_total(c, "queue") == warnings_count(c, values, "red") == \
        warnings_list_total(c, values)
    assert kpi > 0 or username != "manager"


@pytest.mark.parametrize("username", ["manager", "manager_d1"])
def test_num002_overdue_followups_agree_and_say_whose(as_user, username):
    """逾期跟进: the workbench's "in my scope" card and the overview's open follow-ups card count the
    same follow-ups; the manager's own overdue ones are a part of them, labelled as such."""
    c = as_user(username)
    kpis = workbench_kpis(c)
    assert kpis["scope-overdue"] == overview(c)["overdue"]
    assert kpis["overdue"] <= kpis["scope-overdue"]
    assert kpis["mine"] == workbench_list_total(c, "mine")


def test_num003_red_officers_agree_between_overview_and_warnings(as_user):
    c = as_user("manager")
    red = overview(c)["red"]
    assert red == warnings_count(c, {"warn-f-levels": ["red"]}, "red") == warnings_list_total(c, {"warn-f-levels": ["red"]})


# --- 活动日均（按已进行天数）: models.campaigns.members.daily_average ------------------------------------
def _daily_average_after_label(text: str) -> int:
    return _number(text, "活动日均（按已进行天数）")


def campaigns_mine_daily_averages(c) -> dict[int, int]:
    res = dash_callback(c, "campaigns-mine.children", [{"id": "campaigns-url", "property": "pathname", "value": "/campaigns"},
                                                       {"id": "campaigns-refresh", "property": "data", "value": 0}])
    assert res.status_code == 200
    out = {}
    for node in _all_with_type(res.get_json()["response"]["campaigns-mine"]["children"], "mine-daily-average"):
        out[node["props"]["id"]["index"]] = int(node["props"]["children"].replace(",", ""))
    return out


def me_portrait_daily_averages(c) -> dict[int, int]:
    res = dash_callback(c, "..pt-indicators.children...pt-history.children...pt-care.children..",
                        [{"id": "pt-key", "property": "data", "value": ""}])
    assert res.status_code == 200
    items = _all_with_type(res.get_json()["response"]["pt-care"]["children"], "pt-campaign")
    return {n["props"]["id"]["index"]: _daily_average_after_label(_text(n)) for n in items if "活动日均" in _text(n)}


def campaign_page_my_daily_average(c, campaign_id: int) -> int:
    res = dash_callback(c, "campaign-individuals.children",
                        [{"id": "campaign-url", "property": "pathname", "value": f"/campaigns/{campaign_id}"},
                         {"id": "campaign-hide-saved", "property": "data", "value": 0}])
    assert res.status_code == 200
    body = res.get_json()["response"]["campaign-individuals"]["children"]
    assert "活动日均（按已进行天数）" in _text(body)
    mine = [r for r in _all_with_class(body, "table-primary")]
    assert len(mine) == 1
    cell = _all_with_class(mine[0], "campaign-daily-average")[0]
    return int(cell["props"]["children"].replace(",", ""))


def _all_with_type(node, kind: str) -> list:
    out = []
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), dict) and props["id"].get("type") == kind:
            out.append(node)
        for v in node.values():
            out += _all_with_type(v, kind)
    elif isinstance(node, list):
        for v in node:
            out += _all_with_type(v, kind)
    return out


def _all_with_class(node, cls: str) -> list:
    out = []
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and cls in (props.get("className") or "").split():
            out.append(node)
        for v in node.values():
            out += _all_with_class(v, cls)
    elif isinstance(node, list):
        for v in node:
            out += _all_with_class(v, cls)
    return out


def test_num004_campaign_daily_average_is_one_number_everywhere(as_user):
    """活动日均（按已进行天数）: the officer's /campaigns card, the campaign card on /me and the officer's own
    row on the campaign page show the same number, labelled the same way."""
    c = as_user("officer")
    mine = campaigns_mine_daily_averages(c)
    portrait = me_portrait_daily_averages(c)
    assert portrait, "the officer has a steps campaign with activity in the demo"
    for cid, value in portrait.items():
        assert value == mine[cid] == campaign_page_my_daily_average(c, cid)


# --- 较季度初: measured from the real quarter start --------------------------------------------------
def test_num005_change_since_quarter_start_is_measured_from_the_quarter_start(as_user, demo_url):
    """Today is 2026-11-18: the card says 较季度初（2026-10-01）, and its change is today's count minus the
    colours in force at 0:00 on 1 October (the demo recorded them on the eve, 30 September)."""
    import datetime as dt

    from models.db import session_scope
    from models.overview import levels_at

    c = as_user("manager")
    res = dash_callback(c, callback_key(c, "home-kpis.children"), [{"id": "home-url", "property": "search", "value": ""}])
    body = res.get_json()["response"]["home-kpis"]["children"]
    note = _text(_find(body, "home-quarter-note"))
    assert "2026-10-01" in note and "2026-09-30" in note
    with session_scope(demo_url) as s:
        before = levels_at(s, None, dt.datetime(2026, 10, 1))
    for level in ("red", "orange", "yellow", "green"):
        card = _text(_find(body, f"home-card-{level}"))
        now = int(re.findall(r"[\d,]+", card)[0].replace(",", ""))
        m = re.search(r"较季度初（2026-10-01）([+-]?[\d,]+)", card)
        assert m, card
        assert int(m.group(1).replace(",", "")) == now - before[level]


def test_num006_history_after_the_quarter_start_says_so(demo_url):
    """On a day whose quarter began before the warning history (2026-08-25: quarter start 1 July, history
    from 19 August) the overview shows no change rather than one measured from a later date."""
    import datetime as dt

    from models.db import session_scope
    from models.overview import leader_overview

    with session_scope(demo_url) as s:
        o = leader_overview(s, None, dt.date(2026, 8, 25))
    assert o["quarter_start"] == "2026-07-01" and o["history_start"] == "2026-08-19"
    assert o["level_change"] is None and o["quarter_start_recorded"] is None


# --- the overview's monthly chart: red and orange apart, no data is not zero ---------------------------
@pytest.mark.parametrize("username", ["manager", "leader"])
def test_num007_monthly_chart_has_red_and_orange_and_gaps_for_no_data(as_user, username):
    c = as_user(username)
    res = dash_callback(c, callback_key(c, "home-kpis.children"), [{"id": "home-url", "property": "search", "value": ""}])
    body = res.get_json()["response"]["home-kpis"]["children"]
    fig = _find(body, "home-monthly")["props"]["figure"]
    names = [t["name"] for t in fig["data"]]
    assert names == ["红色", "橙色"], names
    months = fig["data"][0]["x"]
    assert len(months) == 12 and months[-1] == "2026-11"
    # the tiny demo's history begins 2026-08-19: the months before are gaps marked 无数据, not zeros
    empty = [m for i, m in enumerate(months) if fig["data"][0]["y"][i] is None and fig["data"][1]["y"][i] is None]
    assert empty[:7] == ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    marked = {a["x"] for a in fig["layout"]["annotations"] if a["text"] == "无数据"}
    assert marked == {"2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"}
    if username == "manager":  # exact counts: red + orange of this month is the overview's red + orange
        o = overview(c)
        assert fig["data"][0]["y"][-1] == o["red"]
    caption = _text(_find(body, "home-monthly-caption"))
    assert "每月月末" in caption and "无数据" in caption
