"""/admin/rules over HTTP: only admins edit, see the impact and publish; forged and invalid drafts are
refused cleanly (never a 500); a published version is the one /warnings names."""
import json
import time

import pytest
from sqlalchemy import select

from models import rule_versions as rv
from models.db import session_scope
from models.schema import AuditLog, RuleVersion
from models.vocab import LEVEL_WORDS
from tests.conftest import AS_OF, PASSWORD, TODAY
from tests.helpers import csrf_cookie, dash_callback, login

LOAD = ("..rules-current.children...rules-checks.rowData...rules-rules.rowData...rules-note.value...rules-draft-title.children"
        "...rules-draft-id.data...rules-versions.children...rules-republish-pick.options...rules-new-draft.disabled"
        "...rules-discard.disabled...rules-save.disabled...rules-impact-run.disabled...rules-publish.disabled..")
SAVE = "..rules-save-result.children...rules-refresh.data.."
NEW = "..rules-refresh.data...rules-save-result.children.."


@pytest.fixture(scope="module")
def url(new_db_url):
    from ingest.demo import build_demo

    url = new_db_url("rules-http")
    build_demo(url, scale="tiny", seed=19, as_of=AS_OF, password=PASSWORD)
    return url


@pytest.fixture(scope="module")
def rules_app(url, tmp_path_factory):
    from portal.app import create_app
    from portal.config import Config

    cfg = Config(database_url=url, secret_key="rules-secret", testing=True, cache_dir=str(tmp_path_factory.mktemp("cache")),
                 login_rate_limit="1000 per minute", today=TODAY, login_delay_seconds=60)
    return create_app(cfg)


def _as(app, username):
    c = app.server.test_client()
    assert login(c, username, PASSWORD).status_code == 302
    return c


def _load(c):
    return dash_callback(c, LOAD, [{"id": "rules-refresh", "property": "data", "value": 0}])


def _new_draft(c):
    return dash_callback(c, NEW, [{"id": "rules-new-draft", "property": "n_clicks", "value": 1}],
                         [{"id": "rules-refresh", "property": "data", "value": 0}])


def _form(draft_id, rules, checks, note="note"):
    return [{"id": "rules-draft-id", "property": "data", "value": draft_id},
            {"id": "rules-rules", "property": "rowData", "value": rules},
            {"id": "rules-checks", "property": "rowData", "value": checks},
            {"id": "rules-note", "property": "value", "value": note}]


def _save(c, draft_id, rules, checks, note="note"):
    return dash_callback(c, SAVE, [{"id": "rules-save", "property": "n_clicks", "value": 1}],
                         _form(draft_id, rules, checks, note) + [{"id": "rules-refresh", "property": "data", "value": 0}])


