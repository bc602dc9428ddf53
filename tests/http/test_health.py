"""/healthz: public, no data, says whether the database answers at the migration head (issue 22)."""
from portal.app import create_app
from portal.config import Config


def _app(url, tmp_path):
    return create_app(Config(database_url=url, secret_key="t", testing=True, cache_dir=str(tmp_path / "cache"), today="2026-11-18"))


def test_hlt001_healthz_answers_without_login_and_without_data(client):
    res = client.get("/healthz")
    assert res.status_code == 200
    body = res.get_json()
    assert body["ok"] is True and body["database"] == "ok" and body["migrations"] == "ok" and body["cache"] == "ok"
    assert set(body) == {"ok", "database", "migrations", "cache", "ms"}  # nothing about officers, users or the URL
    assert res.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in res.headers or "sid" not in res.headers["Set-Cookie"]


def test_hlt002_a_schema_behind_the_release_is_unhealthy(new_db_url, tmp_path):
    from sqlalchemy import text

    from models.db import get_engine, init_db

    url = new_db_url("behind")
    init_db(url)
    with get_engine(url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    res = _app(url, tmp_path).server.test_client().get("/healthz")
    assert res.status_code == 503
    assert res.get_json()["migrations"] == "behind" and res.get_json()["database"] == "ok"


def test_hlt003_an_unreachable_database_is_unhealthy_and_the_answer_hides_why(tmp_path):
    url = "postgresql+psycopg://portal:secretpw@127.0.0.1:1/nowhere"
    res = _app(url, tmp_path).server.test_client().get("/healthz")
    assert res.status_code == 503
    body = res.get_json()
    assert body["ok"] is False and body["database"] == "unreachable"
    assert "secretpw" not in res.get_data(as_text=True) and "127.0.0.1" not in res.get_data(as_text=True)
