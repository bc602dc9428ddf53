"""Campaign words and numbers as the campaign list and a campaign's own page both write them."""
from __future__ import annotations

import dash_bootstrap_components as dbc

from models.vocab import CAMPAIGN_KIND_UNITS, CAMPAIGN_KINDS, CAMPAIGN_STATUSES
from web.i18n import label, tr
from web.inputs import int_id

STATUS_COLOURS = {"upcoming": "secondary", "running": "success", "finished": "dark", "closed": "warning",
                  "archived": "light"}


def kind_name(kind: str) -> str:
    return label(CAMPAIGN_KINDS, kind)


def status_badge(status: str, id=None):
    colour = STATUS_COLOURS.get(status, "secondary")
    return dbc.Badge(label(CAMPAIGN_STATUSES, status), color=colour, className="me-1", **({"id": id} if id else {}))


def amount(x: float | None, kind: str) -> str:
    """A total in words a reader takes in at once: 1.18 亿步 / 1.18 billion steps."""
    if x is None:
        return "–"
    unit = tr(*CAMPAIGN_KIND_UNITS.get(kind, ("", "")))
    if tr("zh", "en") == "zh":
        if abs(x) >= 1e8:
            return f"{x / 1e8:.2f} 亿{unit}"
        if abs(x) >= 1e4:
            return f"{x / 1e4:.1f} 万{unit}"
        return f"{x:,.0f} {unit}"
    for size, word in ((1e9, " billion"), (1e6, " million")):
        if abs(x) >= size:
            return f"{x / size:.2f}{word}{unit}"
    return f"{x:,.0f}{unit}"


def units_text(units: list[dict]) -> str:
    return "、".join(tr(u["name"], u["name_en"]) for u in units) if units else "–"


def campaign_id_in(path: str | None) -> int | None:
    """The campaign id in /campaigns/<id>; None for any other or malformed path (refused as not visible)."""
    parts = [p for p in (path or "").split("/") if p]
    return int_id(parts[1]) if len(parts) == 2 and parts[0] == "campaigns" else None


def daily_average_label() -> str:
    """The label of ``models.campaigns.members.daily_average``, the same on every page that shows it."""
    return tr("活动日均（按已进行天数）", "Daily average (over the campaign days so far)")
