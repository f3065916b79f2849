"""Idempotent writes of verbatims, keyed by (source, external id) and content hash."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from listening.privacy import pseudonymize, tombstone_key
from listening.store.models import Analysis, Document, utcnow


@dataclass
class DocumentIn:
    """A verbatim as a collector delivers it (author is the real name; the store pseudonymises it)."""

    external_id: str
    text: str
    url: str | None = None
    thread_id: str | None = None
    parent_id: str | None = None
    author: str | None = None
    title: str | None = None
    rating: float | None = None  # normalised 0..1
    published_at: datetime | None = None
    language: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    duplicate: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    document_ids: list[int] = field(default_factory=list)
    erased: int = 0  # of ``duplicate``: verbatims erased earlier (privacy), not stored again

    def add(self, other: UpsertResult) -> None:
        self.erased += other.erased
        self.new += other.new
        self.updated += other.updated
        self.duplicate += other.duplicate
        self.failed += other.failed
        self.errors.extend(other.errors)
        self.document_ids.extend(other.document_ids)


def normalize_for_hash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def content_hash(text: str, author_pseudonym: str | None) -> str:
    """Hash of the author and the normalised text: the same words by two authors are two verbatims."""
    payload = f"{author_pseudonym or ''}\x1f{normalize_for_hash(text)}"
    return hashlib.sha256(payload.encode()).hexdigest()


_UPDATABLE = ("url", "thread_id", "parent_id", "title", "rating", "published_at", "language", "raw")


def upsert_documents(
    session: Session,
    source_id: int,
    brand_id: int | None,
    items: list[DocumentIn],
    salt: str,
) -> UpsertResult:
    """Insert new verbatims, update changed ones, count the rest as duplicates.

    - same (source, external id) and same content hash: duplicate, nothing changes;
    - same (source, external id), new content: updated, and its analyses are dropped
      so the NLP stage analyses it again;
    - a new external id whose content hash is already stored: an exact duplicate
      (the same delivery twice, or a repost): dropped.
    Items without text are counted as failed with a reason.
    """
    result = UpsertResult()
    prepared: dict[str, tuple[DocumentIn, str | None, str]] = {}
    for item in items:
        text = (item.text or "").strip()
        if not item.external_id or not text:
            result.failed += 1
            result.errors.append(f"item {item.external_id or '?'}: empty text or external id")
            continue
        author = pseudonymize(item.author, salt)
        prepared[item.external_id] = (item, author, content_hash(text, author))
    if not prepared:
        return result
    existing = {
        doc.external_id: doc
        for doc in session.scalars(
            select(Document).where(
                Document.source_id == source_id, Document.external_id.in_(list(prepared))
            )
        )
    }
    # verbatims erased by a privacy request or retention are never stored again
    tombstones = {
        tombstone_key(salt, source_id, ext): ext for ext in prepared if ext not in existing
    }
    if tombstones:
        for key in session.scalars(
            select(Document.external_id).where(
                Document.source_id == source_id, Document.external_id.in_(list(tombstones))
            )
        ):
            prepared.pop(tombstones[key], None)
            result.duplicate += 1
            result.erased += 1
    hashes = {h for (_i, _a, h) in prepared.values()}
    known_hashes = set(
        session.scalars(select(Document.content_hash).where(Document.content_hash.in_(hashes)))
    )
    now = utcnow()
    created: list[Document] = []
    for external_id, (item, author, digest) in prepared.items():
        doc = existing.get(external_id)
        if doc is not None:
            if doc.content_hash == digest:
                result.duplicate += 1
                result.document_ids.append(doc.id)
                continue
            doc.text = item.text.strip()
            doc.author = author
            doc.content_hash = digest
            for name in _UPDATABLE:
                value = getattr(item, name)
                if value is not None:
                    setattr(doc, name, value)
            doc.updated_at = now
            session.execute(delete(Analysis).where(Analysis.document_id == doc.id))
            known_hashes.add(digest)
            result.updated += 1
            result.document_ids.append(doc.id)
            continue
        if digest in known_hashes:
            result.duplicate += 1
            continue
        doc = Document(
            source_id=source_id,
            brand_id=brand_id,
            external_id=external_id,
            url=item.url,
            thread_id=item.thread_id,
            parent_id=item.parent_id,
            author=author,
            title=item.title,
            text=item.text.strip(),
            rating=item.rating,
            published_at=item.published_at,
            language=item.language,
            content_hash=digest,
            raw=item.raw,
            collected_at=now,
            updated_at=now,
        )
        session.add(doc)
        created.append(doc)
        known_hashes.add(digest)
        result.new += 1
    session.flush()
    result.document_ids.extend(doc.id for doc in created)
    return result
