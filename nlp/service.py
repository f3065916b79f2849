"""Store-facing NLP service: analyse what is missing or outdated.

``analyze_pending(store, settings, limit=None)`` analyses the documents that have no
analysis for the current ``model_version`` (or whose text changed since), writes one
``analyses`` row per document and version (history kept; readers take the latest), and
returns counts. Items that cannot be analysed get a row with ``error`` set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import and_, func, select

from listening.settings import Settings
from listening.store import Analysis, Document, Store
from listening.store.models import utcnow
from listening.store.work import (
    claim_documents,
    live_claims,
    new_owner,
    release_documents,
    still_claimed,
)
from nlp.pipeline import HEAD_NAMES, AnalysisResult, Analyzer, head_path

_LOCK = threading.Lock()
_CACHE: dict[str, Analyzer] = {}


def _cache_key(settings: Settings) -> str:
    stamps = []
    for name in HEAD_NAMES:
        path = head_path(settings, name)
        stamps.append(f"{path}:{path.stat().st_mtime_ns if path.exists() else 0}")
    return "|".join([settings.nlp.model_dump_json(), settings.data_dir, *stamps])


def get_analyzer(settings: Settings) -> Analyzer:
    """The analyzer for these settings, built once per process (rebuilt after retraining)."""
    key = _cache_key(settings)
    with _LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = Analyzer(settings)
        return _CACHE[key]


def _pending_query(version: str, limit: int) -> Any:
    return (
        select(Document.id, Document.text, Document.language, Analysis.id)
        .outerjoin(Analysis, and_(Analysis.document_id == Document.id, Analysis.model_version == version))
        .where((Analysis.id.is_(None)) | (Analysis.created_at < Document.updated_at))
        .where(Document.erased_at.is_(None))  # tombstones (listening.gdpr) have no text
        .order_by(Document.id)
        .limit(limit)
    )


def count_pending(store: Store, settings: Settings, version: str | None = None) -> int:
    version = version or get_analyzer(settings).model_version
    with store.session() as s:
        sub = _pending_query(version, 10**9).subquery()
        return int(s.execute(select(func.count()).select_from(sub)).scalar_one())


def _claim_batch(store: Store, version: str, size: int, seen: set[int], owner: str,
                 lease: float) -> list[Any] | None:
    """Claim up to ``size`` pending documents no other run holds (listening.store.work);
    None when nothing is left. Rows are re-read after the claim (a fresh snapshot), so a
    document another run finished meanwhile is dropped, never analysed twice."""
    with store.session() as s:
        rows = [r[0] for r in s.execute(_pending_query(version, size).where(
            Document.id.not_in(live_claims()))).all() if r[0] not in seen]
        if not rows:
            return None
        won = claim_documents(s, rows, owner, lease)
    with store.session() as s:
        batch = list(s.execute(_pending_query(version, len(won) or 1).where(Document.id.in_(won))).all())
        release_documents(s, set(won) - {r[0] for r in batch}, owner)
    return batch


def _apply(row: Analysis, res: AnalysisResult, version: str) -> None:
    row.model_version = version
    row.language = res.language
    row.sentiment = res.sentiment
    row.sentiment_score = res.sentiment_score
    row.topics = res.topics
    row.intent = res.intent
    row.urgency = res.urgency
    row.actionable = res.actionable
    row.error = res.error
    row.created_at = utcnow()


def analyze_pending(store: Store, settings: Settings, limit: int | None = None,
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Analyse documents missing an up-to-date analysis; returns
    ``{"analysed", "failed", "skipped", "model_version"}`` (skipped = already current)."""
    analyzer = get_analyzer(settings)
    version = analyzer.model_version
    analysed = failed = claimed = 0
    seen: set[int] = set()
    held: list[list[Any]] = []  # claimed batches not written yet: the current one and the next
    owner, lease = new_owner(), settings.workers.analysis_lease_seconds

    def claims() -> Iterator[tuple[list[Any], list[str | None], list[Any]]]:
        # pulled by analyze_stream one batch ahead: the next batch is claimed (and prepared)
        # while the current one is encoded; our own claims keep it disjoint from the current
        nonlocal claimed
        while limit is None or claimed < limit:
            size = settings.nlp.batch_size if limit is None else min(settings.nlp.batch_size,
                                                                      limit - claimed)
            batch = _claim_batch(store, version, size, seen, owner, lease)
            if batch is None:
                return
            if not batch:  # another run claimed or finished them first
                continue
            claimed += len(batch)
            held.append(batch)
            yield [r[1] or "" for r in batch], [r[2] for r in batch], batch

    try:
        for batch, results in analyzer.analyze_stream(claims()):
            with store.session() as s:
                mine = still_claimed(s, [r[0] for r in batch], owner)
                for (doc_id, _text, _lang, analysis_id), res in zip(batch, results, strict=True):
                    seen.add(doc_id)
                    if doc_id not in mine:  # our lease ran out and another run took it over
                        continue
                    row = s.get(Analysis, analysis_id) if analysis_id else None
                    if row is None:
                        row = Analysis(document_id=doc_id)
                        s.add(row)
                    _apply(row, res, version)
                    if res.error:
                        failed += 1
                    else:
                        analysed += 1
                release_documents(s, [r[0] for r in batch], owner)  # same commit as the analyses
            held[:] = [b for b in held if b is not batch]
            if progress:
                progress(len(batch))
    except BaseException:
        with store.session() as s:
            release_documents(s, [r[0] for b in held for r in b], owner)
        raise
    with store.session() as s:
        total = int(s.execute(select(func.count(Document.id))).scalar_one())
    return {"analysed": analysed, "failed": failed,
            "skipped": max(0, total - analysed - failed - (count_pending(store, settings, version)
                                                          if limit is not None else 0)),
            "model_version": version}
