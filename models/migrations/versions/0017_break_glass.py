"""Break the glass, and what the audit viewer and "who looked at my record" read (issue 16)

``break_glass``: a manager's reasoned access to one officer outside their scope, valid for a
day. ``audit_subject``: the officers a list-like audited action showed (exports), one row
each. ``ix_audit_log_target``: an officer's named accesses (target ``officer:<badge>``) by
time.

Revision ID: 0017
Revises: 0016
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: Union[str, Sequence[str], None] = "0016"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("ix_audit_log_target", "audit_log", ["target", "at"])
    op.create_table(
        "audit_subject",
        sa.Column("audit_id", ID, sa.ForeignKey("audit_log.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("officer_id", ID, sa.ForeignKey("officer.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_audit_subject_officer_id", "audit_subject", ["officer_id"])
    op.create_table(
        "break_glass",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("officer_id", ID, sa.ForeignKey("officer.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("audit_id", ID, sa.ForeignKey("audit_log.id"), nullable=True),
    )
    op.create_index("ix_break_glass_user_officer", "break_glass", ["user_id", "officer_id", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_break_glass_user_officer", table_name="break_glass")
    op.drop_table("break_glass")
    op.drop_index("ix_audit_subject_officer_id", table_name="audit_subject")
    op.drop_table("audit_subject")
    op.drop_index("ix_audit_log_target", table_name="audit_log")
