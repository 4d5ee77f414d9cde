"""OpenID4VCI authorization code flow: an offer row may be a grant a learner gave a wallet app
on the authorization page (its client ID, redirect URI and PKCE challenge).

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-24 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

TABLE = "wallet_credential_offers"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("client_id", sa.String(length=255), nullable=True))
    op.add_column(TABLE, sa.Column("redirect_uri", sa.String(length=1000), nullable=True))
    op.add_column(TABLE, sa.Column("code_challenge", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for column in ("code_challenge", "redirect_uri", "client_id"):
        op.drop_column(TABLE, column)
