"""Accounts for the whole roster (issue 17): from-roster, activation with a one-time code, the first
password's rules, password change, one account per officer, roster changes, SSO, admin reset."""
import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from models import activation
from models.db import session_scope
from models.schema import AuditLog, Officer, User, UserSession
from tests.conftest import AS_OF, PASSWORD, TODAY
from tests.helpers import csrf_from, login

SECRET = "acct-secret"


@pytest.fixture(scope="module")
def acct_url(new_db_url):
    """A tiny demo of its own: these tests create and change accounts."""
    from ingest.demo import build_demo

    url = new_db_url("accounts")
    build_demo(url, scale="tiny", seed=11, as_of=AS_OF, password=PASSWORD)
    return url


def make_app(url, tmp_path_factory, **extra):
    from portal.app import create_app
    from portal.config import Config

    cfg = Config(database_url=url, secret_key=SECRET, testing=True, cache_dir=str(tmp_path_factory.mktemp("cache")),
                 login_rate_limit="1000 per minute", today=TODAY, login_delay_seconds=60, **extra)
    return create_app(cfg)


@pytest.fixture(scope="module")
def acct_app(acct_url, tmp_path_factory):
    return make_app(acct_url, tmp_path_factory)


@pytest.fixture(scope="module")
def slips(acct_url):
    with session_scope(acct_url) as s:
        return activation.accounts_from_roster(s, SECRET, days=14)["created"]


def _slip(slips, n):
    return slips[n]


def activate_page(client, badge, code):
    return login(client, badge, code)


def set_first_password(client, new, repeat=None):
    page = client.get("/activate")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/activate", data={"new_password": new, "repeat": new if repeat is None else repeat,
                                          "csrf_token": token})


def test_acc001_from_roster_gives_every_active_officer_one_account(acct_url, slips):
    with session_scope(acct_url) as s:
        active = s.scalar(select(func.count()).select_from(Officer).where(Officer.active.is_(True)))
        officer_accounts = s.scalar(select(func.count()).select_from(User).where(User.role == "officer"))
        assert officer_accounts == active  # the demo officer kept the account they had
        first = s.scalar(select(User).where(User.username == slips[0]["badge"]))
        assert first.officer.badge == slips[0]["badge"] and first.scope_unit_id == first.officer.unit_id
        assert first.activation_hash == activation.code_hash(slips[0]["code"], SECRET)
        assert slips[0]["code"] not in (first.activation_hash, first.password_hash)  # only its keyed hash is kept
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", slips[0]["code"])
        left = (first.activation_expires_at - dt.datetime.utcnow()).days
        assert 13 <= left <= 14
        again = activation.accounts_from_roster(s, SECRET, days=14)
        assert again == {"created": [], "skipped": []}
    assert len({c["code"] for c in slips}) == len(slips)


def test_acc002_activation_asks_for_a_password_then_lands_on_me(acct_app, acct_url, slips):
    c = acct_app.server.test_client()
    slip = _slip(slips, 1)
    res = activate_page(c, slip["badge"], slip["code"].lower().replace("-", " "))  # typed loosely
    assert res.status_code == 302 and res.headers["Location"].endswith("/activate")
    assert c.get("/me").status_code == 302  # not signed in before the password is set
    with session_scope(acct_url) as s:
        officer = s.scalar(select(Officer).where(Officer.badge == slip["badge"]))
        birth = officer.birth_date.strftime("%Y%m%d")
    for weak, word in [("short1", "至少需要 10"), ("1234567890", "常见密码"), (f"x{slip['badge']}yz1234", "警号"),
                       (f"abc{birth}!", "出生日期")]:
        res = set_first_password(c, weak)
        assert res.status_code == 400 and word in res.get_data(as_text=True), weak
    res = set_first_password(c, "a-good-passphrase", "a-different-one")
    assert res.status_code == 400 and "不一致" in res.get_data(as_text=True)
    res = set_first_password(c, "a-good-passphrase")
    assert res.status_code == 302 and res.headers["Location"].endswith("/me")
    assert c.get("/me").status_code == 200
    with session_scope(acct_url) as s:
        user = s.scalar(select(User).where(User.username == slip["badge"]))
        assert user.activation_hash is None and user.password_hash.startswith("$argon2")
        assert s.scalar(select(AuditLog).where(AuditLog.action == "activated", AuditLog.target == slip["badge"]))
    # the code is spent: it is refused like a wrong password; the new password works
    again = acct_app.server.test_client()
    res = activate_page(again, slip["badge"], slip["code"])
    assert res.status_code == 401 and "激活码只能使用一次" in res.get_data(as_text=True)
    assert login(again, slip["badge"], "a-good-passphrase").status_code == 302


