"""Outcomes: learners' employment reports after a credential (read by issuers in aggregate).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 22:01:22.275207
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcome_employment_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("credential_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("definition_id", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "employed_related",
                "employed_other",
                "self_employed",
                "further_study",
                "seeking_work",
                "prefer_not_to_say",
                name="employmentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("status_since", sa.Date(), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["issued_credentials.id"],
            name=op.f("fk_outcome_employment_reports_credential_id_issued_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_outcome_employment_reports_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_outcome_employment_reports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_employment_reports")),
        sa.UniqueConstraint(
            "user_id",
            "credential_id",
            name=op.f("uq_outcome_employment_reports_user_id_credential_id"),
        ),
    )
    op.create_index(
        "ix_outcome_employment_reports_organisation_id",
        "outcome_employment_reports",
        ["organisation_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_outcome_employment_reports_organisation_id", table_name="outcome_employment_reports"
    )
    op.drop_table("outcome_employment_reports")
