"""Learners' holder keys: one Ed25519 key per account, named by its did:key.

The key signs the learner's Verifiable Presentations; the private key is sealed like issuer keys
(AES-256-GCM under the master key, the row id as associated data).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 21:32:06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_holder_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("did", sa.String(length=100), nullable=False),
        sa.Column("sealed_private_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wallet_holder_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_holder_keys")),
        sa.UniqueConstraint("did", name=op.f("uq_wallet_holder_keys_did")),
    )
    with op.batch_alter_table("wallet_holder_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallet_holder_keys_user_id"), ["user_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("wallet_holder_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_holder_keys_user_id"))
    op.drop_table("wallet_holder_keys")
