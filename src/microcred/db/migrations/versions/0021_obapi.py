"""Open Badges 3.0 API: registered client apps, learners' grants to them, authorization codes
and tokens (hashes only).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-24 03:12:12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "obapi_clients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("client_uri", sa.String(length=500), nullable=False),
        sa.Column("logo_uri", sa.String(length=500), nullable=False),
        sa.Column("tos_uri", sa.String(length=500), nullable=False),
        sa.Column("policy_uri", sa.String(length=500), nullable=False),
        sa.Column("software_id", sa.String(length=200), nullable=False),
        sa.Column("software_version", sa.String(length=100), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("registered_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obapi_clients")),
    )
    with op.batch_alter_table("obapi_clients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_obapi_clients_registered_ip_created_at",
            ["registered_ip", "created_at"],
            unique=False,
        )

    op.create_table(
        "obapi_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["obapi_clients.id"],
            name=op.f("fk_obapi_grants_client_id_obapi_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_obapi_grants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obapi_grants")),
    )
    with op.batch_alter_table("obapi_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_obapi_grants_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_obapi_grants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "obapi_authorization_codes",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["obapi_grants.id"],
            name=op.f("fk_obapi_authorization_codes_grant_id_obapi_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_obapi_authorization_codes")),
    )
    with op.batch_alter_table("obapi_authorization_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_obapi_authorization_codes_grant_id"), ["grant_id"], unique=False
        )

    op.create_table(
        "obapi_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["obapi_grants.id"],
            name=op.f("fk_obapi_tokens_grant_id_obapi_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_obapi_tokens")),
    )
    with op.batch_alter_table("obapi_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_obapi_tokens_grant_id"), ["grant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("obapi_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obapi_tokens_grant_id"))

    op.drop_table("obapi_tokens")
    with op.batch_alter_table("obapi_authorization_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obapi_authorization_codes_grant_id"))

    op.drop_table("obapi_authorization_codes")
    with op.batch_alter_table("obapi_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obapi_grants_user_id"))
        batch_op.drop_index(batch_op.f("ix_obapi_grants_client_id"))

    op.drop_table("obapi_grants")
    with op.batch_alter_table("obapi_clients", schema=None) as batch_op:
        batch_op.drop_index("ix_obapi_clients_registered_ip_created_at")

    op.drop_table("obapi_clients")
