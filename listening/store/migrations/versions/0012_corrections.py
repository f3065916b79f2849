"""corrections: users' fixes of topics, sentiment, intent and actionability (retraining data)

Revision ID: 0012_corrections
Revises: 0019_trust
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_corrections"
down_revision = "0019_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("taxonomy", sa.String(length=200), nullable=True),
        sa.Column("topics_added", sa.JSON(), nullable=False),
        sa.Column("topics_removed", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=True),
        sa.Column("sentiment", sa.String(length=10), nullable=True),
        sa.Column("intent", sa.String(length=20), nullable=True),
        sa.Column("actionable", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_corrections_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index("ix_corrections_document_id", "corrections", ["document_id"])
    op.create_index("ix_corrections_created_at", "corrections", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_corrections_created_at", table_name="corrections")
    op.drop_index("ix_corrections_document_id", table_name="corrections")
    op.drop_table("corrections")
