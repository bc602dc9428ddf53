"""What every answer carries and where a client's address comes from.

- The real peer: X-Forwarded-For is ignored unless ``PORTAL_TRUSTED_PROXIES=N`` says N reverse
  proxies stand in front of the app; then werkzeug's ProxyFix takes the address the nearest N
  appended (what a client wrote itself is never believed) and puts it in ``remote_addr``, which
  the audit log, the sign-in limiter and the session binding read.
- Headers: a Content-Security-Policy with scripts only from this site plus the hashes of the inline
  scripts Dash writes into its index page (its renderer start-up and clientside callbacks; no
  'unsafe-eval', no 'unsafe-inline' for scripts), no framing (``frame-ancestors 'none'`` and
  X-Frame-Options DENY), nosniff, and ``Referrer-Policy: same-origin``.
- Paths under ``/assets/`` and ``/_dash-component-suites/`` that no file answers get a plain 404,
  never the page shell and never a 500.
"""
from __future__ import annotations

import dash
from flask import Flask, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

FILE_PREFIXES = ("/assets/", "/_dash-component-suites/")


def content_security_policy(app: dash.Dash) -> str:
    """The policy for this app: inline scripts only by their hashes (the renderer's start-up, clientside callbacks)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *app.csp_hashes()],
        # Dash components and plotly.js set inline styles and insert <style> rules at run time
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],  # Bootstrap's icons are data: URIs; plotly's PNG export a blob
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def init_security(server: Flask, app: dash.Dash, trusted_proxies: int) -> None:
    if trusted_proxies > 0:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=trusted_proxies, x_proto=0, x_host=0, x_port=0,
                                   x_prefix=0)
    @server.after_request
    def _headers(response):
        # computed per answer (three short hashes): Dash pages adds its own clientside callback (the
        # page title) only when the first request is served, after create_app has returned
        response.headers["Content-Security-Policy"] = content_security_policy(app)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    # Dash's catch-all page route would answer an unknown asset with the page shell, and an unknown
    # component-suite path raises deep inside Dash: both become a plain 404 here.
    views = server.view_functions

    def _files_or_404(endpoint: str):
        view = views[endpoint]

        def wrapped(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except HTTPException:
                raise
            except Exception:  # an unknown package or file name inside Dash
                raise NotFound() from None

        return wrapped

    for endpoint in [e for e in views if e.endswith("_dash-component-suites/<string:package_name>/<path:fingerprinted_path>")]:
        views[endpoint] = _files_or_404(endpoint)

    @server.before_request
    def _unknown_files():
        if request.path.startswith(FILE_PREFIXES) and request.url_rule is not None \
                and not request.url_rule.rule.startswith(FILE_PREFIXES):
            raise NotFound()  # only the file routes may answer here, never the pages' catch-all
        return None
