"""portal backup / portal restore: a round trip through a wiped database on either backend (issue 22)."""
import pytest
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from models.db import dispose, get_engine, init_db, session_scope
from models.schema import User
from portal.backup import BackupError, backup, head_revision, restore, revision
from portal.cli import _load_commands, app

_load_commands()
runner = CliRunner()


def _wipe(url):
    """Drop every table, as a lost disk or a mistaken script would."""
    engine = get_engine(url)
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for table in inspect(conn).get_table_names():
                conn.execute(text(f'DROP TABLE "{table}"'))
    dispose(url)
    assert inspect(get_engine(url)).get_table_names() == []


def _users(url):
    with session_scope(url) as s:
        return sorted(s.scalars(select(User.username)))


def test_bak001_backup_wipe_restore_brings_back_every_row(new_db_url, tmp_path):
    from models.users import create_user

    url = new_db_url("backup")
    init_db(url)
    with session_scope(url) as s:
        create_user(s, "bak_admin", "a long password 1", "admin")
        create_user(s, "bak_auditor", "a long password 2", "auditor")
    before = _users(url)
    out = backup(url, tmp_path / "portal.backup")
    assert out["bytes"] > 0 and (tmp_path / "portal.backup").stat().st_mode & 0o077 == 0
    _wipe(url)
    restored = restore(url, tmp_path / "portal.backup")
    assert _users(url) == before == ["bak_admin", "bak_auditor"]
    assert restored["revision"] == revision(url) == head_revision(url)
    with session_scope(url) as s:  # the restored database takes writes (sequences came back too)
        create_user(s, "bak_after", "a long password 3", "auditor")
    assert "bak_after" in _users(url)


def test_bak002_cli_round_trip_and_refusals(new_db_url, tmp_path):
    url = new_db_url("backup_cli")
    init_db(url)
    env = {"PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path)}
    res = runner.invoke(app, ["backup", str(tmp_path / "b.dump")], env=env)
    assert res.exit_code == 0 and "backup written" in res.output, res.output
    _wipe(url)
    no = runner.invoke(app, ["restore", str(tmp_path / "b.dump")], env=env, input="n\n")
    assert no.exit_code == 1 and inspect(get_engine(url)).get_table_names() == []  # asked, and nothing happened
    res = runner.invoke(app, ["restore", str(tmp_path / "b.dump"), "--yes"], env=env)
    assert res.exit_code == 0 and "restored" in res.output, res.output
    assert revision(url) == head_revision(url)
    (tmp_path / "junk").write_text("not a backup")
    bad = runner.invoke(app, ["restore", str(tmp_path / "junk"), "--yes"], env=env)
    assert bad.exit_code == 1 and "not a portal backup" in bad.output
    missing = runner.invoke(app, ["restore", str(tmp_path / "nope"), "--yes"], env=env)
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_bak003_a_backup_of_the_other_backend_is_refused(new_db_url, tmp_path):
    url = new_db_url("backup_kind")
    init_db(url)
    other = tmp_path / "other.backup"
    if url.startswith("sqlite"):
        other.write_bytes(b"PGDMP" + b"\x00" * 64)
    else:
        import sqlite3

        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(BackupError, match="backup; the database is"):
        restore(url, other)
    assert revision(url) == head_revision(url)  # untouched
