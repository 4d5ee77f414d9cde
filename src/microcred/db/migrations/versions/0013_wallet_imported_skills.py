"""Imported credentials' skills, one row each, so that talent search finds them by index.

Talent search matched imports by a ``LIKE`` over each import's JSON ``skills`` list: every
search read every verified import once per query skill (a skill group with 50 narrower skills
over 20,000 imports: about a second). ``wallet_imported_skills`` holds one row per (skill_uri,
imported_id), its primary key in that order, with the import's learner, date, EQF level and
verification copied (what the search filters and ranks on), and it is filled here from the
existing imports (URIs longer than 300 characters are no taxonomy skill and are left out, as
the wallet does). The consents' (user_id) index becomes (user_id, purpose, withdrawn_at): the
search checks each matching learner's consent from the index alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 00:12:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MAX_SKILL_URI = 300
BATCH = 5_000


def upgrade() -> None:
    skills = op.create_table(
        "wallet_imported_skills",
        sa.Column("skill_uri", sa.String(length=MAX_SKILL_URI), nullable=False),
        sa.Column("imported_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("eqf_level", sa.Integer(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_id"],
            ["wallet_imported_credentials.id"],
            name=op.f("fk_wallet_imported_skills_imported_id_wallet_imported_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("skill_uri", "imported_id", name=op.f("pk_wallet_imported_skills")),
    )
    op.create_index(
        op.f("ix_wallet_imported_skills_imported_id"), "wallet_imported_skills", ["imported_id"]
    )
    imports = sa.table(
        "wallet_imported_credentials",
        sa.column("id", sa.String),
        sa.column("user_id", sa.String),
        sa.column("skills", sa.JSON),
        sa.column("earned_at", sa.DateTime(timezone=True)),
        sa.column("eqf_level", sa.Integer),
        sa.column("verified", sa.Boolean),
    )
    connection = op.get_bind()
    rows: list[dict[str, Any]] = []
    for found in connection.execute(sa.select(imports)):
        uris = found.skills if isinstance(found.skills, list) else []
        rows.extend(
            {
                "skill_uri": uri,
                "imported_id": found.id,
                "user_id": found.user_id,
                "earned_at": found.earned_at,
                "eqf_level": found.eqf_level,
                "verified": found.verified,
            }
            for uri in dict.fromkeys(uris)
            if isinstance(uri, str) and 0 < len(uri) <= MAX_SKILL_URI
        )
        if len(rows) >= BATCH:
            connection.execute(skills.insert(), rows)
            rows = []
    if rows:
        connection.execute(skills.insert(), rows)

    # The consent check per matching learner reads the index alone (the single-column index it
    # replaces is its prefix).
    op.create_index(
        "ix_consents_user_id_purpose", "consents", ["user_id", "purpose", "withdrawn_at"]
    )
    op.drop_index("ix_consents_user_id", table_name="consents")


def downgrade() -> None:
    op.create_index("ix_consents_user_id", "consents", ["user_id"])
    op.drop_index("ix_consents_user_id_purpose", table_name="consents")
    op.drop_index(
        op.f("ix_wallet_imported_skills_imported_id"), table_name="wallet_imported_skills"
    )
    op.drop_table("wallet_imported_skills")
