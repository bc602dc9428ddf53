"""Forged requests against the portrait callbacks and the A4 report route.

Every callback takes a key from the browser ("" = my own record, else a badge);
these tests send what any client could and check who gets what."""
import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from models.db import session_scope
from models.schema import AuditLog, Officer, OfficerStatus, Unit, User
from tests.command_post import command_officer
from tests.helpers import dash_callback

FRAME = "portrait-body.children"
HEADER = "pt-header.children"
RECORD = "..pt-indicators.children...pt-history.children...pt-care.children.."
TRENDS = "pt-trends.children"


def call(client, output, key, store="pt-key"):
    return dash_callback(client, output, [{"id": store, "property": "data", "value": key}])


def frame(client, key):
    return call(client, FRAME, key, store="portrait-badge")


def text_of(res) -> str:
    return json.dumps(res.get_json(), ensure_ascii=False)


@pytest.fixture(scope="module")
def people(app):
    """Badges the tests need, looked up in the tiny demo force."""
    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        def user(name):
            return s.scalar(select(User).where(User.username == name))

        me = user("officer").officer
        d1, d2 = user("manager_d1").scope_unit.path, user("manager_d2").scope_unit.path

        def officers(path, levels=None, exclude=()):
            q = (select(Officer, OfficerStatus).join(Unit, Officer.unit_id == Unit.id)
                 .join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                 .where(Unit.path.like(f"{path}%"), Officer.id.notin_(exclude)).order_by(Officer.id))
            if levels:
                q = q.where(OfficerStatus.level.in_(levels))
            return s.execute(q).first()

        colleague, colleague_status = officers(d1, exclude=[me.id])
        flagged, flagged_status = officers(d1, ["red", "orange"], exclude=[me.id])
        calm, _ = officers(d1, ["green", "yellow"], exclude=[me.id])
        foreign, _ = officers(d2)
        sbp = (flagged_status.latest.get("sbp") or {}).get("value")
        return {"url": url, "me": me.badge, "me_name": me.name, "colleague": colleague.badge,
                "colleague_name": colleague.name, "flagged": flagged.badge, "flagged_name": flagged.name,
                "flagged_sbp": sbp, "flagged_reasons": flagged_status.reasons, "calm": calm.badge,
                "foreign": foreign.badge, "foreign_name": foreign.name}


def audit_rows(url, action, target):
    with session_scope(url) as s:
        return [(r.username, r.detail) for r in s.scalars(
            select(AuditLog).where(AuditLog.action == action, AuditLog.target == target).order_by(AuditLog.id))]


# --- anonymous ----------------------------------------------------------------------------
@pytest.mark.parametrize("output", [FRAME, HEADER, RECORD, TRENDS])
def test_por301_anonymous_callbacks_get_401(client, people, output):
    store = "portrait-badge" if output == FRAME else "pt-key"
    res = call(client, output, people["me"], store=store)
    assert res.status_code == 401
    assert people["me_name"] not in res.get_data(as_text=True)


def test_por302_anonymous_report_redirects_to_login(client, people):
    for path in ("/me/report", f"/officers/{people['me']}/report"):
        res = client.get(path)
        assert res.status_code == 302 and "/login" in res.headers["Location"]


# --- the officer --------------------------------------------------------------------------
def test_por303_officer_gets_own_full_record(as_user, people):
    c = as_user("officer")
    assert "pt-key" in text_of(frame(c, ""))
    header = call(c, HEADER, "")
    assert header.status_code == 200 and people["me_name"] in text_of(header)
    assert "China-PAR" in text_of(header)
    record = call(c, RECORD, "")
    assert record.status_code == 200
    body = text_of(record)
    assert "pt-ind-bp" in body and "随访记录" not in body          # officers do not see follow-up notes
    trends = call(c, TRENDS, "")
    assert trends.status_code == 200 and "pt-chart-sbp" in text_of(trends)


def test_por304_officer_forging_another_badge_gets_nothing(as_user, people):
    c = as_user("officer")
    res = frame(c, people["colleague"])
    assert res.status_code == 200
    body = text_of(res)
    assert "no-access" in body and people["colleague_name"] not in body and "pt-key" not in body
    for output in (HEADER, RECORD, TRENDS):
        res = call(c, output, people["colleague"])
        assert res.status_code == 403
        assert people["colleague_name"] not in res.get_data(as_text=True)
    refused = c.get(f"/officers/{people['colleague']}/report")
    assert refused.status_code == 403 and 'id="forbidden-title"' in refused.get_data(as_text=True)
    assert "无权访问" in refused.get_data(as_text=True)  # a page in the user's language, not a server's plain text
    denied = audit_rows(people["url"], "view_officer_denied", f"officer:{people['colleague']}")
    assert ("officer", {"role": "officer"}) in denied


