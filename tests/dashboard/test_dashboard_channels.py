"""Channel tickets in the dashboard: platform icon, reply status, public reply from the Inbox."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard_helpers import add_user, make_app, no_exception
from sqlalchemy import select

from dashboards.channels import reply_state, with_icon
from listening.store import Document, Source, Store, Ticket, TicketEvent

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collection"))
from channel_server import Reply, api_server  # noqa: E402


def channel_ticket(store: Store, base: str) -> int:
    now = datetime.now(UTC)
    with store.session() as s:
        source = Source(
            name="masto-acme",
            kind="mastodon",
            url=f"{base}/tags/acme",
            state={},
            settings={"hashtags": ["acme"], "token": "USER-TOKEN-xyz1234"},
        )
        s.add(source)
        s.flush()
        doc = Document(
            source_id=source.id,
            external_id="101",
            url="https://m.example/@alice/101",
            text="Commande bloquée depuis dix jours !",
            content_hash="hm101",
            published_at=now - timedelta(hours=1),
            language="fr",
            raw={"platform": "mastodon"},
            author="p1",
        )
        s.add(doc)
        s.flush()
        ticket = Ticket(
            document_id=doc.id,
            team="support",
            priority="P1",
            status="new",
            tags=[],
            created_at=now,
            updated_at=now,
            sla_due_at=now + timedelta(hours=4),
        )
        s.add(ticket)
        s.flush()
        s.add(
            TicketEvent(
                ticket_id=ticket.id, at=now, actor="listening", action="created", details={}
            )
        )
        return ticket.id


def test_dashboard_channels_units() -> None:
    assert with_icon("mastodon") == "🐘 mastodon" and with_icon("forum") == "forum"
    assert reply_state(["created", "reply_queued"]) == "queued"
    assert reply_state(["created", "reply_queued", "reply_posted", "reply_collected"]) == "posted"
    assert reply_state(["created"]) is None


def test_dashboard_inbox_public_reply_is_posted_once(
    sqlite_store: Store, seeded: dict[str, Any]
) -> None:
    posted = {"id": "500", "url": "https://m.example/@acme/500", "content": "<p>ok</p>"}
    with api_server({"POST /api/v1/statuses": [Reply(posted)]}) as server:
        tid = channel_ticket(sqlite_store, server.base)
        add_user(sqlite_store, "bob", "support")
        at = make_app("inbox", user="bob", ticket=str(tid))
        no_exception(at)
        assert any("🐘 mastodon" in c.value for c in at.caption)
        assert any("Réponse publique : aucune" in m.value for m in at.markdown)
        at.text_area(key="in_reply_text").set_value("Bonjour, nous vous rappelons sous 4 h.")
        next(b for b in at.button if b.label == "Publier la réponse").click().run()
        no_exception(at)
        assert any(f"#{tid}" in m.value and "publiée" in m.value for m in at.success)
        assert any("Réponse publique : publiée" in m.value for m in at.markdown)
        listing = at.dataframe[1].value  # tickets listing: the reply state column
        assert listing.loc[listing["#"] == tid, "Réponse publique"].tolist() == ["publiée"]
        # the same text again: not sent twice
        at.text_area(key="in_reply_text").set_value("Bonjour, nous vous rappelons sous 4 h.")
        next(b for b in at.button if b.label == "Publier la réponse").click().run()
        no_exception(at)
        calls = server.calls("POST /api/v1/statuses")
    assert len(calls) == 1 and json.loads(calls[0].body)["in_reply_to_id"] == "101"
    with sqlite_store.session() as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None and ticket.status == "answered"
        actors = {
            e.actor
            for e in s.scalars(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == tid,
                    TicketEvent.action.in_(["reply_queued", "reply_posted"]),
                )
            )
        }
    assert actors == {"bob"}
