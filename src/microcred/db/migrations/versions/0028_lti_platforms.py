"""LTI 1.3: platform registrations per organisation (with the tool key pair, sealed), OIDC login
states, LMS accounts by (iss, sub), resource links and their credential, launch sessions.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-24 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("deployment_ids", sa.JSON(), nullable=False),
        sa.Column("auth_login_url", sa.String(length=2000), nullable=False),
        sa.Column("auth_token_url", sa.String(length=2000), nullable=False),
        sa.Column("jwks_url", sa.String(length=2000), nullable=True),
        sa.Column("platform_jwks", sa.JSON(), nullable=True),
        sa.Column("tool_kid", sa.String(length=64), nullable=False),
        sa.Column("tool_public_jwk", sa.JSON(), nullable=False),
        sa.Column("sealed_tool_key", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_lti_platforms_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_lti_platforms_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_platforms")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_lti_platforms_issuer_client_id")),
        sa.UniqueConstraint("tool_kid", name=op.f("uq_lti_platforms_tool_kid")),
    )
    with op.batch_alter_table("lti_platforms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lti_platforms_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "lti_login_states",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("target_link_uri", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_login_states_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_lti_login_states")),
    )
    with op.batch_alter_table("lti_login_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lti_login_states_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "lti_resource_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("resource_link_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("context_title", sa.String(length=500), nullable=False),
        sa.Column("definition_id", sa.String(length=32), nullable=True),
        sa.Column("linked_by_user_id", sa.String(length=32), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ags_lineitems_url", sa.String(length=2000), nullable=True),
        sa.Column("ags_lineitem_url", sa.String(length=2000), nullable=True),
        sa.Column("ags_scopes", sa.JSON(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["linked_by_user_id"],
            ["users.id"],
            name=op.f("fk_lti_resource_links_linked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_lti_resource_links_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_resource_links_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_resource_links")),
        sa.UniqueConstraint(
            "platform_id",
            "deployment_id",
            "resource_link_id",
            name=op.f("uq_lti_resource_links_platform_id_deployment_id_resource_link_id"),
        ),
    )
    with op.batch_alter_table("lti_resource_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lti_resource_links_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lti_resource_links_platform_id"), ["platform_id"], unique=False
        )

    op.create_table(
        "lti_user_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_user_links_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lti_user_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_user_links")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_lti_user_links_issuer_subject")),
    )
    with op.batch_alter_table("lti_user_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lti_user_links_platform_id"), ["platform_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lti_user_links_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lti_launch_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("resource_link_row_id", sa.String(length=32), nullable=True),
        sa.Column("instructor", sa.Boolean(), nullable=False),
        sa.Column("deep_linking", sa.JSON(), nullable=True),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_launch_sessions_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_link_row_id"],
            ["lti_resource_links.id"],
            name=op.f("fk_lti_launch_sessions_resource_link_row_id_lti_resource_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lti_launch_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_lti_launch_sessions")),
    )
    with op.batch_alter_table("lti_launch_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_lti_launch_sessions_expires_at", ["expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_lti_launch_sessions_platform_id"), ["platform_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lti_launch_sessions_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lti_launch_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_launch_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_lti_launch_sessions_platform_id"))
        batch_op.drop_index("ix_lti_launch_sessions_expires_at")

    op.drop_table("lti_launch_sessions")
    with op.batch_alter_table("lti_user_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_user_links_user_id"))
        batch_op.drop_index(batch_op.f("ix_lti_user_links_platform_id"))

    op.drop_table("lti_user_links")
    with op.batch_alter_table("lti_resource_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_resource_links_platform_id"))
        batch_op.drop_index(batch_op.f("ix_lti_resource_links_organisation_id"))

    op.drop_table("lti_resource_links")
    with op.batch_alter_table("lti_login_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_login_states_expires_at"))

    op.drop_table("lti_login_states")
    with op.batch_alter_table("lti_platforms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_platforms_organisation_id"))

    op.drop_table("lti_platforms")