def test_acc003_wrong_code_and_unknown_badge_get_the_same_answer(acct_app, slips):
    slip = _slip(slips, 2)
    wrong = activate_page(acct_app.server.test_client(), slip["badge"], "AAAA-BBBB-CCCC")
    unknown = activate_page(acct_app.server.test_client(), "NO-SUCH-BADGE", "AAAA-BBBB-CCCC")
    assert wrong.status_code == unknown.status_code == 401

    def alert(res):
        return re.search(r'alert-danger[^>]*>([^<]+)<', res.get_data(as_text=True)).group(1)

    assert alert(wrong) == alert(unknown)


def test_acc004_expired_code_is_refused(acct_app, acct_url, slips):
    slip = _slip(slips, 3)
    with session_scope(acct_url) as s:
        user = s.scalar(select(User).where(User.username == slip["badge"]))
        user.activation_expires_at = dt.datetime.utcnow() - dt.timedelta(minutes=1)
    res = activate_page(acct_app.server.test_client(), slip["badge"], slip["code"])
    assert res.status_code == 401


def test_acc005_id_number_refused_as_password(acct_app, acct_url, slips):
    """A password holding the officer's ID number is found through the roster's keyed hash."""
    from ingest import idcard
    from ingest.matching import id_hash_key

    slip = _slip(slips, 4)
    id_number = "440604198003151012"
    with session_scope(acct_url) as s:
        officer = s.scalar(select(Officer).where(Officer.badge == slip["badge"]))
        officer.id_hash = idcard.keyed_hash(id_number, id_hash_key(s, SECRET))
    c = acct_app.server.test_client()
    activate_page(c, slip["badge"], slip["code"])
    res = set_first_password(c, f"my{id_number}")
    assert res.status_code == 400 and "身份证" in res.get_data(as_text=True)


def _change(client, current, new, repeat=None):
    page = client.get("/password")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/password", data={"current": current, "new_password": new,
                                          "repeat": new if repeat is None else repeat, "csrf_token": token})


def test_acc006_password_change_ends_the_other_sessions(acct_app, acct_url):
    from models.users import create_user

    with session_scope(acct_url) as s:
        create_user(s, "changer", PASSWORD, "leader", scope_unit_code="NJ")
    here, there = acct_app.server.test_client(), acct_app.server.test_client()
    login(here, "changer", PASSWORD)
    login(there, "changer", PASSWORD)
    assert '"id":"password-link"' in here.get("/_dash-layout").get_data(as_text=True)  # the user menu links to it
    res = _change(here, "not-the-password", "another-good-one")
    assert res.status_code == 400 and "当前密码不正确" in res.get_data(as_text=True)
    res = _change(here, PASSWORD, "another-good-one")
    assert res.status_code == 200 and "1" in res.get_data(as_text=True)
    assert here.get("/warnings").status_code == 200
    assert there.get("/warnings").status_code == 302  # ended on the server
    with session_scope(acct_url) as s:
        uid = s.scalar(select(User.id).where(User.username == "changer"))
        assert s.scalar(select(func.count()).select_from(UserSession)
                        .where(UserSession.user_id == uid, UserSession.ended_at.is_(None))) == 1
        assert s.scalar(select(AuditLog).where(AuditLog.action == "password_changed", AuditLog.target == "changer"))


