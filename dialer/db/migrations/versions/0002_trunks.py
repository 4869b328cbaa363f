"""Trunks and their rate decks.

Revision ID: 0002_trunks
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_trunks"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(precision=12, scale=6)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "trunks",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("proxy_host", sa.String(length=255), nullable=False),
        sa.Column("proxy_port", sa.Integer(), nullable=False),
        sa.Column("sip_profile", sa.String(length=63), nullable=False),
        sa.Column("fs_nodes", _json(), nullable=False),
        sa.Column("register", sa.Boolean(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password", sa.String(length=255), nullable=False),
        sa.Column("realm", sa.String(length=255), nullable=False),
        sa.Column("callee_prefix", sa.String(length=20), nullable=False),
        sa.Column("number_format", sa.String(length=16), nullable=False),
        sa.Column("caller_id_policy", _json(), nullable=False),
        sa.Column("max_concurrency", sa.Integer(), nullable=False),
        sa.Column("max_cps", sa.Integer(), nullable=False),
        sa.Column("blind_areas", _json(), nullable=False),
        sa.Column("per_number_cap", sa.Integer(), nullable=False),
        sa.Column("per_number_window", sa.String(length=8), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("active_hours", _json(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("groups", _json(), nullable=False),
        sa.Column("ping_interval_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trunks")),
        sa.UniqueConstraint("name", name=op.f("uq_trunks_name")),
    )
    op.create_table(
        "rate_deck_entries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("trunk_id", BIG_ID, nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("rate_per_min", MONEY, nullable=False),
        sa.Column("billing_increment_s", sa.Integer(), nullable=False),
        sa.Column("connection_fee", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["trunk_id"],
            ["trunks.id"],
            name=op.f("fk_rate_deck_entries_trunk_id_trunks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_deck_entries")),
        sa.UniqueConstraint(
            "trunk_id", "prefix", name=op.f("uq_rate_deck_entries_trunk_id_prefix")
        ),
    )


def downgrade() -> None:
    op.drop_table("rate_deck_entries")
    op.drop_table("trunks")
