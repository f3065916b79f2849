"""Export verbatims with their latest analysis (pandas: CSV, JSON Lines, Parquet)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from listening.errors import ConfigError
from listening.store import Analysis, Brand, Document, Source, Store

FORMATS = ("csv", "jsonl", "parquet")
COLUMNS = [
    "id",
    "source",
    "source_kind",
    "brand",
    "external_id",
    "url",
    "thread_id",
    "author",
    "title",
    "text",
    "rating",
    "published_at",
    "collected_at",
    "language",
    "near_duplicate_of",
    "model_version",
    "sentiment",
    "sentiment_score",
    "topics",
    "intent",
    "urgency",
    "actionable",
]


def documents_frame(store: Store) -> pd.DataFrame:
    """One row per verbatim, joined with its most recent analysis (if any)."""
    latest = (
        select(Analysis.document_id, func.max(Analysis.id).label("analysis_id"))
        .group_by(Analysis.document_id)
        .subquery()
    )
    query = (
        select(
            Document.id,
            Source.name.label("source"),
            Source.kind.label("source_kind"),
            Brand.name.label("brand"),
            Document.external_id,
            Document.url,
            Document.thread_id,
            Document.author,
            Document.title,
            Document.text,
            Document.rating,
            Document.published_at,
            Document.collected_at,
            Document.language,
            Document.near_duplicate_of,
            Analysis.model_version,
            Analysis.sentiment,
            Analysis.sentiment_score,
            Analysis.topics,
            Analysis.intent,
            Analysis.urgency,
            Analysis.actionable,
        )
        .join(Source, Source.id == Document.source_id)
        .outerjoin(Brand, Brand.id == Document.brand_id)
        .outerjoin(latest, latest.c.document_id == Document.id)
        .outerjoin(Analysis, Analysis.id == latest.c.analysis_id)
        .where(Document.erased_at.is_(None))  # privacy tombstones hold no verbatim
        .order_by(Document.id)
    )
    with store.session() as session:
        rows = session.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS)


def export_documents(store: Store, output: Path, fmt: str) -> int:
    """Write the verbatims to ``output`` in ``fmt``; returns the row count."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}", f"valid formats: {', '.join(FORMATS)}")
    frame = documents_frame(store)
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet" or fmt == "csv":
        # nested JSON columns become JSON strings so every tool can read them
        for col in ("topics", "urgency"):
            frame[col] = frame[col].map(
                lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
            )
    if fmt == "csv":
        frame.to_csv(output, index=False)
    elif fmt == "jsonl":
        frame.to_json(output, orient="records", lines=True, force_ascii=False, date_format="iso")
    else:
        frame.to_parquet(output, index=False)
    return len(frame)
