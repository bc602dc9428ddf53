"""Mental health is its own permission (issue 16): the one place that says what of a
psychological screening a viewer may see.

PHQ-9, GAD-7, the PHQ-9 self-harm item, the warning reasons that rest on them and
counselling notes are seen by the officer, by counsellors in their scope and by health
managers an admin granted ``psych`` access (``web.access.Scope.sees_psych`` decides who).
Everyone else (leaders, other managers) gets the *open* view of an officer, computed
once by the snapshot:

* ``officer_status.open_level``: the level the officer would have without any
  psychological reading. Named lists filter, sort and show this level, so an officer
  whose colour comes only from a psychological reason is not in a red/orange/yellow list.
* ``officer_status.open_reasons``: the reasons of that evaluation (NULL when the officer
  has no psychological reason: then they are the reasons), so neither a PHQ-9 reason nor
  the "several yellow factors (… moderate depressive symptoms …)" text reaches them.

Every named query applies :func:`named_level` / :func:`rule_filter_allowed`, and every
screen that shows reasons or scores goes through :func:`visible_reasons` /
:func:`visible_codes`. Aggregates (counts and rates per unit) still count the real level,
under the suppression rule (``models.suppression``).
"""
from __future__ import annotations

import functools
from typing import Any, Iterable, Mapping

from models.vocab import LEVELS

PSYCH_CODES = frozenset({"phq9", "phq9_item9", "gad7"})
# the one line a manager without ``psych`` reads where a psychological reason stands
PSYCH_FOLLOWUP = ("需要心理随访——已交由心理咨询师处理", "Needs a psychological follow-up — assigned to the counsellor")
PSYCH_FOLLOWUP_KINDS = ("counselling",)


def psych_rule_ids(rules) -> frozenset[str]:
    """Ids of the warning rules that read a psychological screening (``rules``: a ``Rules``
    or the raw rule list)."""
    items = getattr(rules, "rules", rules)
    return frozenset(r["id"] for r in items if any(c.get("code") in PSYCH_CODES for c in r.get("checks", [])))


def _rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def has_psych(reasons: Iterable[Mapping[str, Any]] | None, psych_ids: Iterable[str]) -> bool:
    ids = set(psych_ids)
    return any(r.get("rule") in ids for r in reasons or [])


def open_view(level: str, reasons: list[dict] | None, psych_ids: Iterable[str]) -> tuple[str, list[dict] | None]:
    """(open level, open reasons or None) from stored reasons alone: the fallback when the
    snapshot did not re-evaluate without the psychological readings (the column default and
    the migration's backfill). A count rule that counted a psychological reason is dropped."""
    ids = set(psych_ids)
    if not has_psych(reasons, ids):
        return level, None
    kept = [r for r in reasons or [] if r.get("rule") not in ids and not _counts_psych(r)]
    worst = min((r.get("level") for r in kept), key=_rank, default="green")
    return (worst if worst in LEVELS else "green"), kept


def _counts_psych(reason: Mapping[str, Any]) -> bool:
    """A count rule ("several yellow factors") may have counted a psychological reason."""
    return reason.get("rule") == "multiple_yellow"


# the psychological rules of the version in force, as ``models.rule_versions.in_force`` last read it
# (the readers below have no session); the rules file only until then
_in_force: dict[str, Any] = {}


def remember(rules) -> None:
    """Called by ``models.rule_versions`` with each rules version it puts to use."""
    ids = psych_rule_ids(rules)
    _in_force["ids"] = ids
    _in_force["names"] = tuple(n for r in rules.rules if r["id"] in ids for n in (r.get("name_zh"), r.get("name_en")) if n)


@functools.lru_cache(maxsize=1)
def _file_rules():
    from models.warning import load_rules

    return load_rules()


def _default_ids() -> frozenset[str]:
    return _in_force.get("ids") or psych_rule_ids(_file_rules())


def open_level_default(context) -> str | None:
    """Column default of ``officer_status.open_level`` (see ``open_view``)."""
    params = context.get_current_parameters()
    return open_view(params.get("level"), params.get("reasons"), _default_ids())[0]


def open_reasons_default(context) -> list[dict] | None:
    params = context.get_current_parameters()
    return open_view(params.get("level"), params.get("reasons"), _default_ids())[1]


# --- what a viewer gets -----------------------------------------------------------------------
def named_level(status_table, sees_psych: bool):
    """The level column a named list filters, sorts and shows for this viewer."""
    return status_table.level if sees_psych else status_table.open_level


def rule_filter_allowed(rule_id: str | None, psych_ids: Iterable[str], sees_psych: bool) -> bool:
    """A filter by a psychological rule is only for viewers who see psychological data."""
    return sees_psych or rule_id is None or rule_id not in set(psych_ids)


def visible_reasons(reasons: list[dict] | None, open_reasons: list[dict] | None, psych_ids: Iterable[str],
                    sees_psych: bool) -> list[dict]:
    """The reasons a viewer reads: all of them, or the open ones."""
    if sees_psych:
        return list(reasons or [])
    if open_reasons is not None:
        return list(open_reasons)
    ids = set(psych_ids)
    return [r for r in reasons or [] if r.get("rule") not in ids]


def needs_psych_followup(reasons: list[dict] | None, psych_ids: Iterable[str]) -> bool:
    """True when a psychological reason stands (the neutral line a manager without ``psych`` reads)."""
    return has_psych(reasons, psych_ids)


def visible_codes(codes: Iterable[str], sees_psych: bool) -> list[str]:
    """Measured codes a viewer may read (scores of the questionnaires only with psychological access)."""
    return [c for c in codes if sees_psych or c not in PSYCH_CODES]


def is_psych_followup(kind: str | None, reason: str | None) -> bool:
    """A follow-up about mental health: counselling, or opened for a psychological reason (whose
    text, written by the rules file, names PHQ-9 or GAD-7, or a psychological rule by name, as
    "several yellow factors (…)" does)."""
    if kind in PSYCH_FOLLOWUP_KINDS:
        return True
    text = reason or ""
    return "PHQ-9" in text or "GAD-7" in text or any(name in text for name in _psych_names())


def _psych_names() -> tuple[str, ...]:
    if "names" in _in_force:
        return _in_force["names"]
    ids = _default_ids()
    return tuple(n for r in _file_rules().rules if r["id"] in ids for n in (r.get("name_zh"), r.get("name_en")) if n)
