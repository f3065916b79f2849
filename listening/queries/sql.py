"""SQL fragments shared by the dashboard queries: filters as bound parameters, day buckets.

Nothing here touches a database: it builds SQL text whose every user-chosen value is
a bound parameter (never formatted into the SQL string).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Date, TextClause, bindparam, text

from listening.store.models import UTCDateTime
from listening.store.timezone import day_start_utc, local_day_sql

SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
JOURNEY_TOPICS: tuple[str, ...] = (
    "delivery",
    "stock",
    "customer_service",
    "price",
    "product",
    "returns",
    "payment",
    "website",
)
TICKET_STATUSES: tuple[str, ...] = ("new", "assigned", "answered", "closed", "ignored")
OPEN_STATUSES: tuple[str, ...] = ("new", "assigned", "answered")
PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")

# latest analysis of document d (analyses are kept per model version; the newest wins)
LATEST_ANALYSIS = "a.id = (SELECT max(a2.id) FROM analyses AS a2 WHERE a2.document_id = d.id)"


@dataclass(frozen=True)
class Filters:
    """What the user chose; ``start`` and ``end`` are whole calendar days (inclusive) in ``zone``.

    Aggregates are bucketed by day in the store's zone (the daily rollups are; the read
    functions set ``zone`` to it); timestamps of single verbatims, tickets and runs are
    shown in the settings' time zone.
    """

    start: date
    end: date
    brand_ids: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    source_ids: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    undated: bool = False  # also verbatims without a publication date ("all time")
    zone: str = "UTC"

    @property
    def start_utc(self) -> datetime:
        """Inclusive start: local midnight of the first day, in UTC."""
        return day_start_utc(self.start, self.zone)

    @property
    def end_utc(self) -> datetime:
        """Exclusive end: local midnight after the last day, in UTC."""
        return day_start_utc(self.end + timedelta(days=1), self.zone)


@dataclass
class Where:
    """A WHERE clause under construction, with its parameters and expanding lists."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    lists: set[str] = field(default_factory=set)
    datetimes: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)

    def add(self, clause: str, **params: Any) -> None:
        self.clauses.append(clause)
        for key, value in params.items():
            self.params[key] = value
            if isinstance(value, list | tuple):
                self.lists.add(key)
                self.params[key] = list(value)
            elif isinstance(value, datetime):
                self.datetimes.add(key)
            elif isinstance(value, date):
                self.dates.add(key)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1 = 1"

    def statement(self, sql: str, **extra: Any) -> tuple[TextClause, dict[str, Any]]:
        """``sql`` with ``{where}`` replaced, bound parameters typed (lists expand, dates UTC)."""
        params = dict(self.params)
        lists = set(self.lists)
        datetimes = set(self.datetimes)
        dates = set(self.dates)
        for key, value in extra.items():
            params[key] = value
            if isinstance(value, list | tuple):
                params[key] = list(value)
                lists.add(key)
            elif isinstance(value, datetime):
                datetimes.add(key)
            elif isinstance(value, date):
                dates.add(key)
        stmt = text(sql.replace("{where}", self.sql()))
        binds: list[BindParameter[Any]] = [bindparam(k, expanding=True) for k in sorted(lists)]
        binds += [bindparam(k, type_=UTCDateTime()) for k in sorted(datetimes)]
        binds += [bindparam(k, type_=Date()) for k in sorted(dates)]
        if binds:
            stmt = stmt.bindparams(*binds)
        return stmt, params


def topic_where(f: Filters, alias: str = "t") -> Where:
    """Filters on analysis_topics ``alias``: topic-level sentiment, documents joined only if needed."""
    w = Where()
    w.add(f"{alias}.published_at >= :f_start AND {alias}.published_at < :f_end",
          f_start=f.start_utc, f_end=f.end_utc)
    if f.brand_ids:
        w.add(f"{alias}.brand_id IN :f_brands", f_brands=f.brand_ids)
    if f.topics:
        w.add(f"{alias}.topic IN :f_topics", f_topics=f.topics)
    if f.sentiments:
        w.add(f"{alias}.sentiment IN :f_sents", f_sents=f.sentiments)
    doc_filters = []
    if f.source_ids:
        doc_filters.append("d_t.source_id IN :f_sources")
        w.params["f_sources"] = list(f.source_ids)
        w.lists.add("f_sources")
    if f.kinds:
        doc_filters.append("d_t.source_id IN (SELECT s_k.id FROM sources AS s_k WHERE s_k.kind IN :f_kinds)")
        w.params["f_kinds"] = list(f.kinds)
        w.lists.add("f_kinds")
    if f.languages:
        doc_filters.append("d_t.language IN :f_langs")
        w.params["f_langs"] = list(f.languages)
        w.lists.add("f_langs")
    if doc_filters:
        w.clauses.append(f"EXISTS (SELECT 1 FROM documents AS d_t WHERE d_t.id = {alias}.document_id "
                         f"AND {' AND '.join(doc_filters)})")
    return w


