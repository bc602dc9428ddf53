"""`portal worker` with a broker (issue 18): a real worker process (Celery on the machine's Redis, a private
database number and queue) runs a background job started in the browser, and the job row says it finished."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from models.db import session_scope
from models.schema import Exam, Job
from models.users import create_user
from tests.conftest import TODAY
from tests.helpers import dash_callback, login
from tests.jobs_helpers import GB_CSV, data_url, run_background
from tests.unit.test_ingest_hospital import roster_db

BROKER = "redis://127.0.0.1:6379/13"  # a database number of its own: nothing else on this Redis is touched
PASSWORD = "worker-pass-1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def celery_setup(new_db_url, tmp_path_factory):
    from portal.app import create_app
    from portal.config import Config

    redis.Redis.from_url(BROKER).ping()  # Redis must run: fail, never skip
    url = roster_db(new_db_url, "worker_celery")
    with session_scope(url) as s:
        create_user(s, "admin", PASSWORD, "admin")
    instance = tmp_path_factory.mktemp("worker_instance")
    queue = f"portal-test-{uuid.uuid4().hex[:10]}"
    cfg = Config(database_url=url, secret_key="test-secret", testing=True, cache_dir=str(instance / "cache"),
                 login_rate_limit="1000 per minute", today=TODAY, broker_url=BROKER, broker_queue=queue)
    app = create_app(cfg)
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": "test-secret", "PORTAL_BROKER_URL": BROKER,
           "PORTAL_BROKER_QUEUE": queue, "PORTAL_INSTANCE": str(instance), "PORTAL_TODAY": TODAY}
    log = open(instance / "worker.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "portal", "worker", "--concurrency", "1"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    yield app, proc, instance
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    log.close()
    r = redis.Redis.from_url(BROKER)
    for key in [*r.scan_iter(f"*{queue}*"), *r.scan_iter("celery-task-meta-*"), *r.scan_iter("_kombu.binding_*")]:
        r.delete(key)  # this database number is the test's own


def test_wkr001_portal_worker_runs_a_background_import_through_celery(celery_setup):
    app, proc, instance = celery_setup
    url = app.server.config["DATABASE_URL"]
    c = app.server.test_client()
    assert login(c, "admin", PASSWORD).status_code == 302
    res = dash_callback(c, "..ai-dry.children...ai-upload-token.data...ai-confirm.disabled..",
                        [{"id": "ai-upload", "property": "contents", "value": data_url(GB_CSV)}],
                        state=[{"id": "ai-upload", "property": "filename", "value": "celery.csv"},
                               {"id": "ai-up-kind", "property": "value", "value": "hospital"},
                               {"id": "ai-up-target", "property": "value", "value": None}])
    # no hospital yet in this database: the upload asks for one first (nothing kept, nothing loaded)
    assert res.get_json()["response"]["ai-upload-token"]["data"] is None
    from ingest.hospital_load import get_or_register_hospital

    with session_scope(url) as s:
        get_or_register_hospital(s, "H09")
    res = dash_callback(c, "..ai-dry.children...ai-upload-token.data...ai-confirm.disabled..",
                        [{"id": "ai-upload", "property": "contents", "value": data_url(GB_CSV)}],
                        state=[{"id": "ai-upload", "property": "filename", "value": "celery.csv"},
                               {"id": "ai-up-kind", "property": "value", "value": "hospital"},
                               {"id": "ai-up-target", "property": "value", "value": "H09"}])
    token = res.get_json()["response"]["ai-upload-token"]["data"]
    status, answer = run_background(c, "..ai-job-result.children...ai-refresh.data..",
                                    [{"id": "ai-confirm", "property": "n_clicks", "value": 1}],
                                    [{"id": "ai-upload-token", "property": "data", "value": token},
                                     {"id": "ai-refresh", "property": "data", "value": 0}], timeout=180)
    assert proc.poll() is None, (instance / "worker.log").read_text()[-3000:]
    assert status == 200 and "已导入" in str(answer["response"]), answer
    with session_scope(url) as s:
        job = s.scalar(select(Job).where(Job.key == f"upload:{token}"))
        assert job.status == "done" and job.username == "admin"
        assert job.pid == proc.pid  # it ran in the worker process
        assert len(list(s.scalars(select(Exam.id)))) == 2
