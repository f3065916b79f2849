"""``report_digests``: one e-mailed digest per audience (team or role) and period.

The unique key (audience, period, period_start) makes a digest idempotent: a second run
for the same period finds the row and does nothing (unless forced). ``status`` is
``sending`` while one process delivers it (a claim), then ``sent``, ``failed`` (tried
again after ``insights.digest_retry_minutes``) or ``no_data`` (the period had no verbatim:
nothing is sent).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from listening.store.models import Base, UTCDateTime, utcnow

DIGEST_STATUSES: tuple[str, ...] = ("sending", "sent", "failed", "no_data")


class ReportDigest(Base):
    """A digest of one period for one audience, and whether it went out."""

    __tablename__ = "report_digests"
    __table_args__ = (UniqueConstraint("audience", "period", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience: Mapped[str] = mapped_column(String(140))  # "team:support", "role:marketing"
    period: Mapped[str] = mapped_column(String(8))  # week, month, custom
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
