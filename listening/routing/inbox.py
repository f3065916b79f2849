"""The inbox service layer, shared by the CLI (`listening inbox ...`) and the dashboard.

Every change takes a :class:`~sqlalchemy.orm.Session` (the caller's transaction), writes
one ``ticket_events`` row (who, what, when) and raises :class:`RoutingError` on an
invalid transition. Lifecycle::

    new -> assigned -> answered -> closed
      \\------\\----------\\------> ignored      closed/ignored -> reopen -> new|assigned

SLA: ``sla_due_at`` is the deadline of the first answer. A ticket is *breached* while
it is new or assigned after its deadline; answering it meets the SLA.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listening.errors import RoutingError
from listening.store.models import Analysis, Document, Ticket, TicketEvent, utcnow

STATUSES: tuple[str, ...] = ("new", "assigned", "answered", "closed", "ignored")
OPEN_STATUSES: tuple[str, ...] = ("new", "assigned", "answered")
WAITING_STATUSES: tuple[str, ...] = ("new", "assigned")  # the SLA clock runs
PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")
SYSTEM_ACTOR = "listening"


def get_ticket(session: Session, ticket_id: int, lock: bool = True) -> Ticket:
    """The ticket, locked for update on PostgreSQL; a clear error when it does not exist."""
    ticket = session.get(Ticket, ticket_id, with_for_update=lock)
    if ticket is None:
        raise RoutingError(f"no ticket #{ticket_id}", "`listening inbox list` shows the tickets")
    return ticket


def record_event(
    session: Session,
    ticket: Ticket,
    actor: str,
    action: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TicketEvent:
    """Append an audit-trail row to ``ticket`` (and bump its ``updated_at``)."""
    now = at or utcnow()
    event = TicketEvent(ticket_id=ticket.id, at=now, actor=actor, action=action, details=details or {})
    session.add(event)
    ticket.updated_at = now
    return event


def _require(ticket: Ticket, allowed: tuple[str, ...], action: str) -> None:
    if ticket.status not in allowed:
        hint = (
            "`listening inbox reopen` it first"
            if ticket.status in ("closed", "ignored")
            else f"{action} works on tickets that are {', '.join(allowed)}"
        )
        raise RoutingError(
            f"cannot {action} ticket #{ticket.id}: it is {ticket.status}", hint
        )


def _actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise RoutingError("an actor is required", "say who does it, e.g. --actor alice")
    return actor[:200]


def assign(session: Session, ticket_id: int, assignee: str, actor: str) -> Ticket:
    """Give the ticket to ``assignee`` (new/assigned/answered → assigned)."""
    ticket = get_ticket(session, ticket_id)
    actor = _actor(actor)
    assignee = (assignee or "").strip()
    if not assignee:
        raise RoutingError("an assignee is required", "give the name of the person in charge")
    _require(ticket, OPEN_STATUSES, "assign")
    previous = ticket.assignee
    ticket.assignee = assignee[:200]
    if ticket.status == "new":
        ticket.status = "assigned"
    record_event(session, ticket, actor, "assigned", {"assignee": assignee, "previous": previous})
    return ticket


def answer(session: Session, ticket_id: int, note: str, actor: str) -> Ticket:
    """Record that the customer was answered (meets the SLA)."""
    ticket = get_ticket(session, ticket_id)
    actor = _actor(actor)
    if not (note or "").strip():
        raise RoutingError("an answer needs a note", "say what was answered, e.g. --note 'called back'")
    _require(ticket, ("new", "assigned"), "answer")
    ticket.status = "answered"
    if ticket.assignee is None:
        ticket.assignee = actor
    now = utcnow()
    met = ticket.sla_due_at is None or now <= ticket.sla_due_at
    record_event(session, ticket, actor, "answered", {"note": note.strip(), "sla_met": met})
    return ticket


def close(session: Session, ticket_id: int, actor: str, note: str = "") -> Ticket:
    """Close a ticket that needs nothing more."""
    ticket = get_ticket(session, ticket_id)
    actor = _actor(actor)
    _require(ticket, OPEN_STATUSES, "close")
    ticket.status = "closed"
    record_event(session, ticket, actor, "closed", {"note": note.strip()} if note.strip() else {})
    return ticket


def ignore(session: Session, ticket_id: int, actor: str, note: str = "", train: bool = True) -> Ticket:
    """Mark the ticket as not needing an answer (spam, off-topic, duplicate). With ``train``
    (default) this also records a "not actionable" correction of its verbatim, which
    `listening train intent` learns from (see listening/corrections.py)."""
    ticket = get_ticket(session, ticket_id)
    actor = _actor(actor)
    _require(ticket, OPEN_STATUSES, "ignore")
    ticket.status = "ignored"
    record_event(session, ticket, actor, "ignored", {"note": note.strip()} if note.strip() else {})
    if train:
        from listening.corrections import CorrectionIn, TaxonomyRef, record_correction

        record_correction(session, CorrectionIn(actor=actor, document_id=ticket.document_id,
                                                actionable=False, note=note or None, origin="inbox"),
                          TaxonomyRef("", ()))
    return ticket


def reopen(session: Session, ticket_id: int, actor: str) -> Ticket:
    """Reopen a closed or ignored ticket; its SLA restarts with the same length."""
    ticket = get_ticket(session, ticket_id)
    actor = _actor(actor)
    reopen_ticket(session, ticket, actor, {})
    return ticket


def reopen_ticket(
    session: Session, ticket: Ticket, actor: str, details: dict[str, Any]
) -> TicketEvent:
    """Reopen ``ticket`` (already loaded); used by :func:`reopen` and by follow-ups."""
    _require(ticket, ("closed", "ignored"), "reopen")
    previous = ticket.status
    ticket.status = "assigned" if ticket.assignee else "new"
    if ticket.sla_due_at is not None:
        length = ticket.sla_due_at - ticket.created_at
        ticket.sla_due_at = utcnow() + max(length, timedelta(0))
    return record_event(
        session, ticket, actor, "reopened",
        {"previous": previous, "sla_due_at": ticket.sla_due_at.isoformat() if ticket.sla_due_at else None,
         **details},
    )


def add_note(session: Session, ticket_id: int, note: str, actor: str) -> Ticket:
    """Add an internal note (any status)."""
    ticket = get_ticket(session, ticket_id)
    actor = _actor(actor)
    if not (note or "").strip():
        raise RoutingError("the note is empty", "write the note text")
    record_event(session, ticket, actor, "note", {"note": note.strip()})
    return ticket


def sla_state(ticket: Ticket, now: datetime | None = None) -> str:
    """``breached`` / ``due`` while waiting for an answer, else ``met`` / ``none``."""
    now = now or utcnow()
    if ticket.sla_due_at is None:
        return "none"
    if ticket.status in WAITING_STATUSES:
        return "breached" if now > ticket.sla_due_at else "due"
    return "met"


def ticket_summary(ticket: Ticket, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    doc = ticket.document
    return {
        "id": ticket.id,
        "team": ticket.team,
        "priority": ticket.priority,
        "status": ticket.status,
        "assignee": ticket.assignee,
        "rule": ticket.rule,
        "tags": list(ticket.tags or []),
        "conversation_key": ticket.conversation_key,
        "sla_due_at": ticket.sla_due_at,
        "sla": sla_state(ticket, now),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "document_id": ticket.document_id,
        "brand": doc.brand.name if doc.brand else None,
        "source": doc.source.name if doc.source else None,
        "url": doc.url,
        "excerpt": " ".join(doc.text.split())[:160],
    }


def list_tickets(
    session: Session,
    team: str | None = None,
    status: str | list[str] | None = None,
    priority: str | None = None,
    assignee: str | None = None,
    breached_only: bool = False,
    limit: int = 200,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Tickets, most urgent first (priority, then SLA deadline); ``status`` defaults to open ones."""
    now = now or utcnow()
    statuses = [status] if isinstance(status, str) else list(status or OPEN_STATUSES)
    for s in statuses:
        if s not in STATUSES:
            raise RoutingError(f"unknown status {s!r}", f"valid statuses: {', '.join(STATUSES)}")
    if priority is not None and priority not in PRIORITIES:
        raise RoutingError(f"unknown priority {priority!r}", f"valid priorities: {', '.join(PRIORITIES)}")
    query = select(Ticket).where(Ticket.status.in_(statuses))
    if team:
        query = query.where(Ticket.team == team)
    if priority:
        query = query.where(Ticket.priority == priority)
    if assignee:
        query = query.where(Ticket.assignee == assignee)
    if breached_only:
        query = query.where(Ticket.status.in_(WAITING_STATUSES), Ticket.sla_due_at < now)
    query = query.order_by(Ticket.priority, Ticket.sla_due_at, Ticket.id).limit(limit)
    return [ticket_summary(t, now) for t in session.scalars(query)]


