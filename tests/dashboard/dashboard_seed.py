"""Seed a store with brands, sources, verbatims, analyses, tickets and runs for dashboard tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from listening.store import Analysis, Brand, Document, Run, Source, Store, Ticket, TicketEvent

HOSTILE = (
    "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\"> **gras** "
    "[lien](http://evil.example) :red[rouge] $x$"
)


def seed(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """Two brands, three sources, 80 verbatims (one hostile), analyses, 4 tickets, 2 runs.

    Each brand has 10 mentions of each of 4 topics; on delivery the own brand is all
    negative and the rival all positive (a significant difference), elsewhere equal.
    """
    now = now or datetime.now(UTC)
    ids: dict[str, Any] = {"documents": [], "tickets": []}
    with store.session() as s:
        own = Brand(name="Maison Lumière", is_own=True, aliases=[])
        rival = Brand(name="Luminéo", is_own=False, aliases=[])
        s.add_all([own, rival])
        s.flush()
        forum = Source(name="forum-deco", kind="forum", url="https://forum.example/t", state={},
                       settings={}, brand_id=own.id, last_run_at=now - timedelta(hours=1))
        reviews = Source(name="avis-lumineo", kind="review_site", url="https://avis.example/l",
                         state={}, settings={}, brand_id=rival.id, blocked=True,
                         blocked_reason="HTTP 403")
        survey = Source(name="enquete", kind="survey", url="survey.csv", state={}, settings={})
        s.add_all([forum, reviews, survey])
        s.flush()
        s.add(Run(source_id=forum.id, started_at=now - timedelta(hours=1), status="ok", new=12,
                  finished_at=now - timedelta(minutes=59), errors=[], duration_s=3.2))
        s.add(Run(source_id=reviews.id, started_at=now - timedelta(hours=2), status="blocked",
                  failed=1, errors=["HTTP 403"], finished_at=now - timedelta(hours=2)))
        texts = [
            ("Livraison très lente, colis abîmé à l'arrivée.", "delivery", "negative"),
            ("Super produit, la lampe est magnifique !", "product", "positive"),
            ("Le service client ne répond jamais, je vais porter plainte.", "customer_service",
             "negative"),
            ("Prix correct pour la qualité.", "price", "positive"),
        ]
        for i in range(80):
            text, topic, sentiment = texts[(i // 2) % 4]
            brand, source = (own, forum) if i % 2 == 0 else (rival, reviews)
            if brand is rival and topic == "delivery":
                text, sentiment = "Livraison rapide, colis parfait.", "positive"
            if i == 5:
                text = HOSTILE
            doc = Document(
                source_id=source.id, brand_id=brand.id, external_id=f"e{i}",
                url=f"https://forum.example/t/{i}", thread_id="t1" if i < 6 else None,
                title=f"Avis {i}" if i % 3 == 0 else None, text=text, content_hash=f"h{i}",
                published_at=now - timedelta(days=i % 20, hours=1), language="fr", raw={},
                author=f"a{i}",
            )
            s.add(doc)
            s.flush()
            ids["documents"].append(doc.id)
            end = min(9, len(text))
            s.add(Analysis(
                document_id=doc.id, model_version="test", language="fr", sentiment=sentiment,
                sentiment_score=-0.8 if sentiment == "negative" else 0.8,
                topics=[{"topic": topic, "sentiment": sentiment, "confidence": 0.9,
                         "evidence": [{"start": 0, "end": end, "text": text[:end]}]}],
                intent="complaint" if sentiment == "negative" else "praise",
                urgency=["legal_threat"] if "plainte" in text else [], actionable=True,
            ))
        s.flush()
        for n, (team, prio, status, due) in enumerate([
            ("support", "P1", "new", now - timedelta(hours=1)),
            ("support", "P2", "assigned", now + timedelta(hours=1)),
            ("logistics", "P3", "new", now + timedelta(days=2)),
            ("support", "P4", "closed", None),
        ]):
            ticket = Ticket(document_id=ids["documents"][n * 2], team=team, priority=prio,
                            status=status, assignee="alice" if status == "assigned" else None,
                            rule="test", tags=[], sla_due_at=due)
            s.add(ticket)
            s.flush()
            s.add(TicketEvent(ticket_id=ticket.id, actor="routing", action="created", details={}))
            ids["tickets"].append(ticket.id)
        ids["own_brand"], ids["rival_brand"] = own.id, rival.id
        ids["sources"] = {"forum": forum.id, "reviews": reviews.id, "survey": survey.id}
    return ids
