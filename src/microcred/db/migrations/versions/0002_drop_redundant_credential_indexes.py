"""Drop indexes the unique constraints already provide.

``issued_credentials.organisation_id`` is the leading column of the unique (organisation_id,
idempotency_key) index and ``status_list_id`` of the unique (status_list_id, status_index) index,
so their single-column indexes only cost every issuance two more B-tree writes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:30:32
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credentials_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_issued_credentials_status_list_id"))


def downgrade() -> None:
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_status_list_id"), ["status_list_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_organisation_id"), ["organisation_id"], unique=False
        )
