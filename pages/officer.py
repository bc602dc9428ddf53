"""/officers/<badge>: one officer's portrait for health managers (full) and leaders (header and
warning only). Who may see which badge is decided by callbacks/portrait.py on the server; this
module only lays out the frame the callbacks fill."""
import dash
from flask_login import current_user

from web.frames import portrait_frame
from web.i18n import tr
from web.shell import no_access

PORTRAIT_ROLES = ("officer", "manager", "counsellor", "leader", "admin")


def layout(badge=None, **_):
    if current_user.role not in PORTRAIT_ROLES or not badge:
        return no_access()
    return portrait_frame(str(badge)[:20], tr("个人健康画像", "Health portrait"), "officer-title")


dash.register_page(__name__, path_template="/officers/<badge>", title="警康 · 个人健康画像", layout=layout)
