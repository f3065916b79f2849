"""reports: one row per e-mailed digest (audience, period) so a digest is sent once

Revision ID: 0024_reports
Revises: 0019_trust
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_reports"
down_revision = "0019_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=140), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_digests")),
        sa.UniqueConstraint(
            "audience", "period", "period_start", name=op.f("uq_report_digests_audience")
        ),
    )


def downgrade() -> None:
    op.drop_table("report_digests")
