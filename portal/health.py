"""``/healthz``: is this web worker able to serve? For the load balancer, systemd and monitoring.

No login, no data: only whether the database answers, whether its schema is at this release's
migration head, and whether the cache stores and returns a value. 200 when all three hold, 503
otherwise (the body names the failing check, never a connection string or an error's text).
"""
from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, current_app, jsonify

log = logging.getLogger("portal.health")

_head: dict[str, str] = {}  # this release's migration head, read once per database URL


def _database(url: str) -> dict:
    from sqlalchemy import inspect, text

    from models.db import get_engine

    with get_engine(url).connect() as conn:
        conn.execute(text("SELECT 1"))
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            if inspect(conn).has_table("alembic_version") else None
    if url not in _head:
        from alembic.script import ScriptDirectory

        from models.db import alembic_config

        _head[url] = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    return {"revision": current, "head": _head[url]}


def _cache_ok() -> bool:
    from web.cache import cache

    if current_app.config["PORTAL_CONFIG"].testing:
        return True  # the tests' NullCache keeps nothing by design
    key, value = "healthz:" + uuid.uuid4().hex, "1"
    cache.set(key, value, timeout=10)
    ok = cache.get(key) == value
    cache.delete(key)
    return ok


def healthz():
    started = time.perf_counter()
    checks: dict[str, str] = {}
    try:
        db = _database(current_app.config["DATABASE_URL"])
        checks["database"] = "ok"
        checks["migrations"] = "ok" if db["revision"] == db["head"] else "behind"
    except Exception:  # noqa: BLE001 - any failure is "not healthy"; the detail goes to the log only
        log.exception("healthz: database check failed")
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    try:
        checks["cache"] = "ok" if _cache_ok() else "failing"
    except Exception:  # noqa: BLE001
        log.exception("healthz: cache check failed")
        checks["cache"] = "unreachable"
    ok = all(v == "ok" for v in checks.values())
    body = {"ok": ok, **checks, "ms": round((time.perf_counter() - started) * 1000, 1)}
    res = jsonify(body)
    res.status_code = 200 if ok else 503
    res.headers["Cache-Control"] = "no-store"
    return res


def init_health(server: Flask) -> None:
    server.add_url_rule("/healthz", "healthz", healthz)
