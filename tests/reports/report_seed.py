"""The report tests' store: the dashboard seed plus a € verbatim and worked tickets."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
from dashboard_seed import seed  # noqa: E402

from listening.store import Analysis, Document, Store, Ticket, TicketEvent  # noqa: E402

EURO_TEXT = "Frais de port à 4,90 € : c’est l’idéal, « livraison » soignée."


def seed_report(store: Store, now: datetime) -> dict[str, Any]:
    """The dashboard seed, plus a French € verbatim and answered / closed tickets.

    Tickets: P1 due an hour ago, never answered (breached); P2 opened 5 h ago, answered
    2 h later (first response 2.0 h); P3 due in two days; P4 closed an hour ago.
    """
    ids = seed(store, now=now)
    with store.session() as s:
        doc = Document(
            source_id=ids["sources"]["forum"],
            brand_id=ids["own_brand"],
            external_id="euro",
            text=EURO_TEXT,
            content_hash="euro",
            language="fr",
            published_at=now - timedelta(days=2),
            raw={},
            author="a_euro",
        )
        s.add(doc)
        s.flush()
        ids["euro"] = doc.id
        s.add(
            Analysis(
                document_id=doc.id,
                model_version="test",
                language="fr",
                sentiment="positive",
                sentiment_score=0.7,
                intent="praise",
                urgency=[],
                actionable=False,
                topics=[
                    {"topic": "price", "sentiment": "positive", "confidence": 0.9, "evidence": []}
                ],
            )
        )
        tickets = {t.priority: t for t in s.query(Ticket)}
        for t in tickets.values():
            t.created_at = now - timedelta(hours=5)
        s.add(
            TicketEvent(
                ticket_id=tickets["P2"].id,
                at=now - timedelta(hours=3),
                actor="bob",
                action="answered",
                details={},
            )
        )
        s.add(
            TicketEvent(
                ticket_id=tickets["P4"].id,
                at=now - timedelta(hours=1),
                actor="bob",
                action="closed",
                details={},
            )
        )
    return ids
