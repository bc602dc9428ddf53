"""Drop ix_observation_officer_code_time: uq_observation (officer_id, code, observed_at, source_kind,
source_id) starts with the same three columns and answers the same lookups and ordered scans, so the
second index only cost every inserted value one more b-tree insert (issue 4, ingest speed).

Revision ID: 0012
Revises: 0011
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("observation") as batch_op:
        batch_op.drop_index("ix_observation_officer_code_time")


def downgrade() -> None:
    with op.batch_alter_table("observation") as batch_op:
        batch_op.create_index("ix_observation_officer_code_time", ["officer_id", "code", "observed_at"], unique=False)
