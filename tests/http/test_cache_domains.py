"""Page answers kept in a real cache (files, as in production) stay right: each keys on the data
domains it reads (models.db.DATA_DOMAINS), and every write moves its domain in the same commit.

Runs on its own tiny demo: the follow-ups it opens must not leak into other tests."""
import pytest
from sqlalchemy import select

from models import followups as fu
from models.db import session_scope
from models.schema import User
from tests.conftest import AS_OF, PASSWORD, TODAY
from tests.helpers import find_component, login, page_layout
from tests.http.test_figures_agree import warnings_count, workbench_kpis, workbench_list_total
from tests.http.test_session_cache import _Statements
from web.access import Scope

NEEDS_ACTION = {"warn-f-followup": "needs_action"}


@pytest.fixture(scope="module")
def url(new_db_url):
    from ingest.demo import build_demo

    url = new_db_url("cache-domains")
    build_demo(url, scale="tiny", seed=7, as_of=AS_OF, password=PASSWORD)
    return url


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def cached_app(url, cache_dir):
    from portal.app import create_app
    from portal.config import Config
    from web.cache import cache

    cfg = Config(database_url=url, secret_key="cache-secret", testing=True, cache_dir=cache_dir,
                 login_rate_limit="1000 per minute", today=TODAY, login_delay_seconds=60)
    app = create_app(cfg)
    # tests run on a null cache; this module keeps answers in files, as a deployment does
    cache.init_app(app.server, config={"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": cache_dir,
                                       "CACHE_DEFAULT_TIMEOUT": 600})
    return app


def _manager(app):
    c = app.server.test_client()
    assert login(c, "manager", PASSWORD).status_code == 302
    return c


def _follow_up_first_in_queue(url) -> None:
    with session_scope(url) as s:
        user = s.scalar(select(User).where(User.username == "manager"))
        me = Scope(user.id, user.username, user.role, user.officer_id, user.scope_unit.path)
        first = fu.needs_action(s, me, AS_OF, start=0, limit=1)["rows"][0]
        fu.open_followup(s, me, first["badge"], kind="phone", assignee_id=me.user_id, due=None, today=AS_OF)


def test_cdm001_a_kept_workbench_answer_is_reused_until_a_follow_up_is_saved(cached_app, url):
    c = _manager(cached_app)
    queue, kpis = workbench_list_total(c, "queue"), workbench_kpis(c)
    red_needing_action = warnings_count(c, NEEDS_ACTION, "red")
    assert queue == kpis["queue"] == red_needing_action > 0
    with _Statements(url) as seen:  # viewed again: the answer is kept; only the view's audit row is written
        assert workbench_list_total(c, "queue") == queue
    assert not [q for q in seen if "follow_up" in q or "officer_status" in q], seen
    assert [q for q in seen if "audit" in q]

    _follow_up_first_in_queue(url)  # a follow-up saved (the write path every save takes)
    assert workbench_list_total(c, "queue") == queue - 1
    assert workbench_kpis(c)["queue"] == queue - 1
    assert warnings_count(c, NEEDS_ACTION, "red") == red_needing_action - 1


def test_cdm002_the_warnings_page_is_kept_per_checked_filters_not_per_address(cached_app, cache_dir):
    """Anyone can fill the address bar with endless variations: the page is kept under the filters as
    checked, so junk parameters neither add cache entries nor change the page."""
    from pathlib import Path

    c = _manager(cached_app)
    store = Path(cache_dir)
    plain = page_layout(c, "/warnings", "?level=red")
    before = len(list(store.iterdir()))
    for junk in ("&x=1", "&x=2&y=%E4%B8%AD", "&utm_source=mail", "&level2=red"):
        assert page_layout(c, "/warnings", "?level=red" + junk)["response"] == plain["response"]
    assert len(list(store.iterdir())) == before
    refused = page_layout(c, "/warnings", "?level=red&unit=NO-SUCH-UNIT")  # named, drawn afresh, not kept
    assert "NO-SUCH-UNIT" not in str(plain) and len(list(store.iterdir())) == before
    assert find_component(refused, "warn-f-levels")["value"] == ["red"]


class _Asking:
    """Two requests for one missing answer, the first computing until released: ``waiting`` is set
    once the second is waiting for it (instead of computing it too)."""

    def __init__(self, app, monkeypatch, name: str, first_fails: bool = False):
        import threading
        import time as real_time

        import web.cache as web_cache

        self.app, self.name, self.first_fails = app, name, first_fails
        self.release, self.waiting, self.computing = threading.Event(), threading.Event(), threading.Event()
        self.calls, self.results = [], {}

        class Clock:
            monotonic = staticmethod(real_time.monotonic)

            def sleep(_self, seconds):
                self.waiting.set()
                real_time.sleep(seconds)

        monkeypatch.setattr(web_cache, "time", Clock())
        self.threads = [threading.Thread(target=self.ask, args=(who,)) for who in ("first", "second")]

    def compute(self):
        self.calls.append(1)
        self.computing.set()
        assert self.release.wait(10)
        if self.first_fails and len(self.calls) == 1:
            raise PermissionError("refused")
        return {"answer": len(self.calls)}

    def ask(self, who):
        from web.cache import cached

        with self.app.server.app_context():
            try:
                self.results[who] = cached(self.name, Scope(1, "admin", "admin", None, None), {}, self.compute)
            except PermissionError as exc:
                self.results[who] = str(exc)

    def run(self) -> dict:
        self.threads[0].start()
        assert self.computing.wait(10)
        self.threads[1].start()
        assert self.waiting.wait(10), "the second request computed the answer itself instead of waiting"
        self.release.set()
        for t in self.threads:
            t.join(20)
        return self.results


def test_cdm003_a_missing_answer_is_computed_once_while_others_wait(cached_app, monkeypatch):
    """A freshly started server under load: every worker asked for the same figures at once and
    computed them each; now one computes and the others take its answer."""
    asking = _Asking(cached_app, monkeypatch, "cdm003")
    assert asking.run() == {"first": {"answer": 1}, "second": {"answer": 1}}
    assert len(asking.calls) == 1


def test_cdm004_a_refused_computation_leaves_the_waiters_to_compute_their_own(cached_app, monkeypatch):
    asking = _Asking(cached_app, monkeypatch, "cdm004", first_fails=True)
    assert asking.run() == {"first": "refused", "second": {"answer": 2}}
