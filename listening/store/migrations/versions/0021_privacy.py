"""privacy: erasure records and document tombstones

- ``erasures``: one row per erasure (forget request or retention run) with who ran it,
  when, the counts per table and a salted hash of the subject; never a name or a text;
- ``documents.erased_at``: set on a tombstone (text, title, URL, author, metadata
  blanked; source, brand, date, rating and analysis counts kept);
- ``ix_documents_author``: a person's verbatims are found by pseudonym without a scan.

Revision ID: 0021_privacy
Revises: 0019_trust
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_privacy"
down_revision = "0019_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=True),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index("ix_erasures_at", "erasures", ["at"])
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_documents_author", "documents", ["author"])


def downgrade() -> None:
    op.drop_index("ix_documents_author", table_name="documents")
    if op.get_bind().dialect.name == "sqlite":
        # native DROP COLUMN (SQLite >= 3.35): a batch copy of ``documents`` would lose its
        # full-text and derived-table triggers (migration 0005)
        op.execute("ALTER TABLE documents DROP COLUMN erased_at")
    else:
        op.drop_column("documents", "erased_at")
    op.drop_index("ix_erasures_at", table_name="erasures")
    op.drop_table("erasures")
