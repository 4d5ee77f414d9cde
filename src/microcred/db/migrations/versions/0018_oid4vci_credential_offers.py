"""OpenID4VCI credential pickup: pre-authorized code offers of a learner's credential to their
wallet app (secrets stored as hashes only), and the c_nonces spent by key proofs (kept until they
would have expired, so that a replay is refused).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 02:15:58
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_issuance_nonces",
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash", name=op.f("pk_wallet_issuance_nonces")),
    )
    op.create_index(
        op.f("ix_wallet_issuance_nonces_expires_at"), "wallet_issuance_nonces", ["expires_at"]
    )
    op.create_table(
        "wallet_credential_offers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("credential_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("tx_code_hash", sa.String(length=64), nullable=True),
        sa.Column("failed_tx_codes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=200), nullable=True),
        sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("picked_up_format", sa.String(length=40), nullable=True),
        sa.Column("holder", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["issued_credentials.id"],
            name=op.f("fk_wallet_credential_offers_credential_id_issued_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wallet_credential_offers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_credential_offers")),
        sa.UniqueConstraint("address_hash", name=op.f("uq_wallet_credential_offers_address_hash")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_wallet_credential_offers_code_hash")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_wallet_credential_offers_token_hash")),
    )
    op.create_index(
        op.f("ix_wallet_credential_offers_credential_id"),
        "wallet_credential_offers",
        ["credential_id"],
    )
    op.create_index(
        op.f("ix_wallet_credential_offers_user_id"), "wallet_credential_offers", ["user_id"]
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_wallet_credential_offers_user_id"), table_name="wallet_credential_offers"
    )
    op.drop_index(
        op.f("ix_wallet_credential_offers_credential_id"), table_name="wallet_credential_offers"
    )
    op.drop_table("wallet_credential_offers")
    op.drop_index(op.f("ix_wallet_issuance_nonces_expires_at"), table_name="wallet_issuance_nonces")
    op.drop_table("wallet_issuance_nonces")