def test_por305_officer_own_badge_is_no_shortcut_for_others(as_user, people):
    c = as_user("officer")
    for forged in (None, 12345, ["", people["colleague"]], {"badge": people["colleague"]}, "x" * 500):
        assert call(c, HEADER, forged).status_code == 403
    assert call(c, HEADER, people["me"]).status_code == 200     # their own badge is their own record


# --- managers -----------------------------------------------------------------------------
def test_por306_district_manager_opens_own_district_and_is_audited(as_user, people):
    c = as_user("manager_d1")
    assert "pt-new-followup" in text_of(frame(c, people["colleague"]))
    assert f"/warnings?badge={people['colleague']}&new_followup=1" in text_of(frame(c, people["colleague"]))
    header = call(c, HEADER, people["colleague"])
    assert header.status_code == 200 and people["colleague_name"] in text_of(header)
    record = call(c, RECORD, people["colleague"])
    assert record.status_code == 200 and "随访记录" in text_of(record)
    assert call(c, TRENDS, people["colleague"]).status_code == 200
    sections = [d["section"] for u, d in audit_rows(people["url"], "view_officer", f"officer:{people['colleague']}")
                if u == "manager_d1"]
    assert {"header", "record", "trends"} <= set(sections)


def test_por307_district_manager_refused_outside_district(as_user, people):
    c = as_user("manager_d1")
    body = text_of(frame(c, people["foreign"]))
    assert "no-access" in body and people["foreign_name"] not in body
    for output in (HEADER, RECORD, TRENDS):
        res = call(c, output, people["foreign"])
        assert res.status_code == 403 and people["foreign_name"] not in res.get_data(as_text=True)
    assert c.get(f"/officers/{people['foreign']}/report").status_code == 403


def test_por308_unknown_badge_answered_like_a_foreign_one(as_user):
    c = as_user("manager_d1")
    assert call(c, HEADER, "NO-SUCH").status_code == 403
    assert "no-access" in text_of(frame(c, "NO-SUCH"))


def test_por309_managers_own_record_key_is_refused(as_user):
    # "" means "my own record": a manager has none, and must not get someone else's.
    assert call(as_user("manager"), HEADER, "").status_code == 403


# --- leaders ------------------------------------------------------------------------------
def test_por310_leader_sees_header_without_values(as_user, people):
    c = as_user("leader_d1")
    body = text_of(frame(c, people["flagged"]))
    assert "pt-limited-note" in body and "pt-indicators" not in body and "pt-print" not in body
    res = call(c, HEADER, people["flagged"])
    assert res.status_code == 200
    text = text_of(res)
    assert people["flagged_name"] in text
    for forbidden in ("mmHg", "mmol/L", "µmol/L", "PHQ", "GAD", "China-PAR 10", "建议", "pt-risk"):
        assert forbidden not in text, forbidden
    for reason in people["flagged_reasons"]:
        assert reason["text"] not in text                       # the full texts carry values
    assert audit_rows(people["url"], "view_officer", f"officer:{people['flagged']}")[-1] == \
        ("leader_d1", {"section": "header", "view": "limited"})


def test_por311_leader_forging_lab_requests_is_refused(as_user, people):
    c = as_user("leader_d1")
    for output in (RECORD, TRENDS):
        assert call(c, output, people["flagged"]).status_code == 403
    assert c.get(f"/officers/{people['flagged']}/report").status_code == 403


def test_por312_leader_sees_only_red_and_orange_officers(as_user, people):
    c = as_user("leader_d1")
    assert call(c, HEADER, people["calm"]).status_code == 403
    assert "no-access" in text_of(frame(c, people["calm"]))
    assert call(c, HEADER, people["foreign"]).status_code == 403


# --- the printed report -------------------------------------------------------------------
def test_por313_report_for_own_record_and_in_scope_is_audited(as_user, people):
    own = as_user("officer").get("/me/report")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert people["me_name"] in html and "/assets/portrait.css" in html and "<svg" in html
    assert "://" not in html                                    # nothing fetched from elsewhere
    rows = audit_rows(people["url"], "print_report", f"officer:{people['me']}")
    assert ("officer", {"own": True}) in rows
    managed = as_user("manager_d1").get(f"/officers/{people['colleague']}/report")
    assert managed.status_code == 200 and people["colleague_name"] in managed.get_data(as_text=True)
    assert ("manager_d1", {"own": False}) in audit_rows(people["url"], "print_report",
                                                        f"officer:{people['colleague']}")


