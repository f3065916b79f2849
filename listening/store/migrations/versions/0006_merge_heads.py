"""merge the collection, routing and dashboard branches into one head

Revision ID: 0006_merge
Revises: 0002_collection, 0004_routing, 0005_dashboard
"""

from __future__ import annotations

revision = "0006_merge"
down_revision = ("0002_collection", "0004_routing", "0005_dashboard")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """No schema change: later migrations descend from this single head."""


def downgrade() -> None:
    """No schema change."""
