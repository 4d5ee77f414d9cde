"""Talent search reads the credentials of a definition version from one covering index.

A search for a common skill reads every credential of the definitions aligned to it (tens of
thousands at 100,000 learners) for its holder, state, validity and date. Through the
single-column ``ix_issued_credentials_definition_id`` each was fetched from its ~6 KB row; the
composite (definition_id, definition_version, state, recipient_user_id, valid_from, valid_until,
issued_at) index answers the search alone. It replaces the single-column index (every query by
definition_id uses its first column), so an issuance writes as many B-trees as before.

Plain ``CREATE INDEX`` / ``DROP INDEX``, not a batch (nothing to recreate).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 23:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = [
    "definition_id",
    "definition_version",
    "state",
    "recipient_user_id",
    "valid_from",
    "valid_until",
    "issued_at",
]


def upgrade() -> None:
    op.create_index(
        "ix_issued_credentials_definition_holders", "issued_credentials", COLUMNS, unique=False
    )
    op.drop_index("ix_issued_credentials_definition_id", table_name="issued_credentials")


def downgrade() -> None:
    op.create_index(
        "ix_issued_credentials_definition_id", "issued_credentials", ["definition_id"], unique=False
    )
    op.drop_index("ix_issued_credentials_definition_holders", table_name="issued_credentials")
