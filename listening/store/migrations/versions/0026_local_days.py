"""local days: the daily rollups count calendar days in the store's time zone

- ``local_time_offsets``: the store's zone as (UTC start, offset in minutes) rows,
  written by ``listening init`` from the ``timezone`` setting (empty: UTC, as before).
- The rollup triggers of revision 0005 are re-created with the local day of
  ``published_at`` (UTC + the offset in force), so a verbatim posted at 00:30 in Paris
  counts on that day. The statements are 0005's own, with another day expression.

Revision ID: 0026_local_days
Revises: 0012_corrections
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0026_local_days"
down_revision = "0012_corrections"
branch_labels = None
depends_on = None

OFFSET = (
    "coalesce((SELECT o_tz.offset_minutes FROM local_time_offsets AS o_tz "
    "WHERE o_tz.starts_at <= {col} ORDER BY o_tz.starts_at DESC LIMIT 1), 0)"
)
LOCAL_DAY = {
    "sqlite": "date({col}, " + OFFSET + " || ' minutes')",
    "postgresql": "((({col}) AT TIME ZONE 'UTC') + make_interval(mins => " + OFFSET + "))::date",
}
SQLITE_TRIGGERS = ("trg_daily_documents_i", "trg_daily_documents_d", "trg_daily_documents_u",
                   "trg_daily_topics_i", "trg_daily_topics_d", "trg_daily_topics_u")


def _revision_0005() -> ModuleType:
    path = Path(__file__).with_name("0005_dashboard_fts.py")
    spec = importlib.util.spec_from_file_location("listening_migration_0005", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drop_rollup_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table, name in (("document_facts", "daily_documents"), ("analysis_topics", "daily_topics")):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}_sync()")


def _recreate(day: str | None) -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return
    rollups = _revision_0005()
    _drop_rollup_triggers(dialect)
    for statement in rollups.rollup_triggers(dialect, day):
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "local_time_offsets",
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("starts_at", name=op.f("pk_local_time_offsets")),
    )
    dialect = op.get_bind().dialect.name
    _recreate(LOCAL_DAY.get(dialect))


def downgrade() -> None:
    _recreate(None)  # back to UTC days (rows already counted keep their local day)
    op.drop_table("local_time_offsets")
