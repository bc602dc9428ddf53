"""Who took part in a campaign each year, kept by the database; the last exam date in the snapshot's
covering index (issue 7: the leaders' overview at province scale)

``campaign_participant`` holds one row per officer and calendar year with any campaign_entry
row. Triggers on ``campaign_entry`` keep it exact whoever writes (ORM, Core, COPY): rows
added add their (officer, year); rows deleted, or moved to another officer or day, drop a
pair no entry is left for. The overview's participation count then joins ~60k pairs
instead of seeking the entry index once per officer (~0.25 s of a 2-core province's
time). Existing entries are copied in here. PostgreSQL's insert and delete triggers
run once per statement, over the statement's rows; SQLite's once per row. A bulk load
that skips triggers (``session_replication_role = replica``) must fill it itself, as
the demo does (``models.participation.rebuild_participants``).

Note for later migrations: a SQLite ``batch_alter_table`` of ``campaign_entry`` copies the
table and loses these triggers; create them again after it.

``ix_officer_status_cover`` gains ``last_exam_date``, so "examined this year" is read from
the snapshot in the same index scan as the levels.

Revision ID: 0013
Revises: 0012
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COVER = ["level", "officer_id", "measured", "hypertension", "diabetes", "dyslipidemia", "obesity",
         "central_obesity", "hyperuricemia", "china_par", "rule_ids"]

PG_FUNCTIONS = """
CREATE FUNCTION campaign_participant_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_participant (officer_id, year)
    SELECT DISTINCT officer_id, CAST(EXTRACT(YEAR FROM day) AS INTEGER) FROM added_rows
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION campaign_participant_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM campaign_participant p
    USING (SELECT DISTINCT officer_id, CAST(EXTRACT(YEAR FROM day) AS INTEGER) AS year FROM removed_rows) r
    WHERE p.officer_id = r.officer_id AND p.year = r.year
      AND NOT EXISTS (SELECT 1 FROM campaign_entry e WHERE e.officer_id = p.officer_id
                      AND e.day >= make_date(p.year, 1, 1) AND e.day < make_date(p.year + 1, 1, 1));
    RETURN NULL;
END $$;

CREATE FUNCTION campaign_participant_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_participant (officer_id, year)
    VALUES (NEW.officer_id, CAST(EXTRACT(YEAR FROM NEW.day) AS INTEGER)) ON CONFLICT DO NOTHING;
    DELETE FROM campaign_participant p
    WHERE p.officer_id = OLD.officer_id AND p.year = CAST(EXTRACT(YEAR FROM OLD.day) AS INTEGER)
      AND NOT EXISTS (SELECT 1 FROM campaign_entry e WHERE e.officer_id = p.officer_id
                      AND e.day >= make_date(p.year, 1, 1) AND e.day < make_date(p.year + 1, 1, 1));
    RETURN NULL;
END $$;
"""

PG_TRIGGERS = [
    "CREATE TRIGGER trg_campaign_participant_added AFTER INSERT ON campaign_entry "
    "REFERENCING NEW TABLE AS added_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_participant_added()",
    "CREATE TRIGGER trg_campaign_participant_removed AFTER DELETE ON campaign_entry "
    "REFERENCING OLD TABLE AS removed_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_participant_removed()",
    # a column list is not allowed with transition tables; updates never touch these two columns
    # in practice (values and flags change), so one row trigger that rarely fires
    "CREATE TRIGGER trg_campaign_participant_moved AFTER UPDATE OF officer_id, day ON campaign_entry "
    "FOR EACH ROW WHEN (OLD.officer_id IS DISTINCT FROM NEW.officer_id OR OLD.day IS DISTINCT FROM NEW.day) "
    "EXECUTE FUNCTION campaign_participant_moved()",
]

# SQLite keeps dates as 'YYYY-MM-DD' text: the year is its first four characters
SQLITE_ORPHAN = """DELETE FROM campaign_participant
        WHERE officer_id = OLD.officer_id AND year = CAST(substr(OLD.day, 1, 4) AS INTEGER)
          AND NOT EXISTS (SELECT 1 FROM campaign_entry e WHERE e.officer_id = OLD.officer_id
                          AND substr(e.day, 1, 4) = substr(OLD.day, 1, 4));"""
SQLITE_ADD = """INSERT OR IGNORE INTO campaign_participant (officer_id, year)
        VALUES (NEW.officer_id, CAST(substr(NEW.day, 1, 4) AS INTEGER));"""
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER trg_campaign_participant_added AFTER INSERT ON campaign_entry BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER trg_campaign_participant_removed AFTER DELETE ON campaign_entry BEGIN {SQLITE_ORPHAN} END",
    "CREATE TRIGGER trg_campaign_participant_moved AFTER UPDATE OF officer_id, day ON campaign_entry "
    f"BEGIN {SQLITE_ADD} {SQLITE_ORPHAN} END",
]

TRIGGER_NAMES = ["trg_campaign_participant_added", "trg_campaign_participant_removed",
                 "trg_campaign_participant_moved"]
PG_FUNCTION_NAMES = ["campaign_participant_added", "campaign_participant_removed", "campaign_participant_moved"]


def upgrade() -> None:
    op.create_table(
        "campaign_participant",
        sa.Column("officer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.ForeignKey("officer.id"),
                  primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
    )
    pg = op.get_bind().dialect.name == "postgresql"
    year = "CAST(EXTRACT(YEAR FROM day) AS INTEGER)" if pg else "CAST(substr(day, 1, 4) AS INTEGER)"
    op.execute(f"INSERT INTO campaign_participant (officer_id, year) SELECT DISTINCT officer_id, {year} "
               "FROM campaign_entry")
    if pg:
        op.execute(PG_FUNCTIONS)
    for ddl in PG_TRIGGERS if pg else SQLITE_TRIGGERS:
        op.execute(ddl)
    op.drop_index("ix_officer_status_cover", table_name="officer_status")
    op.create_index("ix_officer_status_cover", "officer_status", COVER + ["last_exam_date"])


def downgrade() -> None:
    op.drop_index("ix_officer_status_cover", table_name="officer_status")
    op.create_index("ix_officer_status_cover", "officer_status", COVER)
    pg = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER {name} ON campaign_entry" if pg else f"DROP TRIGGER {name}")
    if pg:
        for name in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("campaign_participant")
