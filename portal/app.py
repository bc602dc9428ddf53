"""The app factory: config, database, auth, cache, the shell and every page and callback."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import dash
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from web.access import AccessDenied, security_event
from web.i18n import language, tr
from portal.config import Config

ROOT = Path(__file__).resolve().parent.parent

csrf = CSRFProtect()


def create_app(config: Config | None = None) -> dash.Dash:
    """Build the Dash app on its own Flask server. Safe to call more than once (tests)."""
    cfg = config or Config()
    server = Flask("portal", instance_path=str(Path(cfg.cache_dir).parent))
    server.config.update(
        SECRET_KEY=cfg.secret_key,
        DATABASE_URL=cfg.database_url,
        PORTAL_CONFIG=cfg,
        TESTING=cfg.testing,
        WTF_CSRF_ENABLED=cfg.csrf_enabled,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken", "X-CSRF-Token"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=cfg.secure_cookies,
        LOGIN_RATE_LIMIT=cfg.login_rate_limit,
        PORTAL_TODAY=cfg.today,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        EXPORT_INTERVAL_SECONDS=cfg.export_interval_seconds,
    )
    from portal.auth import init_auth
    from portal.perf import init_perf
    from web.cache import init_cache

    init_perf(server, cfg)  # first: its timer starts before the session check and ends after every other hook
    init_auth(server, csrf, cfg)  # the login guard runs before the CSRF check: anonymous callers get 401
    csrf.init_app(server)
    init_cache(server, cfg)
    _error_handlers(server)

    app = dash.Dash(
        "portal",
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        serve_locally=True,
        title="警康 Portal",
        update_title=None,
        suppress_callback_exceptions=True,
        external_stylesheets=[],
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    _import_pages()

    from web.shell import shell_layout

    app.layout = shell_layout
    from portal.slips import slips_csv, slips_html

    server.extensions["portal_slips"] = {"csv": slips_csv, "html": slips_html}  # /admin/users hands out codes
    _register_callbacks(app)
    from web.inputs import guard_pages_router

    # Dash adds its page router on the first request (its own before_request hook, registered earlier,
    # runs first): check the address bar's values there too, once the router exists
    server.before_request(lambda: guard_pages_router(app))

    from portal.reports import init_reports

    init_reports(server)
    from portal.data_export import init_data_export

    init_data_export(server)
    from portal.health import init_health

    init_health(server)  # /healthz: database, migration head, cache; public (auth.PUBLIC_PREFIXES), no data
    from portal.passwords import init_passwords

    init_passwords(server)
    from portal.security import init_security

    init_security(server, app, cfg.trusted_proxies)  # after every callback: the CSP hashes clientside ones
    return app


def _import_pages() -> None:
    """Each module in pages/ calls dash.register_page when first imported."""
    import pages

    for info in pkgutil.iter_modules(pages.__path__):
        importlib.import_module(f"pages.{info.name}")


def _register_callbacks(app: dash.Dash) -> None:
    import callbacks

    for info in pkgutil.iter_modules(callbacks.__path__):
        module = importlib.import_module(f"callbacks.{info.name}")
        if hasattr(module, "register"):
            module.register(app)


def _error_handlers(server: Flask) -> None:
    @server.errorhandler(AccessDenied)
    def _denied(exc):
        """Every refusal, whatever its cause, is one uniform answer; the cause goes to the audit log
        as a security event with the user, the callback (or path) and the reason."""
        security_event(exc)
        if request.path.startswith("/_dash"):
            return jsonify(error="forbidden"), 403
        return render_template("forbidden.html", lang=language(), tr=tr), 403

    @server.errorhandler(CSRFError)
    def _csrf(exc):
        return jsonify(error="csrf", reason=exc.description), 400
