"""API response bodies in each platform's documented shape (hand-written, small)."""

from __future__ import annotations

from typing import Any


def reddit_listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {"after": after, "before": None, "dist": len(children), "children": children},
    }


def t3(
    ident: str, title: str, body: str, author: str, created: float, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": "t3",
        "data": {
            "id": ident,
            "name": f"t3_{ident}",
            "title": title,
            "selftext": body,
            "author": author,
            "created_utc": created,
            "permalink": f"/r/acme/comments/{ident}/x/",
            "score": 12,
            "num_comments": 3,
            "subreddit": "acme",
            **extra,
        },
    }


def t1(
    ident: str, body: str, author: str, created: float, parent: str, replies: Any = ""
) -> dict[str, Any]:
    return {
        "kind": "t1",
        "data": {
            "id": ident,
            "name": f"t1_{ident}",
            "body": body,
            "author": author,
            "created_utc": created,
            "permalink": f"/r/acme/comments/p1/x/{ident}/",
            "parent_id": parent,
            "link_id": "t3_p1",
            "score": 4,
            "subreddit": "acme",
            "replies": replies,
        },
    }


REDDIT_COMMENTS_PAGE = [
    reddit_listing(
        [t3("p1", "Colis perdu", "Ma commande n'est jamais arrivée.", "marie", 1735725600.0)]
    ),
    reddit_listing(
        [
            t1(
                "c1",
                "Pareil pour moi, trois semaines d'attente.",
                "paul",
                1735729200.0,
                "t3_p1",
                replies=reddit_listing(
                    [
                        t1(
                            "c2",
                            "Le service client m'a remboursé au bout d'un mois.",
                            "[deleted]",
                            1735732800.0,
                            "t1_c1",
                        ),
                        t1("c3", "[removed]", "[deleted]", 1735736400.0, "t1_c1"),
                    ]
                ),
            ),
            t1("c4", "[deleted]", "[deleted]", 1735740000.0, "t3_p1"),
            {"kind": "more", "data": {"count": 2, "children": ["c5", "c6"]}},
        ]
    ),
]


def yt_comment(
    ident: str, text: str, author: str, date: str, video: str = "v1", parent: str | None = None
) -> dict[str, Any]:
    snippet = {
        "videoId": video,
        "textDisplay": f"<b>{text}</b>",
        "textOriginal": text,
        "authorDisplayName": author,
        "authorChannelId": {"value": "UC" + author},
        "likeCount": 2,
        "publishedAt": date,
        "updatedAt": date,
    }
    if parent:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "id": ident, "snippet": snippet}


def yt_threads(
    threads: list[tuple[str, str, str, str, list[dict[str, Any]]]], next_token: str | None = None
) -> dict[str, Any]:
    items = []
    for ident, text, author, date, replies in threads:
        item: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "id": ident,
            "snippet": {
                "channelId": "UCacme",
                "videoId": "v1",
                "topLevelComment": yt_comment(ident, text, author, date),
                "canReply": True,
                "totalReplyCount": len(replies),
                "isPublic": True,
            },
        }
        if replies:
            item["replies"] = {"comments": replies}
        items.append(item)
    body: dict[str, Any] = {
        "kind": "youtube#commentThreadListResponse",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": 100},
        "items": items,
    }
    if next_token:
        body["nextPageToken"] = next_token
    return body


def status(
    ident: str,
    html: str,
    acct: str,
    date: str,
    reply_to: str | None = None,
    reblog: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": ident,
        "created_at": date,
        "in_reply_to_id": reply_to,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "fr",
        "uri": f"https://m.example/users/{acct}/statuses/{ident}",
        "url": f"https://m.example/@{acct}/{ident}",
        "replies_count": 1,
        "reblogs_count": 0,
        "favourites_count": 5,
        "content": html,
        "reblog": reblog,
        "account": {
            "id": "9" + ident,
            "username": acct,
            "acct": acct,
            "display_name": acct.title(),
            "url": f"https://m.example/@{acct}",
        },
        "media_attachments": [],
        "mentions": [],
        "tags": [],
    }


def bsky_post(
    rkey: str, text: str, handle: str, date: str, parent: str | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": date,
        "langs": ["fr"],
    }
    if parent:
        ref = {"uri": parent, "cid": "bafyparent"}
        record["reply"] = {"root": ref, "parent": ref}
    return {
        "uri": f"at://did:plc:{handle}/app.bsky.feed.post/{rkey}",
        "cid": f"bafy{rkey}",
        "author": {
            "did": f"did:plc:{handle}",
            "handle": f"{handle}.bsky.social",
            "displayName": handle,
        },
        "record": record,
        "replyCount": 0,
        "repostCount": 1,
        "likeCount": 3,
        "quoteCount": 0,
        "indexedAt": date,
    }


