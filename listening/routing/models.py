"""Tables of the routing stage (migration 0004_routing).

- ``routing_decisions``: one row per routed document (unique), so a document is
  never routed twice, even by two concurrent ``listening route`` runs;
- ``notifications``: the outbox, written in the same transaction as the ticket
  change it announces, delivered later by :func:`listening.routing.outbox.deliver_pending`;
- ``alerts``: spike incidents per brand × topic (one row per incident);
- ``routing_locks``: named rows a SQLite writer updates first to take the write
  lock before it reads (one writer at a time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from listening.store.models import Base, UTCDateTime, utcnow


class RoutingDecision(Base):
    """What routing did with one document: ticketed, attached, skipped, no rule matched."""

    __tablename__ = "routing_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )
    analysis_id: Mapped[int | None] = mapped_column(ForeignKey("analyses.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # ticketed|attached|reopened|skipped|no_match, or the relevance gate that stopped a
    # matched rule: off_topic|other_language|too_old (migration 0019, with ``reason``)
    outcome: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """One message to one target (outbox row), with its delivery state."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Alert(Base):
    """A spike incident for one brand × topic; updated while it lasts, resolved after."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_key_status", "brand_id", "topic", "kind", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # volume | negative_share
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | resolved
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recent_count: Mapped[int] = mapped_column(Integer, default=0)
    baseline: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RoutingLock(Base):
    """A named row updated first in a SQLite write transaction (takes the write lock)."""

    __tablename__ = "routing_locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
