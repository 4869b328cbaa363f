"""Why a call ended, as the switch said it: the Q.850 cause code and the final SIP status.

Revision ID: 0004_call_causes
Revises: 0003_post_call
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_call_causes"
down_revision = "0003_post_call"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_attempts") as batch:
        batch.add_column(sa.Column("hangup_cause_q850", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sip_status", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_attempts") as batch:
        batch.drop_column("sip_status")
        batch.drop_column("hangup_cause_q850")
