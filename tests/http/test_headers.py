"""Security headers, the language switch by POST and 404s for unknown file paths (issue 15, finding 5)."""
import base64
import hashlib
import json
import re

import pytest
from sqlalchemy import select

from models.db import session_scope
from models.schema import User
from tests.helpers import csrf_cookie, csrf_from

HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


@pytest.mark.parametrize("path", ["/login", "/", "/warnings", "/_dash-layout", "/_dash-dependencies",
                                  "/officers/nobody/report", "/assets/portal.css", "/logout"])
def test_hdr001_every_answer_forbids_framing_and_sniffing(as_user, client, path):
    for c in (client, as_user("manager")):
        res = c.get(path)
        for name, value in HEADERS.items():
            assert res.headers.get(name) == value, (path, name)
        csp = res.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp


def _directive(csp: str, name: str) -> list[str]:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


def test_hdr002_csp_allows_exactly_the_inline_scripts_dash_writes(as_user):
    res = as_user("manager").get("/")
    page = re.sub(r"<!--.*?-->", "", res.get_data(as_text=True), flags=re.S)  # IE-only comments never run
    scripts = re.findall(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", page, re.S)
    inline = [body for attrs, body in scripts if "src=" not in attrs and "application/json" not in attrs]
    assert inline, "Dash's index page starts the renderer with an inline script"
    allowed = _directive(res.headers["Content-Security-Policy"], "script-src")
    assert "'unsafe-inline'" not in allowed and "'unsafe-eval'" not in allowed
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, body[:80]


def test_hdr003_language_switch_is_a_post_with_csrf(app, as_user):
    c = as_user("leader_d2")
    assert c.get("/lang/en").status_code == 405  # a cross-site link cannot change it
    assert c.post("/lang/en").status_code == 400  # nor a cross-site form (no token)
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        assert s.scalar(select(User.language).where(User.username == "leader_d2")) == "zh"
    res = c.post("/lang/en", data={"csrf_token": csrf_cookie(c)}, headers={"Referer": "http://localhost/warnings"})
    assert res.status_code == 302 and res.headers["Location"] == "/warnings"
    with session_scope(app.server.config["DATABASE_URL"]) as s:
        assert s.scalar(select(User.language).where(User.username == "leader_d2")) == "en"
    c.post("/lang/zh", data={"csrf_token": csrf_cookie(c)})


def test_hdr004_language_switch_on_the_login_page(client):
    page = client.get("/login?next=/units").get_data(as_text=True)
    assert 'action="/lang/en"' in page and 'href="/lang/' not in page
    res = client.post("/lang/en", data={"csrf_token": csrf_from(page), "next": "/login?next=/units"})
    assert res.headers["Location"] == "/login?next=/units"
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_hdr005_shell_switches_language_by_form(as_user):
    layout = json.dumps(as_user("manager").get("/_dash-layout").get_json()).replace(" ", "")
    assert '"action":"/lang/en"' in layout and '"method":"POST"' in layout
    assert '"href":"/lang/' not in layout


@pytest.mark.parametrize("path", ["/assets/", "/assets/nope.css", "/assets/sub/dir/", "/assets/../login",
                                  "/assets/nope.js?x=1"])
def test_hdr006_unknown_assets_are_404_not_the_page_shell(as_user, client, path):
    for c in (client, as_user("manager")):
        res = c.get(path)
        text = res.get_data(as_text=True)
        assert res.status_code in (404, 302) and "_dash-config" not in text and "react-entry-point" not in text, path
        if c is not client:
            assert res.status_code == 404 or res.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", ["/_dash-component-suites/nope/x.js", "/_dash-component-suites/dash/nope.js",
                                  "/_dash-component-suites/dash/dcc/nope.v9_9_9m1.js",
                                  "/_dash-component-suites/dash_ag_grid/../../secret.js"])
def test_hdr007_unknown_component_suites_are_404_not_500(as_user, path):
    res = as_user("manager").get(path)
    assert res.status_code == 404, (path, res.status_code)


def test_hdr008_known_files_still_load(as_user):
    c = as_user("manager")
    index = c.get("/").get_data(as_text=True)
    suites = re.findall(r'src="(/_dash-component-suites/[^"]+)"', index)
    assert suites
    for path in suites[:3]:
        assert c.get(path).status_code == 200
    assert c.get("/assets/portal.css").status_code == 200