def x_search(
    tweets: list[tuple[str, str, str, str]],
    users: list[tuple[str, str]],
    next_token: str | None = None,
) -> dict[str, Any]:
    data = [
        {
            "id": i,
            "text": text,
            "author_id": a,
            "created_at": d,
            "conversation_id": i,
            "lang": "fr",
            "edit_history_tweet_ids": [i],
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 1,
                "like_count": 2,
                "quote_count": 0,
            },
        }
        for i, text, a, d in tweets
    ]
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta["newest_id"] = data[0]["id"]
        meta["oldest_id"] = data[-1]["id"]
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {
        "data": data,
        "includes": {"users": [{"id": u, "name": n.title(), "username": n} for u, n in users]},
        "meta": meta,
    }
    if not data:
        body = {"meta": {"result_count": 0}}
    return body


APPSTORE_FEED = {
    "feed": {
        "author": {
            "name": {"label": "iTunes Store"},
            "uri": {"label": "http://www.apple.com/fr/itunes/"},
        },
        "entry": [
            {
                "im:name": {"label": "Acme"},
                "id": {"label": "https://apps.apple.com/fr/app/id123"},
                "title": {"label": "Acme - Acme SAS"},
            },
            {
                "author": {
                    "uri": {"label": "https://itunes.apple.com/fr/reviews/id1"},
                    "name": {"label": "Julie"},
                    "label": "",
                },
                "updated": {"label": "2025-01-05T10:00:00-07:00"},
                "im:rating": {"label": "1"},
                "im:version": {"label": "4.2"},
                "id": {"label": "11111"},
                "title": {"label": "Plantages"},
                "content": {
                    "label": "L'appli plante au paiement depuis la mise à jour.",
                    "attributes": {"type": "text"},
                },
                "link": {
                    "attributes": {
                        "rel": "related",
                        "href": "https://itunes.apple.com/fr/review?id=123&type=Purple%20Software",
                    }
                },
                "im:voteSum": {"label": "3"},
                "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
                "im:voteCount": {"label": "4"},
            },
            {
                "author": {
                    "uri": {"label": "https://itunes.apple.com/fr/reviews/id2"},
                    "name": {"label": "Hugo"},
                    "label": "",
                },
                "updated": {"label": "2025-01-04T09:00:00-07:00"},
                "im:rating": {"label": "5"},
                "im:version": {"label": "4.2"},
                "id": {"label": "22222"},
                "title": {"label": "Top"},
                "content": {
                    "label": "Livraison suivie en temps réel, parfait.",
                    "attributes": {"type": "text"},
                },
                "im:voteSum": {"label": "0"},
                "im:voteCount": {"label": "0"},
            },
        ],
    }
}

GOOGLEPLAY_REVIEWS = {
    "reviews": [
        {
            "reviewId": "gp:AOqpTOH1",
            "authorName": "Nina",
            "comments": [
                {
                    "userComment": {
                        "text": "\tImpossible de me connecter depuis hier.",
                        "lastModified": {"seconds": "1735984800", "nanos": 0},
                        "starRating": 2,
                        "reviewerLanguage": "fr",
                        "appVersionName": "4.2.0",
                        "thumbsUpCount": 7,
                    }
                },
                {
                    "developerComment": {
                        "text": "Bonjour, pouvez-vous nous écrire ?",
                        "lastModified": {"seconds": "1735988400"},
                    }
                },
            ],
        },
        {
            "reviewId": "gp:AOqpTOH2",
            "authorName": "",
            "comments": [
                {
                    "userComment": {
                        "text": "",
                        "lastModified": {"seconds": "1735980000"},
                        "starRating": 5,
                    }
                }
            ],
        },
    ],
    "tokenPagination": {"nextPageToken": "tok2"},
}

TRUSTPILOT_REVIEWS = {
    "reviews": [
        {
            "id": "5f1a",
            "consumer": {"id": "c1", "displayName": "Anne D."},
            "stars": 1,
            "title": "Jamais reçu",
            "text": "Commande payée, jamais livrée, aucune réponse.",
            "language": "fr",
            "createdAt": "2025-01-03T12:00:00Z",
            "companyReply": {"text": "Nous sommes désolés.", "createdAt": "2025-01-04T08:00:00Z"},
        },
        {
            "id": "5f1b",
            "consumer": {"id": "c2", "displayName": "Marc"},
            "stars": 4,
            "title": "Bien",
            "text": "Bon produit, livraison un peu lente.",
            "language": "fr",
            "createdAt": "2025-01-02T12:00:00Z",
        },
    ],
    "links": [
        {"href": "{BASE}/v1/business-units/bu1/reviews?page=2", "method": "GET", "rel": "next-page"}
    ],
}
