"""Learners' public profiles: a handle, a headline, and the credentials each chose to show.

Items are looked up by (user_id, …) through the two unique constraints, so no index of their own.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 21:32:42.572073
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_profiles",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("handle", sa.String(length=40), nullable=False),
        sa.Column("headline", sa.String(length=200), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wallet_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_wallet_profiles")),
        sa.UniqueConstraint("handle", name=op.f("uq_wallet_profiles_handle")),
    )
    op.create_table(
        "wallet_profile_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("credential_id", sa.String(length=32), nullable=True),
        sa.Column("imported_id", sa.String(length=32), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["issued_credentials.id"],
            name=op.f("fk_wallet_profile_items_credential_id_issued_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["imported_id"],
            ["wallet_imported_credentials.id"],
            name=op.f("fk_wallet_profile_items_imported_id_wallet_imported_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wallet_profile_items_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_profile_items")),
        sa.UniqueConstraint(
            "user_id", "credential_id", name=op.f("uq_wallet_profile_items_user_id_credential_id")
        ),
        sa.UniqueConstraint(
            "user_id", "imported_id", name=op.f("uq_wallet_profile_items_user_id_imported_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("wallet_profile_items")
    op.drop_table("wallet_profiles")
