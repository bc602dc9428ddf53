"""``portal bench --load``: browser-like users against a gunicorn this command starts itself.

Each simulated user signs in with a demo account of its role (the role mix below), then loops:
pick a page of its role, view it the way Dash's renderer does, think 5–15 s. A page view is:

1. GET the page (the HTML shell);
2. once per user (the browser caches them): GET ``/_dash-layout`` and ``/_dash-dependencies``;
3. POST the pages router callback (``_pages_location`` → ``_pages_content``) with the path;
4. POST every server callback the browser then fires, in dependency order: a callback whose inputs
   all exist in the layout (shell + page, + what earlier answers added) fires on its initial call
   (unless ``prevent_initial_call``) and again whenever an answer changed one of its inputs, but
   only after every callback that still has to update one of its inputs has answered; pattern-matching
   ids are expanded (ALL: one call with every match, MATCH: one call per match). Clientside callbacks
   run in the browser and are skipped; a callback fires at most once per view (what Dash's dependency
   order achieves). As in a browser, every callback that may fire is sent at once, over up to six
   connections per user (``CONNECTIONS``), and each answer lets what it unblocks fire without waiting
   for the others; so a view's time is its longest chain of requests, not the sum of them.

The dependencies are parsed and indexed once for all users (``Dependencies``: which callbacks an input
feeds), so what fires after an answer is looked up rather than searched among every callback.

Per page: views, failed views (any answer other than 200/204), median and p95 of the view time and
the server CPU per view. The CPU is what every gunicorn worker spent (utime + stime from /proc,
before and after the measured window, sign-ins excluded) divided by the views; per page it is the
sum of the ``Server-Timing: cpu`` the app reports per request when ``PORTAL_SERVER_TIMING=1``. The load
generator's own CPU per view (this process: every user's thread, over the same window) is reported
too: it runs on the same machine, so what it spends is not there for the server.
"""
from __future__ import annotations

import json
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

# role → (accounts of the demo, pages they visit with weights); <badge> is one officer in the account's scope
ROLE_MIX: dict[str, float] = {"manager": 0.35, "leader": 0.25, "officer": 0.25, "counsellor": 0.1, "admin": 0.05}
ACCOUNTS: dict[str, list[str]] = {
    "manager": ["manager", "manager_d1", "manager_d2"], "leader": ["leader", "leader_d1", "leader_d2"],
    "officer": ["officer"], "counsellor": ["counsellor", "counsellor_d1"], "admin": ["admin"],
}
PAGES: dict[str, list[tuple[str, float]]] = {
    "manager": [("/", 0.35), ("/warnings", 0.25), ("/units", 0.15), ("/officers/<badge>", 0.25)],
    "leader": [("/", 0.45), ("/warnings", 0.35), ("/units", 0.2)],
    "officer": [("/me", 0.8), ("/campaigns", 0.2)],
    "counsellor": [("/warnings", 0.6), ("/officers/<badge>", 0.4)],
    "admin": [("/", 0.3), ("/warnings", 0.2), ("/admin/users", 0.2), ("/admin/imports", 0.15), ("/admin/audit", 0.15)],
}
AGENT = "portal-bench-load/1 (browser-like)"
CONNECTIONS = 6  # what a browser opens at most to one host (HTTP/1.1)
WILD = ("ALL", "MATCH", "ALLSMALLER")


# ---- the layout as the renderer holds it ----------------------------------------------------

