"""Retention: erase verbatims older than the configured age (``listening privacy retention``).

Age is counted from the publication date, or from the collection date when a verbatim
has none. ``privacy.retention_days`` applies to every source (0 = keep forever); a
source's own ``retention_days`` (in its ``settings``, docs/SOURCES.md) wins, 0 included.
``privacy.retention_action`` says what happens to an expired verbatim: ``anonymise``
(a tombstone, counts kept) or ``delete`` (rows and counts gone; tombstones too).

Each run (not a dry run) records one ``erasures`` row with reason ``retention``, even when
nothing expired: :func:`retention_due` reads it, so `listening serve` and the distributed
scheduler apply retention once per ``privacy.retention_interval_hours`` whichever process
runs it. Runs take an injected clock (``now``) so they are tested without waiting.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from listening.errors import PrivacyError
from listening.gdpr.erase import erase_documents, purge_after_commit
from listening.gdpr.models import Erasure
from listening.settings import Settings
from listening.store import Document, Source, Store
from listening.store.models import utcnow

log = logging.getLogger(__name__)

BATCH = 500
ACTOR = "retention"


def source_retention_days(source: Source, settings: Settings) -> int:
    """The retention of ``source`` in days (0 = forever): its own setting, else the global one."""
    value = (source.settings or {}).get("retention_days")
    if value is None:
        return settings.privacy.retention_days
    if isinstance(value, bool) or not isinstance(value, int | str):
        value = "?"
    try:
        days = int(value)
    except ValueError:
        days = -1
    if days < 0:
        raise PrivacyError(
            f"source {source.name!r}: retention_days {value!r} is not a whole number of days ≥ 0",
            "fix the source's settings (0 keeps its verbatims forever) and import it again",
        )
    return days


def _expired(source_id: int, cutoff: datetime, action: str) -> Any:
    old = or_(
        and_(Document.published_at.is_not(None), Document.published_at < cutoff),
        and_(Document.published_at.is_(None), Document.collected_at < cutoff),
    )
    query = select(Document.id).where(Document.source_id == source_id, old)
    if action == "anonymise":
        query = query.where(Document.erased_at.is_(None))
    return query.order_by(Document.id)


def plan(store: Store, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Per source with a retention: its days, cutoff and expired document ids."""
    action = settings.privacy.retention_action
    out = []
    with store.session() as session:
        for source in session.scalars(select(Source).order_by(Source.id)):
            days = source_retention_days(source, settings)
            if days <= 0:
                continue
            cutoff = now - timedelta(days=days)
            ids = list(session.scalars(_expired(source.id, cutoff, action)))
            out.append({"source": source.name, "days": days, "cutoff": cutoff, "ids": ids})
    return out


def apply_retention(
    store: Store,
    settings: Settings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    actor: str = ACTOR,
) -> dict[str, Any]:
    """Erase (or, with ``dry_run``, count) the expired verbatims of every source."""
    now = now or utcnow()
    action = settings.privacy.retention_action
    steps = plan(store, settings, now)  # validates every source before changing anything
    by_source = {s["source"]: len(s["ids"]) for s in steps}
    result: dict[str, Any] = {
        "dry_run": dry_run,
        "action": action,
        "now": now,
        "documents": sum(by_source.values()),
        "by_source": by_source,
        "counts": {},
    }
    if dry_run:
        return result
    ids = [i for s in steps for i in s["ids"]]
    totals: dict[str, int] = {}
    texts: set[str] = set()
    for start in range(0, len(ids), BATCH):
        with store.session() as session:
            counts, batch_texts = erase_documents(
                session,
                ids[start : start + BATCH],
                salt=settings.collection.author_salt,
                action=action,
                now=now,
            )
        texts |= batch_texts
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    with store.session() as session:
        record = Erasure(
            at=now,
            actor=actor[:200],
            reason="retention",
            scope="retention",
            action=action,
            subject_hash=None,
            documents=len(ids),
            counts=totals,
        )
        session.add(record)
        session.flush()
        result["erasure_id"] = record.id
    if ids:
        totals.update(purge_after_commit(store, settings.data_dir, texts))
    result["counts"] = totals
    return result


def retention_enabled(store: Store, settings: Settings) -> bool:
    if settings.privacy.retention_days > 0:
        return True
    with store.session() as session:
        return any(
            (s.settings or {}).get("retention_days") for s in session.scalars(select(Source))
        )


def last_retention_at(store: Store) -> datetime | None:
    with store.session() as session:
        return session.scalar(
            select(Erasure.at)
            .where(Erasure.reason == "retention")
            .order_by(Erasure.id.desc())
            .limit(1)
        )


def retention_due(store: Store, settings: Settings, now: datetime) -> bool:
    """Retention is configured and did not run within ``retention_interval_hours``."""
    if not retention_enabled(store, settings):
        return False
    last = last_retention_at(store)
    interval = timedelta(hours=settings.privacy.retention_interval_hours)
    return last is None or now - last >= interval


def run_retention_if_due(
    store: Store, settings: Settings, now: datetime | None = None
) -> dict[str, Any] | None:
    """Apply retention when due (`listening serve`, the distributed scheduler); None otherwise."""
    now = now or utcnow()
    if not retention_due(store, settings, now):
        return None
    result = apply_retention(store, settings, now=now)
    log.info("retention: %s verbatim(s) %sd", result["documents"], result["action"])
    return result
