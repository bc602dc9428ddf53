"""officer_status.measured bits and covering indexes for the unit comparison and the leaders' overview (issue 7)

``measured`` holds which guideline classes each snapshot row has (models.status_bits),
so the comparison no longer parses the ``classes`` JSON of every officer per page view;
existing rows are filled from their ``classes``. ``ix_officer_status_cover`` holds the
narrow columns those pages aggregate, so no scan reads the wide rows, and
``ix_warning_history_officer_time`` answers the level-at-a-date and by-month queries
from the index alone, and ``ix_campaign_entry_officer_day`` makes "took part in a
campaign this year" one seek per officer; each replaces its table's plain officer_id
index, which it extends.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 21:45:00

"""
import json
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from models.status_bits import measured_mask

revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 5000


def _backfill() -> None:
    """Set ``measured`` of the rows already in the snapshot from their ``classes``."""
    conn = op.get_bind()
    status = sa.table("officer_status", sa.column("officer_id"), sa.column("classes"), sa.column("measured"))
    update = (sa.update(status).where(status.c.officer_id == sa.bindparam("oid"))
              .values(measured=sa.bindparam("bits")))
    rows = conn.execute(sa.select(status.c.officer_id, status.c.classes)).all()
    params = []
    for oid, classes in rows:
        bits = measured_mask(json.loads(classes) if isinstance(classes, str) else classes)
        if bits:
            params.append({"oid": oid, "bits": bits})
    for start in range(0, len(params), BATCH):
        conn.execute(update, params[start:start + BATCH])


def upgrade() -> None:
    op.add_column("officer_status", sa.Column("measured", sa.Integer(), server_default="0", nullable=False))
    _backfill()
    op.create_index("ix_officer_status_cover", "officer_status",
                    ["level", "officer_id", "measured", "hypertension", "diabetes", "dyslipidemia", "obesity",
                     "central_obesity", "hyperuricemia", "china_par", "rule_ids"])
    op.create_index("ix_warning_history_officer_time", "warning_history",
                    ["officer_id", "changed_at", "level", "previous_level"])
    op.drop_index("ix_warning_history_officer_id", table_name="warning_history")
    op.create_index("ix_campaign_entry_officer_day", "campaign_entry", ["officer_id", "day"])
    op.drop_index("ix_campaign_entry_officer_id", table_name="campaign_entry")


def downgrade() -> None:
    op.create_index("ix_campaign_entry_officer_id", "campaign_entry", ["officer_id"])
    op.drop_index("ix_campaign_entry_officer_day", table_name="campaign_entry")
    op.create_index("ix_warning_history_officer_id", "warning_history", ["officer_id"])
    op.drop_index("ix_warning_history_officer_time", table_name="warning_history")
    op.drop_index("ix_officer_status_cover", table_name="officer_status")
    with op.batch_alter_table("officer_status") as batch:
        batch.drop_column("measured")
