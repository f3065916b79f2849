from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from listening.errors import RoutingError
from listening.routing import inbox
from listening.store import Store
from listening.store.models import Ticket, utcnow

MakeDoc = Callable[..., int]



def _ticket(store: Store, make_doc: MakeDoc, hours: float = 4) -> int:
    doc_id = make_doc(store, "Colis jamais arrivé", topics={"delivery": "negative"})
    with store.session() as s:
        now = utcnow()
        t = Ticket(document_id=doc_id, team="logistics", priority="P2", status="new", tags=[],
                   created_at=now, updated_at=now, sla_due_at=now + timedelta(hours=hours))
        s.add(t)
        s.flush()
        return t.id


def test_inbox_lifecycle_writes_audit_trail(store: Store, make_doc: MakeDoc) -> None:
    tid = _ticket(store, make_doc)
    with store.session() as s:
        inbox.assign(s, tid, "alice", actor="bob")
    with store.session() as s:
        inbox.add_note(s, tid, "called the carrier", actor="alice")
        inbox.answer(s, tid, "refund sent", actor="alice")
    with store.session() as s:
        inbox.close(s, tid, actor="alice")
    with store.session() as s:
        inbox.reopen(s, tid, actor="carol")
        t = s.get(Ticket, tid)
        assert t is not None and t.status == "assigned" and t.assignee == "alice"
    with store.session() as s:
        inbox.ignore(s, tid, actor="carol", note="spam")
    with store.session() as s:
        detail = inbox.ticket_detail(s, tid)
    actions = [(e["actor"], e["action"]) for e in detail["events"]]
    assert actions == [
        ("bob", "assigned"), ("alice", "note"), ("alice", "answered"), ("alice", "closed"),
        ("carol", "reopened"), ("carol", "ignored"),
    ]
    assert detail["status"] == "ignored"
    assert detail["events"][2]["details"]["sla_met"] is True


@pytest.mark.parametrize(
    "setup,action",
    [
        ("closed", lambda s, t: inbox.assign(s, t, "x", "y")),
        ("closed", lambda s, t: inbox.answer(s, t, "n", "y")),
        ("new", lambda s, t: inbox.reopen(s, t, "y")),
        ("answered", lambda s, t: inbox.answer(s, t, "again", "y")),
        ("ignored", lambda s, t: inbox.close(s, t, "y")),
    ],
)
def test_inbox_invalid_transitions_raise(sqlite_store: Store, make_doc: MakeDoc, setup: str, action) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(sqlite_store, make_doc)
    with sqlite_store.session() as s:
        t = s.get(Ticket, tid)
        assert t is not None
        t.status = setup
    with pytest.raises(RoutingError) as err, sqlite_store.session() as s:
        action(s, tid)
    assert f"it is {setup}" in err.value.message
    with sqlite_store.session() as s:
        assert inbox.ticket_detail(s, tid)["events"] == []  # nothing half-written


def test_inbox_unknown_ticket_and_empty_inputs(sqlite_store: Store, make_doc: MakeDoc) -> None:
    tid = _ticket(sqlite_store, make_doc)
    with sqlite_store.session() as s:
        with pytest.raises(RoutingError, match="no ticket #999"):
            inbox.assign(s, 999, "a", "b")
        with pytest.raises(RoutingError, match="assignee"):
            inbox.assign(s, tid, " ", "b")
        with pytest.raises(RoutingError, match="actor"):
            inbox.close(s, tid, "")
        with pytest.raises(RoutingError, match="note"):
            inbox.answer(s, tid, "", "b")


def test_inbox_sla_breach_listing(sqlite_store: Store, make_doc: MakeDoc) -> None:
    late = _ticket(sqlite_store, make_doc, hours=-1)
    ok = _ticket(sqlite_store, make_doc, hours=5)
    with sqlite_store.session() as s:
        rows = inbox.list_tickets(s, breached_only=True)
        assert [r["id"] for r in rows] == [late]
        assert {r["id"]: r["sla"] for r in inbox.list_tickets(s)} == {late: "breached", ok: "due"}
        inbox.answer(s, late, "done", "alice")
    with sqlite_store.session() as s:
        assert inbox.list_tickets(s, breached_only=True) == []
        assert inbox.list_tickets(s, status="answered")[0]["sla"] == "met"
        with pytest.raises(RoutingError, match="valid statuses"):
            inbox.list_tickets(s, status="open")
