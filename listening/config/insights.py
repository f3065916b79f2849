"""Settings group ``insights``: Insights: emerging themes, reports and digests (docs/INSIGHTS.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class InsightsSettings(BaseModel):
    """``LISTENING_INSIGHTS__*``: Insights: emerging themes, reports and digests (docs/INSIGHTS.md)."""

    themes_days: int = Field(
        default=28,
        ge=1,
        le=365,
        description="Emerging themes: length in days of the period clustered, compared with the "
        "period of the same length just before it.",
    )
    themes_min_cluster_size: int = Field(
        default=8,
        ge=2,
        description="Emerging themes: fewest verbatims forming a theme (HDBSCAN min_cluster_size).",
    )
    themes_min_samples: int = Field(
        default=3,
        ge=1,
        description="Emerging themes: HDBSCAN min_samples (higher: fewer, denser themes; more "
        "verbatims left as noise).",
    )
    themes_reduce_dims: int = Field(
        default=30,
        ge=0,
        le=384,
        description="Emerging themes: PCA dimensions the normalised embeddings are reduced to "
        "before clustering (0: no reduction). See docs/BENCHMARKS.md.",
    )
    themes_max_topic_confidence: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Emerging themes: verbatims with no taxonomy topic, or whose topics all have a "
        "confidence below this, are clustered (1.0: every verbatim).",
    )
    themes_max_documents: int = Field(
        default=5000,
        ge=10,
        description="Emerging themes: most recent verbatims clustered per run (the newest first).",
    )
    themes_match_distance: float = Field(
        default=0.02,
        ge=0.0,
        le=2.0,
        description="Emerging themes: cosine distance between the centroids of a theme and of a theme "
        "of the previous run under which they are the same theme (it keeps its key: one "
        "alert per incident). e5 centroids of unrelated themes are about 0.04 apart.",
    )
    themes_top_terms: int = Field(
        default=8,
        ge=1,
        le=30,
        description="Emerging themes: distinctive words or word pairs (class-based TF-IDF) naming a theme.",
    )
    themes_alert_growth: float = Field(
        default=2.0,
        ge=1.0,
        description="Emerging themes: a theme whose volume is at least this many times its volume in "
        "the previous period raises an alert (through LISTENING_ROUTING__ALERT_TARGETS).",
    )
    themes_alert_min_count: int = Field(
        default=10,
        ge=1,
        description="Emerging themes: fewest verbatims in the period for a growing theme to raise an alert.",
    )
