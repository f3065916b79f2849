"""Mask contacts in verbatims stored before masking existed (``listening privacy mask``).

Ingestion masks every new verbatim (:mod:`listening.gdpr.masking`); a store filled by an
earlier version still holds e-mail addresses and phone numbers in ``documents.text`` /
``title``, personal keys in ``documents.raw`` and the same texts in ``corrections``. This
pass applies the same masking to them, in batches (one transaction each), with SQLite's
``secure_delete``; a changed verbatim gets a new content hash and ``updated_at``, so the
NLP stage analyses the masked text again. Author names cannot be masked here (the store
only has their pseudonyms). Running it twice changes nothing the second time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from listening.gdpr.erase import purge_after_commit, secure_delete
from listening.gdpr.masking import mask_contacts, scrub_raw
from listening.settings import Settings
from listening.store import Correction, Document, Store
from listening.store.documents import content_hash
from listening.store.models import utcnow

BATCH = 500


def mask_stored(store: Store, settings: Settings, dry_run: bool = False) -> dict[str, Any]:
    """Mask contacts in stored verbatims and corrections; returns the counts."""
    regions = settings.privacy.phone_regions
    counts = {"documents": 0, "corrections": 0, "scanned": 0}
    texts: set[str] = set()
    last = 0
    while True:
        with store.session() as session:
            if not dry_run:
                secure_delete(session)
            docs = list(
                session.scalars(
                    select(Document)
                    .where(Document.id > last, Document.erased_at.is_(None))
                    .order_by(Document.id)
                    .limit(BATCH)
                )
            )
            if not docs:
                break
            last = docs[-1].id
            counts["scanned"] += len(docs)
            now = utcnow()
            for doc in docs:
                text = mask_contacts(doc.text, regions)
                title = mask_contacts(doc.title, regions) if doc.title else doc.title
                raw = scrub_raw(doc.raw or {}, [], regions)
                if (text, title, raw) == (doc.text, doc.title, doc.raw or {}):
                    continue
                counts["documents"] += 1
                if dry_run:
                    continue
                texts.add(doc.text)
                doc.text, doc.title, doc.raw = text, title, raw
                doc.content_hash = content_hash(text, doc.author)
                doc.updated_at = now  # analysed again, on the masked text
            if dry_run:
                session.rollback()
    with store.session() as session:
        if not dry_run:
            secure_delete(session)
        for row in session.scalars(select(Correction)):
            masked = mask_contacts(row.text, regions)
            note = mask_contacts(row.note, regions) if row.note else row.note
            if (masked, note) != (row.text, row.note):
                counts["corrections"] += 1
                if not dry_run:
                    row.text, row.note = masked, note
        if dry_run:
            session.rollback()
    if texts and not dry_run:
        purge_after_commit(store, settings.data_dir, texts)
    return {"dry_run": dry_run, **counts}
