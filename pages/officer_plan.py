"""/plan/<badge>: a health manager sets or edits the targets agreed with an officer in scope
(reached from the officer's portrait). Who may see which badge is decided by callbacks/plan.py."""
import dash
from flask_login import current_user

from web.i18n import tr
from web.plan import plan_frame
from web.shell import no_access


def layout(badge=None, **_):
    if current_user.role not in ("manager", "admin") or not badge:
        return no_access(tr("健康计划由民警本人和负责的健康管理师共同制定。",
                            "A health plan is agreed between the officer and their health manager."))
    return plan_frame(str(badge)[:20], tr("健康计划", "Health plan"), "plan-title")


dash.register_page(__name__, path_template="/plan/<badge>", title="警康 · 健康计划", layout=layout)
