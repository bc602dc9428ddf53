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
MAX_UNITS = 200  # units chosen for one campaign (a whole force's stations fit)
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


# --- hand entry and the daily quiz (issues 18, 19) -------------------------------------------------
MAX_HAND_STEPS = 60_000   # a hand-entered day above this is refused (a device file's is stored flagged)
BACKFILL_DAYS = 7         # steps may be entered by hand for today and the 7 days before (inside the campaign)
QUIZ_SIZE = 5             # questions drawn for one officer's daily quiz (fewer when the bank is smaller)
MAX_QUESTIONS = 200       # questions in one campaign's bank
QUESTION_TEXT = 500       # characters of a question, per language
OPTION_TEXT = 200         # characters of an option
EXPLANATION_TEXT = 1000   # characters of an explanation


def lifecycle(campaign: Campaign, today: dt.date) -> str:
    """What the screens call the campaign's state: archived and closed (set by an editor) before the
    dates' upcoming / running / finished. The figures keep reading ``status_of``."""
    if getattr(campaign, "archived_at", None) is not None:
        return "archived"
    if getattr(campaign, "closed_at", None) is not None:
        return "closed"
    return status_of(campaign, today)


def takes_entries(campaign: Campaign, today: dt.date) -> bool:
    """Officers enter (check in, answer, type steps) only while the campaign runs and was not closed."""
    return lifecycle(campaign, today) == "running"
