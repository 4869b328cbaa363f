"""A file may be imported into a campaign again (``dialer leads import --force``): a lead
list is looked up by its file's hash, no longer unique per campaign.

Revision ID: 0008_lead_lists
Revises: 0007_agents
"""

from __future__ import annotations

from alembic import op

revision = "0008_lead_lists"
down_revision = "0007_agents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_lists") as batch:
        batch.drop_constraint("uq_lead_lists_campaign_id_file_sha256", type_="unique")
        batch.create_index(
            "ix_lead_lists_campaign_id_file_sha256", ["campaign_id", "file_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lead_lists") as batch:
        batch.drop_index("ix_lead_lists_campaign_id_file_sha256")
        batch.create_unique_constraint(
            "uq_lead_lists_campaign_id_file_sha256", ["campaign_id", "file_sha256"]
        )
