"""Batch verifications run in the background: progress while they run, their result (rows and
totals, never the credentials) for 24 hours.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-24 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "done",
                "interrupted",
                name="verificationbatchstate",
                native_enum=False,
                length=11,
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_verification_batches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_batches")),
    )
    with op.batch_alter_table("verification_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_batches_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_verification_batches_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verification_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_batches_user_id"))
        batch_op.drop_index(batch_op.f("ix_verification_batches_created_at"))
    op.drop_table("verification_batches")
