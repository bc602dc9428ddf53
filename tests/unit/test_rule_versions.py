"""The warning rules in the database (issue 18): the format check, the seed, the impact of a draft,
publish -> recompute -> history marked as a rule change -> movement counts it apart."""
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from models import overview
from models import rule_impact as ri
from models import rule_versions as rv
from models import warnings_queries as wq
from models.db import init_db, session_scope
from models.schema import AuditLog, Officer, OfficerStatus, RuleVersion, WarningHistory
from models.snapshot import recompute_officers
from models.vocab import LEVELS
from models.warning import DEFAULT_RULES_PATH
from tests.conftest import AS_OF, PASSWORD

V1 = DEFAULT_RULES_PATH.with_name("warning_v1.json")


@pytest.fixture(scope="module")
def url(new_db_url):
    from ingest.demo import build_demo

    url = new_db_url("rules")
    build_demo(url, scale="tiny", seed=17, as_of=AS_OF, password=PASSWORD)
    return url


def _body():
    return json.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))


def _set(rows, key, **values):
    for r in rows:
        if r.get("key", r.get("rule")) == key:
            r.update(values)
            return rows
    raise AssertionError(key)


def test_rul001_bundled_rule_files_pass_the_rule_model():
    for path in (DEFAULT_RULES_PATH, V1):
        assert rv.check_body(json.loads(path.read_text(encoding="utf-8"))) == []


def test_rul002_bad_values_get_clear_messages_in_both_languages():
    rules, checks = rv.editable_rows(_body())
    _set(checks, "bp_grade3#0", threshold="abc")
    _set(checks, "fpg_severe#0", text_zh="长" * 300)
    _set(rules, "bp_grade2", level="purple")
    body, problems = rv.apply_rows(_body(), rules, checks)
    assert problems == []
    found = rv.check_body(body)
    en = " | ".join(e for _zh, e in found)
    assert "bp_grade3 · sbp · threshold: must be a number" in en
    assert "fpg_severe · fpg · text_zh: too long (at most 200 characters)" in en
    assert "bp_grade2 · level: must be one of" in en
    assert all(zh and "：" in zh for zh, _en in found)

    rules, checks = rv.editable_rows(_body())
    body, _ = rv.apply_rows(_body(), rules, _set(checks, "bp_grade3#0", threshold=1000))
    (zh, en), = rv.check_body(body)
    assert "threshold 1000 is outside the item's plausible range" in en and "超出该指标的合理范围" in zh

    rules, checks = rv.editable_rows(_body())
    body, _ = rv.apply_rows(_body(), rules, _set(checks, "bp_grade3#0", text_en="SBP {valu} mmHg"))
    (zh, en), = rv.check_body(body)
    assert "unknown placeholders" in en and "valu" in en

    # a row the draft does not have is refused, not ignored
    _body2, problems = rv.apply_rows(_body(), [{"rule": "no_such_rule", "level": "red"}], [{"key": "bp_grade3#9"}])
    assert len(problems) == 2


def test_rul003_the_file_seeds_the_first_version_only(new_db_url, monkeypatch):
    url = new_db_url("rules-seed")
    init_db(url)
    monkeypatch.setenv("PORTAL_RULES_FILE", str(V1))
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(RuleVersion)) == 0
        assert rv.in_force(s).version == "warning_v1"  # seeded from the file the variable names
        v = s.scalar(select(RuleVersion))
        assert (v.number, v.status, v.label) == (1, "published", "warning_v1")
        assert s.scalar(select(AuditLog).where(AuditLog.action == "rules_seeded"))
    monkeypatch.setenv("PORTAL_RULES_FILE", str(DEFAULT_RULES_PATH))
    with session_scope(url) as s:  # the table is not empty: the variable no longer matters
        assert rv.in_force(s).version == "warning_v1"
        assert s.scalar(select(func.count()).select_from(RuleVersion)) == 1


def test_rul004_impact_evaluates_the_draft_over_the_snapshot_and_writes_nothing(url):
    with session_scope(url) as s:
        assert rv.in_force(s).version == "warning_v2"  # the demo's recompute seeded it
        d = rv.new_draft(s, None)
        assert (d.number, d.label, d.status, d.based_on) == (2, "rules_v2", "draft", 1)
        assert rv.new_draft(s, None).id == d.id  # one draft at a time
        rules, checks = rv.editable_rows(d.body)
        body, _ = rv.apply_rows(d.body, rules, _set(checks, "bp_grade1#0", threshold=120))
        saved, problems = rv.save_draft(s, d.id, body, "SBP 120 makes yellow")
        assert problems == [] and saved.body["version"] == "rules_v2"
        before = dict(s.execute(select(OfficerStatus.officer_id, OfficerStatus.level)).all())
        data = ri.impact(s, saved.body, AS_OF, names=True, psych=True)
        anonymous = ri.impact(s, saved.body, AS_OF, names=False, psych=False)
        assert dict(s.execute(select(OfficerStatus.officer_id, OfficerStatus.level)).all()) == before
        expected = sum(1 for oid, lvl in before.items() if lvl == "green" and any(
            (st.latest.get("sbp") or {}).get("value", 0) >= 120 for st in [s.get(OfficerStatus, oid)]))
    assert data["changed"] > 0 and data["changed"] >= expected
    assert sum(n for _b, _a, n in data["transitions"]) == data["changed"] == sum(n for *_u, n in data["units"])
    assert ["green", "yellow", expected] in data["transitions"] or expected == 0
    assert all(r["name"] and r["badge"] for r in data["rows"]) and len(data["rows"]) == data["changed"]
    assert anonymous["rows"] == []  # names only for the roles that may see them


