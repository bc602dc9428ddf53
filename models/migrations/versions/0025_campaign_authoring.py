"""Campaign authoring and entry (issues 18, 19): close/archive, the quiz bank, daily quiz attempts

Revision ID: 0025
Revises: 0020
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: Union[str, Sequence[str], None] = "0020"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("campaign", sa.Column("closed_at", sa.DateTime(), nullable=True))
    op.add_column("campaign", sa.Column("archived_at", sa.DateTime(), nullable=True))
    op.create_table(
        "campaign_question",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("text_zh", sa.String(length=500), nullable=False),
        sa.Column("text_en", sa.String(length=500), nullable=False),
        sa.Column("options_zh", sa.JSON(), nullable=False),
        sa.Column("options_en", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("explanation_zh", sa.Text(), nullable=False),
        sa.Column("explanation_en", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaign_question_campaign_id", "campaign_question", ["campaign_id"])
    op.create_table(
        "campaign_quiz_attempt",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("officer_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("question_ids", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "officer_id", "day", name="uq_campaign_quiz_attempt"),
    )


def downgrade() -> None:
    op.drop_table("campaign_quiz_attempt")
    op.drop_index("ix_campaign_question_campaign_id", table_name="campaign_question")
    op.drop_table("campaign_question")
    # a plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of campaign would trip the
    # foreign keys of campaign_entry and points
    op.drop_column("campaign", "archived_at")
    op.drop_column("campaign", "closed_at")
