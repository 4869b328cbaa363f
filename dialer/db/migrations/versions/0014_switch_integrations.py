"""What each CDR cost: its campaign, trunk, start, billsec, billed seconds and cost from the
trunk's rate deck, the agent and the queue wait, for the cost report.

CDRs stored before this revision keep cost NULL (unknown) and start at their receipt.

Revision ID: 0014_switch_integrations
Revises: 0013_api_call_deliveries
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014_switch_integrations"
down_revision = "0013_api_call_deliveries"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("campaign_id", sa.BigInteger(), nullable=True),
    sa.Column("trunk", sa.String(length=100), nullable=False, server_default=""),
    sa.Column("started_at", UTC_TIME, nullable=True),
    sa.Column("answered", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("billsec", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("billed_s", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("cost", sa.Numeric(16, 6), nullable=True),
    sa.Column("agent", sa.String(length=130), nullable=False, server_default=""),
    sa.Column("queue_wait_s", sa.Integer(), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table("cdrs") as batch:
        for column in _COLUMNS:
            batch.add_column(column)
    op.execute("UPDATE cdrs SET started_at = received_at WHERE started_at IS NULL")
    op.create_index(op.f("ix_cdrs_started_at"), "cdrs", ["started_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cdrs_started_at"), table_name="cdrs")
    with op.batch_alter_table("cdrs") as batch:
        for column in reversed(_COLUMNS):
            batch.drop_column(column.name)
