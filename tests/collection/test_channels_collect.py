"""Channel sources end to end against a local mock API (real HTTP, real store, the runner).

Pagination cursors, incremental runs, rate limits (429 / Retry-After / platform headers),
expired tokens (401 → blocked), malformed bodies, deleted authors, and child queries.
"""

from __future__ import annotations

import time
from typing import Any

from channel_fixtures import (
    APPSTORE_FEED,
    bsky_post,
    reddit_listing,
    status,
    t1,
    t3,
    x_search,
    yt_threads,
)
from channel_server import ApiServer, Reply, api_server
from collection_helpers import documents, make_source

from listening.collection.runner import run_source
from listening.settings import load_settings
from listening.store import Source, Store


def add(store: Store, server: ApiServer, kind: str, options: dict[str, Any], url: str = "") -> int:
    settings = {"base_url": server.base, **options}
    return make_source(
        store, name=kind, kind=kind, url=url or "https://platform.example/acme", settings=settings
    )


def run(store: Store, source_id: int, name: str, **overrides: Any) -> dict[str, Any]:
    return run_source(store, load_settings(**overrides), source_id, name)


def source(store: Store, source_id: int) -> Source:
    with store.session() as session:
        found = session.get(Source, source_id)
        assert found is not None
        session.expunge(found)
        return found


def test_channels_reddit_pages_then_only_new_items(store: Store) -> None:
    page1 = reddit_listing(
        [
            t3("p3", "Retard", "Toujours rien reçu.", "ana", 1735740000.0),
            t3("p2", "SAV", "Personne ne répond au téléphone.", "[deleted]", 1735736400.0),
        ],
        after="t3_p2",
    )
    page2 = reddit_listing([t3("p1", "Avis", "Très content de ma lampe.", "bob", 1735732800.0)])
    comments = reddit_listing(
        [t1("c1", "Même problème ici depuis lundi.", "cyd", 1735738000.0, "t3_p3")]
    )
    later = reddit_listing(
        [
            t3("p4", "Encore", "Colis bloqué en entrepôt.", "dan", 1735750000.0),
            t3("p3", "Retard", "Toujours rien reçu.", "ana", 1735740000.0),
        ],
        after="t3_p3",
    )
    routes = {
        "GET /r/acme/new": [Reply(page1), Reply(page2), Reply(later)],
        "GET /r/acme/comments": [Reply(comments)],
    }
    with api_server(routes) as server:
        sid = add(store, server, "reddit", {"subreddits": ["acme"], "token": "secret-token-123456"})
        first = run(store, sid, "reddit")
        assert first["status"] == "ok", first
        assert first["new"] == 4
        calls = server.calls("GET /r/acme/new")
        assert len(calls) == 2 and calls[1].query["after"] == "t3_p2"
        assert calls[0].headers["Authorization"] == "Bearer secret-token-123456"
        cursor = source(store, sid).state["cursors"]["r/acme/new"]
        assert cursor["newest_id"] == "t3_p3"
        second = run(store, sid, "reddit")
        assert second["new"] == 1 and second["duplicate"] >= 1
        # the page reached an item the previous run had: no further page, despite `after`
        assert len(server.calls("GET /r/acme/new")) == 3
    docs = {d.external_id: d for d in documents(store, sid)}
    assert set(docs) == {"t3_p1", "t3_p2", "t3_p3", "t3_p4", "t1_c1"}
    assert docs["t3_p2"].author is None and docs["t3_p3"].author not in (None, "ana")
    assert docs["t1_c1"].parent_id == "t3_p3" and docs["t3_p3"].raw["platform"] == "reddit"


def test_channels_expired_token_blocks_the_source_with_the_reason(sqlite_store: Store) -> None:
    body = {
        "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "status": "UNAUTHENTICATED",
        }
    }
    with api_server({"GET /commentThreads": [Reply(body, 401)]}) as server:
        sid = add(
            sqlite_store,
            server,
            "youtube",
            {"channel_id": "UCacme", "api_key": "AIzaSECRETKEY9876"},
        )
        result = run(sqlite_store, sid, "youtube")
    assert result["status"] == "blocked"
    found = source(sqlite_store, sid)
    assert found.blocked and "HTTP 401" in (found.blocked_reason or "")
    assert "invalid authentication credentials" in (found.blocked_reason or "")
    assert "AIzaSECRETKEY9876" not in (found.blocked_reason or "")
    assert server.seen[0].headers["X-Goog-Api-Key"] == "AIzaSECRETKEY9876"
    assert "key" not in server.seen[0].query  # never in a URL (so never in a log line)


