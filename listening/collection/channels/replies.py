"""Public replies from the inbox (the call-back loop), through the notifications outbox.

:func:`queue_reply` (CLI ``listening inbox reply``, the Inbox page) writes one outbox row
with the idempotency key ``reply:<ticket>:<hash of the text>`` and a ``reply_queued``
ticket event naming who sent it, in the caller's transaction: the same reply asked twice
is one row, posted at most once. The outbox (:func:`listening.routing.outbox.deliver_pending`)
hands ``reply:<kind>`` rows to :func:`deliver_reply`, which posts with the source's token
(never stored in the outbox) and the row's ``Idempotency-Key`` (Mastodon honours it), and
records ``reply_posted`` with the platform's id of the reply. Retries and dead letters are
the outbox's. Where the platform has no reply API (App Store, Trustpilot) nothing is
queued: a ``reply_link`` event keeps the deep link where a person answers by hand.

When the reply is collected later, :func:`claim_own_replies` records it as routed
(``own_reply``), so it never opens a ticket of its own.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from listening.collection.channels import get_channel
from listening.collection.channels.base import ReplyTarget
from listening.collection.channels.collector import base_url_for, make_http, resolve_token
from listening.collection.channels.http import RateLimited
from listening.errors import CollectionError, RoutingError
from listening.netguard import httpx_event_hooks
from listening.settings import Settings
from listening.store import Source, Store
from listening.store.models import CHANNEL_KINDS, Document, Ticket, TicketEvent, utcnow

REPLY_EVENT = "ticket.reply"
MAX_REPLY_CHARS = 5000


def reply_key(ticket_id: int, text: str) -> str:
    digest = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]
    return f"reply:{ticket_id}:{digest}"


def queue_reply(session: Session, ticket_id: int, text: str, actor: str) -> dict[str, Any]:
    """Queue a public reply to the ticket's verbatim; returns what happened (status, link)."""
    from listening.routing import inbox
    from listening.routing.models import Notification

    actor = (actor or "").strip()[:200]
    text = (text or "").strip()
    if not actor:
        raise RoutingError("a reply needs an actor", "say who sends it, e.g. --actor alice")
    if not text:
        raise RoutingError("the reply is empty", "give the text to post")
    if len(text) > MAX_REPLY_CHARS:
        raise RoutingError(
            f"the reply is {len(text)} characters long", f"keep it under {MAX_REPLY_CHARS}"
        )
    ticket = inbox.get_ticket(session, ticket_id)
    doc = session.get(Document, ticket.document_id)
    source = doc.source if doc is not None else None
    if doc is None or source is None or source.kind not in CHANNEL_KINDS:
        raise RoutingError(
            f"ticket #{ticket_id} comes from a {source.kind if source else 'removed'} source: "
            "no public reply can be posted from here",
            f"answer where it was written{': ' + doc.url if doc is not None and doc.url else ''}, "
            "then `listening inbox answer`",
        )
    channel = get_channel(source.kind)
    target = ReplyTarget(source.kind, doc.external_id, doc.url, _target_raw(doc))
    if not channel.can_reply:
        link = channel.deep_link(target)
        inbox.record_event(session, ticket, actor, "reply_link", {"url": link, "text": text})
        return {"status": "deep_link", "url": link, "ticket_id": ticket_id}
    key = reply_key(ticket_id, text)
    existing = session.scalar(select(Notification).where(Notification.idempotency_key == key))
    if existing is not None:
        return {"status": existing.status, "duplicate": True, "key": key, "ticket_id": ticket_id}
    session.add(
        Notification(
            idempotency_key=key,
            event=REPLY_EVENT,
            target=f"reply:{source.kind}",
            ticket_id=ticket_id,
            payload={
                "ticket_id": ticket_id,
                "document_id": doc.id,
                "source_id": source.id,
                "text": text,
                "actor": actor,
                "idempotency_key": key,
            },
            status="pending",
            attempts=0,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
    )
    inbox.record_event(session, ticket, actor, "reply_queued", {"key": key, "text": text})
    return {"status": "pending", "key": key, "ticket_id": ticket_id}


def _target_raw(doc: Document) -> dict[str, Any]:
    raw = dict(doc.raw or {})
    return {**raw, "parent_id": doc.parent_id, "thread_id": doc.thread_id}


def deliver_reply(store: Store, settings: Settings, payload: dict[str, Any], key: str) -> Any:
    """Post one queued reply; returns a DeliveryResult (never raises on a delivery problem)."""
    from listening.routing.notifiers import DeliveryResult

    with store.session() as session:
        doc = session.get(Document, int(payload.get("document_id") or 0))
        source = session.get(Source, int(payload.get("source_id") or 0))
        if doc is None or source is None:
            return DeliveryResult(False, False, None, "the verbatim or its source was deleted")
        kind, options, url = source.kind, dict(source.settings or {}), source.url
        target = ReplyTarget(kind, doc.external_id, doc.url, _target_raw(doc))
    channel = get_channel(
        kind, options.get("reply_base_url") or base_url_for(kind, url, options, settings)
    )
    try:
        path, body_kind, body = channel.reply_request(target, str(payload["text"]), options)
    except CollectionError as exc:
        return DeliveryResult(False, False, None, str(exc))
    with httpx.Client(
        timeout=settings.collection.channel_timeout_s,
        event_hooks=httpx_event_hooks(settings.security, "reply API URL"),
    ) as client:
        http = make_http(client, channel, None, settings, sleep=lambda _s: None)
        try:
            http.token = options.get("reply_token") or resolve_token(
                http, channel, options, settings
            )
            http.auth = "bearer"  # posting is always on behalf of a user (OAuth / session token)
            answer, response = http.request(
                "POST",
                path,
                json_body=body if body_kind == "json" else None,
                form=body if body_kind == "form" else None,
                headers={"Idempotency-Key": key},
            )
        except RateLimited as exc:
            return DeliveryResult(False, True, 429, str(exc))
        except CollectionError as exc:  # 401/403 (blocked) and 4xx are not retried; 5xx are
            retry = "HTTP 5" in str(exc) or "timed out" in str(exc) or "cannot reach" in str(exc)
            return DeliveryResult(False, retry, None, str(exc))
    posted_id, posted_url = channel.reply_result(answer)
    _record_posted(store, payload, posted_id, posted_url, kind)
    return DeliveryResult(True, False, response.status_code, "")


def _record_posted(
    store: Store, payload: dict[str, Any], posted_id: str | None, posted_url: str | None, kind: str
) -> None:
    from listening.routing import inbox

    with store.session() as session:
        ticket = session.get(Ticket, int(payload["ticket_id"]))
        if ticket is None:
            return
        inbox.record_event(
            session,
            ticket,
            str(payload.get("actor") or inbox.SYSTEM_ACTOR),
            "reply_posted",
            {
                "platform": kind,
                "posted_id": posted_id,
                "url": posted_url,
                "source_id": payload.get("source_id"),
                "key": payload.get("idempotency_key"),
            },
        )
        if ticket.status in inbox.WAITING_STATUSES:
            ticket.status = "answered"
            if ticket.assignee is None:
                ticket.assignee = str(payload.get("actor") or "")[:200] or None


def claim_own_replies(store: Store, source_id: int, document_ids: list[int]) -> int:
    """Mark collected verbatims that are our own posted replies as routed; returns how many."""
    if not document_ids:
        return 0
    from listening.routing import inbox
    from listening.routing.models import RoutingDecision

    with store.session() as session:
        posted: dict[str, int] = {}
        for event in session.scalars(
            select(TicketEvent).where(TicketEvent.action == "reply_posted")
        ):
            details = event.details or {}
            if details.get("posted_id") and details.get("source_id") == source_id:
                posted[str(details["posted_id"])] = event.ticket_id
        if not posted:
            return 0
        claimed = 0
        for doc in session.scalars(select(Document).where(Document.id.in_(document_ids))):
            ticket_id = posted.get(doc.external_id)
            if ticket_id is None:
                continue
            done = session.scalar(
                select(RoutingDecision).where(RoutingDecision.document_id == doc.id)
            )
            if done is None:
                session.add(
                    RoutingDecision(
                        document_id=doc.id,
                        ticket_id=ticket_id,
                        outcome="own_reply",
                        decided_at=utcnow(),
                    )
                )
                doc.raw = {**(doc.raw or {}), "own_reply": True, "reply_to_ticket": ticket_id}
                ticket = session.get(Ticket, ticket_id)
                if ticket is not None:
                    inbox.record_event(
                        session,
                        ticket,
                        inbox.SYSTEM_ACTOR,
                        "reply_collected",
                        {"document_id": doc.id},
                    )
                claimed += 1
        return claimed
