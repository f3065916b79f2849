"""The one way verbatims enter the store: normalise, deduplicate, link near-duplicates.

``ingest(store, source_id, items, settings)`` is called by every collector (feeds,
survey and email imports here; the Scrapy item pipeline of the spiders):

1. each item is normalised (:mod:`listening.collection.normalize`): Unicode repaired,
   HTML stripped, whitespace tidied, e-mail addresses, phone numbers and the author's name
   masked and personal keys dropped from the metadata (:mod:`listening.gdpr.masking`),
   language detected, date parsed to UTC from
   ``published_at`` or, when absent, from the raw string in ``raw["date_raw"]``;
   items left without text or without an external id are counted as failed, with
   the reason;
2. items are written in batches of ``collection.ingest_batch_size``, one transaction
   per batch, by :func:`listening.store.documents.upsert_documents` (exact duplicates by
   content hash are dropped, changed verbatims updated): an interrupted run keeps
   every committed batch, and running it again adds only what is missing;
3. each new verbatim is compared with recent verbatims of the same brand (MinHash LSH
   over character 5-grams, confirmed by a rapidfuzz ratio); a near-duplicate, such as
   the same review syndicated on two sites, is kept and linked to the earliest one
   through ``documents.near_duplicate_of``.
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz
from sqlalchemy import func, select, update

from listening.collection.normalize import (
    clean_line,
    clean_text,
    detect_language,
    parse_date,
    to_utc,
)
from listening.errors import CollectionError
from listening.gdpr.masking import mask_contacts, mask_names, scrub_raw
from listening.gdpr.models import Erasure
from listening.settings import Settings
from listening.store import Document, Source, Store
from listening.store.documents import DocumentIn, UpsertResult, upsert_documents
from listening.store.models import utcnow

if TYPE_CHECKING:
    from datasketch import MinHash

log = logging.getLogger(__name__)

NUM_PERM = 64
SHINGLE = 5
MAX_INDEXED = 50_000  # most recent verbatims per brand kept in memory for comparison
_PUNCT_RE = re.compile(r"[^\w\s]", re.UNICODE)


# ---------------------------------------------------------------- normalisation


def normalize_item(item: DocumentIn, settings: Settings) -> tuple[DocumentIn | None, str | None]:
    """The cleaned item, or ``(None, reason)`` when nothing usable is left."""
    cfg = settings.collection
    external_id = (item.external_id or "").strip()
    if not external_id:
        return None, "no external id"
    # no contact details or author names in clear (listening.gdpr.masking, docs/PRIVACY.md)
    raw = dict(item.raw or {})
    extra_name = raw.pop("author_name", None)
    names = [item.author, extra_name if isinstance(extra_name, str) else None]
    mask = settings.privacy.mask_contacts_in_text
    regions = settings.privacy.phone_regions
    text = clean_text(item.text)
    if text and mask:
        text = mask_contacts(mask_names(text, names), regions)
    if not text:
        return None, f"item {external_id}: empty text after cleaning"
    title = clean_line(item.title)
    if title and mask:
        title = mask_contacts(mask_names(title, names), regions)
    raw = scrub_raw(raw, names, regions, mask)
    language = detect_language(text, cfg.languages, min_letters=cfg.language_min_letters)
    if item.language and item.language != language:
        raw.setdefault("declared_language", item.language)
    published = item.published_at
    if published is not None:
        published = to_utc(published, cfg.naive_timezone)
    elif raw.get("date_raw"):
        hint = language if language != "und" else (item.language or None)
        published = parse_date(str(raw["date_raw"]), hint, cfg.naive_timezone)
        if published is None:
            raw["date_unparsed"] = True
    rating = item.rating
    if rating is not None and not 0.0 <= rating <= 1.0:
        raw.setdefault("rating_raw", rating)
        rating = None
    return (
        replace(
            item,
            external_id=external_id[:512],
            text=text,
            title=title,
            author=clean_line(item.author),
            language=language,
            published_at=published,
            rating=rating,
            raw=raw,
        ),
        None,
    )


# ---------------------------------------------------------------- near-duplicates


def _shingle_text(text: str) -> str:
    return " ".join(_PUNCT_RE.sub(" ", text.casefold()).split())


# datasketch (which imports scipy, about a second) is imported on first use only: a crawl
# or a feed poll that brings nothing new never needs it.


@lru_cache(maxsize=16)
def _lsh_params(threshold: float) -> tuple[int, int]:
    """LSH bands and rows for a Jaccard threshold (datasketch integrates: computed once)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


