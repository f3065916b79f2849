"""insights: emerging themes (clusters of verbatims outside the taxonomy) and their members

Revision ID: 0023_themes
Revises: 0019_trust
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_themes"
down_revision = "0019_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("previous_count", sa.Integer(), nullable=False),
        sa.Column("growth", sa.Float(), nullable=False),
        sa.Column("net_sentiment", sa.Float(), nullable=True),
        sa.Column("sentiments", sa.JSON(), nullable=False),
        sa.Column("brands", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("representatives", sa.JSON(), nullable=False),
        sa.Column("centroid", sa.JSON(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("promoted_topic", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_themes_brand_id_brands"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
    )
    op.create_index("ix_themes_run_id", "themes", ["run_id"])
    op.create_index("ix_themes_key", "themes", ["key"])
    op.create_index("ix_themes_created_at", "themes", ["created_at"])
    op.create_table(
        "theme_members",
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Boolean(), nullable=False),
        sa.Column("distance", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_theme_members_theme_id_themes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"],
            name=op.f("fk_theme_members_document_id_documents"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("theme_id", "document_id", name=op.f("pk_theme_members")),
    )
    op.create_index("ix_theme_members_document_id", "theme_members", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_theme_members_document_id", table_name="theme_members")
    op.drop_table("theme_members")
    op.drop_index("ix_themes_created_at", table_name="themes")
    op.drop_index("ix_themes_key", table_name="themes")
    op.drop_index("ix_themes_run_id", table_name="themes")
    op.drop_table("themes")
