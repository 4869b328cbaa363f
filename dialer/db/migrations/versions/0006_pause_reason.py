"""The abandon safety stop: a campaign's run limit, why and when the dialer paused it, and
webhook deliveries per attempt and event (``call.ended``, ``campaign.paused``).

Revision ID: 0006_pause_reason
Revises: 0005_retry_order
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_pause_reason"
down_revision = "0005_retry_order"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("abandon_run_limit", sa.Integer(), server_default="5", nullable=False)
        )
        batch.add_column(sa.Column("pause_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("paused_at", UTC_TIME, nullable=True))
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(
            sa.Column("event", sa.String(length=32), server_default="call.ended", nullable=False)
        )
        batch.drop_constraint("uq_webhook_deliveries_attempt_id", type_="unique")
        batch.create_unique_constraint(
            "uq_webhook_deliveries_attempt_id_event", ["attempt_id", "event"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM webhook_deliveries WHERE event != 'call.ended'")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_constraint("uq_webhook_deliveries_attempt_id_event", type_="unique")
        batch.create_unique_constraint("uq_webhook_deliveries_attempt_id", ["attempt_id"])
        batch.drop_column("event")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("paused_at")
        batch.drop_column("pause_reason")
        batch.drop_column("abandon_run_limit")
