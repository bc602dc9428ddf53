"""Login (the form is ``templates/login.html``), logout, language switch and the login guard in front
of every route."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from flask import Flask, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import audit as audit_model
from models.db import session_scope
from models.schema import User
from models.users import authenticate
from web.i18n import tr

PUBLIC_PREFIXES = ("/login", "/assets/", "/healthz", "/lang/")

login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")


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
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return str(self.id)


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    with session_scope(current_app.config["DATABASE_URL"]) as s:
        user = s.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active:
            return None
        return SessionUser(
            id=user.id, username=user.username, role=user.role, officer_id=user.officer_id,
            scope_path=user.scope_unit.path if user.scope_unit else None,
            scope_code=user.scope_unit.code if user.scope_unit else None,
            language=user.language or "zh",
        )


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
            error = _try_login(form.username.data.strip(), form.password.data, next_url)
            if error is None:
                return redirect(next_url)
    status = 401 if error else 200
    return render_template(
        "login.html", form=form, error=error, next=next_url if next_url != "/" else "",
        username=(form.username.data or "") if request.method == "POST" else "",
        lang=session.get("lang", "zh"),
        t_title=tr("登录 · 警康", "Sign in · Jingkang"), t_brand=tr("警康健康管理平台", "Jingkang Health Portal"),
        t_sub=tr("民警职业健康管理", "Police occupational health"), t_user=tr("用户名", "User name"),
        t_pass=tr("密码", "Password"), t_login=tr("登录", "Sign in"),
    ), status


def _try_login(username: str, password: str, next_url: str) -> str | None:
    cfg = current_app.config
    with session_scope(cfg["DATABASE_URL"]) as s:
        user, outcome = authenticate(s, username, password, max_failed=cfg["MAX_FAILED_LOGINS"],
                                     lockout_minutes=cfg["LOCKOUT_MINUTES"])
        audit_model.record(s, action="login" if user else "login_failed", target=username,
                           detail={"outcome": outcome}, user_id=user.id if user else None,
                           username=username, ip=request.remote_addr)
        if user is None:
            if outcome == "locked":
                return tr(f"登录失败次数过多，账号已锁定 {cfg['LOCKOUT_MINUTES']} 分钟。",
                          f"Too many failed attempts: the account is locked for {cfg['LOCKOUT_MINUTES']} minutes.")
            return tr("用户名或密码不正确。", "Wrong user name or password.")
        user_id = user.id
    session.clear()
    login_user(_load_user(str(user_id)))
    return None


def _logout_view():
    logout_user()
    session.clear()
    return redirect("/login")


def _lang_view(lang: str):
    """Switch language; persisted on the user's account when logged in."""
    if lang not in ("zh", "en"):
        lang = "zh"
    session["lang"] = lang
    if getattr(current_user, "is_authenticated", False):
        with session_scope(current_app.config["DATABASE_URL"]) as s:
            user = s.get(User, current_user.id)
            user.language = lang
    return redirect(_safe_next(request.args.get("next") or request.referrer and urlparse(request.referrer).path))


def _guard():
    """Anonymous callers get a redirect (pages) or 401 (Dash endpoints), never data."""
    path = request.path
    if any(path == p or path.startswith(p) for p in PUBLIC_PREFIXES):
        return None
    if getattr(current_user, "is_authenticated", False):
        if path == "/" and current_user.role == "officer":
            return redirect("/me")  # an officer's home is their own record
        return None
    if path.startswith("/_dash") or path.startswith("/_reload") or request.method != "GET":
        return jsonify(error="login required"), 401
    return redirect(url_for("login", next=path))


def _set_csrf_cookie(response):
    """Dash's renderer sends the ``_csrf_token`` cookie back as X-CSRFToken on every callback."""
    if getattr(current_user, "is_authenticated", False) and request.method == "GET":
        response.set_cookie("_csrf_token", generate_csrf(), samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=False)
    return response


def init_auth(server: Flask, csrf) -> None:
    login_manager.init_app(server)
    login_manager.session_protection = "strong"
    limiter.init_app(server)
    login_view = csrf.exempt(limiter.limit(lambda: server.config["LOGIN_RATE_LIMIT"], methods=["POST"])(_login_view))
    server.add_url_rule("/login", "login", login_view, methods=["GET", "POST"])  # the form checks its own token
    server.add_url_rule("/logout", "logout", _logout_view, methods=["POST"])
    server.add_url_rule("/lang/<lang>", "lang", _lang_view, methods=["GET"])
    server.add_url_rule("/healthz", "healthz", lambda: {"ok": True})
    server.before_request(_guard)
    server.after_request(_set_csrf_cookie)
