"""Join the ingest, gateway and campaign branches; index officer_status (unit_path, level).

Revision ID: 0010
Revises: 0002, 0003, 0009
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = ("0002", "0003", "0009")
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_officer_status_path_level", "officer_status", ["unit_path", "level"])


def downgrade() -> None:
    op.drop_index("ix_officer_status_path_level", table_name="officer_status")
