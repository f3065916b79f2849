"""Facebook Pages and Instagram professional accounts (Graph API, page access token):
comments on the merchant's own posts and media.

Documented shapes: ``{"data": [...], "paging": {"cursors": {"before", "after"}, "next"}}``.
A Page's ``/{page-id}/posts`` opens one ``/{post-id}/comments`` query per post
(``filter=stream`` gives replies too, with ``parent``); an Instagram account's
``/{ig-user-id}/media`` opens ``/{media-id}/comments`` with nested ``replies``.
Without the permission to read people's profiles a comment has no ``from``: no author.
Source options: ``page_id`` (Facebook) or ``ig_user_id`` (Instagram), ``max_posts``
(default 25: comments of the newest posts are read).
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
    make_item,
    metrics,
)
from listening.errors import CollectionError
from listening.store.documents import DocumentIn

FB_COMMENT_FIELDS = "id,message,from,created_time,like_count,comment_count,permalink_url,parent{id}"
IG_COMMENT_FIELDS = (
    "id,text,username,timestamp,like_count,replies{id,text,username,timestamp,like_count}"
)


class _Graph(Channel):
    default_base_url = "https://graph.facebook.com/v21.0"
    token_help = "a Page access token (pages_read_engagement; pages_manage_engagement to reply)"
    can_reply = True
    owner_option = ""
    listing = ""

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        owner = str(options.get(self.owner_option) or "").strip()
        if not owner:
            raise CollectionError(
                f"a {self.label} source needs the '{self.owner_option}' setting",
                "see docs/CHANNELS.md",
            )
        fields = (
            "id,permalink_url,created_time" if self.kind == "facebook" else "id,permalink,timestamp"
        )
        return [
            Query(
                f"{self.listing}:{owner}",
                f"/{owner}/{self.listing}",
                {"fields": fields, "limit": int(options.get("max_posts", 25))},
                incremental=False,
            )
        ]

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> str | None:
        if query.key.startswith(self.listing):
            return None  # the newest posts only; their comments are paged
        nxt = as_dict(as_dict(body).get("paging")).get("next")
        return str(nxt) if nxt else None

    def children(self, body: Any, query: Query, options: dict[str, Any]) -> list[Query]:
        if not query.key.startswith(self.listing):
            return []
        out = []
        for post in map(as_dict, as_list(as_dict(body).get("data"))):
            if post.get("id"):
                out.append(
                    self.comments_query(
                        str(post["id"]), post.get("permalink_url") or post.get("permalink")
                    )
                )
        return out

    def comments_query(self, post_id: str, link: str | None) -> Query:
        raise NotImplementedError

    def reply_result(self, body: Any) -> tuple[str | None, str | None]:
        ident = as_dict(body).get("id")
        return (str(ident) if ident else None), None


class Facebook(_Graph):
    kind = "facebook"
    label = "Facebook"
    owner_option = "page_id"
    listing = "posts"

    def comments_query(self, post_id: str, link: str | None) -> Query:
        return Query(
            f"comments:{post_id}",
            f"/{post_id}/comments",
            {
                "fields": FB_COMMENT_FIELDS,
                "filter": "stream",
                "order": "reverse_chronological",
                "limit": 100,
            },
            link=link,
        )

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        items: list[DocumentIn | None] = []
        self._comments(as_list(as_dict(body).get("data")), url, None, items)
        return keep(items)

    def _comments(
        self, data: list[Any], url: str, parent: str | None, items: list[DocumentIn | None]
    ) -> None:
        for comment in map(as_dict, data):
            ident = comment.get("id")
            post_id = str(ident).split("_")[0] if ident else None
            items.append(
                make_item(
                    self.kind,
                    ident,
                    comment.get("message"),
                    author=as_dict(comment.get("from")).get("name"),
                    published=iso_date(comment.get("created_time")),
                    url=comment.get("permalink_url") or (url if url.startswith("http") else None),
                    thread_id=post_id,
                    parent_id=as_dict(comment.get("parent")).get("id") or parent,
                    raw={
                        "metrics": metrics(
                            likes=comment.get("like_count"), replies=comment.get("comment_count")
                        )
                    },
                )
            )
            nested = as_dict(comment.get("comments")).get("data")
            if nested:
                self._comments(as_list(nested), url, str(ident), items)

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        return f"/{target.external_id}/comments", "form", {"message": text}


class Instagram(_Graph):
    kind = "instagram"
    label = "Instagram"
    owner_option = "ig_user_id"
    listing = "media"
    token_help = "a token with instagram_manage_comments (Instagram API with Facebook Login)"

    def comments_query(self, post_id: str, link: str | None) -> Query:
        return Query(
            f"comments:{post_id}",
            f"/{post_id}/comments",
            {"fields": IG_COMMENT_FIELDS, "limit": 50},
            link=link,
        )

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        items: list[DocumentIn | None] = []
        link = url if url.startswith("http") else None
        for comment in map(as_dict, as_list(as_dict(body).get("data"))):
            items.append(self._comment(comment, link, None, comment.get("id")))
            for reply in map(as_dict, as_list(as_dict(comment.get("replies")).get("data"))):
                items.append(self._comment(reply, link, comment.get("id"), comment.get("id")))
        return keep(items)

    def _comment(
        self, c: dict[str, Any], link: str | None, parent: Any, thread: Any
    ) -> DocumentIn | None:
        return make_item(
            self.kind,
            c.get("id"),
            c.get("text"),
            author=c.get("username") or as_dict(c.get("from")).get("username"),
            published=iso_date(c.get("timestamp")),
            url=link,
            thread_id=thread,
            parent_id=parent,
            raw={"metrics": metrics(likes=c.get("like_count"))},
        )

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        comment = target.raw.get("parent_id") or target.external_id  # one level of replies
        return f"/{comment}/replies", "form", {"message": text}
