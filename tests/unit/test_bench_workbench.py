"""Issue 22: ``portal bench --only workbench`` measures the workbench's browser-settled time. Here the
measurement runs on the tiny test demo: it must give a time and see the lists rendered (not a timing test)."""
import re

from portal.benchmarks.workbench import LISTS, workbench_settled
from tests.conftest import PASSWORD, TODAY


def test_bnc001_workbench_settled_time_on_the_tiny_demo(demo_url, tmp_path):
    views = workbench_settled(demo_url, str(tmp_path), PASSWORD, repeat=1, today=TODAY)
    assert len(views) == 1
    view = views[0]
    assert view["ms"] is not None and view["ms"] > 0
    assert [x["key"] for x in view["lists"]] == list(LISTS)
    for x in view["lists"]:  # each list drawn with its count: "第 1–8 条 / 共 8 条", or "共 0 条"
        assert int(re.search(r"共 (\d+) 条", x["count"]).group(1)) >= x["rows"], x
    queue = next(x for x in view["lists"] if x["key"] == "queue")
    assert queue["rows"] > 0 and int(re.search(r"共 (\d+) 条", queue["count"]).group(1)) >= queue["rows"]