def test_channels_missing_token_blocks_with_a_hint(sqlite_store: Store) -> None:
    with api_server({}) as server:
        sid = add(sqlite_store, server, "x", {"query": "@acme"})
        result = run(sqlite_store, sid, "x")
        assert not server.seen
    assert result["status"] == "blocked"
    assert "CHANNEL_TOKENS" in result["errors"][0] and "bearer token" in result["errors"][0]


def test_channels_token_from_settings_and_x_since_id(sqlite_store: Store) -> None:
    first = x_search(
        [("1002", "@acme colis perdu", "u1", "2025-01-05T10:00:00.000Z")],
        [("u1", "zoe")],
        next_token="n2",
    )
    second_page = x_search(
        [("1001", "@acme remboursement ?", "u2", "2025-01-05T09:00:00.000Z")], []
    )
    newer = x_search(
        [("1003", "@acme merci, reçu !", "u1", "2025-01-06T10:00:00.000Z")], [("u1", "zoe")]
    )
    with api_server(
        {"GET /2/tweets/search/recent": [Reply(first), Reply(second_page), Reply(newer)]}
    ) as server:
        sid = add(sqlite_store, server, "x", {"query": "@acme"})
        overrides = {"collection": {"channel_tokens": {"x": "BEARER-FROM-SETTINGS"}}}
        assert run(sqlite_store, sid, "x", **overrides)["new"] == 2
        run(sqlite_store, sid, "x", **overrides)
        calls = server.calls("GET /2/tweets/search/recent")
    assert calls[0].headers["Authorization"] == "Bearer BEARER-FROM-SETTINGS"
    assert calls[1].query["next_token"] == "n2" and "since_id" not in calls[0].query
    assert calls[2].query["since_id"] == "1002"
    docs = {d.external_id: d for d in documents(sqlite_store, sid)}
    assert set(docs) == {"1001", "1002", "1003"} and docs["1001"].author is None


def test_channels_short_rate_limit_is_waited_long_one_stops_the_run(sqlite_store: Store) -> None:
    page = yt_threads([("Ug1", "Commande jamais arrivée", "Léa", "2025-01-02T08:00:00Z", [])])
    routes = {
        "GET /commentThreads": [
            Reply({"error": {"message": "slow down"}}, 429, {"Retry-After": "0"}),
            Reply(page),
        ]
    }
    with api_server(routes) as server:
        sid = add(sqlite_store, server, "youtube", {"videos": ["v1"], "api_key": "k"})
        result = run(sqlite_store, sid, "youtube")
        assert result["status"] == "ok" and result["new"] == 1
        assert len(server.calls("GET /commentThreads")) == 2
    reset = str(int(time.time()) + 3600)
    limited = {
        "GET /2/tweets/search/recent": [
            Reply(
                {"title": "Too Many Requests"},
                429,
                {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset},
            )
        ]
    }
    with api_server(limited) as server:
        sid = add(sqlite_store, server, "x", {"query": "@acme", "token": "t"})
        result = run(sqlite_store, sid, "x")
        assert result["status"] == "warning"  # visible, not a failure: resumes later from its cursor
        assert "rate limited" in result["errors"][0]
        state = source(sqlite_store, sid).state
        assert state["rate_limited_until"][:16] >= time.strftime(
            "%Y-%m-%dT%H", time.gmtime(int(reset) - 60)
        )
        again = run(sqlite_store, sid, "x")
        assert "skipped" in again["errors"][0]
        assert len(server.seen) == 1  # the limit is honoured: no new call
        assert not source(sqlite_store, sid).blocked


def test_channels_malformed_json_fails_the_run_and_keeps_the_cursor(sqlite_store: Store) -> None:
    with api_server(
        {"GET /api/v1/timelines/tag/acme": [Reply(b'[{"id": "1", "content": ')]}
    ) as server:
        sid = add(sqlite_store, server, "mastodon", {"hashtags": ["acme"]})
        result = run(sqlite_store, sid, "mastodon")
    assert result["status"] == "failed"
    assert "not JSON" in result["errors"][0] and "next run retries" in result["errors"][0]
    assert documents(sqlite_store, sid) == [] and not source(sqlite_store, sid).state.get("cursors")


