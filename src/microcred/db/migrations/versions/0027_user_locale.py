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
    op.add_column("users", sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # Not batch mode: on SQLite it would recreate ``users``, and dropping the old table would
    # cascade to every row that references an account (SQLite drops a column in place).
    op.drop_column("users", "locale")
