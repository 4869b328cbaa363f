"""An API call's webhook deliveries are ``webhook_deliveries`` rows, as a campaign call's:
each row belongs to an attempt or to an API call (exactly one). The tries counted on the
``api_calls`` row go; a delivery already delivered or given up is carried over (without its
body or tries, which were not kept), so it is listed and never sent again. One still being
retried is not: its queued ``dialer.api_call_ended`` message makes its try in the new store.

Revision ID: 0013_api_call_deliveries
Revises: 0012_api_calls
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_api_call_deliveries"
down_revision = "0012_api_calls"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_TRIED = """
SELECT c.id, COALESCE(k.webhook_url, ''), c.webhook_state, c.webhook_tries,
       COALESCE(c.ended_at, c.created_at)
FROM api_calls c LEFT JOIN api_keys k ON k.key_id = c.key_id
WHERE c.webhook_state IN ('delivered', 'failed')
"""
_CARRY_OVER = """
INSERT INTO webhook_deliveries
    (api_call_id, event, url, state, tries, error, last_try_at, delivered_at)
VALUES (:api_call_id, 'call.ended', :url, :state, :tries, '', :at, :delivered_at)
"""


def upgrade() -> None:
    bind = op.get_bind()
    # read before api_calls is altered: SQLite copies the table, and dropping the old copy
    # would cascade to delivery rows that already point at it
    tried = [
        {"api_call_id": id_, "url": url, "state": state, "tries": tries, "at": at,
         "delivered_at": at if state == "delivered" else None}
        for id_, url, state, tries, at in bind.execute(sa.text(_TRIED))
    ]  # fmt: skip
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("api_call_id", _ID, nullable=True))
        batch.alter_column("attempt_id", existing_type=_ID, nullable=True)
        batch.create_foreign_key(
            op.f("fk_webhook_deliveries_api_call_id_api_calls"),
            "api_calls",
            ["api_call_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            op.f("uq_webhook_deliveries_api_call_id_event"), ["api_call_id", "event"]
        )
        batch.create_check_constraint(
            op.f("ck_webhook_deliveries_one_call"),
            "(attempt_id IS NULL) <> (api_call_id IS NULL)",
        )
    with op.batch_alter_table("api_calls") as batch:
        batch.drop_column("webhook_state")
        batch.drop_column("webhook_tries")
    if tried:
        bind.execute(sa.text(_CARRY_OVER), tried)


def downgrade() -> None:
    with op.batch_alter_table("api_calls") as batch:
        batch.add_column(
            sa.Column("webhook_tries", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("webhook_state", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE api_calls SET webhook_tries = d.tries, webhook_state = d.state "
        "FROM webhook_deliveries d WHERE d.api_call_id = api_calls.id"
    )
    op.execute("DELETE FROM webhook_deliveries WHERE api_call_id IS NOT NULL")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_constraint(op.f("ck_webhook_deliveries_one_call"), type_="check")
        batch.drop_constraint(op.f("uq_webhook_deliveries_api_call_id_event"), type_="unique")
        batch.drop_constraint(
            op.f("fk_webhook_deliveries_api_call_id_api_calls"), type_="foreignkey"
        )
        batch.drop_column("api_call_id")
        batch.alter_column("attempt_id", existing_type=_ID, nullable=False)
