"""Received CDRs, kept durably so that attempts whose events were missed are settled from them.

Revision ID: 0009_cdr_settlement
Revises: 0008_lead_lists
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_cdr_settlement"
down_revision = "0008_lead_lists"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cdrs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("call_uuid", sa.String(length=36), nullable=False),
        sa.Column("core_uuid", sa.String(length=36), nullable=False),
        sa.Column("attempt_id", sa.BigInteger(), nullable=True),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint("call_uuid", name=op.f("uq_cdrs_call_uuid")),
    )
    op.create_index(op.f("ix_cdrs_attempt_id"), "cdrs", ["attempt_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cdrs_attempt_id"), table_name="cdrs")
    op.drop_table("cdrs")
