"""Server-side sign-in sessions and the per-(account, address) sign-in throttle (issue 15).

``user_session`` holds one row per signed-in browser (the cookie carries a random token, the row
its digest), so logout, the idle and absolute timeouts, a password change and a deactivation end a
session on the server. ``login_throttle`` replaces the hard account lock (``app_user.failed_logins``
and ``locked_until``, dropped here): failures slow down one (user name, client address) pair, so a
stranger cannot lock anyone out.

Revision ID: 0015
Revises: 0013
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: Union[str, Sequence[str], None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("agent_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username", "ip"),
    )
    op.create_index("ix_login_throttle_last_failure_at", "login_throttle", ["last_failure_at"], unique=False)
    # SQLite 3.35+ and PostgreSQL drop a plain column in place (no table copy, foreign keys untouched)
    op.drop_column("app_user", "failed_logins")
    op.drop_column("app_user", "locked_until")


def downgrade() -> None:
    op.add_column("app_user", sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.add_column("app_user", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.drop_index("ix_login_throttle_last_failure_at", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
