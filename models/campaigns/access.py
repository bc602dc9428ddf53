"""Who may see and edit which campaign, and the units in a campaign's scope.

Visibility: a campaign is visible to a caller when one of its scope units and
the caller's scope subtree overlap (officers: their own unit lies inside the
campaign's scope). The figures of a visible campaign are the campaign's own
(a team PK is public to everyone taking part); leaders get them with groups
under five suppressed and never see the individual leaderboard. Managers edit
campaigns wholly inside their scope, admins any, nobody else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.schema import Campaign, Officer, Unit

class Viewer(Protocol):
    role: str
    unit_path: str | None
    officer_id: int | None


class NotVisible(LookupError):
    """The campaign does not exist or lies outside the caller's scope (same answer for both)."""


class NotAllowed(PermissionError):
    """The caller's role or scope does not allow this change."""


class CampaignError(ValueError):
    """Validation failed; ``errors`` maps a form field ("_" for the whole form) to a (zh, en) message."""

    def __init__(self, errors: dict[str, tuple[str, str]]):
        super().__init__("; ".join(en for _, en in errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    name_en: str | None
    level: str
    path: str
    depth: int


def unit_rows(session: Session) -> dict[int, UnitRow]:
    """Every unit, without its boundary polygon (a few hundred rows at most); read once per session."""
    if "campaign_units" not in session.info:
        session.info["campaign_units"] = {r[0]: UnitRow(*r) for r in core_rows(session, select(
            Unit.id, Unit.code, Unit.name, Unit.name_en, Unit.level, Unit.path, Unit.depth))}
    return session.info["campaign_units"]


def core_rows(session: Session, stmt):
    """Rows through the Core connection: no ORM bookkeeping for the thousands of rows a campaign sums."""
    return session.connection().execute(stmt).all()


def subtree_ids(units: dict[int, UnitRow], paths: list[str]) -> list[int]:
    return [u.id for u in units.values() if any(u.path.startswith(p) for p in paths)]


def member_count(session: Session, units: dict[int, UnitRow], paths: list[str]) -> int:
    ids = subtree_ids(units, paths)
    if not ids:
        return 0
    return session.scalar(select(func.count()).select_from(Officer).where(Officer.active, Officer.unit_id.in_(ids))) or 0


def scope_paths(campaign: Campaign, units: dict[int, UnitRow]) -> list[str]:
    return [units[i].path for i in (campaign.scope_unit_ids or []) if i in units]


def _overlaps(paths: Iterable[str], scope_path: str | None) -> bool:
    if scope_path is None:
        return True
    return any(p.startswith(scope_path) or scope_path.startswith(p) for p in paths)


def officer_unit_path(session: Session, officer_id: int | None) -> str | None:
    if officer_id is None:
        return None
    return session.scalar(select(Unit.path).join(Officer, Officer.unit_id == Unit.id).where(Officer.id == officer_id))


def visible_to(viewer: Viewer, paths: list[str], officer_path: str | None) -> bool:
    if viewer.role == "officer":
        return officer_path is not None and any(officer_path.startswith(p) for p in paths)
    if viewer.role == "admin":
        return True
    return _overlaps(paths, viewer.unit_path)


def visible_campaign(session: Session, viewer: Viewer, campaign_id: Any) -> Campaign:
    """The campaign with this id if the caller may see it; NotVisible otherwise (forged ids included)."""
    try:
        cid = int(str(campaign_id))
    except (TypeError, ValueError):
        raise NotVisible("no access") from None
    campaign = session.get(Campaign, cid)
    if campaign is None:
        raise NotVisible("no access")
    units = unit_rows(session)
    if not visible_to(viewer, scope_paths(campaign, units), officer_unit_path(session, viewer.officer_id)):
        raise NotVisible("no access")
    return campaign


def may_edit(viewer: Viewer, campaign: Campaign, units: dict[int, UnitRow]) -> bool:
    if viewer.role == "admin":
        return True
    if viewer.role != "manager":
        return False
    paths = scope_paths(campaign, units)
    return bool(paths) and all(viewer.unit_path is None or p.startswith(viewer.unit_path) for p in paths)


def unit_label(unit: UnitRow) -> dict:
    return {"code": unit.code, "name": unit.name, "name_en": unit.name_en or unit.name}
