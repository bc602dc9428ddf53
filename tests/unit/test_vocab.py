"""Every code a user can meet has both its words in models.vocab (issue 14: one vocabulary)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import vocab
from models.db import session_scope
from models.schema import (
    Campaign, FollowUp, ImportBatch, Observation, Officer, OfficerStatus, Points, QuarantineRow, RuleVersion, Unit, User,
    WarningHistory,
)
from models.warning import load_rules

# column -> the vocabulary table its codes are shown with
COLUMNS = [
    (Officer.post_type, vocab.POST_TYPES), (Officer.sex, vocab.SEX_WORDS), (Unit.level, vocab.UNIT_LEVELS),
    (Unit.level, vocab.UNIT_LEVEL_GROUPS), (User.role, vocab.ROLE_WORDS), (OfficerStatus.level, vocab.LEVEL_WORDS),
    (Observation.source_kind, vocab.SOURCES), (FollowUp.kind, vocab.FOLLOWUP_KINDS),
    (FollowUp.status, vocab.FOLLOWUP_STATUSES), (FollowUp.outcome, vocab.FOLLOWUP_OUTCOMES),
    (Campaign.kind, vocab.CAMPAIGN_KINDS), (Campaign.kind, vocab.CAMPAIGN_KIND_UNITS),
    (Campaign.kind, vocab.CAMPAIGN_KIND_DAILY), (Campaign.team_scoring, vocab.TEAM_SCORING),
    (Campaign.team_level, vocab.UNIT_LEVELS), (ImportBatch.kind, vocab.IMPORT_KINDS),
    (ImportBatch.status, vocab.IMPORT_STATUSES), (Points.reason, vocab.POINT_REASON_WORDS),
    (RuleVersion.status, vocab.RULE_VERSION_STATUSES), (WarningHistory.cause, vocab.HISTORY_CAUSES),
]
# the tiny demo loads cleanly, so it has no quarantine: these may be empty there
MAY_BE_EMPTY = [(QuarantineRow.status, vocab.QUARANTINE_STATUSES)]


def _both_words(table: dict, code: str) -> bool:
    zh, en = table.get(code, ("", ""))
    return bool(zh.strip()) and bool(en.strip()) and zh != code


@pytest.mark.parametrize("column,table", COLUMNS + MAY_BE_EMPTY, ids=lambda x: getattr(x, "key", None) or "")
def test_voc001_every_code_in_the_demo_has_both_words(demo_url, column, table):
    with session_scope(demo_url) as s:
        codes = {c for c in s.scalars(select(column).distinct()) if c is not None}
    if not any(column is c and table is t for c, t in MAY_BE_EMPTY):
        assert codes, f"the demo has no {column} at all: the walk would prove nothing"
    missing = sorted(c for c in codes if not _both_words(table, c))
    assert not missing, f"{column}: codes without 中文/English words: {missing}"


def test_voc002_every_code_in_the_rules_file_has_both_words():
    rules = load_rules()
    levels = {r["level"] for r in rules.rules} | {level for level, _ in rules.legend}
    assert levels == set(vocab.LEVELS)
    assert all(_both_words(vocab.LEVEL_WORDS, lvl) for lvl in levels)
    assert rules.needs_confirmation_kinds and all(_both_words(vocab.SOURCES, k) for k in rules.needs_confirmation_kinds)
    assert all(r["name_zh"].strip() and r["name_en"].strip() for r in rules.rules)


def test_voc003_code_tables_agree_with_the_models_lists():
    from models import followups
    from models.campaigns import rules as campaigns

    assert set(followups.KINDS) == set(vocab.FOLLOWUP_KINDS)
    assert set(followups.OUTCOMES) == set(vocab.FOLLOWUP_OUTCOMES)
    assert set(followups.STATUSES) <= set(vocab.FOLLOWUP_STATUSES)
    assert set(campaigns.KINDS) == set(vocab.CAMPAIGN_KINDS) == set(vocab.CAMPAIGN_KIND_UNITS)
    assert set(campaigns.TEAM_LEVELS) <= set(vocab.UNIT_LEVELS)


def test_voc004_unknown_code_reads_as_itself():
    assert vocab.words(vocab.POST_TYPES, "zzz") == ("zzz", "zzz")
    assert vocab.pair(vocab.POST_TYPES, "command") == {"code": "command", "zh": "指挥调度", "en": "Command centre"}
