"""Helpers for HTTP tests: log in through the real form, forge Dash callback requests."""
from __future__ import annotations

import json
import re

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(dash_duo, app):
    """Start the app for a browser test on a free port (several test runs may share the machine).

    The page is not opened here: an anonymous visitor lands on the login form, which is not
    a Dash page, so login_browser opens it instead."""
    dash_duo.start_server(app, navigate=False, port=free_port())
    dash_duo._url = dash_duo.server.url
    return dash_duo


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "login form has no CSRF token"
    return match.group(1)


def login(client, username: str, password: str, next_url: str | None = None):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password, "csrf_token": token})


def csrf_cookie(client) -> str:
    """The token Dash's renderer echoes as X-CSRFToken (set on any GET while logged in)."""
    client.get("/")
    cookie = client.get_cookie("_csrf_token")
    return cookie.value if cookie else ""


def dash_callback(client, output: str, inputs: list[dict], state: list[dict] | None = None,
                  changed: list[str] | None = None, outputs_list=None):
    """POST a (possibly forged) callback to /_dash-update-component, the way any client can."""
    output = _resolve_output(client, output)
    body = {
        "output": output,
        "outputs": outputs_list if outputs_list is not None else _outputs(output),
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": changed or [f"{i['id']}.{i['property']}" for i in inputs if isinstance(i.get("id"), str)],
    }
    headers = {"X-CSRFToken": csrf_cookie(client), "Content-Type": "application/json"}
    return client.post("/_dash-update-component", data=json.dumps(body), headers=headers)


def _resolve_output(client, output: str) -> str:
    """Outputs declared with allow_duplicate carry a hash suffix ("x.data@1a2b"); find the real spec."""
    deps = client.get("/_dash-dependencies")
    if deps.status_code != 200:
        return output
    known = [d["output"] for d in deps.get_json()]
    if output in known:
        return output
    for spec in known:
        if re.sub(r"@[0-9a-f]+", "", spec) == output:
            return spec
    return output


def _outputs(output: str):
    """Turn '..a.children...b.children..' or 'a.children' into Dash's outputs list."""
    if output.startswith(".."):
        parts = [p for p in output.strip(".").split("...") if p]
        return [_one(p) for p in parts]
    return _one(output)


def _one(spec: str):
    ident, prop = spec.rsplit(".", 1)
    return {"id": ident, "property": prop}


def callback_key(client, *parts: str) -> str:
    """The output spec of the one callback whose spec contains every part (pattern ids included)."""
    specs = [d["output"] for d in client.get("/_dash-dependencies").get_json()]
    found = [s for s in specs if all(p in s for p in parts)]
    assert len(found) == 1, (parts, found)
    return found[0]


AU_GRID = {"type": "au-grid", "v": "v1"}


def admin_users_rows(client, search=None, role=None, status=None, start=0, end=100):
    """The /admin/users grid's page of rows (a forged getRowsRequest), as the JSON answer."""
    key = callback_key(client, "getRowsResponse", "au-count")
    inputs = [[{"id": AU_GRID, "property": "getRowsRequest", "value": {"startRow": start, "endRow": end}}]]
    state = [{"id": i, "property": "value", "value": v}
             for i, v in (("au-search", search), ("au-f-role", role), ("au-f-status", status))]
    return dash_callback(client, key, inputs, state, changed=[json.dumps(AU_GRID) + ".getRowsRequest"],
                         outputs_list=[[{"id": AU_GRID, "property": "getRowsResponse"}],
                                       {"id": "au-count", "property": "children"}])


def admin_users_action(client, trigger: str, username: str, edit_role=None, edit_unit=None):
    """Press one of the action buttons of /admin/users with ``username`` selected in the grid."""
    key = callback_key(client, "au-action-result.children")
    inputs = [{"id": b, "property": "n_clicks", "value": 1 if b == trigger else None}
              for b in ("au-unlock", "au-toggle", "au-reset", "au-edit-save", "au-psych")]
    state = [[{"id": AU_GRID, "property": "selectedRows", "value": [{"username": username}]}],
             {"id": "au-edit-role", "property": "value", "value": edit_role},
             {"id": "au-edit-unit", "property": "value", "value": edit_unit},
             {"id": "au-refresh", "property": "data", "value": 0}]
    return dash_callback(client, key, inputs, state, changed=[f"{trigger}.n_clicks"])


def rows_of(res) -> list[dict]:
    """The rows of an admin_users_rows answer."""
    response = res.get_json()["response"]
    grid = next(v for k, v in response.items() if k.startswith("{"))
    return grid["getRowsResponse"]["rowData"]


def page_layout(client, path: str, search: str = "") -> dict:
    """The layout the page router sends for ``path`` + ``search`` (as the JSON answer)."""
    key = callback_key(client, "_pages_content.children")
    res = dash_callback(client, key, [{"id": "_pages_location", "property": "pathname", "value": path},
                                      {"id": "_pages_location", "property": "search", "value": search}],
                        outputs_list=_outputs(key))
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    return res.get_json()


def find_component(tree, component_id):
    """The props of the component with this id anywhere in a layout (None if absent)."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree["props"]
        for v in tree.values():
            found = find_component(v, component_id)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for v in tree:
            found = find_component(v, component_id)
            if found is not None:
                return found
    return None