def _job(c, first_output: str, outputs: list[tuple[str, str]], inputs: list[dict], state: list[dict], timeout=90):
    """A background callback the way the renderer runs it: start, then poll until it answers."""
    key = next(d["output"] for d in c.get("/_dash-dependencies").get_json() if d["output"].startswith(f"..{first_output}."))
    body = {"output": key, "outputs": [{"id": i, "property": p} for i, p in outputs], "inputs": inputs, "state": state,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    headers = {"X-CSRFToken": csrf_cookie(c), "Content-Type": "application/json"}
    started = c.post("/_dash-update-component", data=json.dumps(body), headers=headers)
    if started.status_code != 200 or "cacheKey" not in (started.get_json() or {}):
        return started
    handles = started.get_json()
    deadline = time.time() + timeout
    while time.time() < deadline:
        res = c.post("/_dash-update-component", data=json.dumps(body), headers=headers,
                     query_string={"cacheKey": handles["cacheKey"], "job": handles["job"]})
        if res.status_code not in (200, 204) or "response" in (res.get_json(silent=True) or {}):
            return res
        time.sleep(0.3)
    raise AssertionError("the background job did not finish")


def _impact(c, draft_id, rules, checks):
    return _job(c, "rules-impact", [("rules-impact", "children"), ("rules-save-result", "children")],
                [{"id": "rules-impact-run", "property": "n_clicks", "value": 1}], _form(draft_id, rules, checks))


def _publish(c, draft_id, rules, checks):
    return _job(c, "rules-publish-result", [("rules-publish-result", "children"), ("rules-refresh", "data"),
                                            ("rules-impact", "children")],
                [{"id": "rules-publish", "property": "n_clicks", "value": 1}],
                _form(draft_id, rules, checks) + [{"id": "rules-refresh", "property": "data", "value": 0}])


def _draft_rows(url):
    with session_scope(url) as s:
        d = rv.draft(s)
        rules, checks = rv.editable_rows(d.body)
        return d.id, rules, checks


@pytest.mark.parametrize("username", ["manager_d1", "leader_d1", "officer", "counsellor_d1", "auditor"])
def test_adr001_non_admins_are_refused_even_with_forged_requests(rules_app, url, username):
    c = _as(rules_app, username)
    assert c.get("/admin/rules").status_code in (200, 302)  # the page frame says "no access"; the data never comes
    assert _load(c).status_code == 403
    assert _new_draft(c).status_code == 403
    with session_scope(url) as s:
        d = rv.new_draft(s, None)
        rules, checks = rv.editable_rows(d.body)
        draft_id = d.id
    assert _save(c, draft_id, rules, checks).status_code == 403
    assert _impact(c, draft_id, rules, checks).status_code == 403
    assert _publish(c, draft_id, rules, checks).status_code == 403
    with session_scope(url) as s:
        assert rv.in_force(s).version == "warning_v2"  # nothing was published
        assert s.get(RuleVersion, draft_id).status == "draft"


def test_adr002_invalid_drafts_are_refused_with_a_clear_message_and_nothing_saved(rules_app, url):
    admin = _as(rules_app, "admin")
    assert _new_draft(admin).status_code == 200
    draft_id, rules, checks = _draft_rows(url)
    bad = [dict(r, threshold="很高") if r["key"] == "bp_grade3#0" else r for r in checks]
    res = _save(admin, draft_id, rules, bad)
    assert res.status_code == 200
    text = json.dumps(res.get_json()["response"], ensure_ascii=False)
    assert "未通过校验" in text and "bp_grade3 · sbp · threshold：须为数字" in text
    wrong = [dict(r, level="purple") if r["rule"] == "bp_grade2" else r for r in rules]
    assert "bp_grade2 · level" in json.dumps(_save(admin, draft_id, wrong, checks).get_json(), ensure_ascii=False)
    with session_scope(url) as s:
        body = s.get(RuleVersion, draft_id).body
        assert body["rules"][0]["checks"][0]["threshold"] == 180
        assert s.scalar(select(AuditLog).where(AuditLog.action == "rules_draft_refused", AuditLog.username == "admin"))
    # forged: a text longer than any control sends, a draft id that is the version in force
    huge = [dict(r, text_zh="长" * 5000) for r in checks]
    assert _save(admin, draft_id, rules, huge).status_code == 403
    with session_scope(url) as s:
        published = s.scalar(select(RuleVersion.id).where(RuleVersion.status == "published"))
    res = _save(admin, published, rules, checks)
    assert res.status_code == 200 and "已不存在" in json.dumps(res.get_json(), ensure_ascii=False)
    with session_scope(url) as s:
        assert s.scalar(select(RuleVersion.status).where(RuleVersion.id == published)) == "published"
    # the grid shows and picks a level by its word; it is saved as its code
    worded = [dict(r, level=LEVEL_WORDS["orange"][0]) if r["rule"] == "prediabetes" else r for r in rules]
    res = _save(admin, draft_id, worded, checks)
    assert "rules-saved" in json.dumps(res.get_json(), ensure_ascii=False)
    with session_scope(url) as s:
        saved = next(r for r in s.get(RuleVersion, draft_id).body["rules"] if r["id"] == "prediabetes")
        assert saved["level"] == "orange"


def test_adr003_admin_sees_the_impact_publishes_and_warnings_names_the_version(rules_app, url):
    admin = _as(rules_app, "admin")
    _new_draft(admin)
    draft_id, rules, checks = _draft_rows(url)
    lower = [dict(r, threshold=120) if r["key"] == "bp_grade1#0" else r for r in checks]
    res = _impact(admin, draft_id, rules, lower)
    assert res.status_code == 200
    text = json.dumps(res.get_json()["response"], ensure_ascii=False)
    assert "的预警等级将改变" in text and "rules-impact-grid" in text
    with session_scope(url) as s:
        saved = next(r for r in s.get(RuleVersion, draft_id).body["rules"] if r["id"] == "bp_grade1")
        assert saved["checks"][0]["threshold"] == 120  # the impact saved the draft first
        impact_row = s.scalar(select(AuditLog).where(AuditLog.action == "rules_impact"))
        assert impact_row is not None and impact_row.detail["changed"] > 0
    res = _publish(admin, draft_id, rules, lower)
    assert res.status_code == 200
    assert "已发布规则版本" in json.dumps(res.get_json()["response"], ensure_ascii=False)
    with session_scope(url) as s:
        label = rv.in_force(s).version
        assert s.scalar(select(AuditLog).where(AuditLog.action == "rules_published")).detail["number"] > 1
    badge = dash_callback(_as(rules_app, "manager_d1"), "warn-rules-version.children",
                          [{"id": "warn-rules-version", "property": "id", "value": "warn-rules-version"}])
    assert badge.status_code == 200 and label in json.dumps(badge.get_json(), ensure_ascii=False)
    loaded = json.dumps(_load(admin).get_json(), ensure_ascii=False)
    assert label in loaded and "已停用" in loaded


def test_adr004_the_overview_tells_the_rule_change_apart(rules_app):
    """After test_adr003's publish: the level changes since the quarter start name the part the rules
    made, exactly for an admin, as a mark only in a leader's suppressed view."""
    key = "..home-kpis.children...home-scope.children.."
    inputs = [{"id": "home-url", "property": "search", "value": ""}]
    admin = json.dumps(dash_callback(_as(rules_app, "admin"), key, inputs).get_json(), ensure_ascii=False)
    assert "其中规则变更" in admin
    leader = dash_callback(_as(rules_app, "leader"), key, inputs)
    assert leader.status_code == 200
    text = json.dumps(leader.get_json(), ensure_ascii=False)
    assert "其中规则变更" not in text
