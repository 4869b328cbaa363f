"""Signed webhooks retried over hours: a signing secret beside each webhook URL (campaigns,
system API keys), the API key that placed a call, the body a delivery resends, one row per
try, and an index for the sweep of due retries.

A campaign that already has a webhook URL gets a fresh secret here (every delivery is
signed); its operator sets a known one with ``dialer campaigns update NAME
--webhook-secret ...`` or prints a new one with ``--new-webhook-secret``.

Revision ID: 0011_webhooks
Revises: 0010_api_keys
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011_webhooks"
down_revision = "0010_api_keys"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def _secret_existing_webhooks() -> None:
    campaigns = sa.table(
        "campaigns",
        sa.column("id", BIG_ID),
        sa.column("webhook_url", sa.String()),
        sa.column("webhook_secret", sa.String()),
    )
    bind = op.get_bind()
    ids = bind.execute(
        sa.select(campaigns.c.id).where(campaigns.c.webhook_url.is_not(None))
    ).scalars()
    for campaign_id in list(ids):
        bind.execute(
            campaigns.update()
            .where(campaigns.c.id == campaign_id)
            .values(webhook_secret="whsec_" + secrets.token_urlsafe(32))
        )


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("webhook_secret", sa.String(length=200), nullable=True))
    _secret_existing_webhooks()
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(length=200), nullable=True))
    with op.batch_alter_table("call_attempts") as batch:
        batch.add_column(sa.Column("api_key_id", sa.String(length=32), nullable=True))
        batch.create_index(op.f("ix_call_attempts_api_key_id"), ["api_key_id"])
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.create_index(
            op.f("ix_webhook_deliveries_state_next_try_at"), ["state", "next_try_at"]
        )
    op.create_table(
        "webhook_tries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("delivery_id", BIG_ID, nullable=False),
        sa.Column("tried_at", UTC_TIME, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("next_try_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_tries_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_tries")),
    )
    op.create_index(op.f("ix_webhook_tries_delivery_id"), "webhook_tries", ["delivery_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_tries_delivery_id"), table_name="webhook_tries")
    op.drop_table("webhook_tries")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index(op.f("ix_webhook_deliveries_state_next_try_at"))
        batch.drop_column("body")
    with op.batch_alter_table("call_attempts") as batch:
        batch.drop_index(op.f("ix_call_attempts_api_key_id"))
        batch.drop_column("api_key_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("webhook_secret")