def test_por314_admin_sees_anyone(as_user, people):
    c = as_user("admin")
    assert call(c, HEADER, people["foreign"]).status_code == 200
    assert call(c, RECORD, people["foreign"]).status_code == 200


def test_por315_report_is_markup_not_escaped_text(as_user, people):
    """The A4 report prints its own markup (a worsening trend in bold), never markup as text."""
    c = as_user("admin")
    with session_scope(people["url"]) as s:
        badges = list(s.scalars(select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                                .order_by(Officer.id).limit(40)))
    worsening = 0
    for badge in badges:
        res = c.get(f"/officers/{badge}/report")
        assert res.status_code == 200
        html = res.get_data(as_text=True)
        assert "&lt;b" not in html and not re.search(r"&lt;/?[a-z]", html), badge  # "<1.0" is text
        worsening += '<b class="rp-bad">变差</b>' in html
    assert worsening, "no report with a worsening trend among the first officers"


def test_por316_command_centre_post_in_chinese_on_portrait_and_report(as_user, people):
    c = as_user("admin")
    with command_officer(people["url"]) as officer:
        header = call(c, HEADER, officer["badge"])
        report = c.get(f"/officers/{officer['badge']}/report")
    assert header.status_code == 200 and "指挥调度" in text_of(header)
    html = report.get_data(as_text=True)
    assert report.status_code == 200 and officer["name"] in html
    assert '<span id="rp-post">指挥调度</span>' in html and "command" not in html
    assert "&lt;b" not in html


def _header_reasons(client, badge) -> tuple[int, bool]:
    """(reasons listed, whether the header says the list leaves some out) on a portrait header."""
    res = call(client, HEADER, badge)
    assert res.status_code == 200
    body = res.get_json()["response"]["pt-header"]["children"]
    text = json.dumps(body, ensure_ascii=False)
    listed = len(re.findall(r'"className": "pt-reason"', text))
    return listed, "领导视图只列出预警规则名称" in text


def test_por313_leader_is_told_the_list_is_not_the_whole_record(as_user, people):
    """A leader reads fewer reasons than the full record (no psychological reasons, lab-value reasons of one
    rule under its name): the header says so, in the same words on every portrait (a count would give away a
    psychological reason), and the full record carries no such note."""
    leader, full = as_user("leader_d1"), as_user("manager")
    with session_scope(people["url"]) as s:
        d1 = s.scalar(select(User).where(User.username == "leader_d1")).scope_unit.path
        rows = s.execute(select(Officer.id, Officer.badge, OfficerStatus.reasons)
                         .join(Unit, Officer.unit_id == Unit.id).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                         .where(Unit.path.like(f"{d1}%"), OfficerStatus.open_level.in_(["red", "orange"]))
                         .order_by(Officer.id)).all()
        from models.portrait import header

        def listed_for_leader(oid):
            return len(header(s, oid, lab_values=False, as_of=dt.date(2026, 11, 18), psych=False)["warning"]["reasons"])

        cut = [(badge, len(reasons or [])) for oid, badge, reasons in rows if listed_for_leader(oid) < len(reasons or [])]
        whole = [(badge, len(reasons or [])) for oid, badge, reasons in rows if listed_for_leader(oid) == len(reasons or [])]
    assert cut and whole, "the demo has red/orange officers whose leader view lists fewer reasons, and some with all"
    for badge, total in (cut[0], whole[0]):
        listed, noted = _header_reasons(leader, badge)
        assert noted and listed <= total  # the same note whether or not anything was left out
        assert _header_reasons(full, badge) == (total, False)  # the full record: every reason, no note


def test_por314_english_reasons_name_kiosks_in_english(as_user, people):
    """In the English UI a reason measured at a kiosk names the station's English name, not its Chinese one."""
    with session_scope(people["url"]) as s:
        row = next((b, r) for b, rs in s.execute(select(Officer.badge, OfficerStatus.reasons)
                                                 .join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                                                 .order_by(Officer.id))
                   for r in rs or [] if (r.get("source") or "").endswith("健康小屋"))
        badge, reason = row
        station = reason["source"][:-len("健康小屋")]
        name_en = s.scalar(select(Unit.name_en).where(Unit.name == station))
    c = as_user("manager")
    _language(people["url"], "manager", "en")
    try:
        text = json.dumps(call(c, HEADER, badge).get_json(), ensure_ascii=False)
    finally:
        _language(people["url"], "manager", "zh")
    assert f"{name_en} health kiosk" in text and reason["source"] not in text


def _language(url, username, lang):
    with session_scope(url) as s:
        s.scalar(select(User).where(User.username == username)).language = lang
