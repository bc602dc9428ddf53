"""Sessions end on the server (issue 15, finding 1): logout, idle and absolute timeouts, password
change, deactivation; a copied cookie is refused afterwards, from any address or browser."""
import datetime as dt

import pytest
from sqlalchemy import select, update

from models.db import session_scope
from models.schema import AuditLog, User, UserSession
from models.users import create_user, set_password
from portal.config import Config
from tests.conftest import PASSWORD
from tests.helpers import admin_users_action, csrf_cookie, dash_callback, login


def _db(app):
    return app.server.config["DATABASE_URL"]


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str, **environ):
    """A fresh client (another browser, same machine unless told otherwise) holding a copied cookie."""
    fresh = app.server.test_client()
    fresh.environ_base.update(environ)
    fresh.set_cookie("session", cookie)
    return fresh


def _refused(client) -> bool:
    layout = client.get("/_dash-layout")
    me = client.get("/me")
    return layout.status_code == 401 and me.status_code == 302 and "/login" in me.headers["Location"]


def _logout(client):
    return client.post("/logout", data={"csrf_token": csrf_cookie(client)})


def test_ses001_logout_ends_the_session_a_copied_cookie_is_refused(app, as_user):
    c = as_user("officer")
    cookie = _cookie(c)
    assert _replay(app, cookie).get("/_dash-layout").status_code == 200  # the copy works while signed in
    assert _logout(c).status_code == 302
    thief = _replay(app, cookie)
    assert _refused(thief)
    assert thief.get("/me/report").status_code == 302  # the portrait report as well
    res = dash_callback(_replay(app, cookie), "pt-header.children", [{"id": "pt-url", "property": "pathname", "value": "/me"}])
    assert res.status_code == 401 and "badge" not in res.get_data(as_text=True)


def test_ses002_logout_from_the_address_bar_asks_then_signs_out(app, as_user):
    c = as_user("manager_d1")
    page = c.get("/logout")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "退出登录" in text and 'action="/logout"' in text and 'name="csrf_token"' in text
    assert c.get("/_dash-layout").status_code == 200  # a GET changes nothing
    c.post("/lang/en", data={"csrf_token": csrf_cookie(c)})
    assert "Sign out" in c.get("/logout").get_data(as_text=True)
    c.post("/lang/zh", data={"csrf_token": csrf_cookie(c)})
    token = text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert c.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    assert c.get("/_dash-layout").status_code == 401
    assert app.server.test_client().get("/logout").headers["Location"] == "/login"  # nobody signed in


def _age(app, username, **delta):
    """Move a user's live sessions back in time (created and last seen)."""
    with session_scope(_db(app)) as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        rows = s.scalars(select(UserSession).where(UserSession.user_id == uid, UserSession.ended_at.is_(None))).all()
        for row in rows:
            if "idle" in delta:
                row.last_seen_at -= delta["idle"]
            if "created" in delta:
                row.created_at -= delta["created"]


def test_ses003_idle_timeout_ends_the_session(app, as_user):
    c = as_user("leader_d1")
    _age(app, "leader_d1", idle=dt.timedelta(minutes=29))
    assert c.get("/_dash-layout").status_code == 200  # 29 minutes idle: still signed in (and seen now)
    _age(app, "leader_d1", idle=dt.timedelta(minutes=31))
    assert _refused(c)
    with session_scope(_db(app)) as s:
        last = s.scalars(select(AuditLog).where(AuditLog.action == "session_ended").order_by(AuditLog.id.desc())).first()
        assert last.detail == {"reason": "idle"}


def test_ses004_absolute_lifetime_ends_a_busy_session(app, as_user):
    c = as_user("leader_d2")
    _age(app, "leader_d2", created=dt.timedelta(hours=11, minutes=59))
    assert c.get("/_dash-layout").status_code == 200
    _age(app, "leader_d2", created=dt.timedelta(minutes=2))  # active all along, but 12 h after sign-in
    assert _refused(c)


