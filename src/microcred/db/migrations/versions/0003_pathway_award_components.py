"""Pathway award components by credential.

A revocation, suspension or reinstatement applies the pathways' revocation policy at once, to
the awards built on that credential only: ``pathway_award_components`` finds them by the
credential's id (its primary key leads with it). Existing awards are indexed from their
``components`` list.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ISSUED_PREFIX = "issued:"
CHUNK = 500


def upgrade() -> None:
    components = op.create_table(
        "pathway_award_components",
        sa.Column("credential_id", sa.String(length=32), nullable=False),
        sa.Column("award_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["pathway_awards.id"],
            name=op.f("fk_pathway_award_components_award_id_pathway_awards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["issued_credentials.id"],
            name=op.f("fk_pathway_award_components_credential_id_issued_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "credential_id", "award_id", name=op.f("pk_pathway_award_components")
        ),
    )
    with op.batch_alter_table("pathway_award_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pathway_award_components_award_id"), ["award_id"], unique=False
        )
    awards = sa.table(
        "pathway_awards", sa.column("id", sa.String), sa.column("components", sa.JSON)
    )
    credentials = sa.table("issued_credentials", sa.column("id", sa.String))
    bind = op.get_bind()
    pairs = {
        (key.removeprefix(ISSUED_PREFIX), award_id)
        for award_id, keys in bind.execute(sa.select(awards.c.id, awards.c.components))
        for key in keys or ()
        if key.startswith(ISSUED_PREFIX)
    }
    wanted = sorted({credential_id for credential_id, _ in pairs})
    existing: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        existing.update(
            bind.execute(sa.select(credentials.c.id).where(credentials.c.id.in_(chunk))).scalars()
        )
    rows = [
        {"credential_id": credential_id, "award_id": award_id}
        for credential_id, award_id in sorted(pairs)
        if credential_id in existing
    ]
    if rows:
        op.bulk_insert(components, rows)


def downgrade() -> None:
    with op.batch_alter_table("pathway_award_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pathway_award_components_award_id"))
    op.drop_table("pathway_award_components")
