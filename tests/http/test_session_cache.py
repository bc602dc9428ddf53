"""A worker trusts its own session check for a few seconds, but never past a change that could end
the session: logout, a password change or an account change anywhere bumps the session generation
(issue 22). The session tests of issue 15 (tests/http/test_sessions.py) run with this cache on."""
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import event, select

from models.db import get_engine, session_scope
from models.schema import User, UserSession
from models.sessions import FileGeneration, end_session, start_session

ROOT = Path(__file__).resolve().parents[2]


class _Statements:
    """SQL the app sends while the block runs."""

    def __init__(self, url):
        self.engine, self.seen = get_engine(url), []

    def _record(self, conn, cursor, statement, *args):
        self.seen.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


def _url(app):
    return app.server.config["DATABASE_URL"]


def test_sca001_a_live_session_costs_no_database_round_trip_while_nothing_changed(app, as_user):
    c = as_user("leader_d2")
    assert c.get("/_dash-layout").status_code == 200  # checked in the database, kept by this worker
    with _Statements(_url(app)) as seen:
        assert c.get("/_dash-layout").status_code == 200
    assert not [q for q in seen if "user_session" in q or "app_user" in q], seen


def test_sca002_logout_elsewhere_with_a_copied_cookie_ends_the_cached_session_at_once(app, as_user):
    c = as_user("leader_d1")
    assert c.get("/_dash-layout").status_code == 200
    copy = app.server.test_client()
    copy.set_cookie("session", c.get_cookie("session").value)
    assert copy.get("/_dash-layout").status_code == 200  # the same session, a cached check
    uid_token = None
    with session_scope(_url(app)) as s:  # the user signs out in their own browser (another worker's commit)
        uid = s.scalar(select(User.id).where(User.username == "leader_d1"))
        rows = s.scalars(select(UserSession).where(UserSession.user_id == uid, UserSession.ended_at.is_(None))).all()
        for row in rows:
            row.ended_at, row.end_reason = dt.datetime.now(dt.UTC).replace(tzinfo=None), "logout"
        uid_token = len(rows)
    assert uid_token
    assert copy.get("/_dash-layout").status_code == 401
    assert c.get("/_dash-layout").status_code == 401


def test_sca003_a_password_change_in_another_process_ends_sessions_at_once(app, as_user):
    c = as_user("auditor")
    assert c.get("/_dash-layout").status_code == 200
    assert c.get("/_dash-layout").status_code == 200  # now served from the worker's copy
    with session_scope(_url(app)) as s:
        old_hash = s.scalar(select(User.password_hash).where(User.username == "auditor"))
    cfg = app.server.config["PORTAL_CONFIG"]
    env = dict(os.environ, PORTAL_DATABASE_URL=_url(app), PORTAL_INSTANCE=str(Path(cfg.cache_dir).parent))
    env.pop("PORTAL_CACHE_URL", None)
    try:
        done = subprocess.run([sys.executable, "-m", "portal", "users", "set-password", "auditor", "--password",
                               "Correct-Horse-2026-staple"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert c.get("/_dash-layout").status_code == 401  # the very next request, no waiting
    finally:
        with session_scope(_url(app)) as s:
            s.scalar(select(User).where(User.username == "auditor")).password_hash = old_hash


def test_sca004_only_changes_that_can_end_a_session_bump_the_generation(demo_url, tmp_path):
    from models import sessions

    store = FileGeneration(tmp_path / "gen")
    before = sessions._generations.get(get_engine(demo_url))
    sessions.use_generation(demo_url, store)
    try:
        _bumps(demo_url, store)
    finally:  # the app's own store again, for the tests after this one
        sessions._generations[get_engine(demo_url)] = before


def _bumps(demo_url, store):
    with session_scope(demo_url) as s:
        uid = s.scalar(select(User.id).where(User.username == "counsellor_d1"))
        token = start_session(s, uid, ip="10.0.0.1", user_agent="t")
    first = store.get()
    with session_scope(demo_url) as s:  # a live session seen again: its last-seen time moves on
        row = s.scalar(select(UserSession).where(UserSession.user_id == uid).order_by(UserSession.id.desc()))
        row.last_seen_at = row.last_seen_at + dt.timedelta(seconds=61)
    assert store.get() == first
    with session_scope(demo_url) as s:
        end_session(s, token, "logout")
    second = store.get()
    assert second != first
    with session_scope(demo_url) as s:  # an account change (a revoked grant, a new role) bumps it too
        user = s.get(User, uid)
        user.language = "en" if user.language == "zh" else "zh"
    assert store.get() != second
    with session_scope(demo_url) as s:
        user = s.get(User, uid)
        user.language = "zh"


def test_sca005_the_page_cache_reads_the_data_version_once_per_change(app):
    from models.db import bump_data_version, get_meta
    from web.cache import HEALTH, data_version

    url = _url(app)
    with app.server.app_context():
        first = data_version()
        with _Statements(url) as seen:
            assert data_version() == first
        assert not [q for q in seen if "meta" in q], seen  # nothing changed: no database round trip
        with session_scope(url) as s:  # an ingest batch elsewhere
            bump_data_version(s)
        with session_scope(url) as s:
            now = get_meta(s, "data_version")
        assert data_version() != first and data_version(HEALTH) == f"health{now}"  # seen by the very next answer


def test_sca006_an_answer_reading_health_data_keeps_its_key_through_check_ins_not_follow_ups(app):
    """The key of a cached /warnings answer: a campaign's data moving (an officer's check-in, in
    another process) leaves it; a follow-up saved elsewhere moves it at once, in every worker."""
    from models.db import bump_data_version
    from web.cache import CAMPAIGN, data_version
    from web.warn_filters import READS

    url = _url(app)
    with app.server.app_context():
        warnings, campaigns = data_version(READS), data_version(CAMPAIGN)
        with session_scope(url) as s:
            bump_data_version(s, "campaign")
        assert data_version(READS) == warnings and data_version(CAMPAIGN) != campaigns
        with session_scope(url) as s:
            bump_data_version(s, "followup")
        assert data_version(READS) != warnings