def stringify(ident: Any) -> str:
    """A component id as Dash writes it in outputs, changedPropIds and answers."""
    if isinstance(ident, dict):
        return json.dumps(ident, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(ident)


def walk(node: Any, into: dict[str, dict]) -> None:
    """Every component with an id in a layout (sub)tree: stringified id → (id, props), in document order."""
    stack = [node]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is list:
            stack.extend(reversed(node))
            continue
        if kind is not dict:
            continue
        props = node.get("props")
        if type(props) is dict and "type" in node and "namespace" in node:
            if "id" in props:
                into[stringify(props["id"])] = {"id": props["id"], "props": props, "type": node["type"]}
            stack.extend(v for v in reversed(props.values()) if type(v) is dict or type(v) is list)


def _parse_id(text: str) -> Any:
    return json.loads(text) if text.startswith("{") else text


def _matches(pattern: Any, ident: Any) -> bool:
    if not isinstance(pattern, dict):
        return pattern == ident
    if not isinstance(ident, dict) or set(ident) != set(pattern):
        return False
    return all(isinstance(v, list) and v and v[0] in WILD or ident[k] == v for k, v in pattern.items())


def _match_key(pattern: Any, ident: Any) -> tuple:
    """The values of a pattern's MATCH keys in one concrete id (what ties a MATCH group together)."""
    if not isinstance(pattern, dict):
        return ()
    return tuple((k, json.dumps(ident[k])) for k, v in sorted(pattern.items()) if isinstance(v, list) and v and v[0] == "MATCH")


def _is_multi(pattern: Any) -> bool:
    return isinstance(pattern, dict) and any(isinstance(v, list) and v and v[0] in ("ALL", "ALLSMALLER") for v in pattern.values())


@dataclass
class Callback:
    key: str
    inputs: list[dict]
    state: list[dict]
    outputs: list[tuple[Any, str]]  # (id pattern, property)
    prevent_initial_call: bool

    @classmethod
    def from_dependency(cls, dep: dict) -> Callback:
        key = dep["output"]
        specs = [p for p in key.strip(".").split("...") if p] if key.startswith("..") else [key]
        outputs = []
        for spec in specs:
            ident, prop = spec.rsplit(".", 1)
            outputs.append((_parse_id(ident), prop.split("@")[0]))
        parse = [{"id": _parse_id(i["id"]), "property": i["property"]} for i in dep.get("inputs", [])]
        state = [{"id": _parse_id(i["id"]), "property": i["property"]} for i in dep.get("state", [])]
        return cls(key, parse, state, outputs, bool(dep.get("prevent_initial_call")))


def server_callbacks(dependencies: list[dict]) -> list[Callback]:
    return [Callback.from_dependency(d) for d in dependencies
            if not d.get("clientside_function") and d.get("inputs")]


class Dependencies:
    """The app's server callbacks (from ``/_dash-dependencies``), indexed by the components their inputs
    name: what may fire when a component appears or a prop changes is looked up, not searched for among
    every callback. Built once per distinct answer and shared by every simulated browser (each still
    fetches it once, as a browser does)."""

    def __init__(self, dependencies: list[dict]):
        self.callbacks = server_callbacks(dependencies)
        self.by_key = {cb.key: cb for cb in self.callbacks}
        self.order = {cb.key: i for i, cb in enumerate(self.callbacks)}
        self.by_input: dict[str, list[Callback]] = {}  # a plain input id -> the callbacks it feeds
        self.patterned: list[Callback] = []  # callbacks with a pattern-matching input
        for cb in self.callbacks:
            for spec in cb.inputs:
                if isinstance(spec["id"], dict):
                    if not self.patterned or self.patterned[-1] is not cb:
                        self.patterned.append(cb)
                else:
                    feeds = self.by_input.setdefault(str(spec["id"]), [])
                    if not feeds or feeds[-1] is not cb:
                        feeds.append(cb)

    def fed_by(self, sids: set[str], comps: dict[str, dict]) -> list[Callback]:
        """The callbacks with an input among the components ``sids`` (plain ids, or concrete ids a
        pattern matches), in the order of the dependencies."""
        found = {cb.key: cb for sid in sids for cb in self.by_input.get(sid, ())}
        idents = [comps[sid]["id"] for sid in sids if sid in comps and isinstance(comps[sid]["id"], dict)]
        if idents:
            for cb in self.patterned:
                if cb.key not in found and any(isinstance(spec["id"], dict) and _matches(spec["id"], ident)
                                               for spec in cb.inputs for ident in idents):
                    found[cb.key] = cb
        return sorted(found.values(), key=lambda cb: self.order[cb.key])


_PARSED: dict[str, Dependencies] = {}
_PARSED_LOCK = threading.Lock()


def dependencies_of(text: str) -> Dependencies:
    """The indexed ``/_dash-dependencies`` answer, parsed once for every browser that received the same
    text (read-only once built)."""
    with _PARSED_LOCK:
        hit = _PARSED.get(text)
        if hit is None:
            hit = _PARSED[text] = Dependencies(json.loads(text))
        return hit


def _instances(cb: Callback, comps: dict[str, dict]) -> list[dict]:
    """The concrete calls of a callback in the current layout: one per MATCH group (or one), each
    with its inputs, state and outputs filled in; none when an input is missing."""
    groups: dict[tuple, dict] = {}
    match_keys: set[tuple] = set()
    for spec in cb.inputs:
        if isinstance(spec["id"], dict) and any(isinstance(v, list) and v and v[0] == "MATCH" for v in spec["id"].values()):
            for c in comps.values():
                if _matches(spec["id"], c["id"]):
                    match_keys.add(_match_key(spec["id"], c["id"]))
            break
    keys = sorted(match_keys) if match_keys else [()]
    for mk in keys:
        def items(specs, required, mk=mk):
            out = []
            for spec in specs:
                found = [c for c in _found(spec["id"], comps) if not mk or _match_key(spec["id"], c["id"]) in (mk, ())]
                if _is_multi(spec["id"]):
                    out.append([{"id": c["id"], "property": spec["property"], "value": c["props"].get(spec["property"])}
                                for c in found])
                elif found:
                    c = found[0]
                    item = {"id": c["id"], "property": spec["property"]}
                    if spec["property"] in c["props"]:
                        item["value"] = c["props"][spec["property"]]
                    out.append(item)
                elif required:
                    return None
                else:
                    out.append({"id": spec["id"], "property": spec["property"]})
            return out

        inputs = items(cb.inputs, True)
        if inputs is None or all(isinstance(i, list) and not i for i in inputs):
            continue  # the renderer fires nothing whose every input is an ALL pattern matching no component
        state = items(cb.state, False)
        outputs = []
        for pattern, prop in cb.outputs:
            found = [c for c in _found(pattern, comps) if not mk or _match_key(pattern, c["id"]) in (mk, ())]
            if _is_multi(pattern):
                outputs.append([{"id": c["id"], "property": prop} for c in found])
            elif found:
                outputs.append({"id": found[0]["id"], "property": prop})
            else:
                break  # the renderer never fires a callback whose output is not in the layout
        else:
            groups[mk] = {"inputs": inputs, "state": state, "outputs": outputs}
    return list(groups.values())


def _found(pattern: Any, comps: dict[str, dict]) -> list[dict]:
    if not isinstance(pattern, dict):  # a plain id: one look-up
        comp = comps.get(str(pattern))
        return [comp] if comp is not None else []
    return [c for c in comps.values() if _matches(pattern, c["id"])]


def _input_props(cb: Callback, comps: dict[str, dict]) -> set[str]:
    return {f"{stringify(c['id'])}.{spec['property']}" for spec in cb.inputs for c in _found(spec["id"], comps)}


def _output_props(cb: Callback, comps: dict[str, dict]) -> set[str]:
    out = set()
    for pattern, prop in cb.outputs:
        if isinstance(pattern, dict):
            out |= {f"{stringify(c['id'])}.{prop}" for c in comps.values() if _matches(pattern, c["id"])}
        else:
            out.add(f"{pattern}.{prop}")
    return out


# ---- one simulated user ---------------------------------------------------------------------

@dataclass
class View:
    page: str
    ms: float
    ok: bool
    cpu_ms: float
    requests: int


@dataclass
class Stats:
    views: list[View] = field(default_factory=list)
    logins_failed: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, view: View) -> None:
        with self.lock:
            self.views.append(view)

    def error(self, text: str) -> None:
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(text)


