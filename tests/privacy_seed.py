"""Seed one person across every table of the store, and scan every column for them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text

from listening.collection.ingest import ingest
from listening.corrections import CorrectionIn, TaxonomyRef, record_correction
from listening.routing import inbox
from listening.routing.models import Alert, RoutingDecision
from listening.routing.outbox import enqueue, ticket_payload
from listening.settings import Settings
from listening.store import Analysis, Correction, Document, Store, Ticket
from listening.store.documents import DocumentIn
from listening.store.sources import SourceSpec, add_source

NAME = "Jean Dupont"
EMAIL = "jean.dupont@gmail.com"
HANDLE = "jeandupont75"
# words only this person wrote (every one must disappear)
FRAGMENTS = ["Trifouilly", "Zanzibarre", "Quokkaville", "jeandupont75", "Dupont", "rappeler Jean"]
OTHER_TEXT = "Livraison rapide chez Marie, emballage soigné, je recommande Maison Lumière."
WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def seed(store: Store, settings: Settings) -> dict[str, Any]:
    """The person: two verbatims (one with their e-mail as author), with analyses, a ticket
    with notes, outbox rows, an alert, corrections (one orphaned), an embedding cache row;
    plus another author's verbatim that must survive."""
    with store.session() as s:
        src, _ = add_source(
            s,
            SourceSpec(
                name="forum-ml", kind="forum", url="https://forum.test/", brand="Maison Lumière"
            ),
        )
        mail, _ = add_source(
            s, SourceSpec(name="mail-ml", kind="email", url="inbox.mbox", brand="Maison Lumière")
        )
        source_id, mail_id = src.id, mail.id
    items = [
        DocumentIn(
            external_id=f"https://forum.test/u/{HANDLE}/post/1",
            text="Colis jamais arrivé à Trifouilly, commande Zanzibarre perdue, très déçu !",
            title="Colis perdu Trifouilly",
            url=f"https://forum.test/u/{HANDLE}/post/1",
            thread_id=f"thread-{HANDLE}",
            author=NAME,
            published_at=WHEN,
            raw={
                "kind": "forum_post",
                "username": HANDLE,
                "thread_title": "Colis perdu Trifouilly",
            },
        ),
        DocumentIn(
            external_id="post-2",
            text="Toujours rien reçu à Quokkaville, le service client ne répond pas.",
            author=NAME,
            thread_id=f"thread-{HANDLE}",
            published_at=WHEN,
        ),
        DocumentIn(
            external_id="post-3",
            text=OTHER_TEXT,
            author="Marie Curie",
            published_at=WHEN,
            parent_id=f"https://forum.test/u/{HANDLE}/post/1",  # Marie answers Jean
            thread_id=f"https://forum.test/u/{HANDLE}/post/1",
        ),
    ]
    ingest(store, source_id, items, settings)
    ingest(
        store,
        mail_id,
        [
            DocumentIn(
                external_id="<m1@gmail.com>",
                text="Bonjour, ma commande Zanzibarre est en retard depuis Quokkaville.",
                author=EMAIL,
                title="Retard Zanzibarre",
                published_at=WHEN,
            )
        ],
        settings,
    )
    with store.session() as s:
        docs = {d.external_id: d for d in s.scalars(select(Document))}
        mine = [d.id for d in docs.values() if d.author != docs["post-3"].author]
        other = docs["post-3"].id
        for doc in docs.values():
            s.add(
                Analysis(
                    document_id=doc.id,
                    model_version="m1",
                    sentiment="negative",
                    sentiment_score=-0.8,
                    topics=[
                        {
                            "topic": "delivery",
                            "sentiment": "negative",
                            "confidence": 0.9,
                            "evidence": [{"start": 0, "end": 20, "text": doc.text[:40]}],
                        }
                    ],
                    intent="complaint",
                    urgency=[],
                    actionable=True,
                )
            )
        s.flush()
        first = s.get(Document, mine[0])
        assert first is not None
        ticket = Ticket(
            document_id=first.id,
            team="support",
            priority="P2",
            status="new",
            conversation_key=f"thread:{first.source_id}:{first.thread_id}:{first.author}",
        )
        s.add(ticket)
        s.flush()
        s.add(
            RoutingDecision(document_id=first.id, ticket_id=ticket.id, outcome="ticketed", rule="r")
        )
        # the brand's public answer, collected back from the forum: it names the person
        reply = Document(
            source_id=first.source_id, brand_id=first.brand_id, external_id="reply-1",
            author="a_brandaccount000", content_hash="r1", raw={"own_reply": True},
            text="Bonjour Jean Dupont, nous renvoyons votre colis Zanzibarre aujourd'hui.",
        )  # fmt: skip
        s.add(reply)
        s.flush()
        s.add(RoutingDecision(document_id=reply.id, ticket_id=ticket.id, outcome="own_reply"))
        inbox.record_event(
            s, ticket, "alice", "note", {"note": "rappeler Jean Dupont au sujet de Trifouilly"}
        )
        inbox.record_event(
            s,
            ticket,
            "alice",
            "reply_queued",
            {"key": "k", "text": "Bonjour Jean Dupont, désolés pour Zanzibarre"},
        )
        analysis = s.scalar(select(Analysis).where(Analysis.document_id == first.id))
        enqueue(
            s,
            event="ticket.created",
            key_base=f"ticket:{ticket.id}:created",
            targets=["hook"],
            payload=ticket_payload("ticket.created", ticket, first, analysis),
            ticket_id=ticket.id,
        )
        top = [
            {"document_id": i, "excerpt": docs_text, "url": None}
            for i, docs_text in ((first.id, first.text[:200]), (other, OTHER_TEXT))
        ]
        alert = Alert(
            brand_id=first.brand_id,
            topic="delivery",
            kind="volume",
            status="open",
            recent_count=3,
            baseline=1.0,
            score=4.0,
            details={"top_verbatims": top},
        )
        s.add(alert)
        s.flush()
        enqueue(
            s,
            event="alert.opened",
            key_base=f"alert:{alert.id}",
            targets=["hook"],
            payload={"event": "alert.opened", "alert": {"id": alert.id, "top_verbatims": top}},
            alert_id=alert.id,
        )
        record_correction(
            s,
            CorrectionIn(
                actor="alice", document_id=mine[1], sentiment="negative", note=None, origin="cli"
            ),
            TaxonomyRef("", ()),
        )
        s.add(
            Correction(
                document_id=None,
                text=docs["post-2"].text,
                actor="bob",
                origin="import",
                topics_added=[],
                topics_removed=[],
            )
        )
    cache = Path(settings.data_dir) / "cache" / "e5.sqlite"
    cache.parent.mkdir(parents=True, exist_ok=True)
    from nlp.encoder import text_key

    conn = sqlite3.connect(cache)
    conn.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")
    with store.session() as s:
        for doc in s.scalars(select(Document)):
            conn.execute(
                "INSERT INTO vec VALUES (?, ?)", ("0123456789ab:" + text_key(doc.text), b"\0" * 8)
            )
    conn.commit()
    conn.close()
    return {"mine": mine, "other": other, "cache": cache}


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def scan(store: Store, needles: list[str]) -> list[str]:
    """``table.column: needle`` for every needle found in any column of any table."""
    found = []
    with store.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        if store.engine.dialect.name == "sqlite":  # FTS5 shadow tables are listed too
            tables = [
                r[0]
                for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            ]
        for table in tables:
            result = conn.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    blob = _as_text(value).casefold()
                    found += [f"{table}.{column}: {n}" for n in needles if n.casefold() in blob]
    return sorted(set(found))


def cache_keys(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM vec").fetchone()[0])
    finally:
        conn.close()
