"""An officer's rank in a campaign from the cached sorted totals equals the rank counted in the
database (issue 22: the portrait, /me and /campaigns keep the totals per data version)."""
from __future__ import annotations

from models.campaigns.reads import campaign_totals, officer_campaigns
from models.db import session_scope
from tests.unit.test_campaigns import TODAY, world  # noqa: F401 - the module's hand-built force


def test_cap101_rank_from_cached_totals_matches_the_database(world):  # noqa: F811
    with session_scope(world["url"]) as s:
        calls = []

        def totals(cid):
            calls.append(cid)
            return campaign_totals(s, cid)

        everyone = [oid for ids in world["officers"].values() for oid in ids]
        for oid in everyone:
            assert officer_campaigns(s, oid, TODAY, totals=totals) == officer_campaigns(s, oid, TODAY)
        idle = officer_campaigns(s, world["officers"]["T-D1-S1"][19], TODAY, totals=totals)
        pk = campaign_totals(s, world["ids"]["pk"])
    assert calls  # the cached path was taken
    assert idle[0]["rank"] == 32 and idle[0]["total"] == 0  # tied at nothing: behind the 31 with steps
    assert pk == sorted(pk) and len(pk) == 31 and pk[0] == 7 * 5000.0  # flagged values not counted
