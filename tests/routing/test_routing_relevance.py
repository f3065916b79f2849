"""Relevance before routing: off-topic, other-language and old verbatims open no ticket.

The end-to-end test runs saved real-style pages (a WordPress comment thread of political
rants under a blog post that names the merchant once, and a German phpBB thread about the
merchant) through the real extractor, ingestion, NLP pipeline and default rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from listening.collection.extract import extract
from listening.collection.ingest import ingest
from listening.errors import RoutingError
from listening.routing.models import RoutingDecision
from listening.routing.relevance import mentions, text_language
from listening.routing.rules import parse_rules
from listening.routing.service import route_pending
from listening.settings import load_settings
from listening.store import Store
from listening.store.models import Brand, Source, Ticket

PAGES = Path(__file__).with_name("pages")
MakeDoc = Callable[..., int]


def _decisions(store: Store) -> dict[int, RoutingDecision]:
    with store.session() as s:
        return {d.document_id: d for d in s.scalars(select(RoutingDecision))}


def _tickets(store: Store) -> list[Ticket]:
    with store.session() as s:
        return list(s.scalars(select(Ticket)))


def _source(store: Store, name: str, kind: str, settings: dict[str, object]) -> int:
    with store.session() as s:
        brand = s.scalar(select(Brand).where(Brand.name == "Maison Lumière"))
        if brand is None:
            brand = Brand(name="Maison Lumière", is_own=True, aliases=["Maison Lumiere"])
            s.add(brand)
            s.flush()
        source = Source(
            name=name,
            kind=kind,
            url=f"https://example.test/{name}",
            brand_id=brand.id,
            settings=settings,
            state={},
        )
        s.add(source)
        s.flush()
        return source.id


@pytest.mark.slow
def test_saved_off_topic_and_foreign_threads_yield_no_ticket(store: Store) -> None:
    from nlp.service import analyze_pending

    settings = load_settings()
    for page, kind, options in (
        ("blog_offtopic_comments.html", "blog", {"include_article": False}),
        ("forum_german_thread.html", "forum", {"forum_engine": "phpbb"}),
    ):
        source_id = _source(store, page.split(".")[0], kind, options)
        url = f"https://example.test/{page}"
        items = extract(
            (PAGES / page).read_bytes(),
            url,
            kind="forum" if kind == "forum" else "blog",
            options=options,
        ).items
        assert len(items) >= 3, page
        assert ingest(store, source_id, items, settings).new == len(items)
    assert analyze_pending(store, settings)["failed"] == 0
    # the thread is recent for this run: only relevance can stop the German posts
    now = datetime(2026, 12, 1, tzinfo=UTC)
    counts = route_pending(store, settings, now=now)
    assert _tickets(store) == []
    assert counts["off_topic"] >= 1, (
        counts
    )  # the rants matched rules (legal threat...) and were stopped
    assert counts["other_language"] >= 1, counts
    reasons = [
        d.reason for d in _decisions(store).values() if d.outcome in ("off_topic", "other_language")
    ]
    assert all(reasons) and any("'de'" in r for r in reasons if r)


def test_gates_stop_matched_rules_and_record_the_reason(store: Store, make_doc: MakeDoc) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    forum_off = make_doc(
        store,
        "Le gouvernement nous vole, je saisis mon avocat contre la mairie",
        kind="forum",
        source="forum-x",
        urgency=["legal_threat"],
        published_at=now,
    )
    forum_on = make_doc(
        store,
        "Chez Maison Lumière on me menace d'un avocat pour un retour",
        kind="forum",
        source="forum-x",
        author="a_on",
        urgency=["legal_threat"],
        published_at=now,
    )
    thread_on = make_doc(
        store,
        "Chez moi ça a pris 12 jours, je vais voir un avocat",
        kind="forum",
        source="forum-x",
        author="a_thr",
        urgency=["legal_threat"],
        published_at=now,
        raw={"thread_title": "Maison Lumiere : vos retours ?"},
    )
    survey = make_doc(
        store,
        "Je saisis mon avocat, commande jamais reçue",
        kind="survey",
        source="nps",
        author="a_s",
        urgency=["legal_threat"],
        published_at=now,
    )
    german = make_doc(
        store,
        "Meine Bestellung bei Maison Lumière ist nie angekommen, ich gehe zum Anwalt.",
        kind="review_site",
        source="rev",
        author="a_de",
        urgency=["legal_threat"],
        published_at=now,
    )
    old = make_doc(
        store,
        "Livraison jamais arrivée, je saisis mon avocat",
        kind="review_site",
        source="rev",
        author="a_old",
        urgency=["legal_threat"],
        published_at=now - timedelta(days=20),
    )
    counts = route_pending(store, load_settings(), now=now)
    decisions = _decisions(store)
    assert {
        doc: decisions[doc].outcome for doc in (forum_off, forum_on, thread_on, survey, german, old)
    } == {
        forum_off: "off_topic",
        forum_on: "ticketed",
        thread_on: "ticketed",
        survey: "ticketed",
        german: "other_language",
        old: "too_old",
    }
    assert decisions[forum_off].rule == "legal-threat"
    assert "names neither the brand" in (decisions[forum_off].reason or "")
    assert "20 days ago" in (decisions[old].reason or "")
    assert (
        counts["off_topic"],
        counts["other_language"],
        counts["too_old"],
        counts["ticketed"],
    ) == (1, 1, 1, 3)


def test_rule_allow_lets_a_gate_through_and_sla_counts_from_publication(
    store: Store, make_doc: MakeDoc
) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    published = now - timedelta(days=20)
    old = make_doc(
        store,
        "Livraison jamais arrivée, je saisis mon avocat",
        kind="review_site",
        source="rev",
        urgency=["legal_threat"],
        published_at=published,
    )
    rules = parse_rules(
        "rules:\n  - name: legal-any-age\n    when: {urgency: legal_threat}\n    allow: [too_old]\n"
        "    then: {team: support, priority: P1, sla_hours: 4}\n"
    )
    route_pending(store, load_settings(), rules=rules, now=now)
    [ticket] = _tickets(store)
    assert ticket.document_id == old
    # the SLA runs from when the customer wrote, not from when we collected it
    assert ticket.sla_due_at == published + timedelta(hours=4)


def test_recent_verbatim_sla_from_publication_and_age_limit_setting(
    store: Store, make_doc: MakeDoc
) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    published = now - timedelta(hours=3)
    doc = make_doc(
        store,
        "Je saisis mon avocat",
        kind="review_site",
        source="rev",
        urgency=["legal_threat"],
        published_at=published,
    )
    old = make_doc(
        store,
        "Je saisis mon avocat aussi",
        kind="review_site",
        source="rev",
        author="a_o",
        urgency=["legal_threat"],
        published_at=now - timedelta(days=400),
    )
    route_pending(store, load_settings(routing={"ticket_max_age_days": 0}), now=now)
    tickets = {t.document_id: t for t in _tickets(store)}
    assert set(tickets) == {doc, old}  # 0 = no age limit
    assert tickets[doc].sla_due_at == published + timedelta(hours=4)


def test_allow_on_a_skip_rule_is_refused() -> None:
    with pytest.raises(RoutingError, match="allow"):
        parse_rules("rules:\n  - name: r\n    skip: true\n    allow: [off_topic]\n")
    with pytest.raises(RoutingError, match="off_topic"):
        parse_rules("rules:\n  - name: r\n    allow: [ancient]\n    then: {team: support}\n")


def test_mentions_and_language_helpers() -> None:
    assert mentions(["Commandé chez MAISON LUMIERE hier"], ["Maison Lumière"]) == "Maison Lumière"
    assert mentions(["maisonlumierex"], ["Maison Lumière", "maisonlumiere"]) is None
    assert (
        text_language("Meine Bestellung ist nie angekommen und niemand antwortet.", ["fr", "en"])
        == "de"
    )
    assert (
        text_language("Ma commande n'est jamais arrivée et personne ne répond.", ["fr", "en"])
        == "fr"
    )
    assert text_language("Super !", ["fr", "en"]) is None


CUSTOM_TAXONOMY = """
name: fidelite
topics:
  loyalty:
    label: {fr: Fidélité, en: Loyalty}
    examples: [Ma carte de fidélité ne marche pas.]
  delivery:
    description: {fr: "Livraison, colis", en: "Delivery, parcels"}
    examples: [Colis en retard.]
