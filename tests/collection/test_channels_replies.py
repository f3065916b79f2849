"""Public replies from the inbox: through the outbox, posted once, audited, collected back."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from channel_fixtures import APPSTORE_FEED, status
from channel_server import ApiServer, Reply, api_server
from collection_helpers import documents, make_source
from sqlalchemy import select
from typer.testing import CliRunner

from listening.cli import app
from listening.collection.runner import run_source
from listening.routing.models import Notification, RoutingDecision
from listening.routing.outbox import deliver_pending
from listening.settings import load_settings
from listening.store import Store
from listening.store.models import Ticket, TicketEvent, utcnow

TIMELINE = [
    status("101", "<p>Commande bloquée depuis 10 jours !</p>", "alice", "2025-01-03T10:00:00.000Z")
]
POSTED = status(
    "500",
    "<p>@alice Bonjour, nous regardons tout de suite.</p>",
    "acme",
    "2025-01-03T11:00:00.000Z",
    reply_to="101",
)


def ticket_for(store: Store, external_id: str) -> int:
    with store.session() as session:
        doc = next(d for d in documents(store) if d.external_id == external_id)
        ticket = Ticket(
            document_id=doc.id,
            team="support",
            priority="P2",
            status="new",
            tags=[],
            created_at=utcnow(),
            updated_at=utcnow(),
            sla_due_at=utcnow() + timedelta(hours=4),
        )
        session.add(ticket)
        session.flush()
        return ticket.id


def events(store: Store, ticket_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    with store.session() as session:
        rows = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        return [(e.actor, e.action, dict(e.details or {})) for e in rows]


def reply(ticket_id: int, text: str, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        app, ["inbox", "reply", str(ticket_id), text, "--actor", "alice", "--json", *extra]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    out: dict[str, Any] = json.loads(result.output)
    return out


def mastodon_source(store: Store, server: ApiServer) -> int:
    return make_source(
        store,
        name="masto",
        kind="mastodon",
        url=f"{server.base}/tags/acme",
        settings={"hashtags": ["acme"], "token": "USER-TOKEN-abcdef"},
    )


def test_channels_reply_posted_once_audited_and_collected_back(sqlite_store: Store) -> None:
    routes = {
        "GET /api/v1/timelines/tag/acme": [Reply(TIMELINE), Reply([POSTED, *TIMELINE])],
        "POST /api/v1/statuses": [Reply({"error": "busy"}, 503), Reply(POSTED)],
    }
    settings = load_settings()
    with api_server(routes) as server:
        sid = mastodon_source(sqlite_store, server)
        assert run_source(sqlite_store, settings, sid, "masto")["new"] == 1
        tid = ticket_for(sqlite_store, "101")
        first = reply(tid, "Bonjour, nous regardons tout de suite.")
        # the platform answered 503: a POST is not retried in place, the outbox retries it later
        assert first["status"] == "pending" and first["notifications"]["retry"] == 1
        again = reply(tid, "Bonjour,  nous regardons tout de suite.")  # same words: same key
        assert again["duplicate"] is True
        later = deliver_pending(sqlite_store, settings, now=utcnow() + timedelta(hours=1))
        assert later["sent"] == 1
        posts = server.calls("POST /api/v1/statuses")
        ok = posts[-1]
        assert json.loads(ok.body) == {
            "status": "Bonjour, nous regardons tout de suite.",
            "in_reply_to_id": "101",
            "visibility": "public",
        }
        assert ok.headers["Authorization"] == "Bearer USER-TOKEN-abcdef"
        assert ok.headers["Idempotency-Key"] == first["key"]
        assert (
            deliver_pending(sqlite_store, settings, now=utcnow() + timedelta(hours=2))["sent"] == 0
        )
        assert len(server.calls("POST /api/v1/statuses")) == len(posts)  # never posted twice
        # the next collection brings our own reply back: stored, routed as own_reply, no new ticket
        result = run_source(sqlite_store, settings, sid, "masto")
        assert result["new"] == 1
    trail = events(sqlite_store, tid)
    assert trail[0][:2] == ("alice", "reply_queued")
    posted = next(e for e in trail if e[1] == "reply_posted")
    assert posted[0] == "alice" and posted[2]["posted_id"] == "500"
    assert posted[2]["url"] == "https://m.example/@acme/500"
    assert trail[-1][1] == "reply_collected"
    with sqlite_store.session() as session:
        ticket = session.get(Ticket, tid)
        assert ticket is not None and ticket.status == "answered"
        decision = session.scalar(
            select(RoutingDecision).where(RoutingDecision.outcome == "own_reply")
        )
        assert decision is not None and decision.ticket_id == tid
        assert len(list(session.scalars(select(Ticket)))) == 1
        rows = list(session.scalars(select(Notification)))
        assert len(rows) == 1 and "USER-TOKEN" not in json.dumps(rows[0].payload)


def test_channels_reply_refused_token_is_dead_with_the_reason(sqlite_store: Store) -> None:
    routes = {
        "GET /api/v1/timelines/tag/acme": [Reply(TIMELINE)],
        "POST /api/v1/statuses": [Reply({"error": "The access token was revoked"}, 401)],
    }
    with api_server(routes) as server:
        sid = mastodon_source(sqlite_store, server)
        run_source(sqlite_store, load_settings(), sid, "masto")
        tid = ticket_for(sqlite_store, "101")
        out = reply(tid, "Nous vous répondons en privé.")
    assert out["notifications"]["dead"] == 1
    with sqlite_store.session() as session:
        row = session.scalar(select(Notification))
        assert row is not None and row.status == "dead"
        assert "HTTP 401" in (row.last_error or "") and "revoked" in (row.last_error or "")
        ticket = session.get(Ticket, tid)
        assert ticket is not None and ticket.status == "new"


def test_channels_reply_without_api_gives_a_deep_link(sqlite_store: Store) -> None:
    routes = {
        "GET /fr/rss/customerreviews/page=1/id=123/sortby=mostrecent/json": [Reply(APPSTORE_FEED)],
        "GET /fr/rss/customerreviews/page=2/id=123/sortby=mostrecent/json": [Reply({"feed": {}})],
    }
    with api_server(routes) as server:
        sid = make_source(
            sqlite_store,
            name="ios",
            kind="appstore",
            url="https://apps.apple.com/fr/app/id123",
            settings={"app_id": "123", "base_url": server.base},
        )
        run_source(sqlite_store, load_settings(), sid, "ios")
    tid = ticket_for(sqlite_store, "11111")
    out = reply(tid, "Merci pour votre retour.")
    assert out["status"] == "deep_link" and out["url"].startswith(
        "https://appstoreconnect.apple.com"
    )
    assert events(sqlite_store, tid)[-1][1] == "reply_link"
    with sqlite_store.session() as session:
        assert session.scalar(select(Notification)) is None


def test_channels_reply_to_a_non_channel_ticket_is_a_clear_error(sqlite_store: Store) -> None:
    from listening.collection.ingest import ingest
    from listening.store.documents import DocumentIn

    sid = make_source(sqlite_store, name="feed", kind="feed", url="http://blog.example/feed")
    ingest(
        sqlite_store,
        sid,
        [
            DocumentIn(
                external_id="e1",
                text="Colis jamais reçu, aucune nouvelle.",
                url="http://blog.example/1",
            )
        ],
        load_settings(),
    )
    tid = ticket_for(sqlite_store, "e1")
    result = CliRunner().invoke(app, ["inbox", "reply", str(tid), "Bonjour", "--actor", "bob"])
    assert result.exit_code != 0
    message = f"{result.exception} {result.output}"
    assert "no public reply" in message and "http://blog.example/1" in message


REPLY_CASES = {
    # kind: (external id, doc fields, options, expected route, check of the sent body, API answer)
    "reddit": (
        "t1_c1",
        {},
        {},
        "POST /api/comment",
        lambda b: b == b"thing_id=t1_c1&text=Merci+%21&api_type=json",
        {
            "json": {
                "errors": [],
                "data": {
                    "things": [{"kind": "t1", "data": {"name": "t1_r9", "permalink": "/r/a/c/r9/"}}]
                },
            }
        },
    ),
    "youtube": (
        "Ug1.r1",
        {"parent_id": "Ug1"},
        {},
        "POST /comments",
        lambda b: json.loads(b) == {"snippet": {"parentId": "Ug1", "textOriginal": "Merci !"}},
        {"id": "Ug1.r9", "snippet": {"videoId": "v1"}},
    ),
    "x": (
        "1002",
        {},
        {},
        "POST /2/tweets",
        lambda b: json.loads(b) == {"text": "Merci !", "reply": {"in_reply_to_tweet_id": "1002"}},
        {"data": {"id": "2001", "text": "Merci !"}},
    ),
    "facebook": (
        "10_1",
        {},
        {"page_id": "p"},
        "POST /10_1/comments",
        lambda b: b == b"message=Merci+%21",
        {"id": "10_9"},
    ),
    "instagram": (
        "c2",
        {"parent_id": "c1"},
        {"ig_user_id": "u"},
        "POST /c1/replies",
        lambda b: b == b"message=Merci+%21",
        {"id": "c9"},
    ),
    "bluesky": (
        "at://did:plc:ana/app.bsky.feed.post/r1",
        {},
        {"did": "did:plc:acme"},
        "POST /xrpc/com.atproto.repo.createRecord",
        lambda b: (
            json.loads(b)["repo"] == "did:plc:acme"
            and json.loads(b)["record"]["reply"]["parent"]["uri"].endswith("/r1")
        ),
        {"uri": "at://did:plc:acme/app.bsky.feed.post/z9", "cid": "bafyz9"},
    ),
}


def test_channels_reply_requests_follow_each_platform_api(sqlite_store: Store) -> None:
    from listening.collection.channels.replies import queue_reply
    from listening.collection.ingest import ingest
    from listening.store.documents import DocumentIn

    settings = load_settings()
    routes = {route: [Reply(answer)] for _id, _f, _o, route, _c, answer in REPLY_CASES.values()}
    with api_server(routes) as server:
        tickets = {}
        for kind, (ext, fields, options, *_rest) in REPLY_CASES.items():
            sid = make_source(
                sqlite_store,
                name=f"s-{kind}",
                kind=kind,
                url="https://platform.example/a",
                settings={**options, "base_url": server.base, "token": "TOKEN-" + kind},
            )
            ingest(
                sqlite_store,
                sid,
                [
                    DocumentIn(
                        external_id=ext,
                        text=f"Message client {kind} sans réponse.",
                        raw={"cid": "bafyr1"},
                        **fields,
                    )
                ],
                settings,
            )
            tickets[kind] = ticket_for(sqlite_store, ext)
            with sqlite_store.session() as session:
                queue_reply(session, tickets[kind], "Merci !", "alice")
        result = deliver_pending(sqlite_store, settings)
        assert result["sent"] == len(REPLY_CASES), result
        for kind, (_ext, _f, _o, route, check, _a) in REPLY_CASES.items():
            call = server.calls(route)[0]
            assert check(call.body), (kind, call.body)
            assert call.headers["Authorization"] == f"Bearer TOKEN-{kind}", kind
    posted = {
        kind: next(e for e in events(sqlite_store, tid) if e[1] == "reply_posted")[2]["posted_id"]
        for kind, tid in tickets.items()
    }
    assert posted == {
        "reddit": "t1_r9",
        "youtube": "Ug1.r9",
        "x": "2001",
        "facebook": "10_9",
        "instagram": "c9",
        "bluesky": "at://did:plc:acme/app.bsky.feed.post/z9",
    }


def test_channels_bluesky_reply_without_did_is_dead_with_a_hint(sqlite_store: Store) -> None:
    from listening.collection.channels.replies import queue_reply
    from listening.collection.ingest import ingest
    from listening.store.documents import DocumentIn

    sid = make_source(
        sqlite_store,
        name="bsky",
        kind="bluesky",
        url="https://bsky.app/profile/acme",
        settings={"token": "t", "base_url": "http://127.0.0.1:9"},
    )
    ingest(
        sqlite_store,
        sid,
        [
            DocumentIn(
                external_id="at://did:plc:a/app.bsky.feed.post/1",
                text="Colis jamais arrivé chez moi.",
            )
        ],
        load_settings(),
    )
    tid = ticket_for(sqlite_store, "at://did:plc:a/app.bsky.feed.post/1")
    with sqlite_store.session() as session:
        queue_reply(session, tid, "Bonjour", "alice")
    assert deliver_pending(sqlite_store, load_settings())["dead"] == 1
    with sqlite_store.session() as session:
        row = session.scalar(select(Notification))
        assert row is not None and "'did'" in (row.last_error or "")
