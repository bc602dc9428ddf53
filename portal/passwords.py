"""The first password after an activation code (``/activate``) and a password change for every
signed-in user (``/password``, in the user menu); both refuse weak passwords (``models.passwords``)
in the user's language and are audited. A change ends the account's other sessions."""
from __future__ import annotations

import datetime as dt
import re

from flask import Flask, current_app, redirect, render_template, request, session
from flask_login import current_user

from ingest import idcard
from ingest.matching import id_hash_key
from models import activation
from models import audit as audit_model
from models import sessions as sessions_model
from models.db import session_scope
from models.passwords import problems
from models.schema import User, utcnow
from models.users import hash_password, verify_password
from models.vocab import PASSWORD_PROBLEMS
from portal import auth
from web.access import client_ip
from web.i18n import label, tr

ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def password_problems(s, user: User, password: str, repeat: str) -> list[str]:
    """Problem codes of a new password for this account (its badge, birth date and ID number included)."""
    officer = user.officer
    hash_id = id_hash = None
    if officer is not None and officer.id_hash:
        key = id_hash_key(s, current_app.config["SECRET_KEY"])
        id_hash = officer.id_hash

        def hash_id(text: str) -> str:
            return idcard.keyed_hash(text, key) if ID_SHAPE.match(text) else ""

    found = problems(password, username=user.username, badge=officer.badge if officer else None,
                     birth_date=officer.birth_date if officer else None, id_hash=id_hash, hash_id=hash_id)
    if password != repeat:
        found.append("mismatch")
    return found


def _page(*, action: str, ask_current: bool, errors: list[str], done: str | None = None, back: str | None = None,
          status: int = 200):
    first = not ask_current
    return render_template(
        "password.html", action=action, ask_current=ask_current, errors=errors, done=done, back=back,
        lang=session.get("lang", "zh") if first else current_user.language,
        t_title=tr("设置密码 · 警康", "Set password · Jingkang") if first else tr("修改密码 · 警康", "Change password · Jingkang"),
        t_heading=tr("设置您的密码", "Choose your password") if first else tr("修改密码", "Change password"),
        t_sub=tr("激活码已验证，请设置以后登录用的密码。", "Your activation code is accepted: choose the password you will sign in with.")
        if first else tr("修改后，您在其他设备上的登录将结束。", "Your sessions on other devices end after the change."),
        t_current=tr("当前密码", "Current password"), t_new=tr("新密码", "New password"),
        t_repeat=tr("再次输入新密码", "New password again"),
        t_rules=tr("至少 10 个字符；不能是常见密码，不能包含警号、身份证号码或出生日期。",
                   "At least 10 characters; not a common password, and without your badge, ID number or birth date."),
        t_submit=tr("保存密码", "Save password"), t_cancel=tr("返回", "Back"), t_back=tr("继续", "Continue"),
    ), status


def _activate_view():
    pending = session.get(auth.ACTIVATION_KEY)
    expired_text = tr("激活已超时，请重新用警号和激活码登录。", "The activation timed out: sign in again with your badge and code.")
    if not isinstance(pending, dict) or dt.datetime.fromisoformat(pending["until"]) < utcnow():
        session.pop(auth.ACTIVATION_KEY, None)
        return redirect("/login")
    if request.method == "GET":
        return _page(action="/activate", ask_current=False, errors=[])
    new, repeat = request.form.get("new_password", ""), request.form.get("repeat", "")
    with session_scope(current_app.config["DATABASE_URL"]) as s:
        user = s.get(User, int(pending["uid"]))
        if user is None or not user.active or user.activation_hash != pending["code"] or activation.is_expired(user):
            session.pop(auth.ACTIVATION_KEY, None)  # the code was spent or replaced meanwhile
            return _page(action="/activate", ask_current=False, errors=[expired_text], back="/login", status=409)
        found = password_problems(s, user, new, repeat)
        if found:
            return _page(action="/activate", ask_current=False, errors=[label(PASSWORD_PROBLEMS, c) for c in found],
                         status=400)
        activation.finish_activation(s, user, hash_password(new))
        audit_model.record(s, action="activated", target=user.username, detail=None, user_id=user.id,
                           username=user.username, ip=client_ip())
        signed_in = auth.open_session(s, user, "activated")
        home = "/me" if user.role == "officer" else "/"
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    auth.sign_in_cookie(signed_in)
    return redirect(home)


def _password_view():
    back = "/me" if current_user.role == "officer" else "/"
    if request.method == "GET":
        return _page(action="/password", ask_current=True, errors=[], back=back)
    current, new, repeat = (request.form.get(k, "") for k in ("current", "new_password", "repeat"))
    with session_scope(current_app.config["DATABASE_URL"]) as s:
        user = s.get(User, current_user.id)
        found = [] if verify_password(user, current) else ["wrong_current"]  # one argon2 verification
        found += password_problems(s, user, new, repeat)
        if found:
            audit_model.record(s, action="password_change_refused", target=user.username, detail={"problems": found},
                               user_id=user.id, username=user.username, ip=client_ip())
            errors = list(dict.fromkeys(label(PASSWORD_PROBLEMS, c) for c in found))
            return _page(action="/password", ask_current=True, errors=errors, back=back, status=400)
        user.password_hash = hash_password(new)
        ended = sessions_model.end_user_sessions(s, user.id, "password", keep_token=session.get(auth.SESSION_TOKEN))
        audit_model.record(s, action="password_changed", target=user.username, detail={"other_sessions_ended": ended},
                           user_id=user.id, username=user.username, ip=client_ip())
    return _page(action="/password", ask_current=True, errors=[], back=back,
                 done=tr(f"密码已修改；已结束其他 {ended} 个登录会话。",
                         f"Password changed; {ended} other session(s) ended."))


def init_passwords(server: Flask) -> None:
    server.add_url_rule("/activate", "activate", _activate_view, methods=["GET", "POST"])
    server.add_url_rule("/password", "password", _password_view, methods=["GET", "POST"])
