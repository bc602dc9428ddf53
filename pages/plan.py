"""/me/plan: the officer's personal health plan — targets with progress, the next check, and their own
follow-ups to confirm or ask to reschedule. The officer comes from the session only."""
import dash
from flask_login import current_user

from web.i18n import tr
from web.plan import plan_frame
from web.shell import no_access


def layout(**_):
    if current_user.role != "officer":
        return no_access(tr("“我的健康计划”只对民警本人开放。", "“My health plan” is for officers' own plans."))
    return plan_frame("", tr("我的健康计划", "My health plan"), "plan-title")


dash.register_page(__name__, path="/me/plan", title="警康 · 我的健康计划", layout=layout)
