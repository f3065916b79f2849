"""Reddit (OAuth API): a subreddit's new posts and comments, and site search for keywords.

Documented shapes: a ``Listing`` (``{"kind": "Listing", "data": {"after", "children"}}``)
of ``t3`` (posts) and ``t1`` (comments); a post's comment page is a list of two
listings with nested ``replies`` listings. ``[deleted]`` / ``[removed]`` bodies are
dropped; a ``[deleted]`` author is kept as no author. Source options: ``subreddits``,
``search`` (keywords), ``comments`` (default true: also ``/r/NAME/comments``); credentials:
``token``, or ``client_id`` + ``client_secret`` (a token is fetched each run).
"""

from __future__ import annotations

import base64
from typing import Any

from listening.collection import SourceBlockedError
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

WEB = "https://www.reddit.com"
GONE = ("[deleted]", "[removed]")


class Reddit(Channel):
    kind = "reddit"
    label = "Reddit"
    default_base_url = "https://oauth.reddit.com"
    token_help = "an OAuth access token (script app, scope read; submit to reply)"
    can_reply = True

    def fetch_token(self, http: Any, options: dict[str, Any]) -> str | None:
        """OAuth: ``client_id`` + ``client_secret`` (app-only), plus ``username`` / ``password``
        for a script app that also replies. Reddit's tokens last an hour: one per run."""
        client_id, secret = options.get("client_id"), options.get("client_secret")
        if not (client_id and secret):
            return None
        form: dict[str, Any] = {"grant_type": "client_credentials"}
        if options.get("username") and options.get("password"):
            form = {
                "grant_type": "password",
                "username": options["username"],
                "password": options["password"],
            }
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        auth_url = str(options.get("auth_url") or "https://www.reddit.com").rstrip("/")
        body, _ = http.request(
            "POST",
            f"{auth_url}/api/v1/access_token",
            form=form,
            headers={"Authorization": f"Basic {basic}"},
        )
        token = as_dict(body).get("access_token")
        if not token:
            raise SourceBlockedError(
                f"reddit gave no access token ({as_dict(body).get('error') or 'no error given'})",
                "check client_id / client_secret (and username / password) of the source",
            )
        return str(token)

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        out: list[Query] = []
        for sub in listify(options.get("subreddits")):
            name = sub.removeprefix("r/").strip("/")
            out.append(Query(f"r/{name}/new", f"/r/{name}/new", {"limit": 100, "raw_json": 1}))
            if options.get("comments", True):
                out.append(
                    Query(
                        f"r/{name}/comments", f"/r/{name}/comments", {"limit": 100, "raw_json": 1}
                    )
                )
        for words in listify(options.get("search")):
            out.append(
                Query(
                    f"search:{words}",
                    "/search",
                    {"q": words, "sort": "new", "limit": 100, "type": "link", "raw_json": 1},
                )
            )
        return out

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        after = as_dict(as_dict(body).get("data")).get("after")
        return {**params, "after": after} if after else None

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        items: list[DocumentIn | None] = []
        for listing in as_list(body) if isinstance(body, list) else [body]:
            self._walk(listing, items)
        return keep(items)

    def _walk(self, listing: Any, items: list[DocumentIn | None]) -> None:
        for child in as_list(as_dict(as_dict(listing).get("data")).get("children")):
            child = as_dict(child)
            data = as_dict(child.get("data"))
            if child.get("kind") == "t3":
                items.append(self._post(data))
            elif child.get("kind") == "t1":
                items.append(self._comment(data))
                if isinstance(data.get("replies"), dict):  # "" when there are none
                    self._walk(data["replies"], items)

    def _author(self, data: dict[str, Any]) -> str | None:
        author = data.get("author")
        return None if author in (None, *GONE) else str(author)

    def _post(self, data: dict[str, Any]) -> DocumentIn | None:
        body = str(data.get("selftext") or "")
        if body.strip() in GONE or data.get("removed_by_category"):
            return None
        title = data.get("title") or ""
        return make_item(
            self.kind,
            data.get("name") or f"t3_{data.get('id')}",
            f"{title}\n\n{body}" if body else title,
            author=self._author(data),
            published=iso_date(data.get("created_utc")),
            url=WEB + str(data["permalink"]) if data.get("permalink") else data.get("url"),
            thread_id=data.get("name"),
            title=title,
            raw={
                "subreddit": data.get("subreddit"),
                "metrics": metrics(likes=data.get("score"), replies=data.get("num_comments")),
            },
        )

    def _comment(self, data: dict[str, Any]) -> DocumentIn | None:
        body = str(data.get("body") or "")
        if body.strip() in GONE:
            return None
        return make_item(
            self.kind,
            data.get("name") or f"t1_{data.get('id')}",
            body,
            author=self._author(data),
            published=iso_date(data.get("created_utc")),
            url=WEB + str(data["permalink"]) if data.get("permalink") else None,
            thread_id=data.get("link_id"),
            parent_id=data.get("parent_id"),
            title=data.get("link_title"),
            raw={"subreddit": data.get("subreddit"), "metrics": metrics(likes=data.get("score"))},
        )

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        return (
            "/api/comment",
            "form",
            {"thing_id": target.external_id, "text": text, "api_type": "json"},
        )

    def reply_result(self, body: Any) -> tuple[str | None, str | None]:
        things = as_list(as_dict(as_dict(as_dict(body).get("json")).get("data")).get("things"))
        data = as_dict(as_dict(things[0]).get("data")) if things else {}
        link = WEB + str(data["permalink"]) if data.get("permalink") else None
        return (str(data["name"]) if data.get("name") else None), link
