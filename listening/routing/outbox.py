"""The notifications outbox: written with the ticket, delivered later, never lost or doubled.

Guarantees (docs/ROUTING.md):
- a notification row is inserted in the SAME transaction as the ticket change it
  announces, with a unique idempotency key: a crash before the commit leaves neither,
  a crash after it leaves both, and :func:`deliver_pending` sends it later;
- :func:`deliver_pending` claims due rows with a lease (``locked_until``) in a short
  transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends outside any transaction,
  then records the result; a process that dies mid-send leaves a lease that expires and
  the row is retried with the same ``Idempotency-Key`` (at-least-once on the wire,
  exactly one row in the store);
- failures are retried with exponential backoff up to ``max_attempts`` then
  dead-lettered (status ``dead``); 4xx answers and malformed templates are dead at once;
- each target is delivered in its own thread: a slow or failing target never delays
  or blocks another.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from listening.netguard import httpx_event_hooks
from listening.routing.locking import is_postgres, take_write_lock
from listening.routing.models import Notification
from listening.routing.notifiers import DeliveryResult, TargetConfig, deliver, parse_targets
from listening.settings import Settings
from listening.store import Store
from listening.store.models import Analysis, Document, Ticket, utcnow


def enqueue(
    session: Session,
    *,
    event: str,
    key_base: str,
    targets: list[str],
    payload: dict[str, Any],
    ticket_id: int | None = None,
    alert_id: int | None = None,
) -> int:
    """Add one outbox row per target (in the caller's transaction); returns rows added.

    ``key_base`` must be new (it names one ticket event or one alert): the unique
    ``idempotency_key`` makes a second row for the same event impossible.
    """
    added = 0
    for target in dict.fromkeys(targets):
        key = f"{key_base}:{target}"
        body = dict(payload, idempotency_key=key)
        session.add(
            Notification(
                idempotency_key=key, event=event, target=target, ticket_id=ticket_id,
                alert_id=alert_id, payload=body, status="pending", attempts=0,
                next_attempt_at=utcnow(), created_at=utcnow(),
            )
        )
        added += 1
    return added


def ticket_payload(
    event: str, ticket: Ticket, doc: Document, analysis: Analysis | None
) -> dict[str, Any]:
    """The canonical JSON of a ticket event (what webhooks receive)."""
    excerpt = " ".join(doc.text.split())[:200]
    return {
        "event": event,
        "occurred_at": utcnow().isoformat(),
        "summary": f"[{ticket.priority}] {ticket.team}: {excerpt[:120]}",
        "ticket": {
            "id": ticket.id,
            "team": ticket.team,
            "priority": ticket.priority,
            "status": ticket.status,
            "rule": ticket.rule,
            "tags": list(ticket.tags or []),
            "sla_due_at": ticket.sla_due_at.isoformat() if ticket.sla_due_at else None,
            "document_id": doc.id,
            "url": doc.url,
            "title": doc.title or "",
            "text": doc.text,
            "excerpt": excerpt,
            "brand": doc.brand.name if doc.brand else None,
            "source": doc.source.name if doc.source else None,
            "language": doc.language,
            "sentiment": analysis.sentiment if analysis else None,
            "intent": analysis.intent if analysis else None,
            "topics": [t.get("topic") for t in (analysis.topics if analysis else [])],
            "urgency": list(analysis.urgency) if analysis else [],
        },
    }


def _backoff(settings: Settings, attempts: int) -> timedelta:
    r = settings.routing
    seconds = min(r.backoff_max_seconds, r.backoff_seconds * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=seconds)


def _claim(store: Store, settings: Settings, now: datetime, limit: int) -> list[Notification]:
    lease = timedelta(seconds=settings.routing.delivery_timeout_seconds * 3 + 30)
    with store.session() as session:
        take_write_lock(session, "deliver")
        query = (
            select(Notification)
            .where(
                Notification.status == "pending",
                Notification.next_attempt_at <= now,
                or_(Notification.locked_until.is_(None), Notification.locked_until < now),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            row.locked_until = now + lease
        return rows


def _deliver_target(
    name: str, cfg: TargetConfig | None, rows: list[Notification], settings: Settings
) -> list[tuple[int, DeliveryResult | None]]:
    """Deliver ``rows`` of one target in order; after a retryable failure defer the rest."""
    results: list[tuple[int, DeliveryResult | None]] = []
    down = False
    hooks = httpx_event_hooks(settings.security, f"target {name!r}:")
    with httpx.Client(event_hooks=hooks) as client:  # one connection pool per target and pass
        for row in rows:
            if cfg is None:
                results.append((row.id, DeliveryResult(False, False, None, f"target {name!r} is not configured")))
            elif down:
                results.append((row.id, None))  # deferred: not an attempt
            else:
                result = deliver(name, cfg, row.payload, row.idempotency_key, settings.routing, client,
                                 security=settings.security)
                results.append((row.id, result))
                down = not result.ok and result.retry
    return results


def _deliver_replies(
    store: Store, rows: list[Notification], settings: Settings
) -> list[tuple[int, DeliveryResult | None]]:
    """Post queued public replies, one at a time, in order."""
    from listening.collection.channels.replies import deliver_reply

    return [(row.id, deliver_reply(store, settings, row.payload, row.idempotency_key)) for row in rows]


def deliver_pending(
    store: Store, settings: Settings, now: datetime | None = None, limit: int = 500
) -> dict[str, Any]:
    """Send due notifications; returns counts sent / retry (scheduled) / dead / deferred / pending."""
    now = now or utcnow()
    targets = parse_targets(settings.routing)
    rows = _claim(store, settings, now, limit)
    by_target: dict[str, list[Notification]] = defaultdict(list)
    for claimed in rows:
        by_target[claimed.target].append(claimed)
    outcomes: list[tuple[int, DeliveryResult | None]] = []
    if by_target:
        with ThreadPoolExecutor(max_workers=min(8, len(by_target))) as pool:
            futures = [
                pool.submit(_deliver_replies, store, group, settings)
                if name.startswith("reply:")  # public replies on a channel (collection.channels.replies)
                else pool.submit(_deliver_target, name, targets.get(name), group, settings)
                for name, group in by_target.items()
            ]
            for future in futures:
                outcomes.extend(future.result())
    counts = {"sent": 0, "retry": 0, "dead": 0, "deferred": 0}
    errors: list[str] = []
    finished = max(now, utcnow())  # `now` may be a later logical clock (tests, catch-up)
    with store.session() as session:
        take_write_lock(session, "deliver")
        for row_id, result in outcomes:
            stored = session.get(Notification, row_id)
            if stored is None:
                continue
            row = stored
            row.locked_until = None
            if result is None:  # its target just failed: wait like a first retry, no attempt counted
                row.next_attempt_at = finished + _backoff(settings, 1)
                counts["deferred"] += 1
                continue
            row.attempts += 1
            row.response_status = result.status
            if result.ok:
                row.status = "sent"
                row.sent_at = finished
                row.last_error = None
                counts["sent"] += 1
                continue
            row.last_error = result.error[:2000]
            errors.append(f"{row.target}: {result.error}")
            if result.retry and row.attempts < settings.routing.max_attempts:
                row.next_attempt_at = finished + _backoff(settings, row.attempts)
                counts["retry"] += 1
            else:
                row.status = "dead"
                counts["dead"] += 1
        pending = len(list(session.scalars(select(Notification.id).where(Notification.status == "pending"))))
    return {**counts, "pending": pending, "errors": errors[:20]}


def retry_dead(store: Store, ids: list[int] | None = None) -> int:
    """Put dead-lettered notifications back in the queue (after fixing the target)."""
    with store.session() as session:
        take_write_lock(session, "deliver")
        query = update(Notification).where(Notification.status == "dead")
        if ids:
            query = query.where(Notification.id.in_(ids))
        result = session.execute(
            query.values(status="pending", attempts=0, next_attempt_at=utcnow(), locked_until=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def list_notifications(session: Session, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status:
        query = query.where(Notification.status == status)
    return [
        {
            "id": n.id, "event": n.event, "target": n.target, "status": n.status,
            "attempts": n.attempts, "ticket_id": n.ticket_id, "alert_id": n.alert_id,
            "next_attempt_at": n.next_attempt_at, "last_error": n.last_error,
            "response_status": n.response_status, "sent_at": n.sent_at,
            "idempotency_key": n.idempotency_key,
        }
        for n in session.scalars(query)
    ]
