"""Exam: conclusion texts of chest imaging, fundus and hearing, and ``extra``: the items of a
hospital file outside the catalogue, kept raw with their unit instead of quarantined (issue 20).

Revision ID: 0016
Revises: 0015
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: Union[str, Sequence[str], None] = "0015"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("exam") as batch_op:
        batch_op.add_column(sa.Column("chest_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("fundus_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("hearing_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("extra", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exam") as batch_op:
        batch_op.drop_column("extra")
        batch_op.drop_column("hearing_text")
        batch_op.drop_column("fundus_text")
        batch_op.drop_column("chest_text")
