"""accounts: dashboard users (argon2id password or OIDC subject), who edited a source

``users``: one row per person who signs in to the dashboard (listening.accounts);
``sources.updated_by`` / ``updated_at``: the user who last edited a source, and when.

Revision ID: 0020_accounts
Revises: 0019_trust
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_accounts"
down_revision = "0019_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("oidc_subject", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sa.UniqueConstraint("oidc_subject", name=op.f("uq_users_oidc_subject")),
    )
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("updated_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("updated_by")
    op.drop_table("users")
