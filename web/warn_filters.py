"""The /warnings filter choices and the address bar that holds the chosen filters.

The filter bar is built with its choices already in place (a Dash 4 dropdown drops a value
that is not among its options when the options arrive later, which lost ``?unit=`` on every
load but the first), and every filter lives in the address bar: the page reads it on each load
and the callbacks write it back on each change, so a link, a reload and Back/Forward all show
the same list."""
from __future__ import annotations

from urllib.parse import urlencode

from models import rule_versions
from models import warnings_queries as wq
from models.vocab import LEVELS, POST_TYPES
from web.access import current_scope, db
from web.cache import HEALTH_AND_FOLLOWUPS, cached
from web.i18n import label, level_name, tr

VIEWERS = ("leader", "manager", "counsellor", "admin")
# control id -> address-bar parameter
URL_KEYS = {"warn-f-levels": "level", "warn-f-confirmed": "confirmed", "warn-f-rule": "rule", "warn-f-unit": "unit",
            "warn-f-age": "age", "warn-f-sex": "sex", "warn-f-post": "post", "warn-f-exam": "exam",
            "warn-f-followup": "followup"}


# what every cached part of /warnings reads: statuses and their history, and follow-ups (its follow-up
# filter); an officer's campaign check-in leaves them all in the cache
READS = HEALTH_AND_FOLLOWUPS


def filter_choices() -> dict:
    """The options of the unit, reason and post-type dropdowns for the signed-in viewer."""
    scope = current_scope(*VIEWERS)
    with db() as s:
        opts = cached("warn_options", scope, {},
                      lambda: wq.filter_options(s, scope.unit_path, rule_versions.in_force(s), psych=scope.sees_psych), READS)
    d0 = min((u["depth"] for u in opts["units"]), default=0)
    units = [{"label": "\u3000" * (u["depth"] - d0) + tr(u["name"], u["name_en"]), "value": u["code"]}
             for u in opts["units"]]
    rules = [{"label": f"{level_name(r['level'])} · {tr(r['name'], r['name_en'])}", "value": r["id"]}
             for r in opts["rules"]]
    posts = [{"label": label(POST_TYPES, p), "value": p} for p in opts["post_types"]]
    return {"unit": units, "rule": rules, "post": posts}


def levels_of(raw) -> list[str]:
    """``?level=red`` or ``?level=red,orange``: the known colours, in the usual order."""
    asked = set(raw.split(",")) if isinstance(raw, str) else set()
    return [lvl for lvl in LEVELS if lvl in asked]


def query_string(values: dict, keep: dict | None = None) -> str:
    """The address-bar query for filter values keyed by control id (empty ones left out), with
    ``keep`` (the movement period) after them."""
    params = {}
    for control, key in URL_KEYS.items():
        v = values.get(control)
        if control == "warn-f-levels":
            v = ",".join(lvl for lvl in LEVELS if lvl in (v or []))
        if v:
            params[key] = v
    params.update({k: v for k, v in (keep or {}).items() if v})
    return "?" + urlencode(params) if params else ""
