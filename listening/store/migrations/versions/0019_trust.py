"""routing: the reason a routed verbatim opened no ticket (relevance gates)

``routing_decisions.reason``: why a verbatim a rule matched was not ticketed (off
topic, other language, too old; listening.routing.relevance), shown by
`listening route` and the dashboard.

Revision ID: 0019_trust
Revises: 0016_workers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_trust"
down_revision = "0016_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("routing_decisions") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_decisions") as batch:
        batch.drop_column("reason")
