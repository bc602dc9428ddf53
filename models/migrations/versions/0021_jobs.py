"""Background jobs (issue 18): the job table; an admin's decision on a quarantined row

Revision ID: 0021
Revises: 0023
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: Union[str, Sequence[str], None] = "0023"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("label", sa.String(length=400), nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("username", sa.String(length=60), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=120), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_job_status_started", "job", ["status", "started_at"])
    op.create_index("ix_job_started", "job", ["started_at"])
    with op.batch_alter_table("quarantine_row") as batch:
        batch.add_column(sa.Column("decided_by", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("decision_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantine_row") as batch:
        batch.drop_column("decision_note")
        batch.drop_column("decided_by")
    op.drop_index("ix_job_started", table_name="job")
    op.drop_index("ix_job_status_started", table_name="job")
    op.drop_table("job")
