"""Erase verbatims everywhere they live, in the caller's transaction.

:func:`erase_documents` is the one engine behind ``listening privacy forget`` and the
retention job. For each document it scrubs every copy of its words first:

- ``analyses.topics``: evidence spans (quoted text) dropped; topic, sentiment and
  confidences kept, so ``analysis_topics`` and the daily rollups keep their counts;
- ``tickets.conversation_key`` (holds the author pseudonym) cleared; the ticket's
  ``ticket_events.details`` (notes, reply texts) emptied; an open ticket is closed (nothing
  is left to answer) with an ``erased`` event by ``privacy``;
- ``notifications.payload`` of its tickets reduced to the event and ids (a pending one is
  marked dead, never delivered); alert payloads lose the verbatim from ``top_verbatims``;
- ``alerts.details.top_verbatims``: the verbatim's excerpt removed;
- ``corrections``: deleted (they hold a text snapshot), including snapshots left without a
  document that have exactly its text;
- ``documents.near_duplicate_of`` links to it: cleared; other verbatims' ``parent_id`` /
  ``thread_id`` naming its external id point to its tombstone key instead.

Then the document itself, by ``action``:

- ``anonymise`` (tombstone): text blanked, title, URL, author, thread, parent and raw
  metadata cleared, external id and content hash replaced by salted digests (the same
  verbatim collected again is recognised and not stored again), ``erased_at`` set; its
  source, brand, date, language, rating and analyses stay, so every count stays right;
- ``delete``: the row is deleted (its analyses, tickets, routing decision and derived
  rows go with it by ``ON DELETE CASCADE``; the counts drop).

Full-text indexes follow by themselves (SQLite FTS5 triggers, PostgreSQL expression
index); :func:`purge_after_commit` then merges the FTS5 segments and checkpoints the
SQLite WAL so no deleted text stays in the file (the writes run with
``PRAGMA secure_delete``), and removes the texts' vectors from the embedding caches.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from listening.privacy import ERASED_PREFIX, tombstone_key
from listening.routing.inbox import OPEN_STATUSES, record_event
from listening.routing.models import Alert, Notification
from listening.store import Store
from listening.store.models import Analysis, Correction, Document, Ticket, TicketEvent

log = logging.getLogger(__name__)

ACTIONS = ("anonymise", "delete")
PRIVACY_ACTOR = "privacy"
# analysis topic keys kept on a tombstone (labels and numbers; never quoted text)
_TOPIC_KEYS = ("topic", "sentiment", "confidence", "sentiment_confidence", "score", "pattern")


def secure_delete(session: Session) -> None:
    """On SQLite, overwrite deleted content with zeros for the rest of the transaction."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA secure_delete = ON")


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _scrub_topics(topics: Any) -> list[Any]:
    out = []
    for topic in topics or []:
        if isinstance(topic, dict):
            out.append({k: topic[k] for k in _TOPIC_KEYS if k in topic})
    return out


def _filter_top(items: Any, ids: set[int]) -> tuple[list[Any], int]:
    kept = [v for v in items or [] if not (isinstance(v, dict) and v.get("document_id") in ids)]
    return kept, len(items or []) - len(kept)


