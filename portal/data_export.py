"""Take your data: an officer downloads everything held about them, as JSON and as a printable
document (``templates/data.html``); an admin does the same for an officer on request.

``/me/data.json``, ``/me/data.html``: the logged-in officer's own record (action
``export_own_data``). ``/officers/<badge>/data.json``, ``/officers/<badge>/data.html``: admins
only, for an officer who asked (action ``export_officer_data``, target ``officer:<badge>``, so
the officer sees it in "who looked at my record"). The data comes from
``models.subject_data.officer_data``; the template gets data and words, never HTML.
"""
from __future__ import annotations

import json

from flask import Flask, Response, abort, render_template

from models import subject_data
from models.schema import Officer
from web.access import AccessDenied, audit, current_scope, db, officer_in_scope
from web.clock import today
from web.i18n import language, tr


def init_data_export(server: Flask) -> None:
    server.add_url_rule("/me/data.json", "own_data_json", lambda: _export("", "json"))
    server.add_url_rule("/me/data.html", "own_data_html", lambda: _export("", "html"))
    server.add_url_rule("/officers/<badge>/data.json", "officer_data_json", lambda badge: _export(badge, "json"))
    server.add_url_rule("/officers/<badge>/data.html", "officer_data_html", lambda badge: _export(badge, "html"))


def _export(key: str, fmt: str):
    try:
        if key == "":
            scope = current_scope("officer")
            if scope.officer_id is None:
                raise AccessDenied("no officer record")
        else:
            scope = current_scope("admin")
            if not isinstance(key, str) or len(key) > 20:
                raise AccessDenied("no access")
        with db() as s:
            officer = s.get(Officer, scope.officer_id) if key == "" else officer_in_scope(s, scope, key)
            if officer is None:
                raise AccessDenied("no access")
            data = subject_data.officer_data(s, officer.id, as_of=today(),
                                             generated_for="officer" if key == "" else "admin")
            if key == "":
                audit("export_own_data", f"officer:{officer.badge}", {"format": fmt}, session=s)
            else:
                audit("export_officer_data", f"officer:{officer.badge}", {"format": fmt, "on_request": True},
                      session=s)
            badge = officer.badge
    except AccessDenied:
        abort(403)
    stamp = data["as_of"].replace("-", "")
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=1)
        return Response(body, mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="officer_{badge}_{stamp}.json"',
            "Cache-Control": "no-store"})
    html = render_template("data.html", d=data, lang=language(), tr=tr, w=_words)
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _words(pair: dict | None) -> str:
    """A {"code", "zh", "en"} pair in the reader's language."""
    if not pair:
        return ""
    return tr(pair.get("zh") or "", pair.get("en") or "")

