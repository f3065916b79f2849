"""Mastodon (any instance): hashtag and account timelines, and status search where allowed.

Documented shapes: an array of ``Status`` (HTML ``content``, ``in_reply_to_id``,
``account``, ``reblog`` for boosts), paged by the ``Link`` header (``rel="next"``);
``GET /api/v2/search`` answers ``{"statuses": [...]}``; a context
(``/api/v1/statuses/:id/context``) answers ``{"ancestors", "descendants"}``. The base URL
is the instance of the source URL. Source options: ``hashtags``, ``accounts`` (ids),
``search`` (keywords; instances allow full-text search only to logged-in users).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

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

_PARA = re.compile(r"</p>\s*<p[^>]*>|<br\s*/?>", re.I)


def status_text(html: str) -> str:
    """Mastodon's HTML content with paragraphs and line breaks kept as line breaks."""
    return _PARA.sub("\n", html or "")


class Mastodon(Channel):
    kind = "mastodon"
    label = "Mastodon"
    default_base_url = "https://mastodon.social"
    needs_token = False
    token_help = "an access token of an app on the instance (read; write:statuses to reply)"
    can_reply = True

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        out: list[Query] = []
        for tag in listify(options.get("hashtags")):
            tag = tag.lstrip("#")
            out.append(Query(f"tag:{tag}", f"/api/v1/timelines/tag/{tag}", {"limit": 40}))
        for account in listify(options.get("accounts")):
            out.append(
                Query(f"account:{account}", f"/api/v1/accounts/{account}/statuses", {"limit": 40})
            )
        for words in listify(options.get("search")):
            out.append(
                Query(
                    f"search:{words}",
                    "/api/v2/search",
                    {"q": words, "type": "statuses", "limit": 40, "resolve": "false"},
                    incremental=False,
                )
            )
        return out

    def since_params(self, query: Query, cursor: dict[str, Any]) -> dict[str, Any]:
        newest = cursor.get("newest_id")
        return {"since_id": newest} if newest and "search" not in query.url else {}

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> str | None:
        link = headers.get("link")
        if not link:
            return None
        nxt = httpx.Response(200, headers={"link": link}).links.get("next", {}).get("url")
        return str(nxt) if nxt else None

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        if isinstance(body, dict):  # a search result or a thread context
            statuses = [
                *as_list(body.get("statuses")),
                *as_list(body.get("ancestors")),
                *as_list(body.get("descendants")),
            ]
        else:
            statuses = as_list(body)
        items: list[DocumentIn | None] = []
        for status in statuses:
            status = as_dict(status)
            if isinstance(
                status.get("reblog"), dict
            ):  # a boost: the boosted status is the verbatim
                status = status["reblog"]
            items.append(self._status(status))
        return keep(items)

    def _status(self, status: dict[str, Any]) -> DocumentIn | None:
        account = as_dict(status.get("account"))
        spoiler = status.get("spoiler_text") or None
        return make_item(
            self.kind,
            status.get("id"),
            status_text(str(status.get("content") or "")),
            author=account.get("acct") or account.get("username"),
            published=iso_date(status.get("created_at")),
            url=status.get("url") or status.get("uri"),
            parent_id=status.get("in_reply_to_id"),
            title=spoiler,
            raw={
                "uri": status.get("uri"),
                "visibility": status.get("visibility"),
                "metrics": metrics(
                    likes=status.get("favourites_count"),
                    replies=status.get("replies_count"),
                    reposts=status.get("reblogs_count"),
                ),
            },
        )

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        return (
            "/api/v1/statuses",
            "json",
            {
                "status": text,
                "in_reply_to_id": target.external_id,
                "visibility": options.get("reply_visibility", "public"),
            },
        )

    def reply_result(self, body: Any) -> tuple[str | None, str | None]:
        data = as_dict(body)
        return (str(data["id"]) if data.get("id") else None), data.get("url")
