"""An officer's campaign standings as the pages show them (the campaigns page and the portrait):
``models.campaigns.reads.officer_campaigns`` with each campaign's totals, kept per officer and day
under the campaign version, since a rank reads every member's entries."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models.campaigns.reads import campaign_totals, officer_campaigns
from web.access import Scope
from web.cache import CAMPAIGN, cached


def officer_standings(session: Session, scope: Scope, officer_id: int, day: dt.date) -> list[dict]:
    def totals(campaign_id: int) -> list[float]:
        return cached("campaign_totals", scope, {"campaign": campaign_id},
                      lambda: campaign_totals(session, campaign_id), CAMPAIGN)

    return cached("officer_campaigns", scope, {"officer": officer_id, "as_of": day.isoformat()},
                  lambda: officer_campaigns(session, officer_id, day, totals=totals), CAMPAIGN)