def test_channels_mastodon_link_header_and_instance_from_source_url(sqlite_store: Store) -> None:
    page1 = [
        status("12", "<p>Livraison <em>rapide</em></p>", "ana", "2025-01-03T10:00:00.000Z"),
        status("11", "<p>Colis abîmé</p>", "bob", "2025-01-03T09:00:00.000Z"),
    ]
    page2 = [
        status("10", "<p>Réponse du SAV ?</p>", "cyd", "2025-01-03T08:00:00.000Z", reply_to="9")
    ]
    link = '<{BASE}/api/v1/timelines/tag/acme?max_id=11>; rel="next", <{BASE}/api/v1/timelines/tag/acme?min_id=12>; rel="prev"'
    routes = {
        "GET /api/v1/timelines/tag/acme": [
            Reply(page1, headers={"Link": link}),
            Reply(page2),
            Reply([]),
        ]
    }
    with api_server(routes) as server:
        sid = make_source(
            sqlite_store,
            name="masto",
            kind="mastodon",
            url=f"{server.base}/tags/acme",
            settings={"hashtags": ["#acme"]},
        )
        assert run(sqlite_store, sid, "masto")["new"] == 3
        run(sqlite_store, sid, "masto")
        calls = server.calls("GET /api/v1/timelines/tag/acme")
    assert calls[1].query == {"max_id": "11"}
    assert calls[2].query["since_id"] == "12"
    texts = {d.external_id: d.text for d in documents(sqlite_store, sid)}
    assert texts["12"] == "Livraison rapide"


def test_channels_youtube_search_opens_video_queries(sqlite_store: Store) -> None:
    search = {
        "kind": "youtube#searchListResponse",
        "items": [
            {"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": "vA"}},
            {"kind": "youtube#searchResult", "id": {"kind": "youtube#channel", "channelId": "UCx"}},
        ],
    }
    threads = yt_threads(
        [("UgA", "Test du produit Acme : déçu", "Max", "2025-01-02T08:00:00Z", [])], next_token="P2"
    )
    threads2 = yt_threads([("UgB", "Emballage parfait", "Lou", "2025-01-01T08:00:00Z", [])])
    routes = {
        "GET /search": [Reply(search)],
        "GET /commentThreads": [Reply(threads), Reply(threads2)],
    }
    with api_server(routes) as server:
        sid = add(sqlite_store, server, "youtube", {"search": ["acme avis"], "api_key": "k"})
        assert run(sqlite_store, sid, "youtube")["new"] == 2
        calls = server.calls("GET /commentThreads")
    assert [c.query.get("videoId") for c in calls] == ["vA", "vA"] and calls[1].query[
        "pageToken"
    ] == "P2"
    assert "video:vA" in source(sqlite_store, sid).state["cursors"]


def test_channels_facebook_posts_then_paged_comments(sqlite_store: Store) -> None:
    posts = {
        "data": [
            {
                "id": "10_1",
                "permalink_url": "https://www.facebook.com/acme/posts/1",
                "created_time": "2025-01-05T10:00:00+0000",
            }
        ],
        "paging": {"cursors": {"after": "x"}},
    }
    c1 = {
        "data": [
            {
                "id": "1_100",
                "message": "Toujours pas remboursé",
                "created_time": "2025-01-06T10:00:00+0000",
            }
        ],
        "paging": {
            "cursors": {"before": "a", "after": "b"},
            "next": "{BASE}/10_1/comments?after=b",
        },
    }
    c2 = {
        "data": [
            {
                "id": "1_101",
                "message": "Idem",
                "created_time": "2025-01-06T09:00:00+0000",
                "from": {"name": "Jo", "id": "7"},
            }
        ],
        "paging": {"cursors": {"before": "c", "after": "d"}},
    }
    routes = {"GET /page1/posts": [Reply(posts)], "GET /10_1/comments": [Reply(c1), Reply(c2)]}
    with api_server(routes) as server:
        sid = add(sqlite_store, server, "facebook", {"page_id": "page1", "token": "PAGE-TOKEN"})
        assert run(sqlite_store, sid, "facebook")["new"] == 2
        assert server.calls("GET /10_1/comments")[1].query == {"after": "b"}
    docs = documents(sqlite_store, sid)
    assert {d.url for d in docs} == {"https://www.facebook.com/acme/posts/1"}


