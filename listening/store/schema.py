"""The whole schema as Alembic sees it, so ``alembic revision --autogenerate`` proposes no change.

Every stage declares its tables on ``Base.metadata`` in its own module (store models,
collection locks, routing tables); importing this module registers them all. The
dashboard's derived tables (migration ``0005_dashboard``, kept by triggers, never
written through the ORM) are declared here with the types the migration creates. Only
the full-text search objects are left out: the SQLite FTS5 virtual table and its shadow
tables, and PostgreSQL's expression index (``documents_fts*``, ``ix_documents_fts``),
which SQLAlchemy cannot describe.

:func:`schema_diff` is what autogenerate would propose on a live store (the tests
require it to be empty on SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

import listening.api.tokens  # noqa: F401  (the read API's tokens)
import listening.collection.locks
import listening.gdpr.models  # noqa: F401  (erasure records)
import listening.insights.models  # noqa: F401  (emerging themes, migration 0023_themes)
import listening.routing.models  # noqa: F401  (registers the routing tables)
import listening.store.digests  # noqa: F401  (report digests, listening.reports)
import listening.store.users  # noqa: F401  (dashboard accounts)
import listening.store.work  # noqa: F401  (analysis claims and task failures of the workers)
from listening.store.models import Base

assert listening.collection.locks.CollectionLock.__tablename__ == "collection_locks"

metadata = Base.metadata
UNDESCRIBED_PREFIXES = ("documents_fts", "ix_documents_fts")


def _derived_tables() -> None:
    if "analysis_topics" in metadata.tables:
        return
    sa.Table(
        "analysis_topics",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "analysis_id",
            sa.Integer(),
            sa.ForeignKey("analyses.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=True),
        sa.Index("ix_analysis_topics_document_id", "document_id"),
        sa.Index("ix_analysis_topics_analysis_id", "analysis_id"),
        sa.Index(
            "ix_analysis_topics_published",
            "published_at",
            "brand_id",
            "topic",
            "sentiment",
            "document_id",
        ),
        sa.Index(
            "ix_analysis_topics_brand_published", "brand_id", "published_at", "topic", "sentiment"
        ),
    )
    sa.Table(
        "document_facts",
        metadata,
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("analysis_id", sa.Integer(), nullable=True),
        sa.Column("sentiment", sa.String(length=10), nullable=True),
        sa.Index(
            "ix_document_facts_published",
            "published_at",
            "brand_id",
            "source_id",
            "language",
            "sentiment",
        ),
    )
    sa.Table(
        "daily_documents",
        metadata,
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("source_id", sa.Integer(), primary_key=True),
        sa.Column("brand_id", sa.Integer(), primary_key=True),
        sa.Column("language", sa.String(length=8), primary_key=True),
        sa.Column("sentiment", sa.String(length=10), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    sa.Table(
        "daily_topics",
        metadata,
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("brand_id", sa.Integer(), primary_key=True),
        sa.Column("topic", sa.String(length=64), primary_key=True),
        sa.Column("sentiment", sa.String(length=10), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )


_derived_tables()


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave the full-text search objects SQLAlchemy cannot describe out of comparisons."""
    return not (name or "").startswith(UNDESCRIBED_PREFIXES)


def schema_diff(engine: Engine, target: sa.MetaData | None = None) -> list[Any]:
    """The changes ``alembic revision --autogenerate`` would propose against this store."""
    target = metadata if target is None else target
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": include_object,
                "target_metadata": target,
            },
        )
        return list(compare_metadata(context, target))
