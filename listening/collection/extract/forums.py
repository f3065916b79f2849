"""Forum threads: one item per post (phpBB, XenForo, vBulletin, forumotion, Discourse).

HTML threads go through the selector profiles of :mod:`posts`; Discourse is read from
its JSON API (``/t/<slug>/<id>.json``): ``post_stream.posts`` with ``username``,
``created_at``, ``cooked`` (HTML body; quotes ``aside.quote`` removed), ``post_number``
and ``reply_to_post_number``.
"""

from __future__ import annotations

import json
from typing import Any

import lxml.html
from lxml.etree import _Element

from listening.collection.engines import FORUM_PROFILES
from listening.collection.extract.common import element_text, to_date
from listening.collection.extract.posts import (
    PROFILES,
    detect_and_extract,
    extract_posts,
)
from listening.store.documents import DocumentIn

ENGINE_MARKERS = {
    "phpbb": ("phpbb", "viewtopic.php", "prosilver"),
    "xenforo": ("xenforo", "data-xf-init", "bbWrapper"),
    "vbulletin": ("vbulletin", "postbit", "vbmenu"),
    "forumotion": ("forumotion", "forumieren", "forumactif"),
}


def guess_engine(html: str) -> str | None:
    low = html[:400_000].lower()
    scores = {
        name: sum(low.count(m.lower()) for m in marks) for name, marks in ENGINE_MARKERS.items()
    }
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] else None


def extract_forum(
    root: _Element,
    html: str,
    url: str,
    language: str | None,
    engine: str | None = None,
    selectors: dict[str, Any] | None = None,
) -> list[DocumentIn]:
    """Posts of a forum thread page. ``selectors`` (a custom profile) win over engines."""
    if selectors:
        return extract_posts(root, url, selectors, language, kind="forum_post")
    if engine and engine not in ("auto", "discourse"):
        if engine not in PROFILES:
            raise ValueError(
                f"unknown forum engine {engine!r}; valid: auto, discourse, {', '.join(PROFILES)}"
            )
        return extract_posts(root, url, PROFILES[engine], language, kind="forum_post")
    guessed = guess_engine(html)
    order = tuple(dict.fromkeys(([guessed] if guessed in PROFILES else []) + list(FORUM_PROFILES)))
    _name, items = detect_and_extract(root, url, order, language, kind="forum_post")
    return items


def is_discourse_json(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("post_stream"), dict)


def extract_discourse(
    data: dict[str, Any], url: str, language: str | None = None
) -> list[DocumentIn]:
    """Posts of a Discourse topic (the JSON of ``/t/<slug>/<id>.json`` or ``/posts.json``)."""
    topic_id = data.get("id")
    title = data.get("title") or data.get("fancy_title")
    slug = data.get("slug") or "topic"
    base = url.split("/t/")[0] if "/t/" in url else url.rstrip("/")
    thread_url = f"{base}/t/{slug}/{topic_id}" if topic_id else url
    items: list[DocumentIn] = []
    for post in data.get("post_stream", {}).get("posts", []):
        cooked = post.get("cooked") or ""
        if not cooked.strip():
            continue
        fragment = lxml.html.fragment_fromstring(cooked, create_parent="div")
        text = element_text(fragment, drop=("aside.quote", "blockquote", ".onebox"))
        if not text:
            continue
        number = post.get("post_number")
        reply_to = post.get("reply_to_post_number")
        items.append(
            DocumentIn(
                external_id=f"discourse:{topic_id or post.get('topic_id')}:{post.get('id')}",
                text=text,
                url=f"{thread_url}/{number}" if number else thread_url,
                thread_id=thread_url,
                parent_id=f"discourse:{topic_id}:post-number-{reply_to}" if reply_to else None,
                author=post.get("name") or post.get("username"),
                title=title if number == 1 else None,
                published_at=to_date(post.get("created_at"), language),
                raw={
                    "kind": "forum_post",
                    "date_raw": post.get("created_at"),
                    "post_id": post.get("id"),
                    "position": number,
                    "reply_to_post_number": reply_to,
                    "thread_title": title,
                    "username": post.get("username"),
                },
            )
        )
    return items


def discourse_missing_post_ids(data: dict[str, Any]) -> list[int]:
    """Ids listed in ``post_stream.stream`` but not delivered (fetch them via posts.json)."""
    stream = data.get("post_stream", {})
    have = {p.get("id") for p in stream.get("posts", [])}
    return [pid for pid in stream.get("stream", []) if pid not in have]


def loads_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
