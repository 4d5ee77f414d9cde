"""Two-factor authentication: an account's authenticator-app secret (encrypted) and one-time
recovery codes (hashed); a flag on the account; an organisation's rule that its staff use it.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-24 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "two_factor_secrets",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_two_factor_secrets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_two_factor_secrets")),
    )
    op.create_table(
        "two_factor_recovery_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_two_factor_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_two_factor_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_two_factor_recovery_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_two_factor_recovery_codes_user_id"),
        "two_factor_recovery_codes",
        ["user_id"],
        unique=False,
    )
    # Not batch mode: on SQLite it would recreate ``users``, and dropping the old table would
    # cascade to every row that references an account (SQLite adds a column in place).
    op.add_column(
        "users",
        sa.Column("two_factor_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "organisations",
        sa.Column("require_two_factor", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("organisations", "require_two_factor")
    op.drop_column("users", "two_factor_enabled")
    op.drop_index(
        op.f("ix_two_factor_recovery_codes_user_id"), table_name="two_factor_recovery_codes"
    )
    op.drop_table("two_factor_recovery_codes")
    op.drop_table("two_factor_secrets")
