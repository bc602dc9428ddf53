"""Login (the form is ``templates/login.html``), logout (``templates/logout.html`` asks first), the
language switch, server-side sessions and the login guard in front of every route.

A session is a row in ``user_session`` (``models.sessions``): the signed Flask cookie carries
its random token and the user id, and every request checks the row, so logout, the idle and
absolute timeouts, a password change and a deactivation refuse a copied cookie at once. The
row binds the session to the browser's User-Agent and the real peer address (never a forwarded
header unless ProxyFix was told to trust one). Flask-Login's own session protection reads
X-Forwarded-For and is therefore off; its remember-me cookie can never sign anyone in (the user
loader needs a live session token) and is bounded by the absolute lifetime anyway.

Sign-in answers are uniform: an unknown name, a wrong password, an inactive account and a
throttled (name, address) pair or address all get the same page, the same status and one argon2
verification's worth of time.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, replace
from urllib.parse import urlparse

from flask import Flask, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from limits import parse as parse_limit
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import audit as audit_model
from models import sessions as sessions_model
from models.db import session_scope
from models.schema import User, utcnow
from models.users import authenticate, burn_password_check
from web.access import client_ip
from web.i18n import tr

PUBLIC_PREFIXES = ("/login", "/activate", "/assets/", "/healthz", "/lang/")
SESSION_TOKEN = "sid"  # key of the session token in the signed cookie

login_manager = LoginManager()
log = logging.getLogger("portal.auth")


@dataclass
class SessionUser:
    """What Flask-Login keeps of a user for one request (loaded fresh from the database)."""

    id: int
    username: str
    role: str
    officer_id: int | None
    scope_path: str | None
    scope_code: str | None
    language: str
    psych_access: bool = False  # a manager's grant, as of this request's session check
    token: str | None = None  # set only while signing in
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return str(self.id)


def _session_user(user: User) -> SessionUser:
    return SessionUser(
        id=user.id, username=user.username, role=user.role, officer_id=user.officer_id,
        scope_path=user.scope_unit.path if user.scope_unit else None,
        scope_code=user.scope_unit.code if user.scope_unit else None,
        language=user.language or "zh", psych_access=bool(user.psych_access),
    )


def _user_agent() -> str:
    return request.headers.get("User-Agent", "")


CHECK_SECONDS = 15  # a worker trusts its own session check this long, while the session generation stands
_checked: dict[str, _Checked] = {}  # token digest -> the last check that found the session live
_CHECKED_MAX = 20_000


@dataclass
class _Checked:
    user: SessionUser
    url: str
    generation: str
    at: float  # time.monotonic() of the database check
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ip: str | None
    agent_hash: str


def _generation():
    store = current_app.config.get("SESSION_GENERATION")
    if store is None:
        return None, None
    try:
        return store, store.get()
    except Exception:  # noqa: BLE001 - Redis away: check the database on every request meanwhile
        log.warning("session generation unreadable; checking sessions in the database", exc_info=True)
        return None, None


def _from_check_cache(key: str, user_id: int, generation: str | None) -> SessionUser | None:
    """The user of a session this worker checked a moment ago, if nothing that could end it happened
    since: the session generation is unchanged (no logout, password change, deactivation or account
    change anywhere), the check is under CHECK_SECONDS old, the lifetime and idle limits still hold,
    and the request comes from the same browser and address (otherwise the database decides)."""
    hit = _checked.get(key)
    cfg = current_app.config
    if hit is None or generation is None or hit.generation != generation or hit.user.id != user_id \
            or hit.url != cfg["DATABASE_URL"] or time.monotonic() - hit.at > CHECK_SECONDS:
        return None
    if hit.ip != client_ip() or hit.agent_hash != sessions_model.digest(_user_agent()):
        return None
    now = utcnow()
    if now - hit.created_at > cfg["PERMANENT_SESSION_LIFETIME"] or now - hit.last_seen_at > cfg["SESSION_IDLE"]:
        return None
    return replace(hit.user)


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    """The signed-in user, only while their server-side session is live (checked on every request:
    in the database, or in this worker's copy of a check made seconds ago while the session
    generation stands, see ``_from_check_cache``)."""
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str) or not user_id.isdigit():
        return None
    cfg = current_app.config
    key = sessions_model.digest(token)
    store, generation = _generation()  # read before the database: a change during the check is seen next time
    cached = _from_check_cache(key, int(user_id), generation)
    if cached is not None:
        return cached
    _checked.pop(key, None)
    with session_scope(cfg["DATABASE_URL"]) as s:
        refused, row = sessions_model.check_session_row(
            s, token, int(user_id), ip=client_ip(), user_agent=_user_agent(),
            idle=cfg["SESSION_IDLE"], lifetime=cfg["PERMANENT_SESSION_LIFETIME"])
        if refused is None:
            user = s.get(User, int(user_id))
            if user is not None and user.active:
                signed_in = _session_user(user)
                if store is not None:
                    if len(_checked) >= _CHECKED_MAX:
                        _checked.clear()
                    _checked[key] = _Checked(replace(signed_in), cfg["DATABASE_URL"], generation, time.monotonic(),
                                             row.created_at, row.last_seen_at, row.ip, row.agent_hash)
                return signed_in
        elif refused in ("idle", "lifetime", "binding"):  # ended by this request: recorded once per session
            audit_model.record(s, action="session_ended", target=None, detail={"reason": refused},
                               user_id=int(user_id), username=None, ip=client_ip())
    session.clear()  # the browser drops the dead cookie
    return None


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=60)])
    password = PasswordField(validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_view():
    form = LoginForm()
    error = None
    next_url = _safe_next(request.args.get("next"))
    if request.method == "POST":
        if not form.validate_on_submit():
            error = tr("页面已过期，请重新登录。", "The page expired; please sign in again.") if "csrf_token" in form.errors \
                else tr("请填写用户名和密码。", "Enter your user name and password.")
        else:
            error = _try_login(form.username.data.strip(), form.password.data)
            if error is None:
                return redirect(next_url)
            if error is ACTIVATE:
                return redirect("/activate")
    status = 401 if error else 200
    return render_template(
        "login.html", form=form, error=error, next=next_url if next_url != "/" else "",
        username=(form.username.data or "") if request.method == "POST" else "",
        lang=session.get("lang", "zh"),
        t_title=tr("登录 · 警康", "Sign in · Jingkang"), t_brand=tr("警康健康管理平台", "Jingkang Health Portal"),
        t_sub=tr("民警职业健康管理", "Police occupational health"), t_user=tr("用户名", "User name"),
        t_pass=tr("密码或激活码", "Password or activation code"), t_login=tr("登录", "Sign in"),
        t_first=tr("首次登录：用户名填警号，密码处填单位发放的激活码。",
                   "First sign-in: your badge as user name and the activation code your unit gave you as password."),
    ), status


def _address_limit():
    return parse_limit(current_app.config["LOGIN_RATE_LIMIT"])


ACTIVATE = "activate"  # _try_login's answer when a valid activation code was given: ask for a password
ACTIVATION_KEY = "activation"  # the pending activation in the signed cookie: user id, code hash, deadline
ACTIVATION_MINUTES = 15  # time to choose the first password after the code was accepted


def _try_login(username: str, password: str) -> str | None:
    """Sign in, ACTIVATE (a valid activation code: the first password comes next), or the one refusal
    text. Exactly one argon2 verification runs on every path."""
    cfg = current_app.config
    limiter: Limiter = current_app.extensions["portal_limiter"]
    ip = client_ip()
    refusal = tr("用户名、密码或激活码不正确（激活码只能使用一次，过期需请单位管理员重新发放），或尝试过于频繁，请稍后再试。",
                 "Wrong user name, password or activation code (a code works once; an expired one is reissued "
                 "by your unit's administrator), or too many attempts: try again later.")
    with session_scope(cfg["DATABASE_URL"]) as s:
        address_open = limiter.limiter.test(_address_limit(), "login-address", ip or "")
        wait = sessions_model.throttle_wait(s, username, ip)
        if not address_open or wait is not None:
            burn_password_check(password)
            outcome = "throttled_address" if not address_open else "throttled"
            audit_model.record(s, action="login_failed", target=username[:200], detail={"outcome": outcome},
                               user_id=None, username=username[:60], ip=ip)
            return refusal
        user, outcome = authenticate(s, username, password, secret=cfg["SECRET_KEY"])
        if user is None:
            limiter.limiter.hit(_address_limit(), "login-address", ip or "")
            sessions_model.record_failure(
                s, username, ip, free=cfg["LOGIN_FREE_ATTEMPTS"], base=cfg["LOGIN_DELAY"], cap=cfg["LOGIN_DELAY_MAX"])
            audit_model.record(s, action="login_failed", target=username[:200], detail={"outcome": outcome},
                               user_id=None, username=username[:60], ip=ip)
            return refusal
        sessions_model.clear_failures(s, username, ip)
        if outcome == ACTIVATE:
            audit_model.record(s, action="activation_code_accepted", target=username, detail=None,
                               user_id=user.id, username=user.username, ip=ip)
            pending = {"uid": user.id, "code": user.activation_hash,
                       "until": (utcnow() + dt.timedelta(minutes=ACTIVATION_MINUTES)).isoformat()}
        else:
            signed_in = open_session(s, user, outcome)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    if outcome == ACTIVATE:
        session[ACTIVATION_KEY] = pending
        return ACTIVATE
    sign_in_cookie(signed_in)
    return None


def open_session(s, user: User, outcome: str) -> SessionUser:
    """A server-side session for a user who just proved who they are (password, first password, SSO)."""
    ip = client_ip()
    signed_in = _session_user(user)
    signed_in.token = sessions_model.start_session(s, user.id, ip=ip, user_agent=_user_agent())
    audit_model.record(s, action="login", target=user.username, detail={"outcome": outcome},
                       user_id=user.id, username=user.username, ip=ip)
    return signed_in


def sign_in_cookie(signed_in: SessionUser) -> None:
    session[SESSION_TOKEN] = signed_in.token
    session.permanent = False  # a browser-session cookie; the server ends it after the lifetime anyway
    login_user(signed_in)


def _logout_view():
    """GET (the address bar, a bookmark): a confirm form. POST (with the CSRF token): sign out."""
    if request.method == "GET":
        return render_template(
            "logout.html", lang=session.get("lang", "zh"),
            t_title=tr("退出登录 · 警康", "Sign out · Jingkang"), t_brand=tr("警康健康管理平台", "Jingkang Health Portal"),
            t_question=tr(f"确定要退出 {current_user.username} 的登录吗？", f"Sign {current_user.username} out?"),
            t_confirm=tr("退出登录", "Sign out"), t_cancel=tr("返回", "Back"))
    token = session.get(SESSION_TOKEN)
    with session_scope(current_app.config["DATABASE_URL"]) as s:
        if isinstance(token, str):
            sessions_model.end_session(s, token, "logout")
        audit_model.record(s, action="logout", target=current_user.username, detail=None,
                           user_id=current_user.id, username=current_user.username, ip=client_ip())
    logout_user()
    session.clear()
    return redirect("/login")


def _lang_view(lang: str):
    """Switch language (a POST with the CSRF token); persisted on the user's account when logged in."""
    if request.method != "POST":
        raise MethodNotAllowed(valid_methods=["POST"])  # a state change is never a (cross-site) GET
    if lang not in ("zh", "en"):
        lang = "zh"
    session["lang"] = lang
    if getattr(current_user, "is_authenticated", False):
        with session_scope(current_app.config["DATABASE_URL"]) as s:
            user = s.get(User, current_user.id)
            user.language = lang
    back = request.form.get("next") or (request.referrer and urlparse(request.referrer).path)
    return redirect(_safe_next(back))


