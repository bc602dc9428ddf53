"""Every registered callback, as every role, with hostile values: a refusal, never a 500.

The callbacks come from the app's own callback map, so a callback added later is fuzzed
without touching this file. For each callback and each of its inputs and states in turn,
the others hold a plausible value and that one gets each value of ``HOSTILE`` (null, list,
dict, a 100 kB string, -1, 1e30, a bool, the JSON literals Infinity and NaN, a nested
dict). The requests go straight to /_dash-update-component through the Flask test client.
"""
from __future__ import annotations

import json
import math
import traceback

import pytest

from tests.helpers import csrf_cookie

ROLES = ("officer", "leader_d1", "manager_d1", "counsellor_d1", "admin")
HOSTILE = [None, [], {}, "x" * 100_000, -1, 1e30, True, math.inf, math.nan,
           {"points": {"a": [{"b": {"c": [None, "d"]}}]}, "startRow": {"x": 1}}]
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/', "Internal Server Error")

# plausible values for a few inputs; everything else gets one by its property (below)
PLAUSIBLE = {
    "campaign-url.pathname": "/campaigns/1",
    "campaigns-url.pathname": "/campaigns",
    "wb-url.pathname": "/workbench",
    "_pages_location.pathname": "/warnings",
    "warn-f-levels.value": ["red"],
    "getRowsRequest": {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}},
}
BY_PROPERTY = {"n_clicks": 1, "n_intervals": 1, "pathname": "/", "search": "", "value": None, "data": None,
               "id": "warn-title", "selectedRows": [], "clickData": None, "cellClicked": None}


def _plausible(ident, prop):
    key = f"{ident}.{prop}" if isinstance(ident, str) else prop
    return PLAUSIBLE.get(key, BY_PROPERTY.get(prop))


def _concrete(ident):
    """A pattern-matching id with its wildcards filled in (ALL, MATCH -> one element)."""
    if not isinstance(ident, dict):
        return ident
    return {k: (1 if k in ("id", "batch") else "1001") if isinstance(v, list) else v for k, v in ident.items()}


def _parse(ident: str):
    return json.loads(ident) if ident.startswith("{") else ident


def _wildcard(ident) -> str | None:
    if isinstance(ident, dict):
        for v in ident.values():
            if isinstance(v, list):
                return v[0]
    return None


def _item(spec: dict, value):
    ident = _parse(spec["id"])
    one = {"id": _concrete(ident), "property": spec["property"], "value": value}
    return [one] if _wildcard(ident) in ("ALL", "ALLSMALLER") else one


def _prop_id(spec: dict) -> str:
    ident = _concrete(_parse(spec["id"]))
    if isinstance(ident, dict):
        ident = json.dumps(ident, sort_keys=True, separators=(",", ":"))
    return f"{ident}.{spec['property']}"


def _outputs(key: str, cb: dict):
    def one(spec):
        ident, prop = spec.rsplit(".", 1)
        parsed = _parse(ident)
        out = {"id": _concrete(parsed), "property": prop.split("@")[0]}
        return [out] if _wildcard(parsed) in ("ALL", "ALLSMALLER") else out

    if key.startswith(".."):
        return [one(p) for p in key.strip(".").split("...") if p]
    return one(key)


def server_callbacks(app) -> list[tuple[str, dict]]:
    return [(key, cb) for key, cb in app.callback_map.items() if cb.get("callback") is not None]


def cases(app):
    """(callback key, body) for every callback x argument x hostile value."""
    out = []
    for key, cb in server_callbacks(app):
        inputs, state = cb["inputs"], cb.get("state", [])
        args = [("inputs", i) for i in range(len(inputs))] + [("state", i) for i in range(len(state))]
        for where, index in args:
            for value in HOSTILE:
                ins = [_item(s, _plausible(_parse(s["id"]), s["property"])) for s in inputs]
                sts = [_item(s, _plausible(_parse(s["id"]), s["property"])) for s in state]
                target = ins if where == "inputs" else sts
                spec = (inputs if where == "inputs" else state)[index]
                target[index] = _item(spec, value)
                changed = _prop_id(spec if where == "inputs" else inputs[0])
                out.append((key, {"output": key, "outputs": _outputs(key, cb), "inputs": ins, "state": sts,
                                  "changedPropIds": [changed]}))
    return out


def post(client, token: str, body: dict):
    """Status and text of one forged request; an exception escaping the app counts as a 500."""
    try:
        res = client.post("/_dash-update-component", data=json.dumps(body),
                          headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    except Exception as exc:  # noqa: BLE001 - the test client re-raises what the app would answer with 500
        return 500, _site(exc)
    return res.status_code, res.get_data(as_text=True)


def _site(exc: BaseException) -> str:
    """The innermost line of the project's own code an exception passed through, and the error."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/site-packages/" not in f.filename]
    where = f"{frames[-1].filename.rsplit('/', 2)[-2:]}:{frames[-1].lineno}" if frames else "?"
    return f"Traceback (most recent call last) at {where}: {type(exc).__name__}: {str(exc)[:120]}"


def test_fuz001_the_fuzz_reaches_every_callback(app):
    keys = {key for key, _ in cases(app)}
    assert keys == {key for key, _ in server_callbacks(app)}
    assert len(keys) >= 50


@pytest.mark.parametrize("role", ROLES)
def test_fuz002_no_callback_crashes_on_hostile_input(as_user, app, role):
    client = as_user(role)
    token = csrf_cookie(client)
    crashes = []
    for key, body in cases(app):
        status, text = post(client, token, body)
        if status >= 500 or any(mark in text for mark in TRACEBACK_MARKS):
            crashes.append((status, key[:80], json.dumps(body["inputs"] + body["state"], default=str)[:160],
                            text[:300]))
    sites = sorted({c[3].split(": ")[0] for c in crashes})
    assert not crashes, (f"{len(crashes)} crashes as {role} at {len(sites)} sites:\n" + "\n".join(sites) + "\n"
                         + "\n".join(map(str, crashes[:20])))
