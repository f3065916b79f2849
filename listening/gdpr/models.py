"""The ``erasures`` table (migration 0021_privacy): one row per erasure, without personal data.

A row says who ran it, when, why (``forget`` by a request, ``retention``), how many rows
of each table were erased or deleted, and a salted hash of the subject (so a repeated
request for the same person can be recognised without storing who it was).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from listening.store.models import Base, UTCDateTime, utcnow


class Erasure(Base):
    """One erasure run: subject hash, scope, counts per table; never a name or a text."""

    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(16))  # forget | retention
    scope: Mapped[str] = mapped_column(String(16))  # author | handle | document | retention
    action: Mapped[str] = mapped_column(String(16))  # anonymise | delete
    subject_hash: Mapped[str | None] = mapped_column(String(64))
    documents: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
