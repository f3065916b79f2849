"""YouTube (Data API v3, API key): comment threads and replies on a channel's videos and on
the videos a keyword search finds.

Documented shapes: ``commentThreads`` list responses (``items[].snippet.topLevelComment``,
``items[].replies.comments[]``, ``nextPageToken``) and ``search`` list responses
(``items[].id.videoId``). ``textOriginal`` is preferred to the HTML ``textDisplay``.
Source options: ``channel_id`` (all threads of the channel's videos), ``videos`` (ids),
``search`` (keywords; comment threads of the newest matching videos, ``search_videos``
of them, default 5). Replies need an OAuth ``token`` (scope youtube.force-ssl).
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

PART = "snippet,replies"


def watch_url(video_id: Any, comment_id: Any = None) -> str | None:
    if not video_id:
        return None
    return f"https://www.youtube.com/watch?v={video_id}" + (
        f"&lc={comment_id}" if comment_id else ""
    )


class YouTube(Channel):
    kind = "youtube"
    label = "YouTube"
    default_base_url = "https://www.googleapis.com/youtube/v3"
    auth = "header:X-Goog-Api-Key"  # the documented alternative to ?key=
    token_help = "a Data API v3 key (an OAuth token in 'token' to reply)"
    can_reply = True

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        base = {"part": PART, "maxResults": 100, "order": "time", "textFormat": "plainText"}
        out: list[Query] = []
        for channel in listify(options.get("channel_id")):
            out.append(
                Query(
                    f"channel:{channel}",
                    "commentThreads",
                    {**base, "allThreadsRelatedToChannelId": channel},
                )
            )
        for video in listify(options.get("videos")):
            out.append(Query(f"video:{video}", "commentThreads", {**base, "videoId": video}))
        for words in listify(options.get("search")):
            out.append(
                Query(
                    f"search:{words}",
                    "search",
                    {
                        "part": "snippet",
                        "q": words,
                        "type": "video",
                        "order": "date",
                        "maxResults": int(options.get("search_videos", 5)),
                    },
                    incremental=False,
                )
            )
        return out

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        token = as_dict(body).get("nextPageToken")
        if not token or query.url == "search":  # one page of videos is enough per run
            return None
        return {**params, "pageToken": token}

    def children(self, body: Any, query: Query, options: dict[str, Any]) -> list[Query]:
        if query.url != "search":
            return []
        out = []
        for item in as_list(as_dict(body).get("items")):
            video = as_dict(as_dict(item).get("id")).get("videoId")
            if video:
                out.append(
                    Query(
                        f"video:{video}",
                        "commentThreads",
                        {
                            "part": PART,
                            "maxResults": 100,
                            "order": "time",
                            "textFormat": "plainText",
                            "videoId": video,
                        },
                    )
                )
        return out

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        items: list[DocumentIn | None] = []
        for thread in as_list(as_dict(body).get("items")):
            thread = as_dict(thread)
            if thread.get("kind") not in (None, "youtube#commentThread"):
                continue
            snippet = as_dict(thread.get("snippet"))
            top = as_dict(snippet.get("topLevelComment"))
            thread_id = thread.get("id") or top.get("id")
            items.append(
                self._comment(
                    top, thread_id, snippet.get("videoId"), snippet.get("totalReplyCount")
                )
            )
            for reply in as_list(as_dict(thread.get("replies")).get("comments")):
                items.append(self._comment(as_dict(reply), thread_id, snippet.get("videoId"), None))
        return keep(items)

    def _comment(
        self, comment: dict[str, Any], thread_id: Any, video: Any, replies: Any
    ) -> DocumentIn | None:
        snip = as_dict(comment.get("snippet"))
        video = snip.get("videoId") or video
        return make_item(
            self.kind,
            comment.get("id"),
            snip.get("textOriginal") or snip.get("textDisplay"),
            author=snip.get("authorDisplayName"),
            published=iso_date(snip.get("publishedAt")),
            url=watch_url(video, comment.get("id")),
            thread_id=thread_id,
            parent_id=snip.get("parentId"),
            raw={
                "video_id": video,
                "metrics": metrics(likes=snip.get("likeCount"), replies=replies),
            },
        )

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        # replies go under the thread's top-level comment (YouTube threads are one level deep)
        parent = target.raw.get("parent_id") or target.external_id
        return (
            "comments?part=snippet",
            "json",
            {"snippet": {"parentId": parent, "textOriginal": text}},
        )

    def reply_result(self, body: Any) -> tuple[str | None, str | None]:
        data = as_dict(body)
        snip = as_dict(data.get("snippet"))
        return (str(data["id"]) if data.get("id") else None), watch_url(
            snip.get("videoId"), data.get("id")
        )