_TIMING = re.compile(r"cpu;dur=([0-9.]+)")


class BrowserUser:
    def __init__(self, base: str, username: str, role: str, password: str, badges: list[str], rng: random.Random,
                 stats: Stats):
        self.base, self.username, self.role, self.password = base, username, role, password
        self.badges, self.rng, self.stats = badges, rng, stats
        self.http = requests.Session()
        self.http.trust_env = False  # a local server: no proxy settings (nor a scan of the environment per request)
        self.http.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=CONNECTIONS))
        self.http.headers["User-Agent"] = AGENT
        self.http.headers["Accept-Encoding"] = "gzip, deflate"
        self.shell: dict[str, dict] | None = None
        self.deps: Dependencies | None = None
        self.pool = ThreadPoolExecutor(CONNECTIONS, thread_name_prefix="browser")  # threads start when needed

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.http.close()

    def login(self) -> bool:
        page = self.http.get(self.base + "/login", timeout=60)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        res = self.http.post(self.base + "/login", timeout=60, allow_redirects=False,
                             data={"username": self.username, "password": self.password,
                                   "csrf_token": token.group(1) if token else ""})
        return res.status_code == 302 and "/login" not in res.headers.get("Location", "/login")

    def _cpu(self, res: requests.Response) -> float:
        m = _TIMING.search(res.headers.get("Server-Timing", ""))
        return float(m.group(1)) if m else 0.0

    def _get(self, path: str, acc: list) -> requests.Response:
        res = self.http.get(self.base + path, timeout=120)
        acc.append(res)
        return res

    def _post(self, cb: Callback, call: dict, changed: list[str], acc: list) -> requests.Response:
        body = {"output": cb.key, "outputs": call["outputs"] if cb.key.startswith("..") else call["outputs"][0],
                "inputs": call["inputs"], "state": call["state"], "changedPropIds": changed}
        res = self.http.post(self.base + "/_dash-update-component", data=json.dumps(body), timeout=120,
                             headers={"Content-Type": "application/json",
                                      "X-CSRFToken": self.http.cookies.get("_csrf_token", "")})
        acc.append(res)
        return res

    def view(self, page: str) -> View:
        path = page.replace("<badge>", self.rng.choice(self.badges)) if "<badge>" in page else page
        acc: list[requests.Response] = []
        t0 = time.perf_counter()
        ok = True
        try:
            ok = self._get(path, acc).status_code == 200
            if ok and self.shell is None:
                layout = self._get("/_dash-layout", acc)
                deps = self._get("/_dash-dependencies", acc)
                ok = layout.status_code == 200 and deps.status_code == 200
                if ok:
                    self.shell = {}
                    walk(layout.json(), self.shell)
                    self.deps = dependencies_of(deps.text)
            if ok:
                ok = self._fire_all(path, acc)
        except (requests.RequestException, ValueError) as exc:
            ok = False
            self.stats.error(f"{self.username} {path}: {type(exc).__name__}: {str(exc)[:200]}")
        ms = (time.perf_counter() - t0) * 1000
        return View(page, ms, ok, sum(self._cpu(r) for r in acc), len(acc))

    def _fire_all(self, path: str, acc: list) -> bool:
        # this view's copy of the renderer's store: answers replace props, never edit them in place
        comps = {sid: {"id": c["id"], "props": dict(c["props"]), "type": c["type"]} for sid, c in self.shell.items()}
        deps = self.deps
        pathname, _, search = path.partition("?")
        fired: set[str] = set()
        pending: dict[str, set[str]] = {}  # callback -> the input props that make it fire
        flying: dict[Future, str] = {}  # request on the wire -> its callback

        def mounted(new: dict[str, dict], updated: set[str], initial: bool) -> None:
            """What fires after components appeared or props changed: callbacks with a changed input (a
            dcc.Location sets its pathname, search, hash and href from the address bar when it mounts,
            which is how the pages router runs), and, on their initial call, callbacks whose inputs just
            appeared; each once per view."""
            for sid, comp in new.items():
                if comp.get("type") == "Location":
                    comp["props"].update(pathname=pathname, search=f"?{search}" if search else "", hash="",
                                         href=self.base + path)
                    updated |= {f"{sid}.{p}" for p in ("pathname", "search", "hash", "href")}
            candidates = deps.callbacks if initial else deps.fed_by({p.rsplit(".", 1)[0] for p in updated} | set(new), comps)
            for other in candidates:
                if other.key in fired or other.key in pending:
                    continue
                props = _input_props(other, comps)
                touched = props & updated
                appeared = initial or any(p.rsplit(".", 1)[0] in new for p in props)
                if (touched or (appeared and not other.prevent_initial_call)) and _instances(other, comps):
                    pending[other.key] = touched or props

        def launch() -> None:
            """Send every pending callback none of whose changed inputs another pending or unanswered
            callback still has to update (a cycle: the first one anyway), all at once."""
            busy = {k: _output_props(deps.by_key[k], comps) for k in [*pending, *set(flying.values())]}
            ready = [k for k in pending if not any(pending[k] & outs for o, outs in busy.items() if o != k)]
            if not ready and not flying and pending:
                ready = [next(iter(pending))]
            for key in ready:
                changed = sorted(pending.pop(key))
                fired.add(key)
                cb = deps.by_key[key]
                for call in _instances(cb, comps):
                    flying[self.pool.submit(self._post, cb, call, changed, acc)] = key

        mounted(dict(comps), set(), True)
        failed: BaseException | None = None
        refused = False
        while True:
            if failed is None and not refused:
                launch()
            if not flying:
                break
            done, _ = wait(list(flying), return_when=FIRST_COMPLETED)
            for fut in [f for f in flying if f in done]:  # answers in the order they were sent
                key = flying.pop(fut)
                if failed is not None or refused:
                    continue  # the view failed: only wait for what is still on the wire
                try:
                    res = fut.result()
                    answer = res.json().get("response", {}) if res.status_code == 200 else None
                except (requests.RequestException, ValueError) as exc:
                    failed = exc
                    continue
                if res.status_code == 204:
                    continue
                if res.status_code != 200:
                    self.stats.error(f"{self.username} {path} {key}: {res.status_code} {res.text[:160]}")
                    refused = True
                    continue
                new: dict[str, dict] = {}
                updated: set[str] = set()
                for sid, props in answer.items():
                    target = comps.get(sid)
                    if target is not None:
                        target["props"] = {**target["props"], **props}
                    for prop, value in props.items():
                        updated.add(f"{sid}.{prop}")
                        walk(value, new)
                comps.update(new)
                mounted(new, updated, False)
        if failed is not None:
            raise failed
        return not refused

    def run(self, until: float, think: tuple[float, float], pages: list[tuple[str, float]]) -> None:
        names, weights = zip(*pages)
        while time.monotonic() < until:
            page = self.rng.choices(names, weights)[0]
            if "<badge>" in page and not self.badges:
                continue
            self.stats.add(self.view(page))
            pause = self.rng.uniform(*think)
            if time.monotonic() + pause >= until:
                break
            time.sleep(pause)


