"""What a campaign is: kinds, team levels, plausible values, the points rule and its
defaults, its status on a day and its overall target."""
from __future__ import annotations

import datetime as dt

from models.items import ITEMS
from models.schema import Campaign
from models.vocab import CAMPAIGN_KINDS, TEAM_SCORING

KINDS = tuple(CAMPAIGN_KINDS)
SCORING = tuple(TEAM_SCORING)
TEAM_LEVELS = ("district", "station")
IMPLAUSIBLE_STEPS = ITEMS["steps"].high   # a day above is flagged, never counted (models.items)
MAX_DAYS = 366
# points rule: per day with activity, per day meeting the daily target, bonus per full week on target
POINT_KEYS = ("per_active_day", "per_day_target", "full_week_bonus")
POINT_REASONS = {"per_active_day": "active_day", "per_day_target": "daily_target",
                 "full_week_bonus": "full_week_bonus"}
DEFAULT_POINTS = {"per_active_day": 0, "per_day_target": 1, "full_week_bonus": 10}
VALUE_LIMITS = {"steps": (1, IMPLAUSIBLE_STEPS), "quiz": (1, 100), "checkin": (1, 1)}


def status_of(campaign: Campaign, today: dt.date) -> str:
    if today < campaign.start_date:
        return "upcoming"
    if today > campaign.end_date:
        return "finished"
    return "running"


def overall_target(campaign: Campaign, members: int) -> float | None:
    """The overall target: as set, or the daily target for every member on every day."""
    if campaign.target_total:
        return float(campaign.target_total)
    if campaign.target_per_day and members:
        return float(campaign.target_per_day) * members * ((campaign.end_date - campaign.start_date).days + 1)
    return None
