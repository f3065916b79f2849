"""All data the dashboard reads, cached with a TTL.

The queries themselves live in :mod:`listening.queries.reads` (shared with reports
and the API); here each is wrapped in ``st.cache_data`` for
``dashboard.cache_ttl_seconds``. Every function takes the database URL first, so the
cache is per store; the engines are one read-only and one read-write :class:`Store`
per URL.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar, cast

import streamlit as st

from listening.queries import reads
from listening.queries.reads import fts5_query, now_utc, read_store, write_store
from listening.settings import get_settings

_SETTINGS = get_settings().dashboard
TTL = _SETTINGS.cache_ttl_seconds
MAX_ENTRIES = _SETTINGS.cache_max_entries

F = TypeVar("F", bound=Callable[..., Any])


def _cached(func: F) -> F:
    wrapped = st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)(func)
    return cast(F, wrapped)


def assignable_users(url: str) -> list[str]:
    """Usernames a ticket may be assigned to: the active accounts whose role handles tickets
    (never cached: an account disabled a second ago is no longer offered); in demo mode,
    the demo user."""
    from listening import accounts

    with read_store(url).session() as session:
        if not accounts.has_users(session):
            return [accounts.DEMO_USER]
        return accounts.active_usernames(session, able_to="tickets")


def clear_caches() -> None:
    """Forget cached results (after an action wrote to the store)."""
    st.cache_data.clear()


schema_problem = _cached(reads.schema_problem)
brands = _cached(reads.brands)
sources = _cached(reads.sources)
has_documents = _cached(reads.has_documents)
has_table = _cached(reads.has_table)
document_counts = _cached(reads.document_counts)
coverage = _cached(reads.coverage)
topic_counts = _cached(reads.topic_counts)
# derived from the two cached aggregates (pandas only): one SQL run per aggregate and page
overview_kpis = partial(reads.overview_kpis, counts=document_counts)
volume_by_day = partial(reads.volume_by_day, counts=document_counts)
sentiment_by_day = partial(reads.sentiment_by_day, counts=document_counts)
topic_sentiment = partial(reads.topic_sentiment, counts=topic_counts)
topic_spikes = partial(reads.topic_spikes, counts=topic_counts)
criterion_matrix = partial(reads.criterion_matrix, counts=topic_counts)
criterion_trend = partial(reads.criterion_trend, counts=topic_counts)
open_alerts = _cached(reads.open_alerts)
latest_verbatims = _cached(reads.latest_verbatims)
topic_verbatims = _cached(reads.topic_verbatims)
search = _cached(reads.search)
ticket_summary = _cached(reads.ticket_summary)
ticket_list = _cached(reads.ticket_list)
ticket_reply_actions = _cached(reads.ticket_reply_actions)
ticket_teams = _cached(reads.ticket_teams)
ticket_detail = _cached(reads.ticket_detail)
source_health = _cached(reads.source_health)
work_queues = _cached(reads.work_queues)

__all__ = [
    "assignable_users",
    "brands",
    "clear_caches",
    "coverage",
    "criterion_matrix",
    "criterion_trend",
    "document_counts",
    "fts5_query",
    "has_documents",
    "has_table",
    "latest_verbatims",
    "now_utc",
    "open_alerts",
    "overview_kpis",
    "read_store",
    "schema_problem",
    "search",
    "sentiment_by_day",
    "source_health",
    "sources",
    "ticket_detail",
    "ticket_list",
    "ticket_reply_actions",
    "ticket_summary",
    "ticket_teams",
    "topic_counts",
    "topic_sentiment",
    "topic_spikes",
    "topic_verbatims",
    "volume_by_day",
    "work_queues",
    "write_store",
]
