"""Query cache (Flask-Caching): filesystem by default, Redis when PORTAL_CACHE_URL is set.

Keys carry the caller's scope, the filters and the versions of the data domains the answer
reads (``models.db.DATA_DOMAINS``), so a cached answer never outlives its data or crosses scopes.
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable

import orjson
from flask import current_app
from flask_caching import Cache

from models.db import DATA_DOMAINS, data_versions
from web.access import Scope, current_scope, db
from web.clock import today
from web.i18n import language

cache = Cache()


def _code_version() -> str:
    """A digest of the query code, so results cached by an older release are never served after a deploy."""
    import models

    digest = hashlib.sha256()
    for path in sorted(Path(models.__file__).parent.rglob("*.py")) + sorted(Path(models.__file__).parent.rglob("*.json")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


CODE_VERSION = _code_version()


def init_cache(server, cfg) -> None:
    if cfg.testing:
        settings = {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    elif cfg.cache_url:
        settings = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": cfg.cache_url, "CACHE_DEFAULT_TIMEOUT": 600}
    else:
        settings = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": cfg.cache_dir, "CACHE_DEFAULT_TIMEOUT": 600,
                    "CACHE_THRESHOLD": 2000}
    cache.init_app(server, config=settings)


# the reads of answers that depend on one data domain only
HEALTH = ("health",)      # statuses, observations, exams, questionnaires
CAMPAIGN = ("campaign",)  # campaigns, their entries and points
HEALTH_AND_FOLLOWUPS = ("health", "followup")  # who is which colour, and what is being done about it

_versions: dict[str, tuple[str, dict[str, str]]] = {}  # database URL -> (generation, versions) this worker read


def data_version(reads: tuple[str, ...] = DATA_DOMAINS) -> str:
    """The versions of the data domains (``models.db.DATA_DOMAINS``) in ``reads``, as one key part.
    Read from the database only when the generation (``models.sessions``: bumped by every commit
    that bumps a data version) moved since this worker last read it; a generation that cannot be
    read means the database every time."""
    url = current_app.config["DATABASE_URL"]
    store, generation = current_app.config.get("SESSION_GENERATION"), None
    if store is not None:
        try:
            generation = store.get()  # before the database: a bump during the read is seen next time
        except Exception:  # noqa: BLE001 - Redis away: the database answers
            generation = None
    memo = _versions.get(url)
    if generation is not None and memo is not None and memo[0] == generation:
        versions = memo[1]
    else:
        with db() as s:
            versions = data_versions(s)
        if generation is not None:
            _versions[url] = (generation, versions)
    return ".".join(f"{domain}{versions[domain]}" for domain in reads)


def cached(name: str, scope: Scope, params: dict[str, Any], compute: Callable[[], Any],
           reads: tuple[str, ...] = DATA_DOMAINS) -> Any:
    """Return ``compute()``, cached under (name, scope, params, the versions of the data domains
    it ``reads``: all unless it names fewer, so a forgotten domain can only cost a recompute)."""
    version = data_version(reads)
    raw = json.dumps([CODE_VERSION, name, scope.role, scope.unit_path, scope.officer_id, scope.sees_psych, params, version,
                      current_app.config["DATABASE_URL"]], sort_keys=True, default=str)
    key = "q:" + hashlib.sha256(raw.encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    return _single_flight(key, compute)


COMPUTE_SECONDS = 60  # how long others wait for one process's computation (and the most its claim lasts)
_POLL_SECONDS = 0.05


def _single_flight(key: str, compute: Callable[[], Any]) -> Any:
    """Compute a missing answer in one process while the others that ask for it meanwhile wait for it.

    Right after a start, or after new data, every user of a scope asks for the same figures at once:
    each worker computing them in parallel multiplied the dearest work by the number of workers. The
    claim is the cache's own atomic add (Redis SETNX; the file cache's add can let a second process in,
    which then only computes twice). A claim that ends without an answer (a refusal, an error) lets the
    waiters compute for themselves: each gets its own refusal."""
    claim = "claim:" + key
    if cache.add(claim, 1, timeout=COMPUTE_SECONDS):
        try:
            value = compute()
            cache.set(key, value)
            return value
        finally:
            cache.delete(claim)
    deadline = time.monotonic() + COMPUTE_SECONDS
    while time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        hit = cache.get(key)
        if hit is not None:
            return hit
        if not cache.has(claim):
            break
    value = compute()
    cache.set(key, value)
    return value


def plain(value: Any) -> Any:
    """An answer (components, figures, numbers) as the JSON data it is sent as: cheap to keep and to send again."""
    def default(obj):
        to_plotly = getattr(obj, "to_plotly_json", None)
        if to_plotly is None:
            raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
        return to_plotly()

    return orjson.loads(orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))


def cached_answer(name: str, extra: Callable[[], Any] | None = None, reads: tuple[str, ...] = DATA_DOMAINS):
    """Keep a callback's whole answer under (name, the caller's scope, its arguments, the language,
    today, ``extra()``, the versions of the data it ``reads``): a repeated view skips the queries and
    the building of components and figures. Only for callbacks whose answer depends on nothing else and that record
    nothing (no audit row): a hit does not run the body. The body's own checks still decide: a
    refusal raises and is never kept, and a kept answer was given to this very scope."""
    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def answer(*args):
            scope = current_scope()
            params = {"args": list(args), "lang": language(), "today": today().isoformat(),
                      "extra": extra() if extra is not None else None}
            return cached(f"answer:{name}", scope, params, lambda: plain(fn(*args)), reads)
        return answer
    return decorate
