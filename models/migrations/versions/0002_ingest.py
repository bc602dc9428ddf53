"""ingest: the reprocess batch that resolved a quarantine row; index on observation.exam_id

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:45:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine_row") as batch:
        batch.add_column(sa.Column("resolved_batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                                   nullable=True))
        batch.create_foreign_key("fk_quarantine_row_resolved_batch", "import_batch", ["resolved_batch_id"], ["id"])
    # without it every deleted or re-keyed exam scans the whole observation table for the foreign key
    op.create_index("ix_observation_exam_id", "observation", ["exam_id"])


def downgrade() -> None:
    op.drop_index("ix_observation_exam_id", table_name="observation")
    with op.batch_alter_table("quarantine_row") as batch:
        batch.drop_constraint("fk_quarantine_row_resolved_batch", type_="foreignkey")
        batch.drop_column("resolved_batch_id")
