"""One live (pending or accepted) endorsement per endorser and subject, held by a partial unique
index so that two requests endorsing the same subject at once cannot both succeed.

Endorsements arrive in the same release (0019), so no database holds duplicates to resolve.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-24 04:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

LIVE = sa.text("state IN ('pending', 'accepted')")


def upgrade() -> None:
    with op.batch_alter_table("endorsements", schema=None) as batch_op:
        batch_op.create_index(
            "uq_endorsements_live", ["endorser_id", "subject_id"], unique=True,
            sqlite_where=LIVE, postgresql_where=LIVE,
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("endorsements", schema=None) as batch_op:
        batch_op.drop_index("uq_endorsements_live", sqlite_where=LIVE, postgresql_where=LIVE)