"""
CUSTOM_RULES = """rules:
  - name: loyalty
    when:
      topic_sentiment: {loyalty: negative}
    then: {team: crm, priority: P3}
"""


def test_rules_validate_topics_against_the_active_taxonomy(
    store: Store, make_doc: MakeDoc, tmp_path: Path
) -> None:
    from listening.routing.service import active_topics
    from listening.taxonomy import load_topics

    taxonomy = tmp_path / "fidelite.yaml"
    taxonomy.write_text(CUSTOM_TAXONOMY, encoding="utf-8")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(CUSTOM_RULES, encoding="utf-8")
    with pytest.raises(RoutingError, match=r"line 4:.*unknown topic 'loyalty'.*delivery, stock"):
        parse_rules(CUSTOM_RULES)  # the shipped journey taxonomy has no 'loyalty'
    settings = load_settings(
        nlp={"taxonomy": str(taxonomy)}, routing={"rules_file": str(rules_file)}
    )
    assert active_topics(settings) == ("loyalty", "delivery")
    assert load_topics(taxonomy).label("loyalty", "fr") == "Fidélité"
    assert load_topics(taxonomy).label("delivery", "en") == "Delivery"
    doc = make_doc(store, "Ma carte de fidélité ne fonctionne plus", topics={"loyalty": "negative"})
    counts = route_pending(store, settings)
    [ticket] = _tickets(store)
    assert (ticket.document_id, ticket.team, counts["ticketed"]) == (doc, "crm", 1)
    with pytest.raises(RoutingError, match="unknown topic 'stock'"):
        parse_rules(
            CUSTOM_RULES.replace("loyalty: negative", "stock: negative"),
            topics=active_topics(settings),
        )
