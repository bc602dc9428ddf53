"""portal bench --load: a page view the way Dash's renderer makes it (issue 22)."""
import gzip
import json
import random

from portal.loadtest import BrowserUser, Stats, run_load, scope_badges
from tests.conftest import TODAY


class _Answer:
    def __init__(self, res):
        self.res, self.status_code, self.headers = res, res.status_code, res.headers

    def _raw(self):
        body = self.res.get_data()
        return gzip.decompress(body) if self.res.headers.get("Content-Encoding") == "gzip" else body

    @property
    def text(self):
        return self._raw().decode()

    def json(self):
        return json.loads(self._raw())


class _Browser:
    """What BrowserUser needs of requests.Session, over the Flask test client (records every request)."""

    def __init__(self, client):
        self.client, self.headers, self.cookies, self.sent = client, {}, self, []

    def get(self, url, timeout=None, **_):
        if url == "_csrf_token":  # cookies.get
            cookie = self.client.get_cookie("_csrf_token")
            return cookie.value if cookie else ""
        self.sent.append(("GET", url.removeprefix("http://x"), None))
        return _Answer(self.client.get(url.removeprefix("http://x"), headers=self.headers))

    def post(self, url, data=None, headers=None, timeout=None, allow_redirects=True):
        body = json.loads(data) if isinstance(data, str) else data
        self.sent.append(("POST", url.removeprefix("http://x"), body))
        return _Answer(self.client.post(url.removeprefix("http://x"), data=data, headers={**self.headers, **(headers or {})}))


def _user(app, demo_url, username, role):
    stats = Stats()
    user = BrowserUser("http://x", username, role, "demo12345", scope_badges(demo_url, [username])[username],
                       random.Random(1), stats)
    user.http = _Browser(app.server.test_client())
    user.http.headers.update({"User-Agent": "bench-test", "Accept-Encoding": "gzip"})
    assert user.login()
    return user, stats


def test_bld001_a_warnings_view_fires_the_router_then_the_page_callbacks_in_order(app, demo_url):
    user, stats = _user(app, demo_url, "manager_d1", "manager")
    view = user.view("/warnings")
    assert view.ok, stats.errors
    posts = [body["output"] for method, _, body in user.http.sent if method == "POST" and body and "output" in body]
    router = ".._pages_content.children..._pages_store.data.."
    page = [p for p in posts if "warn-" in p]  # the /warnings callbacks (the shell's bell fires on its own)
    assert router in posts and page and posts.index(router) < min(posts.index(p) for p in page)  # the page comes from the router
    assert len(posts) >= 6 and not stats.errors  # the page's own callbacks, each answered 200/204
    assert len(posts) == len(set(posts))  # each callback once per view
    again = user.view("/warnings")  # the layout and dependencies are fetched once per browser
    assert again.ok and sum(1 for m, u, _ in user.http.sent if u == "/_dash-dependencies") == 1


def test_bld002_every_role_page_loads_without_a_refused_callback(app, demo_url):
    from portal.loadtest import ACCOUNTS, PAGES

    for role, pages in PAGES.items():
        user, stats = _user(app, demo_url, ACCOUNTS[role][-1], role)
        for page, _ in pages:
            assert user.view(page).ok, (role, page, stats.errors)


def test_bld003_load_against_gunicorn_reports_views_and_worker_cpu(demo_url, tmp_path):
    out = run_load(demo_url, users=2, duration=6, workers=1, cache_url=None, instance=str(tmp_path),
                   think=(0.2, 0.5), today=TODAY, log=lambda _: None)
    total = out["total"]
    assert total["views"] >= 2 and total["failed"] == 0 and total["logins_failed"] == 0, out["errors"]
    assert total["cpu_ms_per_view"] > 0 and total["cpu_ms_per_view_reported"] > 0
    assert total["generator_cpu_ms_per_view"] > 0 and out["generator_cpu"] > 0  # the users' own threads
    assert all(p["requests_per_view"] >= 2 for p in out["pages"].values())


def test_bld004_a_wave_of_callbacks_is_sent_at_once_like_a_browser(app, demo_url):
    """The counts (with the map and the movement) and the list of /warnings fire on the same answer (the
    router's): the two requests are on the wire together, each waiting here for the other; sent one after
    the other, they never meet."""
    import threading

    user, stats = _user(app, demo_url, "manager_d1", "manager")
    meet = threading.Barrier(2, timeout=30)
    met = []
    post = user.http.post

    def together(url, data=None, **kw):
        body = json.loads(data) if isinstance(data, str) else {}
        if body.get("output") == "warn-list-wrap.children" or str(body.get("output", "")).startswith("..warn-counts."):
            met.append(meet.wait())
        return post(url, data=data, **kw)

    user.http.post = together
    view = user.view("/warnings")
    assert view.ok, stats.errors
    assert sorted(met) == [0, 1]


def test_bld005_the_generator_measures_its_own_cpu():
    from portal.loadtest import own_cpu_seconds

    before = own_cpu_seconds()
    sum(i * i for i in range(200_000))
    assert own_cpu_seconds() > before
