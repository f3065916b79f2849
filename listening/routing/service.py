"""Routing: analysed, not-yet-routed documents become tickets (or follow-ups of one).

:func:`route_pending` is idempotent: each document gets exactly one
``routing_decisions`` row (unique), written in the same transaction as the ticket,
its audit event and its outbox notifications. Concurrent runs never double-route:
on PostgreSQL each batch locks its documents ``FOR UPDATE SKIP LOCKED`` (then
re-checks decisions with a fresh snapshot) and serialises conversations with
advisory locks; on SQLite a batch takes the single write lock before reading.

One ticket per conversation: a document whose author pseudonym matches an earlier
ticket's on the same thread (``documents.thread_id``) or order (``raw.order_id``)
attaches to that ticket when it is open, reopens it when it is closed, and is only
recorded on it when it is ignored.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listening.routing import inbox, relevance
from listening.routing.locking import is_postgres, lock_keys, take_write_lock
from listening.routing.models import RoutingDecision
from listening.routing.notifiers import parse_targets
from listening.routing.outbox import enqueue, ticket_payload
from listening.routing.rules import Rule, RuleSet, evaluate, input_from_analysis, load_rules
from listening.settings import Settings
from listening.store import Store
from listening.store.models import Analysis, Document, Ticket, TicketEvent, utcnow
from listening.taxonomy import load_topics

SYSTEM = inbox.SYSTEM_ACTOR


def active_topics(settings: Settings) -> tuple[str, ...]:
    """Topic ids of the taxonomy the NLP stage uses (``nlp.taxonomy``)."""
    return load_topics(settings.nlp.taxonomy or None).ids


def sla_hours(settings: Settings, priority: str, rule: Rule | None = None) -> float:
    if rule is not None and rule.then is not None and rule.then.sla_hours is not None:
        return rule.then.sla_hours
    return float(getattr(settings.routing, f"sla_{priority.lower()}_hours"))


def conversation_keys(doc: Document) -> list[str]:
    """Keys shared by the documents of one conversation (same author, same thread or order)."""
    if not doc.author:
        return []
    keys = []
    order_id = (doc.raw or {}).get("order_id")
    if order_id:
        keys.append(f"order:{doc.brand_id or 0}:{order_id}:{doc.author}")
    if doc.thread_id:
        keys.append(f"thread:{doc.source_id}:{doc.thread_id}:{doc.author}")
    return keys


def routing_input(doc: Document, analysis: Analysis) -> Any:
    brand = doc.brand
    brand_kind = "none" if brand is None else ("own" if brand.is_own else "competitor")
    return input_from_analysis(
        doc.text,
        {
            "language": analysis.language or doc.language,
            "sentiment": analysis.sentiment,
            "topics": analysis.topics,
            "intent": analysis.intent,
            "urgency": analysis.urgency,
            "actionable": analysis.actionable,
        },
        title=doc.title,
        rating=doc.rating,
        source_kind=doc.source.kind if doc.source else None,
        brand_kind=brand_kind,
        brand_name=brand.name if brand else None,
    )


def relevance_gates(
    settings: Settings, doc: Document, analysis: Analysis, now: datetime
) -> list[relevance.Gate]:
    """The relevance gates ``doc`` fails (listening.routing.relevance)."""
    brand = doc.brand
    terms = [brand.name, *[str(a) for a in brand.aliases or []]] if brand is not None else []
    raw = doc.raw or {}
    return relevance.check(
        settings.routing,
        text=doc.text,
        title=doc.title,
        thread_title=raw.get("thread_title") if isinstance(raw.get("thread_title"), str) else None,
        source_kind=doc.source.kind if doc.source else None,
        brand_terms=terms,
        language=analysis.language or doc.language,
        published_at=doc.published_at,
        collected_at=doc.collected_at,
        now=now,
    )


def sla_start(doc: Document, now: datetime) -> datetime:
    """When the customer spoke: publication time, else collection time (never in the future)."""
    when = doc.published_at or doc.collected_at or now
    return min(when, now)


def ticket_targets(settings: Settings, rules: RuleSet, ticket: Ticket) -> list[str]:
    names: list[str] = []
    for rule in rules.rules:
        if rule.name == ticket.rule and rule.then is not None:
            names.extend(rule.then.notify)
    names.extend(settings.routing.team_targets.get(ticket.team, []))
    return list(dict.fromkeys(names))


def _notify(
    session: Session,
    settings: Settings,
    rules: RuleSet,
    ticket: Ticket,
    event: TicketEvent,
    name: str,
    doc: Document,
    analysis: Analysis | None,
) -> None:
    targets = ticket_targets(settings, rules, ticket)
    if targets:
        enqueue(
            session,
            event=name,
            key_base=f"ticket:{ticket.id}:{event.action}:{uuid.uuid4().hex[:16]}",
            targets=targets,
            payload=ticket_payload(name, ticket, doc, analysis),
            ticket_id=ticket.id,
        )


def _pending_batch(session: Session, size: int) -> list[tuple[Document, Analysis]]:
    latest = (
        select(func.max(Analysis.id).label("aid"))
        .where(Analysis.error.is_(None))
        .group_by(Analysis.document_id)
        .subquery()
    )
    decided = select(RoutingDecision.id).where(RoutingDecision.document_id == Document.id)
    query = (
        select(Document, Analysis)
        .join(Analysis, Analysis.document_id == Document.id)
        .join(latest, latest.c.aid == Analysis.id)
        .where(~decided.exists(), Document.erased_at.is_(None))
        .order_by(Document.id)
        .limit(size)
    )
    if is_postgres(session):
        query = query.with_for_update(of=Document, skip_locked=True)
    rows = [(d, a) for d, a in session.execute(query)]
    if rows and is_postgres(session):
        # a fresh snapshot: drop what another run decided while we were waiting
        ids = [d.id for d, _ in rows]
        done = set(
            session.scalars(
                select(RoutingDecision.document_id).where(RoutingDecision.document_id.in_(ids))
            )
        )
        rows = [(d, a) for d, a in rows if d.id not in done]
    return rows


def _conversations(session: Session, keys: list[str]) -> dict[str, Ticket]:
    """Latest ticket of each conversation key (one query per batch)."""
    found: dict[str, Ticket] = {}
    if keys:
        query = (
            select(Ticket).where(Ticket.conversation_key.in_(sorted(set(keys)))).order_by(Ticket.id)
        )
        if is_postgres(session):
            query = query.with_for_update(of=Ticket)
        for ticket in session.scalars(query):
            found[str(ticket.conversation_key)] = ticket
    return found


def _route_one(
    session: Session,
    settings: Settings,
    rules: RuleSet,
    doc: Document,
    analysis: Analysis,
    now: datetime,
    counts: dict[str, int],
    conversations: dict[str, Ticket],
) -> None:
    evaluation = evaluate(rules, routing_input(doc, analysis))
    rule = evaluation.rule
    keys = conversation_keys(doc)
    candidates = [conversations[k] for k in keys if k in conversations]
    existing = max(candidates, key=lambda t: t.id) if candidates else None
    outcome, ticket_id = "no_match", None
    action = rule.then if rule is not None else None
    blocked: list[relevance.Gate] = []
    if rule is not None and action is not None:
        blocked = [
            g for g in relevance_gates(settings, doc, analysis, now) if g.name not in rule.allow
        ]
        if blocked:
            action = None  # analysed and charted, not ticketed: the gate is the outcome
    start = sla_start(doc, now)
    if existing is not None and (action is not None or existing.status in inbox.OPEN_STATUSES):
        ticket_id = existing.id
        details = {"document_id": doc.id, "rule": rule.name if rule else None}
        if existing.status == "closed" and action is not None:
            event = inbox.reopen_ticket(session, existing, SYSTEM, details)
            outcome = "reopened"
            _notify(session, settings, rules, existing, event, "ticket.reopened", doc, analysis)
        else:
            inbox.record_event(session, existing, SYSTEM, "follow_up", details)
            outcome = "attached"
        if (
            action is not None
            and action.priority < existing.priority
            and existing.status in inbox.OPEN_STATUSES
        ):
            previous = existing.priority
            existing.priority = action.priority
            due = start + timedelta(hours=sla_hours(settings, action.priority, rule))
            if existing.sla_due_at is None or due < existing.sla_due_at:
                existing.sla_due_at = due
            ev = inbox.record_event(
                session,
                existing,
                SYSTEM,
                "escalated",
                {
                    "from": previous,
                    "to": action.priority,
                    "document_id": doc.id,
                    "rule": rule.name if rule else None,
                },
            )
            _notify(session, settings, rules, existing, ev, "ticket.escalated", doc, analysis)
    elif rule is not None and rule.skip:
        outcome = "skipped"
    elif blocked:
        outcome = blocked[0].name
    elif rule is not None and action is not None:
        ticket = Ticket(
            document_id=doc.id,
            team=action.team,
            priority=action.priority,
            status="new",
            rule=rule.name,
            tags=list(action.tags),
            conversation_key=keys[0] if keys else None,
            sla_due_at=start + timedelta(hours=sla_hours(settings, action.priority, rule)),
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        session.flush()
        event = inbox.record_event(
            session,
            ticket,
            SYSTEM,
            "created",
            {"rule": rule.name, "document_id": doc.id, "analysis_id": analysis.id},
        )
        _notify(session, settings, rules, ticket, event, "ticket.created", doc, analysis)
        outcome, ticket_id = "ticketed", ticket.id
        if keys:
            conversations[keys[0]] = ticket
    session.add(
        RoutingDecision(
            document_id=doc.id,
            analysis_id=analysis.id,
            ticket_id=ticket_id,
            outcome=outcome,
            rule=rule.name if rule else None,
            decided_at=now,
            reason="; ".join(g.reason for g in blocked) or None,
        )
    )
    counts[outcome] += 1


def check_sla(session: Session, settings: Settings, rules: RuleSet, now: datetime) -> int:
    """Record (once per deadline) and notify tickets waiting past their SLA; returns how many."""
    recorded = select(TicketEvent.id).where(
        TicketEvent.ticket_id == Ticket.id,
        TicketEvent.action == "sla_breached",
        TicketEvent.at >= Ticket.sla_due_at,  # recorded for the current deadline
    )
    late = list(
        session.scalars(
            select(Ticket).where(
                Ticket.status.in_(inbox.WAITING_STATUSES),
                Ticket.sla_due_at < now,
                ~recorded.exists(),
            )
        )
    )
    found = 0
    for ticket in late:
        due = ticket.sla_due_at.isoformat() if ticket.sla_due_at else ""
        event = inbox.record_event(
            session, ticket, SYSTEM, "sla_breached", {"sla_due_at": due}, at=now
        )
        doc = ticket.document
        analysis = session.scalar(
            select(Analysis)
            .where(Analysis.document_id == doc.id)
            .order_by(Analysis.id.desc())
            .limit(1)
        )
        _notify(session, settings, rules, ticket, event, "ticket.sla_breached", doc, analysis)
        found += 1
    return found


def route_pending(
    store: Store,
    settings: Settings,
    rules: RuleSet | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Route every analysed, not-yet-routed document; returns counts per outcome."""
    rules = rules or load_rules(settings.routing.rules_file, active_topics(settings))
    targets = parse_targets(settings.routing)
    rules.check_targets(set(targets))
    counts = {"ticketed": 0, "attached": 0, "reopened": 0, "skipped": 0, "no_match": 0}
    counts.update(dict.fromkeys(relevance.GATES, 0))
    done = 0
    while limit is None or done < limit:
        size = (
            settings.routing.batch_size
            if limit is None
            else min(settings.routing.batch_size, limit - done)
        )
        with store.session() as session:
            take_write_lock(session, "route")
            batch = _pending_batch(session, size)
            if not batch:
                break
            keys = [k for doc, _ in batch for k in conversation_keys(doc)]
            lock_keys(session, keys)
            conversations = _conversations(session, keys)
            stamp = now or utcnow()
            for doc, analysis in batch:
                _route_one(session, settings, rules, doc, analysis, stamp, counts, conversations)
        done += len(batch)
    with store.session() as session:
        take_write_lock(session, "route")
        breached = check_sla(session, settings, rules, now or utcnow())
    return {**counts, "routed": done, "sla_breached": breached, "rules": rules.source}
