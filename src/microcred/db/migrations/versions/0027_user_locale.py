"""Each account's preferred language (en, de, fr, es) for pages and e-mails; NULL lets the
browser's Accept-Language header choose.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-24 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
