"""E-mail choices: an issuer's "e-mail recipients when issuing" setting (on by default), and the
groups of notifications a person has muted for e-mail.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-24 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credential_issuer_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_recipients", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "notification_mail_preferences",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("muted", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("notification_mail_preferences")
    with op.batch_alter_table("credential_issuer_settings", schema=None) as batch_op:
        batch_op.drop_column("email_recipients")