def test_acc007_one_account_per_officer(acct_url):
    from models.users import UserError, create_user

    with session_scope(acct_url) as s:
        badge = s.scalar(select(User).where(User.username == "officer")).officer.badge
        with pytest.raises(UserError) as err:
            create_user(s, "second_login", "long-enough-1", "officer", officer_badge=badge)
        assert err.value.code == "officer_has_account"


@pytest.fixture(scope="module")
def sso_app(acct_url, tmp_path_factory):
    return make_app(acct_url, tmp_path_factory, trusted_proxies=1, sso_header="X-Remote-User",
                    sso_proxies=("127.0.0.1",))


def test_acc008_sso_header_is_believed_only_through_the_trusted_proxy(sso_app, acct_url):
    # forged by a client talking to the app directly: no proxy hop recorded
    direct = sso_app.server.test_client()
    res = direct.get("/warnings", headers={"X-Remote-User": "manager"})
    assert res.status_code == 302 and "/login" in res.headers["Location"]
    # forged X-Forwarded-For too, but from an address that is not the gateway
    outsider = sso_app.server.test_client()
    res = outsider.get("/warnings", headers={"X-Remote-User": "manager", "X-Forwarded-For": "10.1.1.1"},
                       environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert res.status_code == 302 and "/login" in res.headers["Location"]
    with session_scope(acct_url) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "sso_refused")) >= 2
    # through the gateway: signed in as the named account, its session bound to the real client
    gw = sso_app.server.test_client()
    hdr = {"X-Remote-User": "manager", "X-Forwarded-For": "10.1.1.7"}
    res = gw.get("/warnings", headers=hdr)
    assert res.status_code == 200
    assert gw.get("/warnings", headers={"X-Forwarded-For": "10.1.1.7"}).status_code == 200  # the session goes on
    with session_scope(acct_url) as s:
        row = s.scalar(select(AuditLog).where(AuditLog.action == "login", AuditLog.username == "manager")
                       .order_by(AuditLog.id.desc()))
        assert row.detail == {"outcome": "sso"} and row.ip == "10.1.1.7"
    # an unknown name through the gateway: the login form is the way in
    res = sso_app.server.test_client().get("/warnings", headers={"X-Remote-User": "nobody", "X-Forwarded-For": "10.1.1.8"})
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_acc009_sso_off_without_trusted_proxies(acct_app):
    res = acct_app.server.test_client().get("/warnings", headers={"X-Remote-User": "manager",
                                                                  "X-Forwarded-For": "10.1.1.7"})
    assert res.status_code == 302 and "/login" in res.headers["Location"]


# ---- /admin/users for a whole force ---------------------------------------------------------

def _admin(app):
    c = app.server.test_client()
    assert login(c, "admin", PASSWORD).status_code == 302
    return c


def test_acc010_admin_list_is_paged_and_searchable(acct_app, acct_url, slips):
    from tests.helpers import admin_users_rows, rows_of

    admin = _admin(acct_app)
    first = admin_users_rows(admin, start=0, end=10).get_json()["response"]
    grid = next(v for k, v in first.items() if k.startswith("{"))["getRowsResponse"]
    assert len(grid["rowData"]) == 10 and grid["rowCount"] > 100  # one page, the whole count
    slip = slips[5]
    found = rows_of(admin_users_rows(admin, search=slip["name"]))
    assert slip["badge"] in {r["username"] for r in found}
    by_unit = rows_of(admin_users_rows(admin, search=slip["unit_code"], role="officer", end=500))
    assert by_unit and all(r["role"] == "officer" for r in by_unit)
    pending = rows_of(admin_users_rows(admin, status="pending", end=500))
    assert pending and all(r["state"] == "待激活" for r in pending)
    assert {r["role"] for r in rows_of(admin_users_rows(admin, role="leader"))} == {"leader"}


