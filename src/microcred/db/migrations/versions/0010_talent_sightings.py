"""Talent search: which organisations' searches showed a learner (read by the learner).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 21:50:48.404934
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "talent_sightings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_talent_sightings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_talent_sightings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_talent_sightings")),
    )
    op.create_index(
        "ix_talent_sightings_user_id_seen_at", "talent_sightings", ["user_id", "seen_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_talent_sightings_user_id_seen_at", table_name="talent_sightings")
    op.drop_table("talent_sightings")
