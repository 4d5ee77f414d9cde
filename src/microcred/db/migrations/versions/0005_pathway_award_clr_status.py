"""Pathway award CLRs carry a status entry.

``pathway_awards.clr_status_list_id`` and ``clr_status_index`` name the CLR's Bitstring Status
List entry, so a verifier holding only the CLR sees the award revoked. Awards made before keep
None (their CLR has no ``credentialStatus``).

Plain ``ADD COLUMN`` / ``DROP COLUMN`` (SQLite 3.35+), not a batch: recreating ``pathway_awards``
on SQLite would cascade to ``pathway_award_components`` (see 0004).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:25:39
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "pathway_awards", sa.Column("clr_status_list_id", sa.String(length=32), nullable=True)
    )
    op.add_column("pathway_awards", sa.Column("clr_status_index", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("pathway_awards", "clr_status_index")
    op.drop_column("pathway_awards", "clr_status_list_id")