def test_acc011_admin_reset_issues_a_code_shown_once_and_audited(acct_app, acct_url):
    from models.users import create_user
    from tests.helpers import admin_users_action

    with session_scope(acct_url) as s:
        create_user(s, "forgetful", PASSWORD, "manager", scope_unit_code="NJ")
    user_c = acct_app.server.test_client()
    login(user_c, "forgetful", PASSWORD)
    res = admin_users_action(_admin(acct_app), "au-reset", "forgetful")
    assert res.status_code == 200
    shown = str(res.get_json()["response"]["au-action-result"]["children"])
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", shown).group(0)
    assert user_c.get("/warnings").status_code == 302  # its sessions ended
    assert login(acct_app.server.test_client(), "forgetful", PASSWORD).status_code == 401  # old password gone
    with session_scope(acct_url) as s:
        row = s.scalar(select(AuditLog).where(AuditLog.action == "reset_account", AuditLog.target == "forgetful"))
        assert row.username == "admin" and code not in str(row.detail)
    c = acct_app.server.test_client()
    assert activate_page(c, "forgetful", code).headers["Location"].endswith("/activate")
    assert set_first_password(c, "fresh-start-2026!").headers["Location"].endswith("/")


def test_acc012_admin_edits_role_and_scope(acct_app, acct_url):
    from models.users import create_user
    from tests.helpers import admin_users_action

    with session_scope(acct_url) as s:
        create_user(s, "promoted", PASSWORD, "manager", scope_unit_code="NJ")
        district = s.scalar(select(User).where(User.username == "leader_d1")).scope_unit.code
    admin = _admin(acct_app)
    res = admin_users_action(admin, "au-edit-save", "promoted", edit_role="leader", edit_unit=district)
    assert "领导" in str(res.get_json()["response"]["au-action-result"]["children"])
    with session_scope(acct_url) as s:
        user = s.scalar(select(User).where(User.username == "promoted"))
        assert (user.role, user.scope_unit.code) == ("leader", district)
        assert s.scalar(select(AuditLog).where(AuditLog.action == "edit_user", AuditLog.target == "promoted"))
    refused = admin_users_action(admin, "au-edit-save", "promoted", edit_role="leader", edit_unit=None)
    assert "管辖单位" in str(refused.get_json()["response"]["au-action-result"]["children"])
    own = admin_users_action(admin, "au-edit-save", "admin", edit_role="leader", edit_unit=district)
    assert "自己的账号" in str(own.get_json()["response"]["au-action-result"]["children"])
    officer = admin_users_action(admin, "au-edit-save", "officer", edit_role="leader", edit_unit=district)
    assert "未知角色" in str(officer.get_json()["response"]["au-action-result"]["children"])


def _upload(client, text):
    import base64

    from tests.helpers import callback_key, dash_callback

    key = callback_key(client, "au-bulk-result")
    contents = "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode()
    return dash_callback(client, key, [{"id": "au-bulk-upload", "property": "contents", "value": contents}],
                         [{"id": "au-bulk-upload", "property": "filename", "value": "staff.csv"},
                          {"id": "au-refresh", "property": "data", "value": 0}])


def test_acc013_bulk_create_managers_and_leaders_from_csv(acct_app, acct_url):
    admin = _admin(acct_app)
    res = _upload(admin, "用户名,角色,单位代码\nbulk_mgr,manager,NJ\nbulk_ldr,领导,NJ\nbulk_bad,king,NJ\n"
                         "bulk_nounit,leader,NOPE\nmanager,manager,NJ\n")
    answer = res.get_json()["response"]
    text = str(answer["au-bulk-result"]["children"])
    assert "已创建 2 个账号" in text
    assert "第 4 行" in text and "角色只能是" in text
    assert "第 5 行" in text and "管辖单位" in text and "--unit" not in text
    assert "第 6 行" in text and "已存在" in text
    content = answer["au-bulk-download"]["data"]["content"]
    codes = dict(line.split(",")[0::3] for line in content.strip().splitlines()[1:])
    assert set(codes) == {"bulk_mgr", "bulk_ldr"}
    with session_scope(acct_url) as s:
        assert s.scalar(select(User).where(User.username == "bulk_ldr")).role == "leader"
        assert s.scalar(select(AuditLog).where(AuditLog.action == "bulk_create_users")).username == "admin"
    assert activate_page(acct_app.server.test_client(), "bulk_mgr", codes["bulk_mgr"]).status_code == 302
    assert "CSV" in str(_upload(admin, "a,b\n1,2\n").get_json()["response"]["au-bulk-result"]["children"])
    manager = acct_app.server.test_client()
    login(manager, "manager", PASSWORD)
    assert _upload(manager, "用户名,角色,单位代码\nsneaky,leader,NJ\n").status_code == 403


