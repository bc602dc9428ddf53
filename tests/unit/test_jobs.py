"""Background jobs (issue 18): the job table's commands, the periodic worker loop and its registry, and
the one-line recording of a background callback."""
import datetime as dt
import threading

import pytest
from sqlalchemy import select

from models import jobs
from models.db import init_db, session_scope
from models.schema import Job, utcnow


@pytest.fixture(scope="module")
def url(new_db_url):
    u = new_db_url("jobs")
    init_db(u)
    return u


def test_job001_start_progress_finish_and_fail_are_recorded(url):
    with session_scope(url) as s:
        a = jobs.start(s, "export", username="admin", label="all units")
        jobs.set_progress(s, a, 0.4, "writing")
        b = jobs.start(s, "recompute", username="admin")
        jobs.fail(s, b, "ValueError: no rules")
    with session_scope(url) as s:
        got = jobs.get(s, a)
        assert got["status"] == "running" and got["progress"] == 0.4 and got["step"] == "writing"
        jobs.finish(s, a, {"zh": "导出 5 行", "en": "5 rows exported", "rows": 5})
    with session_scope(url) as s:
        done, failed = jobs.get(s, a), jobs.get(s, b)
        assert done["status"] == "done" and done["progress"] == 1.0 and done["result"]["rows"] == 5
        assert failed["status"] == "failed" and "no rules" in failed["error"] and failed["finished_at"] is not None
        with pytest.raises(ValueError):
            jobs.start(s, "not-a-kind")


def test_job002_a_key_starts_one_job_only(url):
    with session_scope(url) as s:
        first = jobs.start(s, "import", username="admin", key="upload:k1")
        assert first is not None
        assert jobs.start(s, "import", username="other", key="upload:k1") is None
    with session_scope(url) as s:
        assert jobs.by_key(s, "upload:k1")["id"] == first
        assert len(list(s.scalars(select(Job).where(Job.key == "upload:k1")))) == 1


def test_job003_paged_newest_first_and_filtered(url):
    with session_scope(url) as s:
        ids = [jobs.start(s, "check", username="p") for _ in range(5)]
        rows = jobs.page(s, 0, 3, kind="check")
        assert [r["id"] for r in rows] == sorted(ids, reverse=True)[:3]
        assert jobs.count(s, kind="check") == 5 and jobs.count(s, kind="check", status="done") == 0
        assert [r["id"] for r in jobs.page(s, 3, 100, kind="check")] == sorted(ids, reverse=True)[3:]


def test_job004_jobs_whose_process_died_are_marked_failed_by_the_periodic_task(url):
    with session_scope(url) as s:
        dead = jobs.start(s, "check", username="x", pid=2**22 + 12345)  # no such process
        alive = jobs.start(s, "check", username="x")  # this process
        stale = jobs.start(s, "check", username="x")
        s.get(Job, stale).host = "another-machine"
        s.get(Job, stale).heartbeat_at = utcnow() - jobs.STALE_AFTER - dt.timedelta(minutes=1)
    from portal.config import Config
    from portal.worker import PERIODIC, fail_dead_jobs

    assert ("fail-dead-jobs", 60, fail_dead_jobs) in PERIODIC
    cfg = Config(database_url=url, secret_key="x")
    marked = fail_dead_jobs(cfg)
    assert dead in marked and stale in marked and alive not in marked
    with session_scope(url) as s:
        assert jobs.get(s, dead)["status"] == "failed" and "ended before it finished" in jobs.get(s, dead)["error"]
        assert jobs.get(s, alive)["status"] == "running"
        jobs.finish(s, alive)


def test_job005_the_periodic_loop_runs_every_task_and_survives_one_that_raises(url):
    from portal.config import Config
    from portal.worker import run_periodic

    cfg = Config(database_url=url, secret_key="x")
    stop = threading.Event()
    seen: list[str] = []

    def boom(_cfg):
        seen.append("boom")
        raise RuntimeError("broken task")

    def ok(c):
        seen.append("ok")
        assert c is cfg
        if seen.count("ok") >= 2:
            stop.set()

    run_periodic(cfg, stop, [("boom", 0, boom), ("ok", 0, ok)], tick=0.01)
    assert seen.count("ok") == 2 and seen.count("boom") >= 2


