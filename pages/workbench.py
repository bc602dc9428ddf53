"""/workbench: the health manager's day: new red officers without a follow-up, my open
follow-ups (overdue first), recently closed ones with the next assessment, recent changes.
The frame is shared with the manager's home page (``web.frames.workbench_frame``).
"""
import dash

from web.frames import workbench_frame


def layout(**_):
    return workbench_frame()


dash.register_page(__name__, path="/workbench", title="警康 · 工作台", layout=layout)
