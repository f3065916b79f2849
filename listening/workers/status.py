"""Per-queue health from the store (no broker needed): throughput, oldest pending, failures.

Used by ``listening workers status`` (with broker depths and live consumers added) and by
the dashboard's Sources page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listening.routing.models import Notification, RoutingDecision
from listening.store import Analysis, Document, Run, Source, Store
from listening.store.models import utcnow
from listening.store.work import failures_by_queue, list_failures

WINDOW = timedelta(minutes=5)


def _age(oldest: datetime | None, now: datetime) -> float | None:
    return None if oldest is None else round(max(0.0, (now - oldest).total_seconds()), 1)


def _n(session: Session, query: Any) -> int:
    return int(session.scalar(query) or 0)


def store_status(store: Store) -> dict[str, Any]:
    """``{"queues": {kind: {...}}, "dead_letters": [...]}`` measured in the store."""
    now = utcnow()
    since = now - WINDOW
    per_min = WINDOW.total_seconds() / 60
    with store.session() as s:
        failures = failures_by_queue(s)
        analysed = select(Analysis.id).where(Analysis.document_id == Document.id).exists()
        decided = (
            select(RoutingDecision.id)
            .where(RoutingDecision.document_id == Analysis.document_id)
            .exists()
        )
        due = [
            src
            for src in s.scalars(
                select(Source).where(Source.enabled.is_(True), Source.blocked.is_(False))
            )
            if src.last_run_at is None
            or (src.next_run_at or src.last_run_at + timedelta(minutes=src.schedule_minutes)) <= now
        ]
        oldest_due = min((src.next_run_at or src.created_at for src in due), default=None)
        queues = {
            "collect": {
                "pending": len(due),
                "oldest_pending_age_s": _age(oldest_due, now),
                "done_per_min": _n(s, select(func.count(Run.id)).where(Run.finished_at >= since))
                / per_min,
            },
            "analyze": {
                "pending": _n(s, select(func.count(Document.id)).where(~analysed)),
                "oldest_pending_age_s": _age(
                    s.scalar(select(func.min(Document.collected_at)).where(~analysed)), now
                ),
                "done_per_min": _n(
                    s, select(func.count(Analysis.id)).where(Analysis.created_at >= since)
                )
                / per_min,
            },
            "route": {
                "pending": s.scalar(
                    select(func.count(func.distinct(Analysis.document_id))).where(
                        Analysis.error.is_(None), ~decided
                    )
                ),
                "oldest_pending_age_s": _age(
                    s.scalar(
                        select(func.min(Analysis.created_at)).where(
                            Analysis.error.is_(None), ~decided
                        )
                    ),
                    now,
                ),
                "done_per_min": _n(
                    s,
                    select(func.count(RoutingDecision.id)).where(
                        RoutingDecision.decided_at >= since
                    ),
                )
                / per_min,
            },
            "notify": {
                "pending": s.scalar(
                    select(func.count(Notification.id)).where(Notification.status == "pending")
                ),
                "oldest_pending_age_s": _age(
                    s.scalar(
                        select(func.min(Notification.created_at)).where(
                            Notification.status == "pending"
                        )
                    ),
                    now,
                ),
                "done_per_min": _n(
                    s, select(func.count(Notification.id)).where(Notification.sent_at >= since)
                )
                / per_min,
            },
        }
        for kind, row in queues.items():
            row["done_per_min"] = round(float(row["done_per_min"] or 0), 2)
            row["failures"] = failures.get(kind, 0)
        dead = list_failures(s, limit=20)
    return {"queues": queues, "dead_letters": dead}
