from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from listening.errors import RoutingError
from listening.routing import inbox
from listening.routing.models import Notification, RoutingDecision
from listening.routing.service import route_pending
from listening.settings import load_settings
from listening.store import Store
from listening.store.models import Ticket, TicketEvent, utcnow

MakeDoc = Callable[..., int]


def _tickets(store: Store) -> list[Ticket]:
    with store.session() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


def test_service_default_rules_route_merchant_cases_idempotently(store: Store, make_doc: MakeDoc) -> None:
    delivery = make_doc(store, "Colis toujours pas livré après 3 semaines", topics={"delivery": "negative"})
    legal = make_doc(store, "Je saisis mon avocat", author="a_2", urgency=["legal_threat"],
                     topics={"customer_service": "negative"})
    question = make_doc(store, "Livrez-vous en Belgique ?", author="a_3", intent="question",
                        sentiment="neutral", topics={"delivery": "neutral"}, actionable=False)
    competitor = make_doc(store, "Livraison catastrophique chez Déco Express", author="a_4",
                          source="rev-deco", kind="review_site", brand="Déco Express", own=False,
                          topics={"delivery": "negative"}, urgency=["legal_threat"])
    praise = make_doc(store, "Superbe lampe, merci", author="a_5", intent="praise", sentiment="positive",
                      topics={"product": "positive"}, actionable=False)
    make_doc(store, "not analysed yet", author="a_6", analysed=False)
    make_doc(store, "analysis failed", author="a_7", error="model crashed")
    settings = load_settings()
    before = utcnow()
    first = route_pending(store, settings)
    assert first["ticketed"] == 3 and first["skipped"] == 1 and first["no_match"] == 1
    assert first["routed"] == 5
    by_doc = {t.document_id: t for t in _tickets(store)}
    assert set(by_doc) == {delivery, legal, question}
    assert (by_doc[delivery].team, by_doc[delivery].priority) == ("logistics", "P2")
    assert (by_doc[legal].team, by_doc[legal].priority) == ("support", "P1")
    assert by_doc[legal].sla_due_at is not None
    assert timedelta(hours=3.9) < by_doc[legal].sla_due_at - before < timedelta(hours=4.1)
    assert (by_doc[question].team, by_doc[question].priority) == ("support", "P3")
    assert competitor not in by_doc and praise not in by_doc
    second = route_pending(store, settings)
    assert second["routed"] == 0 and len(_tickets(store)) == 3
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(RoutingDecision)) == 5
        created = s.scalars(select(TicketEvent).where(TicketEvent.action == "created")).all()
        assert len(created) == 3


def test_service_follow_ups_attach_reopen_and_escalate(store: Store, make_doc: MakeDoc) -> None:
    settings = load_settings()
    first = make_doc(store, "Colis en retard", author="a_x", thread_id="t1", topics={"delivery": "negative"})
    route_pending(store, settings)
    [ticket] = _tickets(store)
    assert ticket.document_id == first and ticket.priority == "P2"
    make_doc(store, "Toujours rien reçu", author="a_x", thread_id="t1", topics={"delivery": "negative"})
    make_doc(store, "Moi aussi j'attends", author="a_other", thread_id="t1", topics={"delivery": "negative"})
    out = route_pending(store, settings)
    assert out["attached"] == 1 and out["ticketed"] == 1
    assert len(_tickets(store)) == 2
    with store.session() as s:
        inbox.close(s, ticket.id, actor="alice")
    make_doc(store, "Merci c'est réglé", author="a_x", thread_id="t1", intent="praise",
             sentiment="positive", topics={"delivery": "positive"}, actionable=False)
    out = route_pending(store, settings)
    assert out["no_match"] == 1 and out["reopened"] == 0  # a thank-you does not reopen
    make_doc(store, "Finalement le colis est arrivé cassé, j'appelle mon avocat", author="a_x",
             thread_id="t1", urgency=["legal_threat"], topics={"delivery": "negative"})
    out = route_pending(store, settings)
    assert out["reopened"] == 1 and len(_tickets(store)) == 2
    with store.session() as s:
        detail = inbox.ticket_detail(s, ticket.id)
    assert detail["status"] == "new" and detail["priority"] == "P1"
    assert [e["action"] for e in detail["events"]] == [
        "created", "follow_up", "closed", "reopened", "escalated",
    ]


