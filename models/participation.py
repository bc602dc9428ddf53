"""Who took part in a campaign in a year: ``campaign_participant``, one row per officer and
calendar year with any campaign activity. Triggers on ``campaign_entry`` (migration 0013)
keep it; a bulk load that bypasses triggers rebuilds it here."""
from __future__ import annotations

from sqlalchemy import Integer, and_, cast, delete, extract, insert, select

from models.schema import CampaignEntry, CampaignParticipant, Officer


def took_part(year: int):
    """Join condition: the officer (``Officer``) took part in a campaign in ``year``."""
    return and_(CampaignParticipant.officer_id == Officer.id, CampaignParticipant.year == year)


def rebuild_participants(conn) -> None:
    """Recompute every (officer, year) pair from campaign_entry, for a load that skipped
    the triggers (the demo's COPY runs with ``session_replication_role = replica``)."""
    pairs = select(CampaignEntry.officer_id, cast(extract("year", CampaignEntry.day), Integer)).distinct()
    conn.execute(delete(CampaignParticipant))
    conn.execute(insert(CampaignParticipant).from_select(["officer_id", "year"], pairs))
