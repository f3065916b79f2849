"""The dashboard lists no privacy tombstone but still counts it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard_seed import seed
from sqlalchemy import select

from dashboards import queries
from listening.gdpr.forget import forget, resolve_subject
from listening.queries.sql import Filters
from listening.settings import get_settings
from listening.store import Document, Store, Ticket


def _filters(**kw: Any) -> Filters:
    today = datetime.now(UTC).date()
    return Filters(start=today - timedelta(days=60), end=today, **kw)


def test_dashboard_hides_erased_verbatims_and_keeps_counts(store: Store) -> None:
    seed(store)
    url = store.url
    kpis = queries.overview_kpis(url, _filters())
    heat = queries.topic_sentiment(url, _filters())["n"].sum()
    with store.session() as s:
        doc_id = s.scalar(select(Ticket.document_id).order_by(Ticket.id).limit(1))
        word = next(w for w in (s.get(Document, doc_id).text or "").split() if len(w) > 4)
    latest = queries.latest_verbatims(url, _filters(), limit=100)
    assert doc_id in set(latest["id"])
    hits = len(queries.search(url, word, _filters(), limit=100))
    tickets = queries.ticket_list(url, (), (), (), datetime.now(UTC), 2.0, 100)
    assert doc_id in set(tickets["id"].map(lambda t: _ticket_doc(store, t)))

    forget(store, get_settings(), resolve_subject(get_settings(), document=doc_id))
    queries.clear_caches()
    assert doc_id not in set(queries.latest_verbatims(url, _filters(), limit=100)["id"])
    assert len(queries.search(url, word, _filters(), limit=100)) == hits - 1
    tickets = queries.ticket_list(url, (), (), (), datetime.now(UTC), 2.0, 100)
    assert doc_id not in set(tickets["id"].map(lambda t: _ticket_doc(store, t)))
    # charts still count it
    assert queries.overview_kpis(url, _filters()) == kpis
    assert queries.topic_sentiment(url, _filters())["n"].sum() == heat


def _ticket_doc(store: Store, ticket_id: int) -> int:
    with store.session() as s:
        return int(s.scalar(select(Ticket.document_id).where(Ticket.id == int(ticket_id))) or 0)
