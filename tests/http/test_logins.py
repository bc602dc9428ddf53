"""Sign-in cannot be turned against users (issue 15, finding 2) and the client address is the real
peer (finding 7, scope 2): one uniform answer, a growing delay per (name, address) instead of a
hard lock, a cap per address shared through Redis, X-Forwarded-For only from trusted proxies."""
import datetime as dt
import uuid

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from models.db import session_scope
from models.schema import AuditLog, LoginThrottle, User
from models.users import create_user
from portal.config import Config
from tests.conftest import PASSWORD
from tests.helpers import admin_users_action, admin_users_rows, rows_of, dash_callback, login


def _db(app):
    return app.server.config["DATABASE_URL"]


def _client(app, ip: str):
    c = app.server.test_client()
    c.environ_base["REMOTE_ADDR"] = ip
    return c


def _error(res) -> str:
    text = res.get_data(as_text=True)
    return text.split('role="alert">', 1)[1].split("<", 1)[0] if 'role="alert">' in text else ""


def _fresh_ip() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250 + 1}.{n // 250 % 250 + 1}.{n // 62500 % 250 + 1}"


def _make_user(app, name, *, active=True):
    with session_scope(_db(app)) as s:
        create_user(s, name, PASSWORD, "leader", scope_unit_code="NJ-D1")
        if not active:
            s.execute(update(User).where(User.username == name).values(active=False))


def test_lgn001_one_answer_for_unknown_wrong_inactive_and_throttled(app):
    _make_user(app, "lgn_real")
    _make_user(app, "lgn_gone", active=False)
    ip = _fresh_ip()
    answers = {
        "unknown": login(_client(app, ip), "lgn_nobody", "whatever-1"),
        "wrong": login(_client(app, ip), "lgn_real", "whatever-1"),
        "inactive": login(_client(app, ip), "lgn_gone", PASSWORD),
    }
    for _ in range(5):
        login(_client(app, ip), "lgn_real", "whatever-1")
    answers["throttled"] = login(_client(app, ip), "lgn_real", PASSWORD)  # right password, delayed pair
    statuses = {k: r.status_code for k, r in answers.items()}
    texts = {k: _error(r) for k, r in answers.items()}
    assert set(statuses.values()) == {401}, statuses
    assert len(set(texts.values())) == 1 and texts["unknown"], texts
    assert "锁定" not in texts["unknown"]


def test_lgn002_every_path_costs_one_password_hash(app, monkeypatch):
    """Same time: each answer runs exactly one argon2 verification (a dummy hash for unknown names and
    throttled pairs). Wall-clock times are not compared: on a shared CI machine they vary more than
    the hash costs."""
    _make_user(app, "lgn_timing")
    ip = _fresh_ip()
    for _ in range(5):
        login(_client(app, ip), "lgn_timing", "wrong-pass")
    calls = []
    real = PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(1)
        return real(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    other = _fresh_ip()
    cases = {"unknown": (other, "lgn_nobody_t"), "wrong": (other, "lgn_timing"), "throttled": (ip, "lgn_timing")}
    for name, (addr, user) in cases.items():
        for _ in range(3):
            c = _client(app, addr)
            page = c.get("/login")
            from tests.helpers import csrf_from

            token = csrf_from(page.get_data(as_text=True))
            calls.clear()
            res = c.post("/login", data={"username": user, "password": "wrong-pass", "csrf_token": token})
            assert res.status_code == 401 and len(calls) == 1, (name, len(calls))
        if name == "wrong":  # keep the other address below its free attempts
            with session_scope(_db(app)) as s:
                s.execute(LoginThrottle.__table__.delete().where(LoginThrottle.ip == other))


def _wait_over(app, username, ip):
    with session_scope(_db(app)) as s:
        s.execute(update(LoginThrottle).where(LoginThrottle.username == username, LoginThrottle.ip == ip)
                  .values(blocked_until=LoginThrottle.last_failure_at))


def _wait(app, username, ip):
    with session_scope(_db(app)) as s:
        row = s.get(LoginThrottle, (username, ip))
        return row.failures, row.blocked_until - row.last_failure_at


def test_lgn003_failures_slow_the_pair_not_the_account(app):
    _make_user(app, "lgn_target")
    attacker, colleague = _fresh_ip(), _fresh_ip()
    for _ in range(5):
        login(_client(app, attacker), "lgn_target", "guess-guess")
    assert _wait(app, "lgn_target", attacker) == (5, dt.timedelta(seconds=60))  # test config: the first wait 60 s
    assert login(_client(app, attacker), "lgn_target", PASSWORD).status_code == 401  # waiting: not even checked
    assert login(_client(app, colleague), "lgn_target", PASSWORD).status_code == 302  # a person elsewhere signs in
    assert _wait(app, "lgn_target", attacker)[0] == 5  # attempts while waiting do not count
    _wait_over(app, "lgn_target", attacker)
    login(_client(app, attacker), "lgn_target", "guess-guess")
    assert _wait(app, "lgn_target", attacker) == (6, dt.timedelta(seconds=120))  # the wait doubles
    _wait_over(app, "lgn_target", attacker)
    login(_client(app, attacker), "lgn_target", "guess-guess")
    assert _wait(app, "lgn_target", attacker) == (7, dt.timedelta(seconds=240))
    _wait_over(app, "lgn_target", attacker)
    assert login(_client(app, attacker), "lgn_target", PASSWORD).status_code == 302
    with session_scope(_db(app)) as s:
        assert s.get(LoginThrottle, ("lgn_target", attacker)) is None  # a good sign-in forgets the failures


def test_lgn004_admin_clears_a_delay_in_admin_users(app, as_user):
    _make_user(app, "lgn_locked_out")
    ip = _fresh_ip()
    for _ in range(6):
        login(_client(app, ip), "lgn_locked_out", "guess-guess")
    admin = as_user("admin")
    row = next(r for r in rows_of(admin_users_rows(admin, search="lgn_locked_out")) if r["username"] == "lgn_locked_out")
    assert row["state"] == "登录受限"
    res = admin_users_action(admin, "au-unlock", "lgn_locked_out")
    assert res.status_code == 200 and "已解除" in res.get_json()["response"]["au-action-result"]["children"]
    assert login(_client(app, ip), "lgn_locked_out", PASSWORD).status_code == 302
    with session_scope(_db(app)) as s:
        last = s.scalars(select(AuditLog).where(AuditLog.action == "clear_login_delay").order_by(AuditLog.id.desc())).first()
        assert last.target == "lgn_locked_out" and last.detail == {"pairs": 1}


def _app(demo_url, tmp_path, **kwargs):
    from portal.app import create_app

    return create_app(Config(database_url=demo_url, secret_key="test-secret", testing=True,
                             cache_dir=str(tmp_path), login_delay_seconds=60, **kwargs))


def test_lgn005_cap_per_address_counts_failures_only(demo_url, tmp_path):
    app = _app(demo_url, tmp_path, login_rate_limit="3 per 10 minutes")
    ip = _fresh_ip()
    for name in ("a", "b", "c"):  # spraying names from one address
        assert login(_client(app, ip), f"lgn_spray_{name}", "guess-guess").status_code == 401
    assert login(_client(app, ip), "manager_d1", PASSWORD).status_code == 401  # the address is capped
    assert login(_client(app, _fresh_ip()), "manager_d1", PASSWORD).status_code == 302
    busy = _fresh_ip()  # many good sign-ins behind one address (a station's NAT) are never capped
    for _ in range(5):
        assert login(_client(app, busy), "leader_d1", PASSWORD).status_code == 302


def test_lgn006_limiter_shares_counts_through_redis(demo_url, tmp_path):
    """Two apps on one Redis stand for two gunicorn workers: failures seen by one count in the other."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis on 127.0.0.1:6379 is not running")
    url = "redis://127.0.0.1:6379/0"
    one = _app(demo_url, tmp_path / "one", cache_url=url, login_rate_limit="4 per 10 minutes")
    two = _app(demo_url, tmp_path / "two", cache_url=url, login_rate_limit="4 per 10 minutes")
    assert type(one.server.extensions["portal_limiter"].storage).__name__ == "RedisStorage"
    ip = _fresh_ip()
    for i in range(2):
        login(_client(one, ip), f"lgn_w1_{i}", "guess-guess")
        login(_client(two, ip), f"lgn_w2_{i}", "guess-guess")
    assert login(_client(two, ip), "manager_d1", PASSWORD).status_code == 401
    assert login(_client(one, ip), "manager_d1", PASSWORD).status_code == 401
    assert login(_client(one, _fresh_ip()), "manager_d1", PASSWORD).status_code == 302


def test_lgn007_memory_limiter_without_redis(app):
    assert type(app.server.extensions["portal_limiter"].storage).__name__ == "MemoryStorage"


def _last_login_ip(app, username):
    with session_scope(_db(app)) as s:
        return s.scalars(select(AuditLog.ip).where(AuditLog.action == "login", AuditLog.username == username)
                         .order_by(AuditLog.id.desc())).first()


def test_adr001_x_forwarded_for_is_ignored_without_trusted_proxies(app):
    c = _client(app, "10.20.30.40")
    c.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.66"
    login(c, "manager_d2", PASSWORD)
    assert _last_login_ip(app, "manager_d2") == "10.20.30.40"
    # the audit rows of a signed-in user's views too
    dash_callback(c, "..home-kpis.children...home-scope.children..", [{"id": "home-url", "property": "search", "value": ""}])
    with session_scope(_db(app)) as s:
        ips = set(s.scalars(select(AuditLog.ip).where(AuditLog.username == "manager_d2")))
    assert "203.0.113.66" not in ips


def test_adr002_one_trusted_proxy_gives_the_address_it_saw(demo_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "1")
    app = _app(demo_url, tmp_path)
    c = _client(app, "10.0.0.2")  # the proxy
    c.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.66, 10.44.0.7"  # a forged entry, then the proxy's own
    login(c, "leader_d2", PASSWORD)
    assert _last_login_ip(app, "leader_d2") == "10.44.0.7"


def test_adr003_limiter_keys_on_the_real_peer(demo_url, tmp_path):
    app = _app(demo_url, tmp_path, login_rate_limit="2 per 10 minutes")
    ip = _fresh_ip()
    for i in range(2):
        c = _client(app, ip)
        c.environ_base["HTTP_X_FORWARDED_FOR"] = _fresh_ip()  # a new forged address each time
        login(c, f"lgn_xff_{i}", "guess-guess")
    c = _client(app, ip)
    c.environ_base["HTTP_X_FORWARDED_FOR"] = _fresh_ip()
    assert login(c, "manager_d1", PASSWORD).status_code == 401
