"""Pathway awards follow their own qualification credential.

``pathway_awards.credential_id`` is indexed (a revocation or suspension of a qualification
credential finds its award without a scan), ``state`` gains ``suspended`` (the column widens
from 7 to 9 characters) and ``final`` marks an award revoked on its own qualification credential,
which progress does not award again until staff re-award it.

On SQLite widening the column recreates the table, and dropping the old one would cascade to
``pathway_award_components`` (foreign keys are on), so those rows are put back afterwards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:15:00
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_STATES = ("active", "review", "revoked")
NEW_STATES = ("active", "review", "suspended", "revoked")


def _state(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="awardstate", native_enum=False)


def _components() -> sa.TableClause:
    return sa.table(
        "pathway_award_components",
        sa.column("credential_id", sa.String),
        sa.column("award_id", sa.String),
    )


@contextmanager
def _keeping_components() -> Iterator[None]:
    """Put back the component rows a recreated ``pathway_awards`` cascaded away (SQLite)."""
    bind = op.get_bind()
    components = _components()
    kept = [dict(row._mapping) for row in bind.execute(sa.select(components))]
    yield
    if kept and bind.dialect.name == "sqlite":
        bind.execute(sa.delete(components))
        op.bulk_insert(components, kept)


def upgrade() -> None:
    with _keeping_components(), op.batch_alter_table("pathway_awards", schema=None) as batch_op:
        batch_op.alter_column(
            "state",
            existing_type=_state(OLD_STATES),
            type_=_state(NEW_STATES),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column("final", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_pathway_awards_credential_id"), ["credential_id"], unique=False
        )


def downgrade() -> None:
    awards = sa.table("pathway_awards", sa.column("state", sa.String))
    op.execute(awards.update().where(awards.c.state == "suspended").values(state="review"))
    with _keeping_components(), op.batch_alter_table("pathway_awards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pathway_awards_credential_id"))
        batch_op.drop_column("final")
        batch_op.alter_column(
            "state",
            existing_type=_state(NEW_STATES),
            type_=_state(OLD_STATES),
            existing_nullable=False,
        )
