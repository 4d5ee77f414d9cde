"""An issuer's credential list reads newest first from indexes.

``/manage/credentials`` and ``GET /api/v1/organisations/{slug}/credentials`` list an issuer's
credentials by ``issued_at`` descending, 50 a page. With only ``ix_issued_credentials_issued_at``
SQLite found the issuer's rows through the unique (organisation_id, idempotency_key) index and
sorted all of them for every page: about 1 s for an issuer with 100,000 credentials, and
filtering by state (``?state=revoked``) scanned them all. The composite (organisation_id,
issued_at) and (organisation_id, state, issued_at) indexes hand them out in order; the
single-column ``issued_at`` and ``state`` indexes, which no query used on their own, go, so an
issuance writes as many B-trees as before.

Plain ``CREATE INDEX`` / ``DROP INDEX``, not a batch (nothing to recreate).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:11:03
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_issued_credentials_organisation_issued_at",
        "issued_credentials",
        ["organisation_id", "issued_at"],
        unique=False,
    )
    op.create_index(
        "ix_issued_credentials_organisation_state_issued_at",
        "issued_credentials",
        ["organisation_id", "state", "issued_at"],
        unique=False,
    )
    op.drop_index("ix_issued_credentials_issued_at", table_name="issued_credentials")
    op.drop_index("ix_issued_credentials_state", table_name="issued_credentials")


def downgrade() -> None:
    op.create_index("ix_issued_credentials_state", "issued_credentials", ["state"], unique=False)
    op.create_index(
        "ix_issued_credentials_issued_at", "issued_credentials", ["issued_at"], unique=False
    )
    op.drop_index(
        "ix_issued_credentials_organisation_state_issued_at", table_name="issued_credentials"
    )
    op.drop_index("ix_issued_credentials_organisation_issued_at", table_name="issued_credentials")
