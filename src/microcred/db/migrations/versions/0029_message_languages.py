"""Mails and notifications in their reader's language: a notification's title and body as
message ids with parameters (``notifications.message``, NULL for rows written before, which
show as stored), and an issuer's default language of mails to people without an account
(``credential_issuer_settings.mail_locale``, NULL: the credential's language, else English).

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-24 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("message", sa.JSON(), nullable=True))
    op.add_column(
        "credential_issuer_settings", sa.Column("mail_locale", sa.String(length=8), nullable=True)
    )


def downgrade() -> None:
    # Not batch mode: SQLite drops a column in place (batch mode would recreate the tables).
    op.drop_column("credential_issuer_settings", "mail_locale")
    op.drop_column("notifications", "message")
