"""The warning rules version in force, as a badge on /warnings (``models.rule_versions``), linking
admins to /admin/rules."""
from __future__ import annotations

from dash import Input, Output, html

from models import rule_versions
from web.access import current_scope, db
from web.i18n import tr
from web.inputs import Code, checked


def register(app):
    @app.callback(Output("warn-rules-version", "children"), Input("warn-rules-version", "id"))
    @checked
    def warn_rules_version(_: Code):
        scope = current_scope("leader", "manager", "counsellor", "admin")
        with db() as s:
            info = rule_versions.in_force_info(s)

        day = info["published_at"].date().isoformat() if info["published_at"] else ""
        text = tr(f"预警规则版本 v{info['number']} · {info['label']}（{day} 生效）",
                  f"Warning rules v{info['number']} · {info['label']} (in force since {day})")
        badge = html.Span(text, className="badge bg-light text-dark border", id="warn-rules-version-label")
        if scope.role == "admin":
            return html.A(badge, href="/admin/rules", className="text-decoration-none")
        return badge
