"""Post-call work: campaign webhooks and their deliveries, call dispositions.

Revision ID: 0003_post_call
Revises: 0002_trunks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_post_call"
down_revision = "0002_trunks"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(length=2048), nullable=True))
    with op.batch_alter_table("call_attempts") as batch:
        batch.add_column(sa.Column("disposition", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("disposition_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("disposition_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("callback_at", UTC_TIME, nullable=True))
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("attempt_id", BIG_ID, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("last_try_at", UTC_TIME, nullable=False),
        sa.Column("next_try_at", UTC_TIME, nullable=True),
        sa.Column("delivered_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["call_attempts.id"],
            name=op.f("fk_webhook_deliveries_attempt_id_call_attempts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("attempt_id", name=op.f("uq_webhook_deliveries_attempt_id")),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("call_attempts") as batch:
        batch.drop_column("callback_at")
        batch.drop_column("disposition_at")
        batch.drop_column("disposition_note")
        batch.drop_column("disposition")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("webhook_url")
