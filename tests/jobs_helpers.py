"""Helpers of the background-job tests: a GB18030 hospital file, and a background callback run over HTTP
the way Dash's renderer runs one (start, then poll with the signed handles until the answer comes)."""
from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

from tests.helpers import _outputs, _resolve_output, csrf_cookie

GB_CSV = ("警号,姓名,体检日期,诊室测量值,空腹血糖\n"
          "J10001,陈伟,2026-03-02,150/96,5.2\n"
          "J10002,李芳,2026-03-03,128/84,6.1\n").encode("gb18030")


def data_url(data: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def run_background(client, output: str, inputs: list[dict], state: list[dict], timeout: float = 120):
    """Start a background callback and poll it to the end; (status code of the start, final JSON or None)."""
    output = _resolve_output(client, output)
    body = json.dumps({"output": output, "outputs": _outputs(output), "inputs": inputs, "state": state,
                       "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs]})
    headers = {"X-CSRFToken": csrf_cookie(client), "Content-Type": "application/json"}
    first = client.post("/_dash-update-component", data=body, headers=headers)
    if first.status_code != 200:
        return first.status_code, None
    handles = first.get_json()
    query = urlencode({"cacheKey": handles["cacheKey"], "job": handles["job"]})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = client.post(f"/_dash-update-component?{query}", data=body, headers=headers)
        answer = res.get_json(silent=True) if res.status_code == 200 else None
        if answer and "response" in answer:
            return 200, answer
        if res.status_code not in (200, 204):
            return res.status_code, None
        time.sleep(0.25)  # the renderer's own polling interval: waiting for a job in another process
    raise AssertionError(f"the background job did not finish in {timeout} s")
