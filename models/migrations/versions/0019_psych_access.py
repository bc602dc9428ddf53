"""Mental health is its own permission (issue 16): the ``psych`` grant of a health manager and
the snapshot's open view (the level and reasons without psychological readings).

``app_user.psych_access``: an admin grants a manager psychological detail.
``officer_status.open_level`` / ``open_reasons``: what viewers without psychological access
see of an officer (``models.psych``). Rows already in the snapshot are filled here from
their stored reasons (a psychological reason and a "several yellow factors" reason that
may have counted one are left out); the next snapshot run re-evaluates them exactly.

Revision ID: 0019
Revises: 0018
"""
import json
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: Union[str, Sequence[str], None] = "0018"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# the warning rules of warning_v1 and warning_v2 that read PHQ-9, its item 9 or GAD-7 (frozen for this backfill)
PSYCH_RULES = ("phq9_severe", "phq9_item9", "phq9_moderately_severe", "gad7_severe", "phq9_moderate", "gad7_moderate")
LEVELS = ("red", "orange", "yellow", "green")
COVER = ["level", "officer_id", "measured", "hypertension", "diabetes", "dyslipidemia", "obesity",
         "central_obesity", "hyperuricemia", "china_par", "rule_ids", "last_exam_date"]


def _open_view(level, reasons):
    if not any(r.get("rule") in PSYCH_RULES for r in reasons):
        return level, None
    kept = [r for r in reasons if r.get("rule") not in PSYCH_RULES and r.get("rule") != "multiple_yellow"]
    worst = min((r.get("level") for r in kept if r.get("level") in LEVELS), key=LEVELS.index, default="green")
    return worst, kept


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("psych_access", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("officer_status") as batch:
        batch.add_column(sa.Column("open_level", sa.String(8), nullable=True))
        batch.add_column(sa.Column("open_reasons", sa.JSON(), nullable=True))
    op.create_index("ix_officer_status_path_open_level", "officer_status", ["unit_path", "open_level"])
    # the overview's covering index holds the open level too (leaders count it)
    op.drop_index("ix_officer_status_cover", table_name="officer_status")
    op.create_index("ix_officer_status_cover", "officer_status", COVER + ["open_level"])
    bind = op.get_bind()
    status = sa.table("officer_status", sa.column("officer_id", sa.Integer), sa.column("level", sa.String),
                      sa.column("reasons", sa.JSON), sa.column("open_level", sa.String),
                      sa.column("open_reasons", sa.JSON), sa.column("rule_ids", sa.String))
    bind.execute(status.update().values(open_level=status.c.level))
    psych = sa.or_(*[status.c.rule_ids.like(f"%,{rule},%") for rule in PSYCH_RULES])
    rows = bind.execute(sa.select(status.c.officer_id, status.c.level, status.c.reasons).where(psych)).all()
    for officer_id, level, reasons in rows:
        reasons = json.loads(reasons) if isinstance(reasons, str) else (reasons or [])
        open_level, open_reasons = _open_view(level, reasons)
        bind.execute(status.update().where(status.c.officer_id == officer_id)
                     .values(open_level=open_level, open_reasons=open_reasons))


def downgrade() -> None:
    op.drop_index("ix_officer_status_path_open_level", table_name="officer_status")
    op.drop_index("ix_officer_status_cover", table_name="officer_status")
    op.create_index("ix_officer_status_cover", "officer_status", COVER)
    with op.batch_alter_table("officer_status") as batch:
        batch.drop_column("open_reasons")
        batch.drop_column("open_level")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("psych_access")
