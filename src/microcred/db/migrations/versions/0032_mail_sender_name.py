"""Who a queued mail is from, for its reader: an issuer's name, shown "via" the platform's.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-24 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mail_messages", sa.Column("sender_name", sa.String(length=120), nullable=True))


def downgrade() -> None:
    op.drop_column("mail_messages", "sender_name")