def test_channels_app_store_pages_until_empty_and_bluesky_cursor(sqlite_store: Store) -> None:
    routes = {
        "GET /fr/rss/customerreviews/page=1/id=123/sortby=mostrecent/json": [Reply(APPSTORE_FEED)],
        "GET /fr/rss/customerreviews/page=2/id=123/sortby=mostrecent/json": [
            Reply({"feed": {"author": {}}})
        ],
        "GET /xrpc/app.bsky.feed.searchPosts": [
            Reply(
                {
                    "posts": [
                        bsky_post(
                            "a", "Acme en rupture de stock", "ana", "2025-01-04T10:00:00.000Z"
                        )
                    ],
                    "cursor": "c2",
                }
            ),
            Reply({"posts": []}),
        ],
    }
    with api_server(routes) as server:
        sid = add(sqlite_store, server, "appstore", {"app_id": "id123", "country": "FR"})
        result = run(sqlite_store, sid, "appstore")
        assert result["new"] == 2 and result["status"] == "ok"
        ratings = sorted(d.rating for d in documents(sqlite_store, sid) if d.rating is not None)
        assert ratings == [0.0, 1.0]
        bid = add(sqlite_store, server, "bluesky", {"search": "acme"})
        assert run(sqlite_store, bid, "bluesky")["new"] == 1
        calls = server.calls("GET /xrpc/app.bsky.feed.searchPosts")
        assert calls[1].query["cursor"] == "c2" and calls[0].query["sort"] == "latest"


def test_channels_reddit_app_credentials_fetch_a_token_each_run(sqlite_store: Store) -> None:
    import base64

    listing = reddit_listing(
        [t3("p1", "Retour", "Comment renvoyer un article ?", "eva", 1735740000.0)]
    )
    routes = {
        "POST /api/v1/access_token": [
            Reply({"access_token": "fresh-token", "token_type": "bearer", "expires_in": 3600}),
            Reply({"message": "Unauthorized", "error": 401}, 401),
        ],
        "GET /r/acme/new": [Reply(listing)],
    }
    with api_server(routes) as server:
        options = {
            "subreddits": "acme",
            "comments": False,
            "client_id": "cid",
            "client_secret": "csecret",
            "auth_url": server.base,
        }
        sid = add(sqlite_store, server, "reddit", options)
        assert run(sqlite_store, sid, "reddit")["new"] == 1
        token_call = server.calls("POST /api/v1/access_token")[0]
        assert (
            token_call.headers["Authorization"]
            == "Basic " + base64.b64encode(b"cid:csecret").decode()
        )
        assert token_call.body == b"grant_type=client_credentials"
        assert server.calls("GET /r/acme/new")[0].headers["Authorization"] == "Bearer fresh-token"
        refused = run(sqlite_store, sid, "reddit")  # the app was revoked: blocked, with the reason
    assert refused["status"] == "blocked" and "HTTP 401" in refused["errors"][0]
    assert "csecret" not in refused["errors"][0]


def test_channels_youtube_quota_403_is_a_rate_limit_not_a_block(sqlite_store: Store) -> None:
    quota = {
        "error": {
            "code": 403,
            "message": "The request cannot be completed because you have exceeded your quota.",
            "errors": [{"reason": "quotaExceeded"}],
        }
    }
    with api_server({"GET /commentThreads": [Reply(quota, 403)]}) as server:
        sid = add(sqlite_store, server, "youtube", {"videos": "v1", "api_key": "k"})
        result = run(sqlite_store, sid, "youtube")
    assert result["status"] == "warning" and "rate limited" in result["errors"][0]
    found = source(sqlite_store, sid)
    assert not found.blocked and found.state["rate_limited_until"]


def test_channels_x_mentions_option_builds_a_mention_query(sqlite_store: Store) -> None:
    with api_server(
        {"GET /2/tweets/search/recent": [Reply({"meta": {"result_count": 0}})]}
    ) as server:
        sid = add(sqlite_store, server, "x", {"mentions": ["@acme"], "token": "t"})
        assert run(sqlite_store, sid, "x")["status"] == "ok"
        assert server.seen[0].query["query"] == "@acme -is:retweet"
