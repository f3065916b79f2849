"""What the dashboard writes: ticket actions (through the routing inbox service) and sources.

Each ticket action runs in its own transaction, so one refused transition in a bulk
action does not undo the others; every error is reported with its ticket. Every write
is made in the name of the signed-in user (``actor``) and first checked against that
user's role in the store (listening.accounts.authorize): hiding a control is not the
only barrier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards import queries
from listening import accounts
from listening.errors import ListeningError, SourceError
from listening.store.models import Source, utcnow
from listening.store.sources import SourceSpec, add_source

TICKET_ACTIONS: tuple[str, ...] = ("assign", "answer", "close", "ignore")


@dataclass
class ActionResult:
    done: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def _ticket_call(action: str, actor: str, assignee: str, note: str) -> Callable[[Session, int], object]:
    from listening.routing import inbox

    if action == "assign":
        return lambda s, tid: inbox.assign(s, tid, assignee=assignee, actor=actor)
    if action == "answer":
        return lambda s, tid: inbox.answer(s, tid, note=note, actor=actor)
    if action == "close":
        return lambda s, tid: inbox.close(s, tid, actor=actor, note=note)
    if action == "ignore":
        return lambda s, tid: inbox.ignore(s, tid, actor=actor, note=note)
    raise ValueError(f"unknown action {action!r}; valid actions: {', '.join(TICKET_ACTIONS)}")


def ticket_action(url: str, action: str, ticket_ids: list[int], actor: str, assignee: str = "",
                  note: str = "") -> ActionResult:
    """Apply ``action`` to each ticket, one transaction per ticket.

    :class:`~listening.errors.AccountError` when ``actor`` may not act on tickets, or the
    assignee is not an active user; nothing is written then."""
    store = queries.write_store(url)
    with store.session() as session:
        accounts.authorize(session, actor, "tickets")
        if action == "assign":
            assignee = accounts.check_assignee(session, assignee)
    call = _ticket_call(action, actor, assignee, note)
    result = ActionResult()
    for ticket_id in ticket_ids:
        try:
            with store.session() as session:
                call(session, int(ticket_id))
        except ListeningError as exc:
            result.failed.append((int(ticket_id), str(exc)))
        else:
            result.done.append(int(ticket_id))
    queries.clear_caches()
    return result


def reply_ticket(url: str, ticket_id: int, text: str, actor: str) -> dict[str, object]:
    """Queue a public reply (outbox, idempotent) and try to post it now; ListeningError on refusal."""
    from listening.collection.channels.replies import queue_reply
    from listening.routing.outbox import deliver_pending
    from listening.settings import get_settings

    store = queries.write_store(url)
    with store.session() as session:
        accounts.authorize(session, actor, "tickets")
        result: dict[str, object] = queue_reply(session, int(ticket_id), text, actor)
    if result["status"] == "pending" and not result.get("duplicate"):
        result["notifications"] = deliver_pending(store, get_settings())
    queries.clear_caches()
    return result


def save_source(url: str, spec: SourceSpec, existing: str | None, actor: str) -> int:
    """Create a source, or update the one named ``existing`` (renaming it if asked);
    ``updated_by`` / ``updated_at`` record who did it."""
    store = queries.write_store(url)
    with store.session() as session:
        accounts.authorize(session, actor, "sources")
        if existing and existing != spec.name:
            taken = session.scalar(select(Source.id).where(Source.name == spec.name))
            if taken is not None:
                raise SourceError(f"a source named {spec.name!r} exists already",
                                  "choose another name")
            current = session.scalar(select(Source).where(Source.name == existing))
            if current is None:
                raise SourceError(f"no source named {existing!r}", "reload the page")
            current.name = spec.name
            session.flush()
        source, _created = add_source(session, spec, replace=existing is not None)
        source.updated_by, source.updated_at = actor, utcnow()
        source_id = source.id
    queries.clear_caches()
    return source_id


def enqueue_crawl(url: str, source_id: int, actor: str) -> None:
    """Make the source due now: the collector (`collect --all`, `serve`) picks it up."""
    store = queries.write_store(url)
    with store.session() as session:
        accounts.authorize(session, actor, "sources")
        source = session.get(Source, source_id)
        if source is None:
            raise SourceError(f"no source #{source_id}", "reload the page")
        source.next_run_at = utcnow()
    queries.clear_caches()
