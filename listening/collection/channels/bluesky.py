"""Bluesky (AT Protocol ``app.bsky.feed.*``): post search and author feeds.

Documented shapes: ``app.bsky.feed.searchPosts`` answers ``{"posts": [postView], "cursor"}``,
``app.bsky.feed.getAuthorFeed`` answers ``{"feed": [{"post", "reply", "reason"}], "cursor"}``,
``app.bsky.feed.getPostThread`` answers ``{"thread": {"post", "replies": [...]}}`` (nested;
deleted or blocked posts are ``notFoundPost`` / ``blockedPost`` and are skipped). The
text is ``post.record.text``; replies carry ``record.reply.parent`` / ``root``.
Source options: ``search`` (keywords), ``authors`` (handles or DIDs). Replies need a
session ``token`` and the account's ``did``, posted to ``reply_base_url`` (its PDS).
"""

from __future__ import annotations

from datetime import UTC, datetime
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
from listening.errors import CollectionError
from listening.store.documents import DocumentIn


def post_url(uri: str, handle: str | None) -> str | None:
    """``at://did/app.bsky.feed.post/rkey`` -> the bsky.app page of the post."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3:
        return None
    return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"


class Bluesky(Channel):
    kind = "bluesky"
    label = "Bluesky"
    default_base_url = "https://public.api.bsky.app"
    needs_token = False
    token_help = "an access JWT of an app password session (searchPosts may require one)"
    can_reply = True

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        out: list[Query] = []
        for words in listify(options.get("search")):
            out.append(
                Query(
                    f"search:{words}",
                    "/xrpc/app.bsky.feed.searchPosts",
                    {"q": words, "sort": "latest", "limit": 100},
                )
            )
        for actor in listify(options.get("authors")):
            out.append(
                Query(
                    f"author:{actor}",
                    "/xrpc/app.bsky.feed.getAuthorFeed",
                    {"actor": actor, "limit": 100},
                )
            )
        return out

    def since_params(self, query: Query, cursor: dict[str, Any]) -> dict[str, Any]:
        newest = cursor.get("newest_at")
        return {"since": newest} if newest and query.url.endswith("searchPosts") else {}

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        cursor = as_dict(body).get("cursor")
        return {**params, "cursor": cursor} if cursor else None

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        data = as_dict(body)
        items: list[DocumentIn | None] = [
            self._post(as_dict(p)) for p in as_list(data.get("posts"))
        ]
        for entry in as_list(data.get("feed")):
            items.append(self._post(as_dict(as_dict(entry).get("post"))))
        if data.get("thread"):
            self._thread(as_dict(data["thread"]), items)
        return keep(items)

    def _thread(self, node: dict[str, Any], items: list[DocumentIn | None]) -> None:
        if node.get("post"):
            items.append(self._post(as_dict(node["post"])))
        for reply in as_list(node.get("replies")):
            self._thread(as_dict(reply), items)

    def _post(self, post: dict[str, Any]) -> DocumentIn | None:
        record = as_dict(post.get("record"))
        uri = str(post.get("uri") or "")
        if not uri or not record:
            return None
        author = as_dict(post.get("author"))
        reply = as_dict(record.get("reply"))
        return make_item(
            self.kind,
            uri,
            record.get("text"),
            author=author.get("handle") or author.get("did"),
            published=iso_date(record.get("createdAt") or post.get("indexedAt")),
            url=post_url(uri, None),  # by DID, not by handle (privacy)
            thread_id=as_dict(reply.get("root")).get("uri"),
            parent_id=as_dict(reply.get("parent")).get("uri"),
            raw={
                "cid": post.get("cid"),
                "root_cid": as_dict(reply.get("root")).get("cid"),
                "metrics": metrics(
                    likes=post.get("likeCount"),
                    replies=post.get("replyCount"),
                    reposts=post.get("repostCount"),
                ),
            },
        )

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        if not options.get("did"):
            raise CollectionError(
                "a Bluesky reply needs the account's 'did' in the source settings",
                "add did (and reply_base_url: the account's PDS) to the source, then "
                "`listening notifications retry`",
            )
        parent = {"uri": target.external_id, "cid": target.raw.get("cid")}
        root = parent
        if target.raw.get("thread_id") and target.raw.get("root_cid"):
            root = {"uri": target.raw["thread_id"], "cid": target.raw["root_cid"]}
        record = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent},
        }
        return (
            "/xrpc/com.atproto.repo.createRecord",
            "json",
            {
                "repo": options.get("did", ""),
                "collection": "app.bsky.feed.post",
                "record": record,
            },
        )

    def reply_result(self, body: Any) -> tuple[str | None, str | None]:
        uri = as_dict(body).get("uri")
        return (str(uri) if uri else None), (post_url(str(uri), None) if uri else None)