def _roster_job(client, unit=None, timeout=60):
    """Run the from-roster background callback the way the renderer does: start it, then poll."""
    import json
    import time

    from tests.helpers import callback_key, csrf_cookie

    key = callback_key(client, "au-roster-result")
    body = {"output": key,
            "outputs": [{"id": i, "property": p} for i, p in (("au-roster-result", "children"), ("au-roster-csv", "data"),
                                                              ("au-roster-slips", "data"))]
            + [{"id": "au-refresh", "property": "data"}],
            "inputs": [{"id": "au-roster-run", "property": "n_clicks", "value": 1}],
            "state": [{"id": "au-roster-unit", "property": "value", "value": unit},
                      {"id": "au-refresh", "property": "data", "value": 0}],
            "changedPropIds": ["au-roster-run.n_clicks"]}
    headers = {"X-CSRFToken": csrf_cookie(client), "Content-Type": "application/json"}
    started = client.post("/_dash-update-component", data=json.dumps(body), headers=headers)
    if started.status_code != 200 or "cacheKey" not in (started.get_json() or {}):
        return started
    handles = started.get_json()
    deadline = time.time() + timeout
    while time.time() < deadline:
        res = client.post("/_dash-update-component", data=json.dumps(body), headers=headers,
                          query_string={"cacheKey": handles["cacheKey"], "job": handles["job"]})
        if res.status_code != 204 and "response" in (res.get_json(silent=True) or {}):
            return res
        if res.status_code not in (200, 204):
            return res
        time.sleep(0.3)
    raise AssertionError("the background job did not finish")


def test_acc014_from_roster_in_admin_users_is_a_background_job(acct_app, acct_url, slips):
    from models.schema import Unit

    with session_scope(acct_url) as s:
        officer = s.scalar(select(Officer).where(Officer.badge == slips[6]["badge"]))
        # a new recruit joins after the first run
        recruit = Officer(badge="NEW-0001", name="新警员", sex="male", birth_date=dt.date(2000, 1, 2),
                          unit_id=officer.unit_id, post_type=officer.post_type, active=True)
        s.add(recruit)
        unit_code = s.get(Unit, officer.unit_id).code
    res = _roster_job(_admin(acct_app), unit=unit_code)
    answer = res.get_json()["response"]
    assert "已创建 1 个民警账号" in str(answer["au-roster-result"]["children"])
    assert "NEW-0001" in answer["au-roster-csv"]["data"]["content"]
    assert "NEW-0001" in answer["au-roster-slips"]["data"]["content"]
    with session_scope(acct_url) as s:
        assert s.scalar(select(User).where(User.username == "NEW-0001")).activation_hash
        row = s.scalar(select(AuditLog).where(AuditLog.action == "accounts_from_roster", AuditLog.username == "admin"))
        assert row.target == unit_code and row.detail["created"] == 1
    manager = acct_app.server.test_client()
    login(manager, "manager", PASSWORD)
    refused = _roster_job(manager)
    assert refused.status_code == 403 and refused.get_json() == {"error": "forbidden"}  # before any job starts
    with session_scope(acct_url) as s:
        row = s.scalar(select(AuditLog).where(AuditLog.action == "access_denied", AuditLog.username == "manager")
                       .order_by(AuditLog.id.desc()))
        assert "au-roster-result" in row.target
