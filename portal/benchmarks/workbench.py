"""The city workbench as a manager sees it (issue 22 goal: settled in 2 s): the app served on the bench
database, ``/`` opened as the city ``manager`` in headless Chromium, and the time from navigation start
until the workbench's four lists are rendered and no callback is pending.

Run alone with ``portal bench --only workbench``. The query cache is off (``testing=True``), so every
view computes its lists afresh, as the first view after an ingest does. Needs Debian ``chromium`` and
``chromium-driver`` and selenium (``dash[testing]``, as the browser tests do); without them the module
reports nothing and says why."""
from __future__ import annotations

import os
import shutil
import socket
import statistics
import sys
import threading
from contextlib import contextmanager

from portal.bench import BenchContext, Result, p95

TARGET_MS = 2000
LISTS = ("queue", "mine", "closed", "changes")
USER = "manager"

# Polled inside the page every 20 ms: the four lists have their rows (or their empty message) and their
# "共 N 条" count, nothing is loading and Dash has no callback requested, queued or running. The time
# reported is performance.now() (milliseconds since navigation start) when that first held, once it
# has held for 300 ms (a callback chain that starts again in between resets it).
SETTLED_JS = """
const done = arguments[arguments.length - 1];
const keys = arguments[0], timeout = arguments[1];
const t0 = Date.now();
let first = null;
function rendered() {
  return keys.every(k => {
    const body = document.getElementById('wb-' + k + '-body');
    const count = document.getElementById('wb-' + k + '-count');
    return body && body.children.length > 0 && count && count.textContent.trim().length > 0;
  });
}
function idle() {
  if (!window.store) return false;
  const cbs = Object.assign({}, window.store.getState().callbacks || {});
  delete cbs.stored; delete cbs.completed;
  const pending = Object.values(cbs).reduce((n, v) => n + (Array.isArray(v) ? v.length : 0), 0);
  return pending === 0 && !document.querySelector('[data-dash-is-loading="true"]');
}
function tick() {
  if (rendered() && idle()) {
    if (first === null) first = performance.now();
    else if (performance.now() - first >= 300) {
      return done({ms: first, lists: keys.map(k => ({key: k,
        rows: document.querySelectorAll('#wb-' + k + '-body tbody tr').length,
        count: document.getElementById('wb-' + k + '-count').textContent.trim()}))});
    }
  } else {
    first = null;
  }
  if (Date.now() - t0 > timeout) return done({ms: null, lists: []});
  setTimeout(tick, 20);
}
tick();
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver), or None when either is missing."""
    chromium = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@contextmanager
def served(url: str, workdir: str, today: str | None = None):
    """The portal on ``url`` served on a free local port in a thread; yields its base address."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):  # no access log on the bench's console
        def log(self, *args, **kwargs):
            pass

    from portal.app import create_app
    from portal.config import Config

    app = create_app(Config(database_url=url, testing=True, login_rate_limit="100000 per minute", today=today,
                            cache_dir=os.path.join(workdir, "bench-workbench-cache")))
    server = make_server("127.0.0.1", _free_port(), app.server, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="bench-workbench", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@contextmanager
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = browser_paths()
    if paths is None:
        raise RuntimeError("headless Chromium is needed: apt-get install chromium chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = paths[0]
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1440,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(paths[1]), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def workbench_settled(url: str, workdir: str, password: str, repeat: int = 5, today: str | None = None,
                      timeout_s: float = 60) -> list[dict]:
    """Open ``/`` as the city manager ``repeat`` times (after one warm-up view); per view the milliseconds
    from navigation start to the workbench settled, and what each list showed then."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with served(url, workdir, today) as base, chromium() as driver:
        driver.set_script_timeout(timeout_s + 5)
        driver.get(base + "/login")
        driver.find_element(By.ID, "username").send_keys(USER)
        field = driver.find_element(By.ID, "password")
        field.send_keys(password)
        field.submit()
        WebDriverWait(driver, 20).until(lambda d: "/login" not in d.current_url)
        views = []
        for _ in range(repeat + 1):
            driver.get(base + "/")
            views.append(driver.execute_async_script(SETTLED_JS, list(LISTS), int(timeout_s * 1000)))
        return views[1:]


def run(ctx: BenchContext) -> list[Result]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("workbench: skipped, selenium is not installed (pip install 'dash[testing]')", file=sys.stderr)
        return []
    if browser_paths() is None:
        print("workbench: skipped, no headless Chromium (apt-get install chromium chromium-driver)", file=sys.stderr)
        return []
    views = workbench_settled(ctx.url, ctx.workdir, ctx.password)
    times = [v["ms"] for v in views if v["ms"] is not None]
    if not times:
        raise RuntimeError("the workbench did not settle within a minute")
    shown = ", ".join(f"{x['key']} {x['rows']}" for x in views[-1]["lists"])
    return [Result("workbench: / as city manager, browser-settled", statistics.median(times), p95(times), None,
                   TARGET_MS, f"{len(times)} views, navigation start to lists rendered and no callback pending; "
                              f"rows shown: {shown}")]
