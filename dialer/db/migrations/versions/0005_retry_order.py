"""Where due retries stand among fresh leads: the campaign's retry order and its claim indexes.

Revision ID: 0005_retry_order
Revises: 0004_call_causes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_retry_order"
down_revision = "0004_call_causes"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column(
                "retry_order",
                sa.Enum(
                    "retries_first",
                    "fresh_first",
                    "due_order",
                    name="retry_order",
                    native_enum=False,
                    create_constraint=True,
                    length=24,
                ),
                server_default="retries_first",
                nullable=False,
            )
        )
    for name, retry_rank in (
        ("ix_leads_due_retries_first", "(attempts = 0)"),
        ("ix_leads_due_fresh_first", "(attempts > 0)"),
    ):
        op.create_index(
            name,
            "leads",
            ["campaign_id", sa.text("priority DESC"), sa.text(retry_rank), "next_attempt_at", "id"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    op.drop_index("ix_leads_due_fresh_first", table_name="leads")
    op.drop_index("ix_leads_due_retries_first", table_name="leads")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("retry_order")
