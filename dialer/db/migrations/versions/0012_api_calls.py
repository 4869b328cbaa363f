"""API calls: click-to-call and callbacks placed by business systems, with their ``ext``,
idempotency key (unique per API key) and the switch's end of each.

Revision ID: 0012_api_calls
Revises: 0011_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012_api_calls"
down_revision = "0011_webhooks"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_calls",
        sa.Column("id", _ID, nullable=False),
        sa.Column("call_uuid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("agent", sa.String(length=130), nullable=True),
        sa.Column("campaign_id", _ID, nullable=True),
        sa.Column("trunks", sa.String(length=1000), nullable=False),
        sa.Column("ext", _JSON, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", UTC_TIME, nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("disposition", sa.Text(), nullable=True),
        sa.Column("trunk", sa.String(length=100), nullable=True),
        sa.Column("caller_id", sa.String(length=32), nullable=True),
        sa.Column("node", sa.String(length=100), nullable=True),
        sa.Column("hangup_cause", sa.String(length=64), nullable=True),
        sa.Column("hangup_cause_q850", sa.Integer(), nullable=True),
        sa.Column("sip_status", sa.String(length=8), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("originated_at", UTC_TIME, nullable=True),
        sa.Column("agent_answered_at", UTC_TIME, nullable=True),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("connected_at", UTC_TIME, nullable=True),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("recording_path", sa.Text(), nullable=True),
        sa.Column("webhook_tries", sa.Integer(), nullable=False),
        sa.Column("webhook_state", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_api_calls_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_calls")),
        sa.UniqueConstraint("call_uuid", name=op.f("uq_api_calls_call_uuid")),
        sa.UniqueConstraint(
            "key_id", "idempotency_key", name=op.f("uq_api_calls_key_id_idempotency_key")
        ),
    )
    op.create_index("ix_api_calls_status_due_at", "api_calls", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_api_calls_status_due_at", table_name="api_calls")
    op.drop_table("api_calls")