def day_expr(dialect: str, column: str) -> str:
    """SQL giving the calendar day ``YYYY-MM-DD`` of the timestamp ``column`` in the store's zone."""
    day = local_day_sql(dialect, column)
    return f"to_char({day}, 'YYYY-MM-DD')" if dialect == "postgresql" else day


def week_of_day_expr(dialect: str, column: str) -> str:
    """SQL giving the Monday (``YYYY-MM-DD``) of the week of the DATE ``column``."""
    if dialect == "postgresql":
        return f"to_char(date_trunc('week', {column}), 'YYYY-MM-DD')"
    return f"date({column}, 'weekday 0', '-6 days')"  # next Sunday (or today), back to Monday


def rollup_where(f: Filters, alias: str, sentiments: bool = True, topics: bool = False) -> Where:
    """Filters on a daily rollup (``daily_documents`` or, with ``topics``, ``daily_topics``)."""
    w = Where()
    w.add(f"{alias}.day >= :d_start AND {alias}.day <= :d_end", d_start=f.start, d_end=f.end)
    if f.brand_ids:
        w.add(f"{alias}.brand_id IN :f_brands", f_brands=f.brand_ids)
    if f.sentiments and sentiments:
        w.add(f"{alias}.sentiment IN :f_sents", f_sents=f.sentiments)
    if topics and f.topics:
        w.add(f"{alias}.topic IN :f_topics", f_topics=f.topics)
    if not topics:
        if f.source_ids:
            w.add(f"{alias}.source_id IN :f_sources", f_sources=f.source_ids)
        if f.kinds:
            w.add(f"{alias}.source_id IN (SELECT s_k.id FROM sources AS s_k WHERE s_k.kind IN :f_kinds)",
                  f_kinds=f.kinds)
        if f.languages:
            w.add(f"{alias}.language IN :f_langs", f_langs=f.languages)
    return w


def topic_rollup_usable(f: Filters) -> bool:
    """daily_topics has no source or language: those filters need analysis_topics."""
    return not (f.kinds or f.source_ids or f.languages)


def facts_where(f: Filters, alias: str = "f") -> Where:
    """Filters on document_facts ``alias`` (one narrow row per document, latest sentiment)."""
    w = Where()
    undated = f" OR {alias}.published_at IS NULL" if f.undated else ""
    w.add(f"({alias}.published_at >= :f_start AND {alias}.published_at < :f_end{undated})",
          f_start=f.start_utc, f_end=f.end_utc)
    if f.brand_ids:
        w.add(f"{alias}.brand_id IN :f_brands", f_brands=f.brand_ids)
    if f.source_ids:
        w.add(f"{alias}.source_id IN :f_sources", f_sources=f.source_ids)
    if f.kinds:
        w.add(f"{alias}.source_id IN (SELECT s_k.id FROM sources AS s_k WHERE s_k.kind IN :f_kinds)",
              f_kinds=f.kinds)
    if f.languages:
        w.add(f"{alias}.language IN :f_langs", f_langs=f.languages)
    if f.sentiments:
        w.add(f"{alias}.sentiment IN :f_sents", f_sents=f.sentiments)
    if f.topics:
        w.add(f"{alias}.document_id IN (SELECT t_f.document_id FROM analysis_topics AS t_f "
              "WHERE t_f.topic IN :f_topics AND (t_f.published_at >= :f_start "
              f"AND t_f.published_at < :f_end{undated.replace(alias + '.', 't_f.')}))", f_topics=f.topics)
    return w


def fts5_query(query: str) -> str:
    """User words as an FTS5 query: every word must match (a trailing * keeps prefix search)."""
    terms = []
    # control characters (NUL ends an SQLite string: "unterminated string") are never words
    query = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in query)
    for word in query.split():
        prefix = word.endswith("*")
        word = word.rstrip("*").replace('"', '""')
        if word:
            terms.append(f'"{word}"' + ("*" if prefix else ""))
    return " ".join(terms)


def text_match(dialect: str, w: Where, query: str, alias: str = "f") -> bool:
    """Add "every word of ``query`` is in the verbatim" on document_facts ``alias`` to ``w``.

    SQLite matches the FTS5 index, PostgreSQL the ``simple`` text-search expression index.
    False (``w`` unchanged) when ``query`` holds no word.
    """
    query = query.strip()
    if dialect == "postgresql":
        if not query.replace("*", "").strip():
            return False
        w.add(f"{alias}.document_id IN (SELECT d_s.id FROM documents AS d_s WHERE "
              "to_tsvector('simple', coalesce(d_s.title, '') || ' ' || d_s.text) @@ "
              "plainto_tsquery('simple', :q))", q=query.replace("*", " "))
        return True
    match = fts5_query(query)
    if not match:
        return False
    w.add(f"{alias}.document_id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH :q)",
          q=match)
    return True