def test_service_same_order_across_sources_is_one_ticket(store: Store, make_doc: MakeDoc) -> None:
    settings = load_settings()
    make_doc(store, "Commande 123 jamais reçue", author="a_o", order_id="123", source="mail",
             kind="email", topics={"delivery": "negative"})
    make_doc(store, "Avis: commande 123 jamais reçue", author="a_o", order_id="123", source="reviews",
             kind="review_site", topics={"delivery": "negative"})
    make_doc(store, "Commande 999 abîmée", author="a_o", order_id="999", source="mail", kind="email",
             topics={"delivery": "negative"})
    out = route_pending(store, settings)
    assert out == {**out, "ticketed": 2, "attached": 1}


def test_service_concurrent_runs_never_double_route(store: Store, make_doc: MakeDoc) -> None:
    for i in range(60):
        # 20 conversations of three posts each, routed by competing runs
        make_doc(store, f"Retard de livraison {i}", author=f"a_{i % 20}", thread_id=f"t{i % 20}",
                 topics={"delivery": "negative"})
    settings = load_settings(routing={"batch_size": 7})
    results: list[dict] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(route_pending(Store(store.url), settings))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sum(r["routed"] for r in results) == 60
    assert sum(r["ticketed"] for r in results) == 20
    assert sum(r["attached"] for r in results) == 40
    tickets = _tickets(store)
    assert len(tickets) == 20 and len({t.conversation_key for t in tickets}) == 20
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(RoutingDecision)) == 60


def test_service_sla_breach_recorded_once(sqlite_store: Store, make_doc: MakeDoc) -> None:
    settings = load_settings(routing={"targets": {"ops": {"kind": "webhook", "url": "http://127.0.0.1:9/x"}},
                                      "team_targets": {"support": ["ops"]}})
    make_doc(sqlite_store, "Je saisis mon avocat", urgency=["legal_threat"])
    route_pending(sqlite_store, settings)
    later = utcnow() + timedelta(hours=5)
    assert route_pending(sqlite_store, settings, now=later)["sla_breached"] == 1
    assert route_pending(sqlite_store, settings, now=later)["sla_breached"] == 0
    with sqlite_store.session() as s:
        assert inbox.list_tickets(s, breached_only=True, now=later)[0]["sla"] == "breached"
        events = [n.event for n in s.scalars(select(Notification).order_by(Notification.id))]
    assert events == ["ticket.created", "ticket.sla_breached"]


def test_service_ignored_ticket_records_follow_up_without_reopening(sqlite_store: Store, make_doc: MakeDoc) -> None:
    settings = load_settings()
    make_doc(sqlite_store, "Spam livraison", author="a_s", thread_id="t9", topics={"delivery": "negative"})
    route_pending(sqlite_store, settings)
    [ticket] = _tickets(sqlite_store)
    with sqlite_store.session() as s:
        inbox.ignore(s, ticket.id, actor="alice", note="spam")
    make_doc(sqlite_store, "Encore du spam livraison", author="a_s", thread_id="t9", topics={"delivery": "negative"})
    assert route_pending(sqlite_store, settings)["attached"] == 1
    with sqlite_store.session() as s:
        detail = inbox.ticket_detail(s, ticket.id)
    assert detail["status"] == "ignored" and detail["events"][-1]["action"] == "follow_up"
    assert len(detail["follow_ups"]) == 1


def test_service_bad_rules_or_targets_stop_before_writing(
    sqlite_store: Store, make_doc: MakeDoc, tmp_path: Path
) -> None:
    make_doc(sqlite_store, "Colis perdu", topics={"delivery": "negative"})
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - name: r\n    when: {topic_sentiment: {shipping: negative}}\n    then: {team: s}\n")
    with pytest.raises(RoutingError, match="line 3.*unknown topic 'shipping'"):
        route_pending(sqlite_store, load_settings(routing={"rules_file": str(bad)}))
    notify = tmp_path / "notify.yaml"
    notify.write_text("rules:\n  - name: r\n    then: {team: s, notify: [pager]}\n")
    with pytest.raises(RoutingError, match="unknown target 'pager'"):
        route_pending(sqlite_store, load_settings(routing={"rules_file": str(notify)}))
    with sqlite_store.session() as s:
        assert s.scalar(select(func.count()).select_from(RoutingDecision)) == 0  # nothing lost
    assert route_pending(sqlite_store, load_settings())["ticketed"] == 1