def sso_username() -> str | None:
    """The user name a trusted identity gateway vouches for, or None. Believed only when
    PORTAL_SSO_HEADER is set, PORTAL_TRUSTED_PROXIES > 0, the request's X-Forwarded-For holds the
    entries of that many proxies (ProxyFix took the client's address from it) and the direct peer,
    as ProxyFix recorded it before rewriting ``remote_addr``, is one of PORTAL_SSO_PROXY_ADDRESSES.
    A header that arrives any other way is a forgery: it is audited and ignored."""
    cfg = current_app.config["PORTAL_CONFIG"]
    if not cfg.sso_header:
        return None
    name = (request.headers.get(cfg.sso_header) or "").strip()
    if not name:
        return None
    orig = request.environ.get("werkzeug.proxy_fix.orig") or {}
    hops = [h for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    peer = orig.get("REMOTE_ADDR")
    if cfg.trusted_proxies <= 0 or not orig or len(hops) < cfg.trusted_proxies or peer not in cfg.sso_proxies:
        with session_scope(cfg.database_url) as s:
            audit_model.record(s, action="sso_refused", target=name[:200],
                               detail={"peer": peer or request.remote_addr, "hops": len(hops)},
                               user_id=None, username=None, ip=client_ip())
        return None
    return name[:60]


def _sso_sign_in() -> None:
    """Sign in the account the trusted gateway names (active, and not waiting for activation);
    otherwise nothing happens and the login form stays the way in."""
    name = sso_username()
    if name is None:
        return
    with session_scope(current_app.config["DATABASE_URL"]) as s:
        user = s.scalar(select(User).where(User.username == name))
        if user is None or not user.active or user.activation_hash is not None:
            audit_model.record(s, action="login_failed", target=name, detail={"outcome": "sso_no_account"},
                               user_id=None, username=name, ip=client_ip())
            return
        signed_in = open_session(s, user, "sso")
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    sign_in_cookie(signed_in)


def _guard():
    """Anonymous callers get a redirect (pages) or 401 (Dash endpoints), never data."""
    path = request.path
    if any(path == p or path.startswith(p) for p in PUBLIC_PREFIXES):
        return None
    if not getattr(current_user, "is_authenticated", False):
        _sso_sign_in()
    if getattr(current_user, "is_authenticated", False):
        if path == "/" and current_user.role == "officer":
            return redirect("/me")  # an officer's home is their own record
        return None
    if path == "/logout" and request.method == "GET":
        return redirect("/login")  # nobody to sign out
    if path.startswith("/_dash") or path.startswith("/_reload") or request.method != "GET":
        return jsonify(error="login required"), 401
    return redirect(url_for("login", next=path))


def _set_csrf_cookie(response):
    """Dash's renderer sends the ``_csrf_token`` cookie back as X-CSRFToken on every callback."""
    if getattr(current_user, "is_authenticated", False) and request.method == "GET":
        response.set_cookie("_csrf_token", generate_csrf(), samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=False)
    return response


def _limiter_storage(cache_url: str | None) -> str:
    """Redis (shared by every gunicorn worker) when the cache is Redis; else this process's memory."""
    if cache_url and cache_url.startswith(("redis://", "rediss://", "unix://")):
        return cache_url
    return "memory://"


def init_auth(server: Flask, csrf, cfg) -> None:
    server.config.update(
        SESSION_IDLE=dt.timedelta(minutes=cfg.session_idle_minutes),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=cfg.session_lifetime_hours),  # also the cookie's max age
        REMEMBER_COOKIE_DURATION=dt.timedelta(hours=cfg.session_lifetime_hours),
        LOGIN_FREE_ATTEMPTS=cfg.login_free_attempts,
        LOGIN_DELAY=dt.timedelta(seconds=cfg.login_delay_seconds),
        LOGIN_DELAY_MAX=dt.timedelta(minutes=cfg.login_delay_max_minutes),
    )
    store = cfg.session_generation()
    sessions_model.use_generation(cfg.database_url, store)  # commits here that end sessions bump it
    server.config["SESSION_GENERATION"] = store
    login_manager.init_app(server)
    login_manager.session_protection = None  # ours is in models.sessions (Flask-Login's trusts X-Forwarded-For)
    limiter = Limiter(key_func=get_remote_address, app=server, default_limits=[],
                      storage_uri=_limiter_storage(cfg.cache_url))
    server.extensions["portal_limiter"] = limiter
    server.add_url_rule("/login", "login", csrf.exempt(_login_view), methods=["GET", "POST"])  # the form checks its token
    server.add_url_rule("/logout", "logout", _logout_view, methods=["GET", "POST"])
    server.add_url_rule("/lang/<lang>", "lang", _lang_view, methods=["GET", "POST"])  # GET: 405, not the shell
    server.before_request(_guard)
    server.after_request(_set_csrf_cookie)
