"""Webhook secret rotation without a gap: after a rotation, deliveries are signed with the
previous secret too for a day (two signatures in ``webhook-signature``, as the Standard
Webhooks specification allows), so the receiver can switch without missing an event.

Two nullable columns: plain ``ADD COLUMN`` on both databases (no table rebuild); the downgrade
drops them in a batch (SQLite).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "webhook_subscriptions", sa.Column("previous_sealed_secret", sa.Text(), nullable=True)
    )
    op.add_column(
        "webhook_subscriptions",
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch_op:
        batch_op.drop_column("previous_secret_until")
        batch_op.drop_column("previous_sealed_secret")