@lru_cache(maxsize=1)
def _template() -> MinHash:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM)


def signature(norm: str) -> MinHash:
    """MinHash of the character 5-grams of a normalised text (crc32: fast, stable)."""
    from datasketch import MinHash

    template = _template()
    mh = MinHash(
        num_perm=NUM_PERM,
        permutations=template.permutations,
        scheme=template.scheme,
        hashfunc=zlib.crc32,
    )
    grams = {norm[i : i + SHINGLE] for i in range(max(1, len(norm) - SHINGLE + 1))}
    mh.update_batch([g.encode() for g in grams])
    return mh


@dataclass
class NearDuplicateIndex:
    """MinHash LSH over the recent verbatims of one brand, kept per process.

    Signatures are computed and inserted lazily, on the first :meth:`find`: a run that
    stores nothing new reads the brand's recent verbatims but hashes none of them.
    """

    threshold: float
    last_id: int = 0
    erasure_mark: int = 0  # newest erasure record when built: a newer one rebuilds the index
    lsh: Any = field(init=False, default=None)  # datasketch.MinHashLSH, built on first find
    texts: dict[int, str] = field(default_factory=dict)
    roots: dict[int, int] = field(default_factory=dict)  # id -> the verbatim it duplicates
    unhashed: list[tuple[int, MinHash | None]] = field(default_factory=list)

    def add(self, doc_id: int, text: str, root: int | None, sig: MinHash | None = None) -> None:
        if doc_id in self.texts:
            return
        self.texts[doc_id] = _shingle_text(text)
        self.roots[doc_id] = root or doc_id
        self.last_id = max(self.last_id, doc_id)
        self.unhashed.append((doc_id, sig))

    def _hash_pending(self) -> Any:
        if self.lsh is None:
            from datasketch import MinHashLSH

            # LSH finds candidates generously; the rapidfuzz ratio decides.
            self.lsh = MinHashLSH(
                num_perm=NUM_PERM, params=_lsh_params(max(0.3, self.threshold - 0.25))
            )
        for doc_id, sig in self.unhashed:
            self.lsh.insert(doc_id, sig if sig is not None else signature(self.texts[doc_id]))
        self.unhashed.clear()
        return self.lsh

    def find(self, text: str, sig: MinHash | None = None) -> int | None:
        """The earliest indexed verbatim ``text`` nearly duplicates (its root), or None."""
        if not self.texts:
            return None
        lsh = self._hash_pending()
        norm = _shingle_text(text)
        best: int | None = None
        for cand in lsh.query(sig if sig is not None else signature(norm)):
            if fuzz.ratio(norm, self.texts[cand]) >= self.threshold * 100:
                root = self.roots.get(cand, cand)
                best = root if best is None else min(best, root)
        return best


_INDEXES: dict[tuple[str, int | None], NearDuplicateIndex] = {}
_INDEX_LOCK = threading.Lock()


def _index_for(store: Store, brand_id: int | None, settings: Settings) -> NearDuplicateIndex:
    """The brand's index, brought up to date with verbatims stored since it was last read."""
    cfg = settings.collection
    key = (store.url, brand_id)
    index = _INDEXES.get(key)
    since = utcnow() - timedelta(days=cfg.near_duplicate_days)
    brand_filter = (
        Document.brand_id.is_(None) if brand_id is None else Document.brand_id == brand_id
    )
    with store.session() as session:
        # texts erased since the index was built (by any process) must leave memory too
        mark = int(session.scalar(select(func.max(Erasure.id))) or 0)
        if (
            index is None
            or index.threshold != cfg.near_duplicate_threshold
            or index.erasure_mark != mark
        ):
            index = NearDuplicateIndex(threshold=cfg.near_duplicate_threshold, erasure_mark=mark)
            _INDEXES[key] = index
        rows = session.execute(
            select(Document.id, Document.text, Document.near_duplicate_of)
            .where(brand_filter, Document.id > index.last_id, Document.collected_at >= since)
            .order_by(Document.id.desc())
            .limit(MAX_INDEXED)
        ).all()
    for doc_id, text, root in reversed(rows):
        if len(text.split()) >= cfg.near_duplicate_min_words:
            index.add(doc_id, text, root)
        index.last_id = max(index.last_id, doc_id)
    return index