def test_ses005_timeouts_are_configurable(monkeypatch, tmp_path, demo_url):
    monkeypatch.setenv("PORTAL_SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("PORTAL_SESSION_LIFETIME_HOURS", "1.5")
    cfg = Config(database_url=demo_url, secret_key="k", testing=True, cache_dir=str(tmp_path))
    assert (cfg.session_idle_minutes, cfg.session_lifetime_hours) == (5, 1.5)
    from portal.app import create_app

    server = create_app(cfg).server
    assert server.config["SESSION_IDLE"] == dt.timedelta(minutes=5)
    assert server.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(hours=1.5)  # the signed cookie's max age
    assert server.config["REMEMBER_COOKIE_DURATION"] == dt.timedelta(hours=1.5)
    monkeypatch.setenv("PORTAL_SESSION_IDLE_MINUTES", "-1")
    with pytest.raises(ValueError):
        Config(database_url=demo_url, secret_key="k")
    monkeypatch.delenv("PORTAL_SESSION_IDLE_MINUTES")
    monkeypatch.delenv("PORTAL_SESSION_LIFETIME_HOURS")
    cfg = Config(database_url=demo_url, secret_key="k")
    assert (cfg.session_idle_minutes, cfg.session_lifetime_hours) == (30, 12)


def test_ses006_deactivation_in_admin_users_ends_every_session(app, as_user):
    with session_scope(_db(app)) as s:
        create_user(s, "leaving_mgr", PASSWORD, "manager", scope_unit_code="NJ-D1")
    first, second = app.server.test_client(), app.server.test_client()
    login(first, "leaving_mgr", PASSWORD)
    login(second, "leaving_mgr", PASSWORD)
    copies = [_cookie(first), _cookie(second)]
    admin = as_user("admin")
    toggle = admin_users_action(admin, "au-toggle", "leaving_mgr")
    assert toggle.status_code == 200
    for cookie in copies:
        assert _refused(_replay(app, cookie))
    with session_scope(_db(app)) as s:
        uid = s.scalar(select(User.id).where(User.username == "leaving_mgr"))
        reasons = set(s.scalars(select(UserSession.end_reason).where(UserSession.user_id == uid)))
        assert reasons == {"deactivated"}
        s.execute(update(User).where(User.id == uid).values(active=True))
    assert _refused(_replay(app, copies[0]))  # reactivation does not revive an ended session


def test_ses007_password_change_or_reset_ends_every_session(app):
    with session_scope(_db(app)) as s:
        create_user(s, "pw_changer", PASSWORD, "leader", scope_unit_code="NJ-D1")
    c = app.server.test_client()
    login(c, "pw_changer", PASSWORD)
    assert c.get("/_dash-layout").status_code == 200
    with session_scope(_db(app)) as s:
        set_password(s, "pw_changer", "a-new-password")
    assert _refused(c)
    assert login(app.server.test_client(), "pw_changer", PASSWORD).status_code == 401
    assert login(app.server.test_client(), "pw_changer", "a-new-password").status_code == 302


def test_ses008_remember_me_cookie_cannot_sign_anyone_in(app, as_user):
    from flask_login.utils import encode_cookie

    res = login(app.server.test_client(), "manager_d1", PASSWORD)
    assert not [h for h in res.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    with session_scope(_db(app)) as s:
        uid = s.scalar(select(User.id).where(User.username == "manager_d1"))
    with app.server.test_request_context():
        forged = encode_cookie(str(uid))  # needs the secret key: what a leaked remember cookie would be
    c = app.server.test_client()
    c.set_cookie("remember_token", forged)
    assert _refused(c)


def test_ses009_session_bound_to_browser_and_real_peer_not_to_x_forwarded_for(app):
    victim = app.server.test_client()
    victim.environ_base.update(REMOTE_ADDR="10.1.1.1", HTTP_USER_AGENT="VictimBrowser/1.0")
    login(victim, "manager_d2", PASSWORD)
    cookie = _cookie(victim)
    other_browser = _replay(app, cookie, REMOTE_ADDR="10.1.1.1", HTTP_USER_AGENT="Attacker/1.0")
    assert other_browser.get("/_dash-layout").status_code == 401
    # the binding ended that session; a new one, then a replay from elsewhere naming the victim's address
    login(victim, "manager_d2", PASSWORD)
    cookie = _cookie(victim)
    spoofed = _replay(app, cookie, REMOTE_ADDR="10.9.9.9", HTTP_USER_AGENT="VictimBrowser/1.0",
                      HTTP_X_FORWARDED_FOR="10.1.1.1")
    assert spoofed.get("/_dash-layout").status_code == 401
    assert victim.get("/_dash-layout").status_code == 401  # a stolen cookie ends the victim's session too


def test_ses010_session_cookie_lives_for_the_browser_session_only(app):
    res = login(app.server.test_client(), "leader", PASSWORD)
    cookie = [h for h in res.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert "Expires" not in cookie and "Max-Age" not in cookie
