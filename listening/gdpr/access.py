"""Right of access: everything the store holds about one author, as one JSON document.

``listening privacy export --handle NAME`` gathers the author's verbatims (with source and
brand), every analysis of them, the tickets they opened with their history, the
corrections made on them, and the erasure status (tombstones left and the erasure records
whose salted subject hash matches).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from listening.gdpr.forget import Subject, list_erasures, subject_documents
from listening.settings import Settings
from listening.store import Analysis, Correction, Document, Store, Ticket, TicketEvent
from listening.store.models import utcnow

FORMAT = "listening-subject-export/1"


def _document(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "source": doc.source.name if doc.source else None,
        "source_kind": doc.source.kind if doc.source else None,
        "brand": doc.brand.name if doc.brand else None,
        "external_id": doc.external_id,
        "url": doc.url,
        "thread_id": doc.thread_id,
        "parent_id": doc.parent_id,
        "author": doc.author,
        "title": doc.title,
        "text": doc.text,
        "rating": doc.rating,
        "published_at": doc.published_at,
        "collected_at": doc.collected_at,
        "language": doc.language,
        "raw": doc.raw,
        "erased_at": doc.erased_at,
    }


def _analysis(a: Analysis) -> dict[str, Any]:
    return {
        "id": a.id,
        "document_id": a.document_id,
        "model_version": a.model_version,
        "language": a.language,
        "sentiment": a.sentiment,
        "sentiment_score": a.sentiment_score,
        "topics": a.topics,
        "intent": a.intent,
        "urgency": a.urgency,
        "actionable": a.actionable,
        "created_at": a.created_at,
    }


def _ticket(t: Ticket, events: list[TicketEvent]) -> dict[str, Any]:
    return {
        "id": t.id,
        "document_id": t.document_id,
        "team": t.team,
        "priority": t.priority,
        "status": t.status,
        "assignee": t.assignee,
        "rule": t.rule,
        "tags": t.tags,
        "sla_due_at": t.sla_due_at,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "events": [
            {"at": e.at, "actor": e.actor, "action": e.action, "details": e.details} for e in events
        ],
    }


def _correction(c: Correction) -> dict[str, Any]:
    return {
        "id": c.id,
        "document_id": c.document_id,
        "text": c.text,
        "actor": c.actor,
        "created_at": c.created_at,
        "origin": c.origin,
        "topics": c.topics,
        "topics_added": c.topics_added,
        "topics_removed": c.topics_removed,
        "sentiment": c.sentiment,
        "intent": c.intent,
        "actionable": c.actionable,
        "note": c.note,
    }


def subject_export(store: Store, settings: Settings, subject: Subject) -> dict[str, Any]:
    """Everything held about ``subject`` (read only)."""
    with store.session() as session:
        ids = subject_documents(session, subject, include_erased=True)
        docs = list(
            session.scalars(select(Document).where(Document.id.in_(ids)).order_by(Document.id))
        )
        analyses = session.scalars(
            select(Analysis).where(Analysis.document_id.in_(ids)).order_by(Analysis.id)
        )
        tickets = list(
            session.scalars(select(Ticket).where(Ticket.document_id.in_(ids)).order_by(Ticket.id))
        )
        events: dict[int, list[TicketEvent]] = {t.id: [] for t in tickets}
        if tickets:
            for event in session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id.in_(list(events)))
                .order_by(TicketEvent.id)
            ):
                events[event.ticket_id].append(event)
        corrections = session.scalars(
            select(Correction).where(Correction.document_id.in_(ids)).order_by(Correction.id)
        )
        salt = settings.collection.author_salt
        digests = {subject.digest(salt)} | {
            Subject("document", document_id=i).digest(salt) for i in ids
        }
        records = [r for r in list_erasures(session, limit=10_000) if r["subject_hash"] in digests]
        out = {
            "format": FORMAT,
            "exported_at": utcnow(),
            "subject": {
                "scope": subject.scope,
                "pseudonym": subject.pseudonym,
                "document_id": subject.document_id,
            },
            "documents": [_document(d) for d in docs],
            "analyses": [_analysis(a) for a in analyses],
            "tickets": [_ticket(t, events[t.id]) for t in tickets],
            "corrections": [_correction(c) for c in corrections],
            "erasure": {
                # tombstones keep no author: the erasure records (matched by the salted
                # subject hash) say how many were erased
                "erased_documents": sum(int(r["documents"]) for r in records),
                "held_documents": sum(1 for d in docs if d.erased_at is None),
                "records": records,
            },
        }
    return out


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def dumps(data: dict[str, Any], indent: int | None = 1) -> str:
    return json.dumps(data, ensure_ascii=False, indent=indent, default=_default)


def write_export(data: dict[str, Any], path: Path) -> None:
    """Write the export (created with owner-only permissions: it is personal data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.touch(mode=0o600)
    temporary.write_text(dumps(data) + "\n", encoding="utf-8")
    temporary.replace(path)
