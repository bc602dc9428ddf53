"""/me: the logged-in officer's own health portrait (the officer comes from the session only)."""
import dash
from flask_login import current_user

from web.frames import portrait_frame
from web.i18n import tr
from web.shell import no_access


def layout(**_):
    if current_user.role != "officer":
        return no_access(tr("“我的健康”页面只对民警本人开放。", "“My health” is for officers' own records."))
    return portrait_frame("", tr("我的健康", "My health"), "me-title")


dash.register_page(__name__, path="/me", title="警康 · 我的健康", layout=layout)