def test_rul005_publish_recomputes_marks_history_and_movement_counts_it_apart(url):
    day = AS_OF + dt.timedelta(days=1)  # a day with no change of data: every move that day is the rules'
    with session_scope(url) as s:
        d = rv.draft(s)
        preview = ri.impact(s, d.body, day, names=False, psych=True)
        before_rows = s.scalar(select(func.count()).select_from(WarningHistory))
        seen = []
        result = ri.publish(s, d.id, None, day, progress=lambda done, total: seen.append((done, total)))
        assert result["label"] == "rules_v2" and result["previous"] == 1
        assert seen and seen[-1][0] == seen[-1][1]  # the progress reached the end
        assert rv.in_force(s).version == "rules_v2"
        assert {v["number"]: v["status"] for v in rv.versions(s)} == {1: "retired", 2: "published"}
        new_rows = s.execute(select(WarningHistory.cause, WarningHistory.rules_version, WarningHistory.level,
                                    WarningHistory.previous_level)
                             .where(WarningHistory.changed_at >= dt.datetime.combine(day, dt.time.min))).all()
        assert s.scalar(select(func.count()).select_from(WarningHistory)) - before_rows == preview["changed"]
        assert len(new_rows) == preview["changed"] > 0
        assert all(r.cause == "rules" and r.rules_version == "rules_v2" for r in new_rows)
        moves = {}
        for r in new_rows:
            moves[(r.previous_level, r.level)] = moves.get((r.previous_level, r.level), 0) + 1
        assert moves == {(b, a): n for b, a, n in preview["transitions"]}  # the preview was right
        assert set(s.scalars(select(OfficerStatus.rules_version).distinct())) == {"rules_v2"}
        after = wq.movement(s, None, day, day, as_of=day)
        overview_part = overview.rule_change_by_level(s, None, dt.datetime.combine(day, dt.time.min))
    # the overview's change since the quarter start names the part the rules made
    t = preview["transitions"]
    assert overview_part == {lvl: sum(n for _b, a, n in t if a == lvl) - sum(n for b, _a, n in t if b == lvl) for lvl in LEVELS}
    assert any(overview_part.values())
    # the officers the new rules moved are a rule change, not officers getting better or worse
    assert after["rule_change"] == preview["changed"]
    assert after["worsened"] == after["improved"] == 0
    assert sum(n for _b, _a, n in after["rule_matrix"]) == preview["changed"]


def test_rul006_a_later_ingest_reads_the_version_in_force_not_the_file(url, monkeypatch):
    monkeypatch.setenv("PORTAL_RULES_FILE", str(V1))  # the old trap: a variable left pointing elsewhere
    with session_scope(url) as s:
        some = list(s.scalars(select(Officer.id).where(Officer.active).order_by(Officer.id).limit(20)))
        recompute_officers(s, some, as_of=AS_OF + dt.timedelta(days=1))
        assert set(s.scalars(select(OfficerStatus.rules_version).where(OfficerStatus.officer_id.in_(some)))) == {"rules_v2"}


def test_rul007_publishing_an_older_version_again_is_a_new_publish(url):
    with session_scope(url) as s:
        result = ri.republish(s, 1, None, AS_OF + dt.timedelta(days=2))
        assert (result["number"], result["label"], result["previous"]) == (3, "rules_v3", 2)
        statuses = {v["number"]: v["status"] for v in rv.versions(s)}
        assert statuses == {1: "retired", 2: "retired", 3: "published"}
        body = s.scalar(select(RuleVersion.body).where(RuleVersion.number == 3))
        assert body["rules"] == _body()["rules"]  # the thresholds of v1 again
        with pytest.raises(LookupError):
            ri.republish(s, 3, None, AS_OF + dt.timedelta(days=2))  # the version in force is no retired one
        with pytest.raises(LookupError):
            ri.republish(s, 1, None, AS_OF + dt.timedelta(days=2))  # a replay: these rules are in force already
        s.rollback()
