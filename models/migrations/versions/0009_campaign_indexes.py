"""campaigns: covering indexes on campaign_entry for the page queries (issue 9)

The campaign page sums a campaign's entries by day (progress) and by officer
(leaderboards, participation); with these two indexes both are answered from
the index alone, in order, without reading the table.

Revision ID: 0009
Revises: 0001
Create Date: 2026-11-22 19:10:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_campaign_entry_day", "campaign_entry", ["campaign_id", "day", "flagged", "value"])
    op.create_index("ix_campaign_entry_officer", "campaign_entry",
                    ["campaign_id", "officer_id", "day", "flagged", "value"])


def downgrade() -> None:
    op.drop_index("ix_campaign_entry_officer", table_name="campaign_entry")
    op.drop_index("ix_campaign_entry_day", table_name="campaign_entry")