def test_job006_a_recorded_callback_writes_its_job_with_who_progress_and_result(url, monkeypatch):
    from web import jobs as web_jobs

    monkeypatch.setattr(web_jobs, "caller", lambda: {"id": None, "username": "admin", "role": "admin"})
    shown = []

    @web_jobs.recorded("export", url, label=lambda unit: f"unit {unit}")
    def export(set_progress, unit):
        for i in range(3):
            set_progress((i + 1, 3))
        web_jobs.current().outcome("导出 3 行", "3 rows exported", rows=3)
        return unit

    assert export(shown.append, "NJ") == "NJ"
    assert shown == [(1, 3), (2, 3), (3, 3)]  # the page's progress bar got every step

    @web_jobs.recorded("export", url)
    def broken(set_progress):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        broken(shown.append)
    with session_scope(url) as s:
        rows = jobs.page(s, 0, 2, kind="export")
    assert rows[0]["status"] == "failed" and "disk full" in rows[0]["error"]
    assert rows[1]["status"] == "done" and rows[1]["label"] == "unit NJ" and rows[1]["username"] == "admin"
    assert rows[1]["result"]["rows"] == 3 and rows[1]["progress"] == 1.0


def test_job007_progress_reported_inside_an_open_write_never_waits_for_the_lock(url):
    import time

    with session_scope(url) as s:
        job_id = jobs.start(s, "check", username="lock")
    with session_scope(url) as s:  # the job's own work holds a write (on SQLite: the file's one write lock)
        s.get(Job, job_id).label = "busy"
        s.flush()
        t0 = time.monotonic()
        jobs.report_progress(url, job_id, 0.5, "half")
        assert time.monotonic() - t0 < 5  # skipped or written, but never waiting out the 30 s busy timeout
    assert jobs.report_progress(url, job_id, 0.75, "later")
    with session_scope(url) as s:
        assert jobs.get(s, job_id)["progress"] == 0.75 and jobs.get(s, job_id)["label"] == "busy"


def test_job008_uploads_are_kept_for_the_job_then_purged_after_a_week(tmp_path):
    import os
    import time

    from ingest import uploads
    from portal.config import Config
    from portal.worker import PERIODIC, purge_uploads

    assert ("purge-uploads", 3600, purge_uploads) in PERIODIC
    old = uploads.store(tmp_path, b"a,b\n1,2\n", kind="units", target=None, filename="../../etc/units.csv", user="admin")
    new = uploads.store(tmp_path, b"c,d\n", kind="units", target=None, filename="u.csv", user="admin")
    meta, data = uploads.read(tmp_path, old)
    assert data == b"a,b\n1,2\n" and meta["filename"] == "units.csv" and meta["kind"] == "units"
    week_ago = time.time() - 8 * 86400
    os.utime(tmp_path / "uploads" / f"{old}.json", (week_ago, week_ago))
    assert purge_uploads(Config(database_url="sqlite://", secret_key="x", cache_dir=str(tmp_path / "cache"))) == 1
    with pytest.raises(uploads.Unreadable):
        uploads.read(tmp_path, old)
    assert uploads.read(tmp_path, new)[1] == b"c,d\n"
    for forged in ("../secret_key", "x" * 32, None):
        with pytest.raises(uploads.Unreadable):
            uploads.read(tmp_path, forged)


def test_job009_the_worker_sends_mail_makes_notifications_and_reminds(url):
    """`portal worker` is the one process to run: its registry holds the notification pass, the e-mail
    outbox and the screening reminders, each a plain function of the config that runs on a database."""
    from portal.config import Config
    from portal.worker import PERIODIC

    tasks = {name: fn for name, _, fn in PERIODIC}
    assert {"notifications", "mail", "screening-reminders"} <= set(tasks)
    cfg = Config(database_url=url, secret_key="x", today="2026-11-18")
    assert isinstance(tasks["notifications"](cfg), dict)
    assert tasks["mail"](cfg) is not None  # no PORTAL_SMTP_URL: nothing is sent, nothing fails
    assert tasks["screening-reminders"](cfg) == 0  # no rounds in an empty database