# ---- the server under test ------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_cpu_seconds(master_pid: int) -> float:
    """utime + stime of every child of the gunicorn master (its workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == master_pid:  # ppid
            total += int(fields[11]) + int(fields[12])
    return total / tick


class Gunicorn:
    def __init__(self, url: str, workers: int, cache_url: str | None, instance: str, today: str | None):
        self.port = _free_port()
        env = dict(os.environ, PORTAL_DATABASE_URL=url, PORTAL_INSTANCE=instance, PORTAL_SERVER_TIMING="1",
                   PORTAL_LOGIN_ADDRESS_LIMIT="100000 per minute")
        env.pop("PORTAL_CACHE_URL", None)
        if cache_url:
            env["PORTAL_CACHE_URL"] = cache_url
        if today:
            env["PORTAL_TODAY"] = today
        self.log = open(Path(instance) / "bench-load-gunicorn.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:server", "--workers", str(workers), "--bind",
             f"127.0.0.1:{self.port}", "--timeout", "300", "--preload"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log.name}")
            try:
                if requests.get(self.base + "/healthz", timeout=5).status_code in (200, 503):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


# ---- the run --------------------------------------------------------------------------------

def scope_badges(url: str, usernames: list[str], per_account: int = 20) -> dict[str, list[str]]:
    """A few officers in each account's scope (red/orange first, the ones a manager opens)."""
    from sqlalchemy import case, select

    from models.db import session_scope
    from models.schema import Officer, OfficerStatus, Unit, User

    order = case((OfficerStatus.level == "red", 0), (OfficerStatus.level == "orange", 1), else_=2)
    out: dict[str, list[str]] = {}
    with session_scope(url) as s:
        for name in usernames:
            user = s.scalar(select(User).where(User.username == name))
            if user is None:
                continue
            q = (select(Officer.badge).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                 .join(Unit, Unit.id == Officer.unit_id).where(Officer.active).order_by(order, Officer.id).limit(per_account))
            if user.scope_unit is not None:
                q = q.where(Unit.path.startswith(user.scope_unit.path))
            out[name] = list(s.scalars(q))
    return out


