"""Accounts for the whole roster (issue 17): a one-time activation code per account that waits
for its first password (``app_user.activation_hash``, a keyed HMAC of the code, and its expiry),
and one account per officer (a unique index on ``app_user.officer_id``; NULLs do not collide).

Revision ID: 0018
Revises: 0017
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: Union[str, Sequence[str], None] = "0017"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # plain ADD COLUMN and CREATE INDEX: no table copy on SQLite, foreign keys untouched
    op.add_column("app_user", sa.Column("activation_hash", sa.String(length=64), nullable=True))
    op.add_column("app_user", sa.Column("activation_expires_at", sa.DateTime(), nullable=True))
    op.create_index("ux_app_user_officer_id", "app_user", ["officer_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_app_user_officer_id", table_name="app_user")
    op.drop_column("app_user", "activation_expires_at")
    op.drop_column("app_user", "activation_hash")
