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


def test_cli010_purge_dry_run_counts_and_refuses_a_zero_period(new_db_url, tmp_path):
    import datetime as dt

    from ingest import idcard
    from models.db import init_db, session_scope
    from models.schema import ImportBatch, QuarantineRow, utcnow

    url = new_db_url("purge_cli")
    init_db(url)
    number = idcard.make("440604", dt.date(1979, 7, 1), 31, "male")
    with session_scope(url) as s:
        batch = ImportBatch(kind="officers", status="loaded")
        s.add(batch)
        s.flush()
        s.add(QuarantineRow(batch_id=batch.id, reason="bad", raw={"身份证号": number},
                            created_at=utcnow() - dt.timedelta(days=30)))
    dry = _run(url, tmp_path, "purge", "--dry-run", "--quarantine-days", "7")
    assert dry.exit_code == 0, dry.output
    assert "would purge: quarantine rows 1 in 1 batch(es)" in dry.output
    kept = _run(url, tmp_path, "purge")  # the default 180 days keeps a 30-day-old row
    assert kept.exit_code == 0 and "purged: quarantine rows 0 in 0 batch(es)" in kept.output, kept.output
    done = _run(url, tmp_path, "purge", "--quarantine-days", "7")
    assert done.exit_code == 0 and "purged: raw frames 0" in done.output
    assert "purged: quarantine rows 1 in 1 batch(es)" in done.output
    bad = _run(url, tmp_path, "purge", "--raw-days", "0")
    assert bad.exit_code == 1
