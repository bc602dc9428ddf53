"""device gateway: device status table, raw_frame status index

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 18:40:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "device",
        sa.Column("id", ID, nullable=False),
        sa.Column("gateway", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("driver", sa.String(length=20), nullable=False),
        sa.Column("station", sa.String(length=40), nullable=True),
        sa.Column("port", sa.String(length=300), nullable=True),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("port_error", sa.Text(), nullable=True),
        sa.Column("last_frame_at", sa.DateTime(), nullable=True),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("noise_bytes", sa.BigInteger(), nullable=False),
        sa.Column("reconnects", sa.Integer(), nullable=False),
        sa.Column("stale_minutes", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gateway", "name", name="uq_device_gateway_name"),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_name"), ["name"], unique=False)
    with op.batch_alter_table("raw_frame", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_raw_frame_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("raw_frame", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_frame_status"))
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_name"))
    op.drop_table("device")
