"""The portal command: init-db, users, officer show, recompute (via typer's runner, real database)."""
import json

from typer.testing import CliRunner

from portal.cli import _load_commands, app

_load_commands()
runner = CliRunner()


def _run(url, tmp_path, *args):
    return runner.invoke(app, list(args), env={"PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path)})


def test_cli001_init_db_is_repeatable(new_db_url, tmp_path):
    url = new_db_url("cli")
    first = _run(url, tmp_path, "init-db")
    second = _run(url, tmp_path, "init-db")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "database ready" in second.output


def test_cli002_officer_show_json(demo_url, tmp_path):
    from sqlalchemy import select

    from models.db import session_scope
    from models.schema import User

    with session_scope(demo_url) as s:
        officer = s.scalar(select(User).where(User.username == "officer")).officer
        badge, name = officer.badge, officer.name
    res = _run(demo_url, tmp_path, "officer", "show", badge, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["badge"] == badge and data["name"] == name
    assert data["warning"]["level"] in ("red", "orange")
    assert {"level", "confirmed", "rules_version", "reasons"} <= set(data["warning"])
    assert {"china_par_10y_pct", "category"} == set(data["risk"])
    assert {"bp", "bmi", "waist", "glucose", "lipids", "uric_acid", "phq9", "gad7"} <= set(data["classes"])
    assert {"value", "unit", "date", "source"} <= set(data["latest"]["sbp"])
    for reason in data["warning"]["reasons"]:
        assert {"rule", "text", "value", "date", "source"} <= set(reason)


def test_cli003_officer_show_unknown_badge_fails(demo_url, tmp_path):
    res = _run(demo_url, tmp_path, "officer", "show", "NOPE")
    assert res.exit_code == 1 and "no officer" in res.output


def test_cli004_users_create_validates(demo_url, tmp_path):
    ok = _run(demo_url, tmp_path, "users", "create", "cli_leader", "--role", "leader", "--unit", "NOPE", "--password", "longpassword")
    assert ok.exit_code == 1 and "--unit" in ok.output
    bad_role = _run(demo_url, tmp_path, "users", "create", "x", "--role", "king", "--password", "longpassword")
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output


def test_cli005_set_password_ends_every_session(demo_url, tmp_path):
    """`portal users set-password` (a reset by the operator) ends the account's sessions (issue 15)."""
    from sqlalchemy import select

    from models.db import session_scope
    from models.schema import User, UserSession
    from models.sessions import live_sessions, start_session
    from models.users import create_user

    with session_scope(demo_url) as s:
        uid = create_user(s, "cli_reset", "first-password", "leader", scope_unit_code="NJ-D1").id
        start_session(s, uid, ip="10.0.0.1", user_agent="A")
        start_session(s, uid, ip="10.0.0.2", user_agent="B")
    assert _run(demo_url, tmp_path, "users", "set-password", "cli_reset", "--password", "short").exit_code == 1
    res = _run(demo_url, tmp_path, "users", "set-password", "cli_reset", "--password", "second-password")
    assert res.exit_code == 0, res.output
    with session_scope(demo_url) as s:
        assert live_sessions(s, uid) == 0
        assert set(s.scalars(select(UserSession.end_reason).where(UserSession.user_id == uid))) == {"password"}
        assert s.scalar(select(User.password_hash).where(User.id == uid)).startswith("$argon2")
    listing = _run(demo_url, tmp_path, "users", "list")
    assert listing.exit_code == 0 and "cli_reset" in listing.output