def _scrub_dependents(
    session: Session, ids: list[int], texts: set[str], now: datetime
) -> dict[str, int]:
    """Remove every copy of the documents' words outside ``documents``; counts per table."""
    counts: dict[str, int] = {}
    id_set = set(ids)
    n = 0
    for analysis in session.scalars(select(Analysis).where(Analysis.document_id.in_(ids))):
        scrubbed = _scrub_topics(analysis.topics)
        if scrubbed != analysis.topics:
            analysis.topics = scrubbed
        n += 1
    counts["analyses"] = n
    tickets = list(session.scalars(select(Ticket).where(Ticket.document_id.in_(ids))))
    ticket_ids = [t.id for t in tickets]
    for ticket in tickets:
        ticket.conversation_key = None
    counts["tickets"] = len(tickets)
    events = 0
    if ticket_ids:
        for event in session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids))
        ):
            event.details = {}
            events += 1
    counts["ticket_events"] = events
    closed = 0
    for ticket in tickets:  # nothing left to answer: open tickets are closed, with the reason
        if ticket.status in OPEN_STATUSES:
            previous = ticket.status
            ticket.status = "closed"
            record_event(session, ticket, PRIVACY_ACTOR, "erased", {"previous": previous}, at=now)
            closed += 1
    counts["tickets_closed"] = closed
    notes = 0
    mine = Notification.ticket_id.in_(ticket_ids) if ticket_ids else Notification.id < 0
    candidates = select(Notification).where(
        or_(mine, Notification.ticket_id.is_(None), Notification.alert_id.is_not(None))
    )
    for row in session.scalars(candidates):
        payload = dict(row.payload or {})
        about = payload.get("ticket") if isinstance(payload.get("ticket"), dict) else None
        alert = payload.get("alert") if isinstance(payload.get("alert"), dict) else None
        if row.ticket_id in ticket_ids or (about and about.get("document_id") in id_set):
            row.payload = {
                "event": payload.get("event"),
                "erased": True,
                "ticket": {
                    "id": row.ticket_id,
                    "document_id": about.get("document_id") if about else None,
                },
            }
            if row.status == "pending":
                row.status = "dead"
                row.last_error = "verbatim erased (privacy) before delivery"
            notes += 1
        elif alert:
            kept, dropped = _filter_top(alert.get("top_verbatims"), id_set)
            if dropped:
                row.payload = {**payload, "alert": {**alert, "top_verbatims": kept}}
                notes += 1
    counts["notifications"] = notes
    alerts = 0
    for alert_row in session.scalars(select(Alert)):
        details = dict(alert_row.details or {})
        kept, dropped = _filter_top(details.get("top_verbatims"), id_set)
        if dropped:
            alert_row.details = {**details, "top_verbatims": kept}
            alerts += 1
    counts["alerts"] = alerts
    orphan = (
        Correction.document_id.is_(None) & Correction.text.in_(sorted(texts)) if texts else None
    )
    where = (
        Correction.document_id.in_(ids)
        if orphan is None
        else or_(Correction.document_id.in_(ids), orphan)
    )
    counts["corrections"] = _rows(session.execute(delete(Correction).where(where)))
    counts["near_duplicate_links"] = _rows(
        session.execute(
            update(Document)
            .where(Document.near_duplicate_of.in_(ids), Document.id.not_in(ids))
            .values(near_duplicate_of=None)
        )
    )
    return counts


def _relink_replies(session: Session, ids: list[int], salt: str) -> int:
    """Other verbatims' ``parent_id`` / ``thread_id`` naming an erased verbatim's external id
    (often a URL with the author's handle) point to its tombstone key instead: threads stay
    grouped, the id is gone. One query finds them all (a batch, not one scan per verbatim)."""
    rows = session.execute(
        select(Document.source_id, Document.external_id).where(
            Document.id.in_(ids), Document.erased_at.is_(None)
        )
    ).all()
    if not rows:
        return 0
    keys = {(src, ext): tombstone_key(salt, src, ext) for src, ext in rows}
    olds = sorted({ext for _src, ext in rows})
    changed = 0
    for doc in session.scalars(
        select(Document).where(
            Document.source_id.in_(sorted({src for src, _ext in rows})),
            or_(Document.parent_id.in_(olds), Document.thread_id.in_(olds)),
            Document.id.not_in(ids),
        )
    ):
        for column in ("parent_id", "thread_id"):
            key = keys.get((doc.source_id, getattr(doc, column)))
            if key is not None:
                setattr(doc, column, key)
                changed += 1
    return changed