def ticket_detail(session: Session, ticket_id: int) -> dict[str, Any]:
    """One ticket with its verbatim, latest analysis, follow-ups and audit trail."""
    ticket = get_ticket(session, ticket_id, lock=False)
    data = ticket_summary(ticket)
    doc = ticket.document
    analysis = session.scalar(
        select(Analysis)
        .where(Analysis.document_id == doc.id, Analysis.error.is_(None))
        .order_by(Analysis.id.desc())
        .limit(1)
    )
    data["text"] = doc.text
    data["title"] = doc.title
    data["author"] = doc.author
    data["published_at"] = doc.published_at
    data["analysis"] = (
        {
            "sentiment": analysis.sentiment,
            "topics": analysis.topics,
            "intent": analysis.intent,
            "urgency": analysis.urgency,
            "actionable": analysis.actionable,
            "model_version": analysis.model_version,
        }
        if analysis
        else None
    )
    events = list(ticket.events)
    follow_ids = [e.details.get("document_id") for e in events if e.action in ("follow_up", "reopened")]
    follow_docs = {
        d.id: d
        for d in session.scalars(
            select(Document).where(Document.id.in_([i for i in follow_ids if i is not None]))
        )
    }
    data["follow_ups"] = [
        {"document_id": d.id, "text": d.text, "url": d.url, "published_at": d.published_at}
        for d in follow_docs.values()
    ]
    data["events"] = [
        {"at": e.at, "actor": e.actor, "action": e.action, "details": e.details} for e in events
    ]
    return data
