"""`listening extract --kind <channel>`: the connectors' own parsing on saved API bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from channel_fixtures import (
    APPSTORE_FEED,
    GOOGLEPLAY_REVIEWS,
    REDDIT_COMMENTS_PAGE,
    TRUSTPILOT_REVIEWS,
    bsky_post,
    status,
    x_search,
    yt_comment,
    yt_threads,
)
from typer.testing import CliRunner

from listening.cli import app
from listening.collection.channels import CHANNEL_KINDS, CHANNELS
from listening.store.models import CHANNEL_KINDS as STORE_CHANNEL_KINDS


def run_extract(
    tmp_path: Path, kind: str, body: Any, url: str = "https://example.test/"
) -> list[dict[str, Any]]:
    path = tmp_path / f"{kind}.json"
    path.write_bytes(body if isinstance(body, bytes) else json.dumps(body).encode())
    result = CliRunner().invoke(app, ["extract", str(path), "--kind", kind, "--url", url, "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.output.strip().splitlines()[-1])
    for item in items:
        assert {"text", "author", "published_at", "external_id", "rating"} <= set(item)
        assert item["platform"] == kind
    return items


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["external_id"]: i for i in items}


def test_channels_registry_matches_store_kinds() -> None:
    assert set(CHANNEL_KINDS) == set(STORE_CHANNEL_KINDS)
    assert all(CHANNELS[k].kind == k for k in CHANNEL_KINDS)


def test_channels_extract_reddit_nested_deleted_removed(tmp_path: Path) -> None:
    items = by_id(run_extract(tmp_path, "reddit", REDDIT_COMMENTS_PAGE))
    assert set(items) == {
        "t3_p1",
        "t1_c1",
        "t1_c2",
    }  # [deleted]/[removed] bodies and "more" dropped
    post = items["t3_p1"]
    assert post["text"] == "Colis perdu\n\nMa commande n'est jamais arrivée."
    assert post["author"] == "marie" and post["published_at"].startswith("2025-01-01T10:00")
    assert post["url"] == "https://www.reddit.com/r/acme/comments/p1/x/"
    assert post["metrics"] == {"likes": 12, "replies": 3}
    nested = items["t1_c2"]
    assert nested["author"] is None  # a deleted account: no author, the words stay
    assert nested["parent_id"] == "t1_c1" and nested["thread_id"] == "t3_p1"
    assert post["rating"] is None


def test_channels_extract_youtube_threads_and_replies(tmp_path: Path) -> None:
    body = yt_threads(
        [
            (
                "Ug1",
                "Toujours pas reçu ma commande",
                "Léa",
                "2025-01-02T08:00:00Z",
                [yt_comment("Ug1.r1", "Moi non plus", "Tom", "2025-01-02T09:00:00Z", parent="Ug1")],
            ),
            ("Ug2", "", "Vide", "2025-01-02T10:00:00Z", []),
        ],
        next_token="NEXT",
    )
    items = by_id(run_extract(tmp_path, "youtube", body))
    assert set(items) == {"Ug1", "Ug1.r1"}  # an empty comment is not a verbatim
    assert items["Ug1"]["text"] == "Toujours pas reçu ma commande"  # textOriginal, not the HTML
    assert items["Ug1.r1"]["parent_id"] == "Ug1" and items["Ug1.r1"]["thread_id"] == "Ug1"
    assert items["Ug1.r1"]["url"] == "https://www.youtube.com/watch?v=v1&lc=Ug1.r1"


def test_channels_extract_mastodon_html_boosts_replies(tmp_path: Path) -> None:
    original = status(
        "200",
        "<p>Boosté&nbsp;: <a href='x'>#acme</a> génial</p>",
        "bob",
        "2025-01-01T09:00:00.000Z",
    )
    body = [
        status(
            "101",
            "<p>Ma commande est <strong>bloquée</strong>&nbsp;!</p><p>Deuxième ligne<br>suite</p>",
            "alice@m.example",
            "2025-01-03T10:00:00.000Z",
        ),
        status(
            "102", "<p>@alice même souci</p>", "carl", "2025-01-03T11:00:00.000Z", reply_to="101"
        ),
        status("103", "", "dora", "2025-01-03T12:00:00.000Z"),  # media only: no text
        status("104", "", "eve", "2025-01-03T13:00:00.000Z", reblog=original),
    ]
    items = by_id(run_extract(tmp_path, "mastodon", body))
    assert set(items) == {"101", "102", "200"}
    assert items["101"]["text"] == "Ma commande est bloquée !\nDeuxième ligne\nsuite"
    assert "<" not in items["200"]["text"] and items["200"]["author"] == "bob"
    assert items["102"]["parent_id"] == "101"
    assert items["101"]["url"] == "https://m.example/@alice@m.example/101"


def test_channels_extract_bluesky_search_feed_thread(tmp_path: Path) -> None:
    root = bsky_post("r1", "Livraison en retard chez Acme", "ana", "2025-01-04T10:00:00.000Z")
    reply = bsky_post("r2", "Pareil ici", "ben", "2025-01-04T11:00:00.000Z", parent=root["uri"])
    search = by_id(run_extract(tmp_path, "bluesky", {"posts": [root, reply], "cursor": "2"}))
    did = root["uri"].removeprefix("at://").split("/")[0]  # by DID, never by handle (privacy)
    assert search[root["uri"]]["url"] == f"https://bsky.app/profile/{did}/post/r1"
    assert search[reply["uri"]]["parent_id"] == root["uri"]
    thread = {
        "thread": {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": root,
            "replies": [
                {
                    "$type": "app.bsky.feed.defs#threadViewPost",
                    "post": reply,
                    "replies": [
                        {
                            "$type": "app.bsky.feed.defs#notFoundPost",
                            "uri": "at://gone",
                            "notFound": True,
                        }
                    ],
                }
            ],
        }
    }
    assert set(by_id(run_extract(tmp_path, "bluesky", thread))) == {root["uri"], reply["uri"]}
    feed = {"feed": [{"post": root}, {"post": {"uri": "at://x/app.bsky.feed.post/z"}}]}
    assert list(by_id(run_extract(tmp_path, "bluesky", feed))) == [root["uri"]]


def test_channels_extract_x_includes_users_and_deleted_author(tmp_path: Path) -> None:
    body = x_search(
        [
            ("1002", "@acme mon colis ??", "u1", "2025-01-05T10:00:00.000Z"),
            ("1001", "@acme toujours rien", "u9", "2025-01-05T09:00:00.000Z"),
        ],
        [("u1", "zoe")],
        next_token="t2",
    )
    body["data"][0]["referenced_tweets"] = [{"type": "replied_to", "id": "999"}]
    items = by_id(run_extract(tmp_path, "x", body))
    assert items["1002"]["author"] == "zoe" and items["1002"]["parent_id"] == "999"
    assert items["1002"]["url"] == "https://x.com/i/web/status/1002"  # no handle (privacy)
    assert items["1001"]["author"] is None  # suspended/deleted: absent from includes.users
    assert run_extract(tmp_path, "x", {"meta": {"result_count": 0}}) == []


def test_channels_extract_facebook_and_instagram_comments(tmp_path: Path) -> None:
    fb = {
        "data": [
            {
                "id": "10_1",
                "message": "Remboursement toujours pas reçu",
                "created_time": "2025-01-06T10:00:00+0000",
                "from": {"name": "Lucie", "id": "5"},
                "like_count": 1,
                "comment_count": 1,
                "permalink_url": "https://www.facebook.com/acme/posts/10?comment_id=1",
                "comments": {
                    "data": [
                        {
                            "id": "10_2",
                            "message": "Nous vous écrivons en privé.",
                            "created_time": "2025-01-06T11:00:00+0000",
                            "parent": {"id": "10_1"},
                        }
                    ]
                },
            },
            {"id": "10_3", "message": "", "created_time": "2025-01-06T12:00:00+0000"},
        ],
        "paging": {"cursors": {"before": "b", "after": "a"}},
    }
    items = by_id(run_extract(tmp_path, "facebook", fb))
    assert set(items) == {"10_1", "10_2"}
    assert items["10_1"]["author"] == "Lucie" and items["10_2"]["author"] is None
    assert items["10_2"]["parent_id"] == "10_1" and items["10_1"]["thread_id"] == "10"
    assert items["10_1"]["published_at"] == "2025-01-06T10:00:00+00:00"
    ig = {
        "data": [
            {
                "id": "c1",
                "text": "Taille trop petite",
                "username": "mia",
                "timestamp": "2025-01-07T10:00:00+0000",
                "like_count": 0,
                "replies": {
                    "data": [
                        {
                            "id": "c2",
                            "text": "Échange possible en magasin",
                            "username": "acme",
                            "timestamp": "2025-01-07T11:00:00+0000",
                        }
                    ]
                },
            }
        ]
    }
    items = by_id(run_extract(tmp_path, "instagram", ig, url="https://www.instagram.com/p/abc/"))
    assert items["c2"]["parent_id"] == "c1" and items["c2"]["author"] == "acme"
    assert items["c1"]["url"] == "https://www.instagram.com/p/abc/"


def test_channels_extract_app_store_feed_ratings(tmp_path: Path) -> None:
    items = by_id(
        run_extract(tmp_path, "appstore", APPSTORE_FEED, url="https://apps.apple.com/fr/app/id123")
    )
    assert set(items) == {"11111", "22222"}  # the app's own entry is not a review
    assert items["11111"]["rating"] == 0.0 and items["11111"]["stars"] == 1.0
    assert items["22222"]["rating"] == 1.0 and items["11111"]["author"] == "Julie"
    assert (
        items["11111"]["title"] == "Plantages"
        and items["11111"]["published_at"] == "2025-01-05T10:00:00-07:00"
    )
    single = {
        "feed": {"entry": APPSTORE_FEED["feed"]["entry"][1]}
    }  # one review: an object, not a list
    assert [i["external_id"] for i in run_extract(tmp_path, "appstore", single)] == ["11111"]


def test_channels_extract_google_play_and_trustpilot(tmp_path: Path) -> None:
    gp = run_extract(
        tmp_path,
        "googleplay",
        GOOGLEPLAY_REVIEWS,
        url="https://play.google.com/store/apps/details?id=com.acme",
    )
    assert [i["external_id"] for i in gp] == [
        "gp:AOqpTOH1"
    ]  # an empty review (rating only) is dropped
    assert gp[0]["rating"] == 0.25 and gp[0]["developer_reply"].startswith("Bonjour")
    assert gp[0]["text"] == "Impossible de me connecter depuis hier."
    assert gp[0]["published_at"] == "2025-01-04T10:00:00+00:00"
    tp = by_id(run_extract(tmp_path, "trustpilot", TRUSTPILOT_REVIEWS))
    assert tp["5f1a"]["rating"] == 0.0 and tp["5f1b"]["rating"] == 0.75
    assert (
        tp["5f1a"]["company_reply"] == "Nous sommes désolés." and tp["5f1a"]["author"] == "Anne D."
    )
    page = (
        '<html><body><script id="__NEXT_DATA__" type="application/json">'
        + json.dumps(
            {
                "props": {
                    "pageProps": {
                        "reviews": [
                            {
                                "id": "r9",
                                "rating": 2,
                                "title": "Lent",
                                "text": "Trois semaines de délai.",
                                "consumer": {"displayName": "Léo"},
                                "dates": {"publishedDate": "2025-01-08T10:00:00.000Z"},
                            }
                        ]
                    }
                }
            }
        )
        + "</script></body></html>"
    ).encode()
    items = run_extract(
        tmp_path, "trustpilot", page, url="https://www.trustpilot.com/review/acme.fr"
    )
    assert items[0]["external_id"] == "r9" and items[0]["rating"] == 0.25


@pytest.mark.parametrize("kind", ["reddit", "mastodon", "youtube"])
def test_channels_extract_malformed_json_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"data": [')
    result = CliRunner().invoke(
        app, ["extract", str(path), "--kind", kind, "--url", "https://x.test/"]
    )
    assert result.exit_code != 0
    message = f"{result.exception} {result.output}"
    assert "L004" in message and "not valid JSON" in message


def test_channels_tokens_are_masked_in_config_show(monkeypatch: pytest.MonkeyPatch) -> None:
    from listening.collection.channels.base import mask_settings
    from listening.settings import get_settings

    monkeypatch.setenv("LISTENING_COLLECTION__CHANNEL_TOKENS", '{"x": "AAAAsecretBEARER1234"}')
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert "secretBEARER" not in result.output and "…1234" in result.output
    assert mask_settings({"token": "abc", "query": "acme"}) == {"token": "****", "query": "acme"}
