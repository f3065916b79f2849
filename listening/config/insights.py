"""Settings group ``insights``: Insights: emerging themes, reports and digests (docs/INSIGHTS.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator


class InsightsSettings(BaseModel):
    """``LISTENING_INSIGHTS__*``: Insights: emerging themes, reports and digests (docs/INSIGHTS.md)."""

    # ------------------------------------------------------------------ reports
    report_language: Literal["fr", "en"] = Field(
        default="fr", description="Language of `listening report` and of the digests: fr or en."
    )
    report_top_topics: int = Field(
        default=8, ge=1, le=50, description="Journey topics listed in a report, by volume."
    )
    report_verbatims: int = Field(
        default=5,
        ge=0,
        le=50,
        description="Representative verbatims quoted in a report (one per leading topic first).",
    )
    report_verbatim_max_chars: int = Field(
        default=400,
        ge=40,
        description="A quoted verbatim longer than this is cut at a word boundary and marked with …",
    )
    report_centrality: Literal["auto", "embeddings", "tfidf"] = Field(
        default="auto",
        description=(
            "How representative verbatims are chosen: closeness to the centroid of the NLP "
            "encoder's embeddings (embeddings), of TF-IDF vectors (tfidf), or embeddings with "
            "TF-IDF when the encoder cannot load (auto)."
        ),
    )
    report_themes: int = Field(
        default=5,
        ge=0,
        le=50,
        description="Emerging themes listed in a report (when themes exist).",
    )
    # ------------------------------------------------------------------ digests
    digest_recipients: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            'Digest e-mail addresses per audience, keys "team:<team>" or "role:<role>", e.g. '
            '{"team:support": ["sav@example.fr"], "role:marketing": ["cmo@example.fr"]}; '
            "empty: no digest is sent."
        ),
    )
    digest_brand: str = Field(
        default="", description="Brand the digests are about (empty: the own brand)."
    )
    digest_weekday: int = Field(
        default=0,
        ge=0,
        le=6,
        description="Day the weekly digest is sent (0 = Monday ... 6 = Sunday, in `timezone`).",
    )
    digest_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        description="Hour (in `timezone`) from which the weekly digest is sent.",
    )
    digest_pdf: bool = Field(
        default=True, description="Attach the PDF report to the digest e-mail."
    )
    digest_retry_minutes: float = Field(
        default=60.0,
        gt=0,
        description="A digest left failed or half-sent is tried again after this many minutes.",
    )

    @field_validator("digest_recipients")
    @classmethod
    def _audiences(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, addresses in value.items():
            kind, _, name = key.partition(":")
            if kind not in ("team", "role") or not name.strip():
                raise ValueError(
                    f'digest_recipients key {key!r} must be "team:<team>" or "role:<role>"'
                )
            bad = [a for a in addresses if "@" not in a]
            if bad or not addresses:
                raise ValueError(
                    f"digest_recipients[{key!r}] needs e-mail addresses, got {addresses!r}"
                )
        return value
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
    themes_interval_hours: float = Field(
        default=24.0,
        ge=0.0,
        description="Emerging themes: `listening serve` clusters the last themes_days days once "
        "this many hours after the previous run (so fast-growing themes alert by themselves); "
        "0: only when `listening themes` is run.",
    )
    themes_alert_min_count: int = Field(
        default=10,
        ge=1,
        description="Emerging themes: fewest verbatims in the period for a growing theme to raise an alert.",
    )
