"""Accounts from the roster on the command line, and roster changes: who left loses their account
(and its sessions), who moved keeps it (issue 17)."""
from sqlalchemy import select
from typer.testing import CliRunner

from ingest.roster import load_officers_bytes, load_officers_file, load_units_file
from models import activation
from models.db import init_db, session_scope, set_meta
from models.passwords import problems
from models.schema import AuditLog, User, UserSession
from models.sessions import start_session
from portal.cli import _load_commands, app
from tests.unit.test_ingest_hospital import D, IDS

_load_commands()
runner = CliRunner()


def _roster(url):
    init_db(url)
    with session_scope(url) as s:
        set_meta(s, "id_hash_key", "test-id-key")
    load_units_file(url, D / "units.csv")
    load_officers_file(url, D / "officers.csv")


def test_acc101_cli_from_roster_writes_codes_and_slips(new_db_url, tmp_path):
    url = new_db_url("acc101")
    _roster(url)
    out = tmp_path / "codes.csv"
    env = {"PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path), "PORTAL_SECRET_KEY": "k",
           "PORTAL_ACTIVATION_DAYS": "3"}
    res = runner.invoke(app, ["accounts", "from-roster", "--unit", "NJ-D1", "--out", str(out)], env=env)
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "unit_code,unit_name,badge,name,activation_code,expires_utc"
    badges = {line.split(",")[2] for line in lines[1:]}
    html = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "激活码" in html and "activation code" in html and all(b in html for b in badges)
    with session_scope(url) as s:
        users = {u.username: u for u in s.scalars(select(User))}
        assert set(users) == badges and all(u.scope_unit.path.startswith("/NJ/NJ-D1/") for u in users.values())
        code = lines[1].split(",")[4]
        assert users[lines[1].split(",")[2]].activation_hash == activation.code_hash(code, "k")
        assert s.scalar(select(AuditLog).where(AuditLog.action == "accounts_from_roster")).detail["created"] == len(badges)
    again = runner.invoke(app, ["accounts", "from-roster", "--unit", "NJ-D1"], env=env)
    assert again.exit_code == 0 and "nothing to do" in again.output
    bad = runner.invoke(app, ["accounts", "from-roster", "--unit", "NOPE"], env=env)
    assert bad.exit_code == 1 and "no unit" in bad.output


def test_acc102_roster_deactivates_leavers_and_keeps_movers(new_db_url):
    url = new_db_url("acc102")
    _roster(url)
    with session_scope(url) as s:
        activation.accounts_from_roster(s, "k", days=14)
        leaver = s.scalar(select(User).where(User.username == "J10001"))
        start_session(s, leaver.id, ip="127.0.0.1", user_agent="t")
    data = ("警号,姓名,身份证号,单位代码,在职状态\n"
            f"J10001,陈伟,{IDS['J10001']},NJ-D1-S01,离职\n"
            f"J10002,李芳,{IDS['J10002']},NJ-X01,在职\n")
    summary = load_officers_bytes(url, data.encode(), filename="changes.csv")
    assert summary["accounts_deactivated"] == 1, summary
    with session_scope(url) as s:
        leaver = s.scalar(select(User).where(User.username == "J10001"))
        mover = s.scalar(select(User).where(User.username == "J10002"))
        assert not leaver.active
        assert s.scalar(select(UserSession).where(UserSession.user_id == leaver.id)).end_reason == "left_force"
        assert mover.active and mover.scope_unit.code == "NJ-X01" and mover.activation_hash  # same account, moved
        assert len(activation.pending_officers(s)) == 0  # the leaver gets no new account


def test_acc103_password_rules():
    import datetime as dt

    assert problems("short") == ["too_short"]
    assert "common" in problems("qwertyuiop")
    assert "common" in problems("aaaaaaaaaaaa")
    assert problems("J10001-is-me!", badge="J10001") == ["badge"]
    assert problems("born-19800315", birth_date=dt.date(1980, 3, 15)) == ["birth_date"]
    assert problems("a-long-unusual-sentence") == []


def test_acc104_demo_prints_how_to_activate_an_officer(new_db_url, tmp_path):
    url = new_db_url("acc104")
    env = {"PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path), "PORTAL_SECRET_KEY": "demo-k"}
    assert runner.invoke(app, ["init-db"], env=env).exit_code == 0
    res = runner.invoke(app, ["demo", "--scale", "tiny", "--as-of", "2026-11-18"], env=env)
    assert res.exit_code == 0, res.output
    assert "激活码" in res.output and "from-roster" in res.output
    codes = __import__("re").findall(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", res.output)
    assert len(codes) == 3
    with session_scope(url) as s:
        waiting = s.scalars(select(User).where(User.activation_hash.is_not(None))).all()
        assert {u.activation_hash for u in waiting} == {activation.code_hash(c, "demo-k") for c in codes}