def erase_documents(
    session: Session,
    doc_ids: Iterable[int],
    *,
    salt: str,
    action: str = "anonymise",
    now: datetime,
) -> tuple[dict[str, int], set[str]]:
    """Erase the documents (in the caller's transaction); returns (counts per table, texts).

    The texts are what :func:`purge_after_commit` removes from the embedding caches."""
    if action not in ACTIONS:
        raise ValueError(action)
    ids = sorted(set(doc_ids))
    if not ids:
        return {"documents": 0}, set()
    secure_delete(session)
    texts: set[str] = set()
    rows = session.execute(
        select(Document.id, Document.text, Document.title).where(Document.id.in_(ids))
    ).all()
    for _id, text, title in rows:
        texts.add(text)
        if title:
            texts.add(title)
    counts = _scrub_dependents(session, ids, texts, now)
    counts["reply_links"] = _relink_replies(session, ids, salt)
    if action == "delete":
        counts["documents_deleted"] = _rows(
            session.execute(delete(Document).where(Document.id.in_(ids)))
        )
        counts["documents"] = counts["documents_deleted"]
        return counts, texts
    n = 0
    for doc in session.scalars(select(Document).where(Document.id.in_(ids))):
        if doc.erased_at is None:
            doc.external_id = tombstone_key(salt, doc.source_id, doc.external_id)
        doc.text = ""
        doc.title = None
        doc.url = None
        doc.author = None
        doc.thread_id = None
        doc.parent_id = None
        doc.raw = {}
        doc.near_duplicate_of = None
        doc.content_hash = hashlib.sha256(f"{ERASED_PREFIX}{doc.id}".encode()).hexdigest()
        doc.erased_at = doc.erased_at or now  # updated_at unchanged: never re-analysed
        n += 1
    counts["documents"] = n
    return counts, texts


def cache_files(data_dir: str) -> list[Path]:
    folder = Path(data_dir) / "cache"
    return sorted(folder.glob("*.sqlite")) if folder.is_dir() else []


def purge_embedding_caches(data_dir: str, texts: set[str]) -> int:
    """Delete the cached vectors of ``texts`` (every model namespace); returns rows removed."""
    files = cache_files(data_dir)
    if not files or not texts:
        return 0
    from nlp.encoder import chunk_text, text_key

    keys: set[str] = set()
    for text in texts:
        keys.add(text_key(text))
        for size in (1200, 512):  # the encoders' chunk sizes
            keys.update(text_key(chunk) for chunk in chunk_text(text, size))
    removed = 0
    for path in files:
        conn = sqlite3.connect(path, timeout=120)
        try:
            conn.execute("PRAGMA secure_delete = ON")
            marks = ",".join("?" * len(keys))
            cur = conn.execute(f"DELETE FROM vec WHERE substr(key, 14) IN ({marks})", sorted(keys))
            removed += cur.rowcount or 0
            conn.commit()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as exc:  # not an embedding cache
            log.warning("embedding cache %s not purged: %s", path, exc)
        finally:
            conn.close()
    return removed


def purge_after_commit(store: Store, data_dir: str, texts: set[str]) -> dict[str, int]:
    """Leave no erased text behind in index segments, the SQLite WAL or the caches."""
    out = {"embedding_cache": purge_embedding_caches(data_dir, texts)}
    if store.engine.dialect.name == "sqlite":
        with store.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
            has_fts = conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE name = 'documents_fts'"
            ).scalar()
            if has_fts:
                conn.exec_driver_sql(
                    "INSERT INTO documents_fts (documents_fts) VALUES ('optimize')"
                )
        raw = store.engine.raw_connection()  # outside any transaction (checkpoints refuse one)
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        except sqlite3.OperationalError as exc:  # a reader holds the WAL: next checkpoint
            log.warning("WAL checkpoint after erasure postponed: %s", exc)
        finally:
            raw.close()
    from listening.collection.ingest import reset_near_duplicate_indexes

    reset_near_duplicate_indexes()
    return out


def erased_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(Document.erased_at.is_not(None))) or 0)
