"""Engagement counts: how often each credential's page is viewed by others, the credential
verified, its PDF downloaded and it added to LinkedIn, per day — counts only, never who.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 01:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credential_engagement",
        sa.Column("credential_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["issued_credentials.id"],
            name=op.f("fk_credential_engagement_credential_id_issued_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credential_engagement_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "credential_id", "day", "kind", name=op.f("pk_credential_engagement")
        ),
    )
    op.create_index(
        "ix_credential_engagement_organisation_id_day",
        "credential_engagement",
        ["organisation_id", "day"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_credential_engagement_organisation_id_day", table_name="credential_engagement"
    )
    op.drop_table("credential_engagement")
