"""Long actions with a progress bar: Dash background callbacks on a ``DiskcacheManager`` whose cache
lives under the instance folder (``instance/jobs``). Kept to this one module so a general job runner
can take its place later.

A background job runs in another process, without Flask's request: who started it is taken from the
request that started it (a ``custom_data`` hook reading ``current_user`` on the server, never from
anything the browser sends) and read back in the job with :func:`caller`.
"""
from __future__ import annotations

from pathlib import Path

import diskcache
from dash import DiskcacheManager, callback_context, hooks
from flask import has_request_context, request
from flask_login import current_user

from web.access import AccessDenied

_managers: dict[str, DiskcacheManager] = {}
_roles: dict[str, tuple[str, ...]] = {}  # a background callback's first output id -> roles that may start it


def manager(app) -> DiskcacheManager:
    """The app's background-callback manager (one cache directory per instance folder)."""
    path = str(Path(app.server.instance_path) / "jobs")
    if path not in _managers:
        _managers[path] = DiskcacheManager(diskcache.Cache(path))
    return _managers[path]


def require(output_id: str, *roles: str) -> None:
    """Only these roles may start the background callback whose first output is ``output_id``: checked
    in the request, before any job starts (a refusal is the app's uniform 403, audited)."""
    _roles[output_id] = roles


@hooks.custom_data("portal_caller")
def _caller(_ctx) -> dict | None:
    if not has_request_context():
        return None
    body = request.get_json(silent=True) if request.is_json else None
    output = str(body.get("output", "")) if isinstance(body, dict) else ""
    for output_id, roles in _roles.items():
        if output.startswith(f"..{output_id}.") or output.startswith(f"{output_id}."):
            role = current_user.role if getattr(current_user, "is_authenticated", False) else None
            if role not in roles:
                raise AccessDenied(f"role {role} may not start {output_id}")
    if not getattr(current_user, "is_authenticated", False):
        return None
    return {"id": current_user.id, "username": current_user.username, "role": current_user.role,
            "language": current_user.language, "ip": request.remote_addr}


def caller() -> dict | None:
    """Who started the running callback or job: {"id", "username", "role", "language", "ip"} or None."""
    data = getattr(callback_context, "custom_data", None) or {}
    return data.get("portal_caller")


def words(who: dict | None, zh: str, en: str) -> str:
    """``tr`` for a job, which has no request: the language of the user who started it."""
    return en if (who or {}).get("language") == "en" else zh
