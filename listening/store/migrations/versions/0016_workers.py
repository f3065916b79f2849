"""workers: analysis claims (leases) and dead-lettered tasks

Revision ID: 0016_workers
Revises: 0006_merge
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_workers"
down_revision = "0006_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_claims",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"],
            name=op.f("fk_analysis_claims_document_id_documents"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_analysis_claims")),
    )
    op.create_index(op.f("ix_analysis_claims_expires_at"), "analysis_claims", ["expires_at"])
    op.create_table(
        "task_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_failures")),
        sa.UniqueConstraint("task_id", name=op.f("uq_task_failures_task_id")),
    )
    op.create_index(op.f("ix_task_failures_queue"), "task_failures", ["queue"])
    op.create_index(op.f("ix_task_failures_failed_at"), "task_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_table("task_failures")
    op.drop_index(op.f("ix_analysis_claims_expires_at"), table_name="analysis_claims")
    op.drop_table("analysis_claims")
