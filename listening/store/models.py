"""The tables of the store (SQLAlchemy 2 declarative models).

Who writes what (see docs/ARCHITECTURE.md): collectors write ``sources`` health,
``documents`` and ``runs``; the NLP stage writes ``analyses``; routing writes
``tickets`` and ``ticket_events``; users' corrections (CLI, dashboard, inbox) write
``corrections``; the dashboard otherwise only reads (and enqueues crawls through
``sources.next_run_at``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

CHANNEL_KINDS: tuple[str, ...] = (  # read through platform APIs (listening.collection.channels)
    "reddit", "youtube", "mastodon", "bluesky", "x", "facebook", "instagram",
    "appstore", "googleplay", "trustpilot",
)
SOURCE_KINDS: tuple[str, ...] = (
    "review_site", "forum", "blog", "feed", "survey", "email", *CHANNEL_KINDS,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Brand(Base):
    """The merchant's own brand (``is_own``) and its competitors."""

    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_own: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Source(Base):
    """Where verbatims come from, with its schedule and health."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text, default="")
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="SET NULL"))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    schedule_minutes: Mapped[int] = mapped_column(Integer, default=60)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # health
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # collector state kept between runs (ETag / Last-Modified, cursors...)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))  # username of the last edit
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    brand: Mapped[Brand | None] = relationship()


class Document(Base):
    """One verbatim: a review, a forum post, a comment, a survey answer, an email."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_documents_source_external"),
        Index("ix_documents_content_hash", "content_hash"),
        Index("ix_documents_published_at", "published_at"),
        Index("ix_documents_brand_published", "brand_id", "published_at"),
        Index("ix_documents_thread_id", "thread_id"),  # migration 0005 (conversations)
        Index("ix_documents_author", "author"),  # migration 0021 (privacy requests by author)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="SET NULL"))
    external_id: Mapped[str] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(Text)
    thread_id: Mapped[str | None] = mapped_column(String(512))
    parent_id: Mapped[str | None] = mapped_column(String(512))
    author: Mapped[str | None] = mapped_column(String(64))  # salted pseudonym, never the name
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    rating: Mapped[float | None] = mapped_column(Float)  # normalised 0..1
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64))
    near_duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # privacy (migration 0021): a tombstone keeps its source, brand, date, rating and
    # analysis counts but no text, title, URL, author or metadata (listening.gdpr)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    source: Mapped[Source] = relationship()
    brand: Mapped[Brand | None] = relationship()


class Analysis(Base):
    """What the NLP pipeline understood of a document, per model version."""

    __tablename__ = "analyses"
    __table_args__ = (
        UniqueConstraint("document_id", "model_version", name="uq_analyses_document_version"),
        Index("ix_analyses_document_id_id", "document_id", "id"),  # migration 0005 (latest analysis)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    sentiment: Mapped[str] = mapped_column(String(10))  # negative | neutral | positive
    sentiment_score: Mapped[float] = mapped_column(Float)
    # [{"topic", "sentiment", "confidence", "sentiment_confidence", "score", "pattern",
    #   "evidence": [{"start", "end", "text"}]}]  (confidences: docs/NLP.md, calibrated)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    intent: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[list[Any]] = mapped_column(JSON, default=list)
    actionable: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship()


class Ticket(Base):
    """A support-relevant verbatim routed to a team."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_team_status", "team", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(2))  # P1..P4
    status: Mapped[str] = mapped_column(String(16), default="new")
    assignee: Mapped[str | None] = mapped_column(String(200))
    rule: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    conversation_key: Mapped[str | None] = mapped_column(String(512))
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """Audit trail of a ticket: who did what, when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Run(Base):
    """One collector run of one source."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|warning|failed|blocked
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    duration_s: Mapped[float | None] = mapped_column(Float)

    source: Mapped[Source | None] = relationship()


class Correction(Base):
    """A user's fix of what the pipeline understood of a verbatim (retraining data).

    ``text`` is a snapshot of the verbatim: when the document is deleted, ``document_id``
    becomes NULL and the correction still trains the heads. ``topics`` is the resulting topic
    set (the analysis' topics + ``topics_added`` - ``topics_removed``) or NULL when the
    topics were not corrected; ``sentiment``, ``intent`` and ``actionable`` are NULL when not
    corrected.
    """

    __tablename__ = "corrections"
    __table_args__ = (
        Index("ix_corrections_document_id", "document_id"),
        Index("ix_corrections_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    origin: Mapped[str] = mapped_column(String(16), default="cli")  # cli|dashboard|inbox|import
    taxonomy: Mapped[str | None] = mapped_column(String(200))
    topics_added: Mapped[list[Any]] = mapped_column(JSON, default=list)
    topics_removed: Mapped[list[Any]] = mapped_column(JSON, default=list)
    topics: Mapped[list[Any] | None] = mapped_column(JSON)
    sentiment: Mapped[str | None] = mapped_column(String(10))
    intent: Mapped[str | None] = mapped_column(String(20))
    actionable: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)


class LocalTimeOffset(Base):
    """The store's time zone as UTC offsets: from ``starts_at`` on, local = UTC + offset.

    Written by :func:`listening.store.timezone.apply_time_zone` (``listening init``); read
    by the daily rollup triggers to count days where the readers live. Empty: UTC.
    """

    __tablename__ = "local_time_offsets"

    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    offset_minutes: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(64))
