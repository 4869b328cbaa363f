"""Agents and their tiers: the database is the truth the switches are made to match.

Revision ID: 0007_agents
Revises: 0006_pause_reason
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_agents"
down_revision = "0006_pause_reason"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=130), nullable=False),
        sa.Column("contact", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("name", name=op.f("uq_agents_name")),
    )
    op.create_table(
        "agent_tiers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_tiers_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_tiers")),
        sa.UniqueConstraint("agent_id", "queue", name=op.f("uq_agent_tiers_agent_id_queue")),
    )


def downgrade() -> None:
    op.drop_table("agent_tiers")
    op.drop_table("agents")
