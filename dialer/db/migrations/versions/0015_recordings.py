"""Per-campaign call recording: answered calls of a campaign with ``record`` are recorded and
uploaded by the switch after hangup (docs/recordings.md); off for every existing campaign.

Revision ID: 0015_recordings
Revises: 0014_switch_integrations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_recordings"
down_revision = "0014_switch_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("record", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("record")
