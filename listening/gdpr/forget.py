"""Right to erasure: forget one person (every verbatim of an author) or one verbatim.

A subject is named by its author pseudonym (``a_…``, as stored), by a raw handle or
e-mail address (pseudonymised with ``collection.author_salt`` exactly as ingestion does),
or by a document id. :func:`forget` erases the subject's verbatims everywhere
(:mod:`listening.gdpr.erase`), records one ``erasures`` row (who ran it, when, counts per
table, a salted hash of the subject; no name, no text) and purges indexes and caches.
``dry_run`` computes the same counts in a transaction that is rolled back.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listening.errors import PrivacyError
from listening.gdpr.erase import erase_documents, purge_after_commit
from listening.gdpr.models import Erasure
from listening.privacy import pseudonymize, salted
from listening.routing.models import RoutingDecision
from listening.settings import Settings
from listening.store import Document, Store, Ticket
from listening.store.models import utcnow

PSEUDONYM_RE = re.compile(r"^a_[0-9a-f]{16}$")


@dataclass(frozen=True)
class Subject:
    """Whose data a request is about: an author pseudonym or one document."""

    scope: str  # author | handle | document
    pseudonym: str | None = None
    document_id: int | None = None

    def digest(self, salt: str) -> str:
        """The salted hash kept in ``erasures`` (recognises a repeated request)."""
        key = self.pseudonym if self.pseudonym else f"document:{self.document_id}"
        return salted(salt, "erasure-subject", key)


class _DryRun(Exception):
    pass


def default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (containers)
        return "cli"


def resolve_subject(
    settings: Settings,
    *,
    author: str | None = None,
    handle: str | None = None,
    document: int | None = None,
) -> Subject:
    """The subject of a request; exactly one of ``author``, ``handle``, ``document``."""
    given = [
        name
        for name, v in (("--author", author), ("--handle", handle), ("--document", document))
        if v not in (None, "")
    ]
    if len(given) != 1:
        raise PrivacyError(
            "name exactly one subject" + (f" (got {', '.join(given)})" if given else ""),
            "use --author PSEUDONYM, --handle NAME_OR_EMAIL or --document ID",
        )
    if author:
        author = author.strip()
        if not PSEUDONYM_RE.match(author):
            raise PrivacyError(
                f"{author!r} is not an author pseudonym (a_ followed by 16 hex digits)",
                "give the raw name or e-mail with --handle, it is pseudonymised the same way",
            )
        return Subject("author", pseudonym=author)
    if handle is not None:
        pseudonym = pseudonymize(handle, settings.collection.author_salt)
        if pseudonym is None:
            raise PrivacyError("the handle is empty", "give the author's name or e-mail address")
        return Subject("handle", pseudonym=pseudonym)
    assert document is not None
    if document < 1:
        raise PrivacyError(f"bad document id {document}", "document ids are positive integers")
    return Subject("document", document_id=int(document))


def subject_documents(
    session: Session, subject: Subject, include_erased: bool = False
) -> list[int]:
    """Ids of the subject's documents (not yet erased, unless ``include_erased``)."""
    if subject.pseudonym:
        query = select(Document.id).where(Document.author == subject.pseudonym)
    else:
        query = select(Document.id).where(Document.id == subject.document_id)
    if not include_erased:
        query = query.where(Document.erased_at.is_(None))
    return sorted(session.scalars(query))


def own_replies(session: Session, doc_ids: list[int]) -> list[int]:
    """The brand's own public replies (collected back, docs/CHANNELS.md) to tickets of
    ``doc_ids``: they address the person, often by name."""
    if not doc_ids:
        return []
    tickets = select(Ticket.id).where(Ticket.document_id.in_(doc_ids))
    query = select(RoutingDecision.document_id).where(
        RoutingDecision.outcome == "own_reply",
        RoutingDecision.ticket_id.in_(tickets),
        RoutingDecision.document_id.not_in(doc_ids),
    )
    return sorted(set(session.scalars(query)))


def forget(
    store: Store,
    settings: Settings,
    subject: Subject,
    *,
    actor: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Erase the subject's verbatims (tombstones); returns what was (or would be) erased."""
    now = now or utcnow()
    actor = (actor or default_actor())[:200]
    result: dict[str, Any] = {"dry_run": dry_run, "scope": subject.scope}
    try:
        with store.session() as session:
            if (
                subject.document_id is not None
                and session.get(Document, subject.document_id) is None
            ):
                raise PrivacyError(
                    f"no document #{subject.document_id}",
                    "check the id; `listening export` lists the verbatims with their ids",
                )
            ids = subject_documents(session, subject)
            replies = own_replies(session, ids)
            ids = sorted(ids + replies)
            counts, texts = erase_documents(
                session, ids, salt=settings.collection.author_salt, action="anonymise", now=now
            )
            result.update(documents=len(ids), own_replies=len(replies), counts=counts)
            if dry_run:
                raise _DryRun
            if ids:
                record = Erasure(
                    at=now,
                    actor=actor,
                    reason="forget",
                    scope=subject.scope,
                    action="anonymise",
                    subject_hash=subject.digest(settings.collection.author_salt),
                    documents=len(ids),
                    counts=counts,
                )
                session.add(record)
                session.flush()
                result["erasure_id"] = record.id
    except _DryRun:
        return result
    if result["documents"]:
        result["counts"].update(purge_after_commit(store, settings.data_dir, texts))
    return result


def erasure_dict(row: Erasure) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "actor": row.actor,
        "reason": row.reason,
        "scope": row.scope,
        "action": row.action,
        "subject_hash": row.subject_hash,
        "documents": row.documents,
        "counts": dict(row.counts or {}),
    }


def list_erasures(
    session: Session, limit: int = 100, subject_hash: str | None = None
) -> list[dict[str, Any]]:
    """The newest erasure records first."""
    query = select(Erasure).order_by(Erasure.id.desc()).limit(limit)
    if subject_hash:
        query = query.where(Erasure.subject_hash == subject_hash)
    return [erasure_dict(r) for r in session.scalars(query)]
