"""/admin/users: admins manage accounts; everyone else is refused, even with forged requests."""
import pytest
from sqlalchemy import select

from models.db import session_scope
from models.schema import AuditLog, User
from tests.helpers import admin_users_action, admin_users_rows, dash_callback, rows_of

CREATE = "..au-result.children...au-refresh.data.."


def _create(client, username, role="manager", unit=None, badge=None, password="long-enough-1"):
    states = [{"id": "au-username", "property": "value", "value": username},
              {"id": "au-role", "property": "value", "value": role},
              {"id": "au-unit", "property": "value", "value": unit},
              {"id": "au-badge", "property": "value", "value": badge},
              {"id": "au-password", "property": "value", "value": password},
              {"id": "au-refresh", "property": "data", "value": 0}]
    return dash_callback(client, CREATE, [{"id": "au-create", "property": "n_clicks", "value": 1}], states)


@pytest.mark.parametrize("username", ["manager", "leader", "officer"])
def test_adm001_non_admins_cannot_list_or_create(as_user, username):
    c = as_user(username)
    assert admin_users_rows(c).status_code == 403
    assert admin_users_action(c, "au-reset", "manager").status_code == 403
    assert _create(c, f"sneaky_{username}").status_code == 403
    assert dash_callback(c, "..au-unit.options...au-edit-unit.options...au-roster-unit.options..",
                         [{"id": "au-refresh", "property": "data", "value": 0}]).status_code == 403


def test_adm002_admin_creates_manager_and_it_is_audited(app, as_user):
    url = app.server.config["DATABASE_URL"]
    with session_scope(url) as s:
        unit_code = s.scalar(select(User).where(User.username == "manager_d1")).scope_unit.code
    res = _create(as_user("admin"), "new_manager", unit=unit_code)
    assert res.status_code == 200
    assert "new_manager" in res.get_json()["response"]["au-result"]["children"]["props"]["children"]
    with session_scope(url) as s:
        user = s.scalar(select(User).where(User.username == "new_manager"))
        assert user.role == "manager" and user.scope_unit.code == unit_code
        assert s.scalar(select(AuditLog).where(AuditLog.action == "create_user", AuditLog.target == "new_manager"))


def test_adm003_manager_without_scope_is_refused_with_reason(as_user):
    res = _create(as_user("admin"), "no_scope_manager", unit="NOT-A-UNIT")
    text = str(res.get_json()["response"]["au-result"]["children"])
    assert "未能创建" in text and "管辖单位" in text and "--unit" not in text  # the user's language, not the CLI's


def test_adm004_admin_list_shows_demo_accounts(as_user):
    names = {r["username"] for r in rows_of(admin_users_rows(as_user("admin")))}
    assert {"admin", "leader", "leader_d1", "manager", "manager_d1", "officer"} <= names


def test_adm005_admin_picks_scope_from_unit_tree(as_user):
    res = dash_callback(as_user("admin"), "..au-unit.options...au-edit-unit.options...au-roster-unit.options..",
                        [{"id": "au-refresh", "property": "data", "value": 0}])
    options = res.get_json()["response"]["au-unit"]["options"]
    assert options[0]["label"] == "南江市公安局" and options[0]["value"] == "NJ"
    assert any(o["value"].endswith("-D1") and o["label"].startswith("\u3000") for o in options)
