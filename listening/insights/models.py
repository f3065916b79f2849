"""Tables of the emerging themes (migration 0023_themes).

- ``themes``: one row per theme (cluster) found by one run of ``listening themes``; rows of
  one run share ``run_id``. ``key`` follows a theme across runs (a later theme whose
  centroid is close keeps it), so a growing theme raises one alert per incident;
- ``theme_members``: the verbatims of a theme, in the current period (``previous`` false)
  or assigned to it from the previous period (``previous`` true).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from listening.store.models import Base, UTCDateTime, utcnow


class Theme(Base):
    """One cluster of verbatims outside the taxonomy, with its figures for the period."""

    __tablename__ = "themes"
    __table_args__ = (
        Index("ix_themes_run_id", "run_id"),
        Index("ix_themes_key", "key"),
        Index("ix_themes_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(300))
    terms: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[term, c-TF-IDF score]]
    size: Mapped[int] = mapped_column(Integer)
    previous_count: Mapped[int] = mapped_column(Integer, default=0)
    growth: Mapped[float] = mapped_column(Float, default=0.0)  # size / max(previous_count, 1)
    net_sentiment: Mapped[float | None] = mapped_column(Float)  # (positive - negative) / analysed
    sentiments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    brands: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # brand name -> count
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # source name -> count
    representatives: Mapped[list[Any]] = mapped_column(JSON, default=list)  # document ids
    centroid: Mapped[list[Any]] = mapped_column(JSON, default=list)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    promoted_topic: Mapped[str | None] = mapped_column(String(64))


class ThemeMember(Base):
    """A verbatim of a theme (current period) or counted for it (previous period)."""

    __tablename__ = "theme_members"
    __table_args__ = (Index("ix_theme_members_document_id", "document_id"),)

    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    previous: Mapped[bool] = mapped_column(Boolean, default=False)
    distance: Mapped[float] = mapped_column(Float, default=0.0)
