"""Shared fixtures: one tiny demo force per test run, on SQLite or PostgreSQL.

PORTAL_TEST_DB=sqlite (default) or postgresql picks the backend. On PostgreSQL a
fresh database is created per run (and dropped after) on 127.0.0.1:5432, so runs
never see each other's data; if the server cannot be reached the run fails.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from urllib.parse import quote

import pytest

from tests.helpers import PG_ADMIN_URL, login

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")
PASSWORD = "demo12345"
# The demo's as-of date and the test app's PORTAL_TODAY: fixed, so results do not change on
# 1 January or at a quarter start (a mid-quarter weekday).
AS_OF = dt.date(2026, 11, 18)
TODAY = AS_OF.isoformat()


def _make_pg_database() -> tuple[str, callable]:
    import psycopg

    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from models.db import dispose

        dispose(url)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    return url, drop


@pytest.fixture(scope="session")
def new_db_url(tmp_path_factory):
    """A factory of empty databases on the chosen backend (each cleaned up at the end)."""
    drops = []

    def make(label: str = "db") -> str:
        if BACKEND == "postgresql":
            url, drop = _make_pg_database()
            drops.append(drop)
            return url
        if BACKEND != "sqlite":
            raise RuntimeError(f"PORTAL_TEST_DB must be sqlite or postgresql, not {BACKEND!r}")
        path = tmp_path_factory.mktemp(re.sub(r"\W", "_", label)) / "portal.db"
        return f"sqlite:///{path}"

    yield make
    for drop in drops:
        drop()


@pytest.fixture(scope="module", autouse=True)
def _close_idle_connections():
    """After each module, close the pooled connections of its databases: kept until the end of
    the run, a full PostgreSQL run came within a few of the server's 100 connections."""
    yield
    from models.db import close_idle_connections

    close_idle_connections()


@pytest.fixture(scope="session")
def demo_url(new_db_url):
    """A database holding the tiny demo force (built once per run; treat as read-mostly)."""
    from ingest.demo import build_demo

    url = new_db_url("demo")
    build_demo(url, scale="tiny", seed=7, as_of=AS_OF, password=PASSWORD)
    return url


@pytest.fixture(scope="session")
def app(demo_url, tmp_path_factory):
    from portal.app import create_app
    from portal.config import Config

    cfg = Config(database_url=demo_url, secret_key="test-secret", testing=True,
                 cache_dir=str(tmp_path_factory.mktemp("cache")), login_rate_limit="1000 per minute",
                 today=TODAY, login_delay_seconds=60)
    return create_app(cfg)


@pytest.fixture()
def client(app):
    return app.server.test_client()


@pytest.fixture()
def as_user(app):
    """as_user("manager_d1") -> a logged-in Flask test client."""

    def make(username: str):
        c = app.server.test_client()
        login(c, username, PASSWORD)
        return c

    return make


@pytest.fixture()
def login_browser(dash_duo):
    """Log in through the real login form in headless Chromium."""

    def go(username: str, password: str = PASSWORD, path: str = "/"):
        from selenium.webdriver.common.by import By

        # straight to the page through ?next=, as a user following a link would (no race with the
        # home page's own redirect of officers to /me)
        dash_duo.driver.get(dash_duo.server_url + "/login" + (f"?next={quote(path)}" if path != "/" else ""))
        dash_duo.driver.find_element(By.ID, "username").send_keys(username)
        field = dash_duo.driver.find_element(By.ID, "password")
        field.send_keys(password)
        field.submit()
        dash_duo.wait_for_element("#user-menu", timeout=20)
        return dash_duo

    return go


def pytest_setup_options():
    """Chromium for dash_duo with reduced motion: Bootstrap scrolls smoothly otherwise, and
    Chromium 156's driver clicks where a smooth scroll has not yet brought the element."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.add_argument("--force-prefers-reduced-motion")
    return options
