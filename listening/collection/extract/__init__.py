"""Pure extraction of verbatims from saved pages and API answers.

Shared by the spiders (``spiders/``) and ``listening extract``: given the bytes of a
page and its URL, :func:`extract` returns :class:`~listening.store.documents.DocumentIn`
items (author is the real name; the store pseudonymises it). Kinds:

- ``reviews``: schema.org ``Review`` in JSON-LD / microdata / RDFa (:mod:`.reviews`);
- ``forum``: one item per post — phpBB, XenForo, vBulletin, forumotion, Discourse JSON
  (:mod:`.forums`);
- ``blog``: reader comments — WordPress, Drupal, SPIP — and optionally the article
  (:mod:`.blogs`);
- ``feed``: RSS / Atom, read by :func:`listening.collection.feeds.parse_feed_bytes`.

With no kind, it is detected: feeds by their XML root, Discourse by its JSON, then
schema.org reviews, then forum markup, then blog comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from listening.collection.extract.blogs import extract_blog
from listening.collection.extract.common import decode_html, item_to_json, page_language, parse_html
from listening.collection.extract.forums import (
    extract_discourse,
    extract_forum,
    guess_engine,
    is_discourse_json,
    loads_json,
)
from listening.collection.extract.reviews import extract_reviews
from listening.errors import CollectionError
from listening.store.documents import DocumentIn

KINDS: tuple[str, ...] = ("reviews", "forum", "blog", "feed")
SOURCE_KIND_TO_EXTRACT = {
    "review_site": "reviews",
    "forum": "forum",
    "blog": "blog",
    "feed": "feed",
}
# XML declaration, stylesheet processing instructions, doctype and comments, then the root.
_FEED_START = re.compile(
    rb"^\s*(?:(?:<\?[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->)\s*)*<(?:rss|feed|rdf:RDF|RDF|channel)\b",
    re.S | re.I,
)

__all__ = ["KINDS", "Extraction", "detect_kind", "extract", "item_to_json"]


@dataclass
class Extraction:
    kind: str
    items: list[DocumentIn] = field(default_factory=list)
    engine: str | None = None


def looks_like_feed(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf")
    return bool(_FEED_START.match(head))


def detect_kind(data: bytes, url: str = "") -> str:
    """Best guess of the kind of a page (without extracting it)."""
    if looks_like_feed(data):
        return "feed"
    text = decode_html(data)
    if is_discourse_json(loads_json(text) if text.lstrip().startswith("{") else None):
        return "forum"
    if extract_reviews(
        text, url or "http://localhost/", parse_html(text, url or "http://localhost/")
    ):
        return "reviews"
    if guess_engine(text):
        return "forum"
    return "blog"


def extract(
    data: bytes | str,
    url: str,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    encoding: str | None = None,
) -> Extraction:
    """Extract the verbatims of one page.

    ``options`` are the source's settings: ``selectors`` (a custom profile, see
    :mod:`.posts`), ``forum_engine``, ``include_article``.
    """
    options = options or {}
    if kind is not None and kind not in KINDS:
        raise CollectionError(f"unknown kind {kind!r}", f"valid kinds: {', '.join(KINDS)}")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if kind == "feed" or (kind is None and looks_like_feed(raw)):
        from listening.collection.feeds import parse_feed_bytes

        return Extraction("feed", list(parse_feed_bytes(raw, url)))
    text = decode_html(raw, encoding)
    if text.lstrip().startswith(("{", "[")):
        parsed = loads_json(text)
        if is_discourse_json(parsed):
            return Extraction("forum", extract_discourse(parsed, url), "discourse")
        if kind is None:
            return Extraction("blog", [])
    root = parse_html(text, url)
    if root is None:
        return Extraction(kind or "blog", [])
    language = options.get("language") or page_language(root)
    selectors = options.get("selectors") or None
    if kind in (None, "reviews"):
        items = extract_reviews(text, url, root, language)
        if items or kind == "reviews":
            if not items and selectors:
                items = extract_forum(root, text, url, language, selectors=selectors)
                for item in items:
                    item.raw["kind"] = "review"
            return Extraction("reviews", items)
    if kind == "forum" or (kind is None and guess_engine(text)):
        engine = options.get("forum_engine")
        items = extract_forum(root, text, url, language, engine=engine, selectors=selectors)
        if items or kind == "forum":
            return Extraction("forum", items, engine or guess_engine(text))
    items = extract_blog(
        root, text, url, language, bool(options.get("include_article")), selectors=selectors
    )
    return Extraction("blog", items)
