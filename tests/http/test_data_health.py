"""/admin/data-health over HTTP: admins only (forged requests by others refused); the page says the
officers' hospital is derived and links to /admin/devices, which links back."""
import json

import pytest

from tests.helpers import dash_callback

BODY = "dh-body.children"


def _body(client):
    return dash_callback(client, BODY, [{"id": "dh-refresh", "property": "data", "value": 0}])


@pytest.mark.parametrize("username", ["manager_d1", "leader_d1", "officer", "counsellor_d1", "auditor"])
def test_dhh001_non_admins_are_refused(as_user, username):
    assert _body(as_user(username)).status_code == 403


def test_dhh002_admin_reads_completeness_items_and_staleness(as_user):
    res = _body(as_user("admin"))
    assert res.status_code == 200
    text = json.dumps(res.get_json()["response"], ensure_ascii=False)
    assert "dh-completeness" in text and "dh-items" in text and "dh-stale-kiosks" in text
    assert "数据中没有民警与医院的对应关系" in text  # the derived assignment is said on the page
    assert "/admin/devices" in text


def test_dhh003_devices_and_data_health_link_both_ways(app, as_user):
    admin = as_user("admin")
    key = next(k for k in app.callback_map if "_pages_content.children" in k)
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
               for part in key.strip(".").split("...") if part]
    for path, link in (("/admin/devices", "/admin/data-health"), ("/admin/data-health", "/admin/devices")):
        res = dash_callback(admin, key, [{"id": "_pages_location", "property": "pathname", "value": path},
                                         {"id": "_pages_location", "property": "search", "value": ""}],
                            outputs_list=outputs)
        assert res.status_code == 200, path
        assert link in json.dumps(res.get_json(), ensure_ascii=False), path
