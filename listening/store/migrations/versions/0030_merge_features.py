"""merge the feature branches (accounts, privacy, API tokens, themes, reports, local days) into one head

Revision ID: 0030_merge_features
Revises: 0020_accounts, 0021_privacy, 0022_api_tokens, 0023_themes, 0024_reports,
    0026_local_days
"""

from __future__ import annotations

revision = "0030_merge_features"
down_revision = (
    "0020_accounts",
    "0021_privacy",
    "0022_api_tokens",
    "0023_themes",
    "0024_reports",
    "0026_local_days",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    """No schema change: later migrations descend from this single head."""


def downgrade() -> None:
    """No schema change."""
