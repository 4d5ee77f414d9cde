"""Endorsements: one organisation's signed EndorsementCredential about another's published
credential definition or issuer profile, the endorsed organisation's answer, its withdrawal.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 02:18:07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endorsements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("endorser_id", sa.String(length=32), nullable=False),
        sa.Column("endorsed_id", sa.String(length=32), nullable=False),
        sa.Column(
            "subject_kind",
            sa.Enum("definition", "issuer", name="subjectkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("subject_id", sa.String(length=500), nullable=False),
        sa.Column("definition_id", sa.String(length=32), nullable=True),
        sa.Column("definition_version", sa.Integer(), nullable=True),
        sa.Column("subject_name", sa.String(length=300), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "accepted",
                "declined",
                "withdrawn",
                name="endorsementstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("status_list_id", sa.String(length=32), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", sa.String(length=32), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_endorsements_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_endorsements_decided_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["endorsed_id"],
            ["organisations.id"],
            name=op.f("fk_endorsements_endorsed_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endorser_id"],
            ["organisations.id"],
            name=op.f("fk_endorsements_endorser_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endorsements")),
    )
    with op.batch_alter_table("endorsements", schema=None) as batch_op:
        batch_op.create_index("ix_endorsements_endorsed_id", ["endorsed_id", "state"], unique=False)
        batch_op.create_index("ix_endorsements_endorser_id", ["endorser_id", "state"], unique=False)
        batch_op.create_index("ix_endorsements_subject_id", ["subject_id", "state"], unique=False)
        batch_op.create_index(
            "ix_endorsements_definition_id", ["definition_id", "state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("endorsements", schema=None) as batch_op:
        batch_op.drop_index("ix_endorsements_definition_id")
        batch_op.drop_index("ix_endorsements_subject_id")
        batch_op.drop_index("ix_endorsements_endorser_id")
        batch_op.drop_index("ix_endorsements_endorsed_id")

    op.drop_table("endorsements")