def _pctl(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def own_cpu_seconds() -> float:
    """utime + stime of this process (every simulated user's thread): what the load generator itself costs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_load(url: str, *, users: int, duration: float, workers: int, cache_url: str | None, instance: str,
             password: str = "demo12345", think: tuple[float, float] = (5.0, 15.0), seed: int = 1,
             today: str | None = None, log=print) -> dict:
    rng = random.Random(seed)
    roles = list(ROLE_MIX)
    plan = [rng.choices(roles, [ROLE_MIX[r] for r in roles])[0] for _ in range(users)]
    badges = scope_badges(url, sorted({a for r in set(plan) for a in ACCOUNTS[r]}))
    server = Gunicorn(url, workers, cache_url, instance, today)
    stats = Stats()
    load_before = load_average()
    try:
        server.wait_ready()
        sims = []
        for i, role in enumerate(plan):
            account = ACCOUNTS[role][i % len(ACCOUNTS[role])]
            sims.append(BrowserUser(server.base, account, role, password, badges.get(account, []),
                                    random.Random(seed * 1000 + i), stats))
        log(f"signing in {users} users ({workers} workers) ...")
        t_login = time.perf_counter()
        failed = _parallel([s.login for s in sims], min(users, 16))
        stats.logins_failed = sum(1 for ok in failed if not ok)
        login_s = time.perf_counter() - t_login
        cpu0, own0, wall0 = worker_cpu_seconds(server.proc.pid), own_cpu_seconds(), time.monotonic()
        until = wall0 + duration
        log(f"load: {users} users for {duration:.0f} s, think {think[0]:.0f}–{think[1]:.0f} s ...")
        threads = []
        for i, sim in enumerate(sims):
            def go(sim=sim, i=i):
                time.sleep(sim.rng.uniform(0, min(think[1], duration / 2)))  # arrivals spread like real users
                sim.run(until, think, PAGES[sim.role])
            t = threading.Thread(target=go, daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(timeout=max(1.0, until - time.monotonic() + 300))
        for sim, t in zip(sims, threads):
            if not t.is_alive():
                sim.close()
        wall = time.monotonic() - wall0
        cpu = worker_cpu_seconds(server.proc.pid) - cpu0
        own = own_cpu_seconds() - own0
        load_after = load_average()
    finally:
        server.stop()
    return _summary(stats, users=users, workers=workers, duration=wall, cpu=cpu, generator_cpu=own, login_s=login_s,
                    backend=url.split(":")[0].split("+")[0], cache="redis" if cache_url else "filesystem",
                    load=(load_before, load_after))


def _parallel(fns, width: int) -> list:
    from concurrent.futures import ThreadPoolExecutor

    def safe(fn):
        try:
            return fn()
        except requests.RequestException:
            return False

    with ThreadPoolExecutor(width) as pool:
        return list(pool.map(safe, fns))


def _summary(stats: Stats, **meta) -> dict:
    pages = {}
    for page in sorted({v.page for v in stats.views}):
        vs = [v for v in stats.views if v.page == page]
        ms = [v.ms for v in vs if v.ok]
        pages[page] = {"views": len(vs), "failed": sum(1 for v in vs if not v.ok),
                       "median_ms": round(statistics.median(ms), 1) if ms else None,
                       "p95_ms": round(_pctl(ms, 0.95), 1) if ms else None,
                       "requests_per_view": round(sum(v.requests for v in vs) / len(vs), 1),
                       "cpu_ms_per_view": round(sum(v.cpu_ms for v in vs) / len(vs), 1)}
    ok = [v.ms for v in stats.views if v.ok]
    n = len(stats.views)
    total = {"views": n, "failed": sum(1 for v in stats.views if not v.ok), "logins_failed": stats.logins_failed,
             "median_ms": round(statistics.median(ok), 1) if ok else None, "p95_ms": round(_pctl(ok, 0.95), 1) if ok else None,
             "views_per_s": round(n / meta["duration"], 2) if meta["duration"] else 0,
             "cpu_ms_per_view": round(1000 * meta["cpu"] / n, 1) if n else None,
             "cpu_ms_per_view_reported": round(sum(v.cpu_ms for v in stats.views) / n, 1) if n else None,
             "generator_cpu_ms_per_view": round(1000 * meta["generator_cpu"] / n, 1) if n else None}
    return {**{k: (round(v, 1) if isinstance(v, float) else v) for k, v in meta.items()}, "pages": pages,
            "total": total, "errors": stats.errors}
