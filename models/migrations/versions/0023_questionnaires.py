"""Officers answer PHQ-9 and GAD-7 in the portal, screening rounds (issue 19)

``questionnaire_response``: each answered questionnaire with its item answers.
``screening_round``: an instrument for a unit subtree within a window.
``observation.source_kind`` widens to 16 characters for the source "self-report".

Revision ID: 0023
Revises: 0024
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: Union[str, Sequence[str], None] = "0024"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.alter_column("source_kind", existing_type=sa.String(length=10), type_=sa.String(length=16),
                           existing_nullable=False)
    op.create_table(
        "screening_round",
        sa.Column("id", ID, nullable=False),
        sa.Column("instrument", sa.String(length=8), nullable=False),
        sa.Column("unit_id", ID, nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("reminder_date", sa.Date(), nullable=False),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_screening_round_unit_id", "screening_round", ["unit_id"])
    op.create_table(
        "questionnaire_response",
        sa.Column("id", ID, nullable=False),
        sa.Column("officer_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("instrument", sa.String(length=8), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("round_id", ID, nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["screening_round.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_questionnaire_response_officer", "questionnaire_response",
                    ["officer_id", "instrument", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_questionnaire_response_officer", table_name="questionnaire_response")
    op.drop_table("questionnaire_response")
    op.drop_index("ix_screening_round_unit_id", table_name="screening_round")
    op.drop_table("screening_round")
    with op.batch_alter_table("observation") as batch:
        batch.alter_column("source_kind", existing_type=sa.String(length=16), type_=sa.String(length=10),
                           existing_nullable=False)