def reset_near_duplicate_indexes() -> None:
    """Forget the in-memory indexes (tests, or after deleting verbatims)."""
    with _INDEX_LOCK:
        _INDEXES.clear()


# ---------------------------------------------------------------- ingest


@dataclass
class IngestResult(UpsertResult):
    """:class:`UpsertResult` plus how many new verbatims were linked as near-duplicates."""

    near_duplicates: int = 0

    def add(self, other: UpsertResult) -> None:
        super().add(other)
        self.near_duplicates += getattr(other, "near_duplicates", 0)

    def as_dict(self) -> dict[str, object]:
        return {
            "new": self.new,
            "updated": self.updated,
            "duplicate": self.duplicate,
            "failed": self.failed,
            "near_duplicates": self.near_duplicates,
            "errors": list(self.errors),
        }


def ingest(
    store: Store, source_id: int, items: list[DocumentIn], settings: Settings
) -> IngestResult:
    """Normalise ``items`` and store them for source ``source_id``; returns the counts."""
    cfg = settings.collection
    with store.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise CollectionError(
                f"no source with id {source_id}", "list sources with `listening sources list`"
            )
        brand_id = source.brand_id
    result = IngestResult()
    cleaned: list[DocumentIn] = []
    for item in items:
        good, reason = normalize_item(item, settings)
        if good is None:
            result.failed += 1
            result.errors.append(reason or "unusable item")
        else:
            cleaned.append(good)
    size = cfg.ingest_batch_size
    with _INDEX_LOCK:
        for start in range(0, len(cleaned), size):
            batch = cleaned[start : start + size]
            result.add(_ingest_batch(store, source_id, brand_id, batch, settings))
    if result.failed:
        log.info("source %s: %d items rejected: %s", source_id, result.failed, result.errors[:5])
    return result


def _ingest_batch(
    store: Store,
    source_id: int,
    brand_id: int | None,
    batch: list[DocumentIn],
    settings: Settings,
) -> IngestResult:
    """One transaction: upsert the batch, then link its new verbatims to earlier near-duplicates."""
    cfg = settings.collection
    index = _index_for(store, brand_id, settings)
    external_ids = [item.external_id for item in batch]
    linked: list[tuple[int, str, int | None, MinHash | None]] = []
    with store.session() as session:
        known = set(
            session.scalars(
                select(Document.external_id).where(
                    Document.source_id == source_id, Document.external_id.in_(external_ids)
                )
            )
        )
        res = upsert_documents(session, source_id, brand_id, batch, cfg.author_salt)
        result = IngestResult(
            new=res.new,
            updated=res.updated,
            duplicate=res.duplicate,
            failed=res.failed,
            errors=res.errors,
            document_ids=res.document_ids,
            erased=res.erased,
        )
        rows = session.execute(
            select(Document.id, Document.external_id, Document.text)
            .where(Document.source_id == source_id, Document.external_id.in_(external_ids))
            .order_by(Document.id)
        ).all()
        pending = NearDuplicateIndex(threshold=cfg.near_duplicate_threshold)
        for doc_id, external_id, text in rows:
            if external_id in known or doc_id in index.texts:
                continue  # only verbatims this batch created are linked
            if len(text.split()) < cfg.near_duplicate_min_words:
                continue
            # hashed only when there is something to compare with
            sig = signature(_shingle_text(text)) if index.texts or pending.texts else None
            root = index.find(text, sig)
            if root is None:
                root = pending.find(text, sig)
            if root is not None and session.get(Document, root) is None:
                root = None  # the earlier verbatim was deleted since it was indexed
            if root is not None:
                session.execute(
                    update(Document).where(Document.id == doc_id).values(near_duplicate_of=root)
                )
                result.near_duplicates += 1
            pending.add(doc_id, text, root, sig)
            linked.append((doc_id, text, root, sig))
    for doc_id, text, root, sig in linked:  # committed: now the index may know them
        index.add(doc_id, text, root, sig)
    return result
