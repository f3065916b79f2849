"""X (API v2 recent search, bearer token): keywords and mentions of the last seven days.

Documented shape: ``{"data": [tweet], "includes": {"users": [...]}, "meta": {"newest_id",
"next_token", ...}}``; each tweet's ``author_id`` is looked up in ``includes.users``
(a suspended or deleted author is absent: no author). ``since_id`` (the previous run's
``meta.newest_id``) asks only for newer posts. Source options: ``query`` (one or more
search queries, e.g. ``"acme livraison -is:retweet"``), ``mentions`` (handles: ``@handle``). Replies need a user-context token.
"""

from __future__ import annotations

from typing import Any

from listening.collection.channels.base import (
    Channel,
    Query,
    ReplyTarget,
    as_dict,
    as_list,
    iso_date,
    keep,
    listify,
    make_item,
    metrics,
)
from listening.store.documents import DocumentIn

FIELDS = {
    "max_results": 100,
    "tweet.fields": "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,"
    "public_metrics,lang",
    "expansions": "author_id",
    "user.fields": "username,name",
}


class X(Channel):
    kind = "x"
    label = "X"
    default_base_url = "https://api.x.com"
    token_help = "an app bearer token (a user-context OAuth 2.0 token in 'token' to reply)"
    can_reply = True

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        queries = listify(options.get("query"))
        queries += [f"@{h.lstrip('@')} -is:retweet" for h in listify(options.get("mentions"))]
        return [
            Query(f"search:{q}", "/2/tweets/search/recent", {**FIELDS, "query": q}) for q in queries
        ]

    def since_params(self, query: Query, cursor: dict[str, Any]) -> dict[str, Any]:
        return {"since_id": cursor["since_id"]} if cursor.get("since_id") else {}

    def cursor_from(self, body: Any, cursor: dict[str, Any]) -> dict[str, Any]:
        newest = as_dict(as_dict(body).get("meta")).get("newest_id")
        return {"since_id": str(newest)} if newest else {}

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        token = as_dict(as_dict(body).get("meta")).get("next_token")
        return {**params, "next_token": token} if token else None

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        data = as_dict(body)
        users = {
            str(u.get("id")): u
            for u in map(as_dict, as_list(as_dict(data.get("includes")).get("users")))
        }
        items: list[DocumentIn | None] = []
        for tweet in map(as_dict, as_list(data.get("data"))):
            user = users.get(str(tweet.get("author_id")), {})
            handle = user.get("username")
            parent = next(
                (
                    r.get("id")
                    for r in map(as_dict, as_list(tweet.get("referenced_tweets")))
                    if r.get("type") == "replied_to"
                ),
                None,
            )
            pm = as_dict(tweet.get("public_metrics"))
            items.append(
                make_item(
                    self.kind,
                    tweet.get("id"),
                    tweet.get("text"),
                    author=handle,
                    published=iso_date(tweet.get("created_at")),
                    url=f"https://x.com/i/web/status/{tweet.get('id')}",  # no handle (privacy)
                    thread_id=tweet.get("conversation_id"),
                    parent_id=parent,
                    raw={
                        "lang": tweet.get("lang"),
                        "metrics": metrics(
                            likes=pm.get("like_count"),
                            replies=pm.get("reply_count"),
                            reposts=pm.get("retweet_count"),
                            quotes=pm.get("quote_count"),
                        ),
                    },
                )
            )
        return keep(items)

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        return (
            "/2/tweets",
            "json",
            {"text": text, "reply": {"in_reply_to_tweet_id": target.external_id}},
        )

    def reply_result(self, body: Any) -> tuple[str | None, str | None]:
        ident = as_dict(as_dict(body).get("data")).get("id")
        return (str(ident) if ident else None), (
            f"https://x.com/i/web/status/{ident}" if ident else None
        )
