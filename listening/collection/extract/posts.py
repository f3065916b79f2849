"""Posts and comments found with CSS/XPath selectors: one item per post.

A *profile* is a mapping of selectors (the same keys a source's ``selectors`` setting
takes, see docs/COLLECTION.md):

- ``item`` (required): each post / comment / review container;
- ``author``, ``date``, ``body`` (text; the item itself when absent), ``title``,
  ``rating``: elements inside the item (``rating_best`` gives the scale, default 5);
- ``remove``: elements dropped from the body (quotes, signatures, buttons);
- ``id_attr``: attribute holding the post id (default ``id``), ``position``: element
  holding the post number;
- ``thread_title``: element of the page holding the thread title.

Built-in profiles cover phpBB, XenForo, vBulletin, forumotion, WordPress, Drupal and
SPIP comments; :func:`extract_posts` tries them in order and keeps the first one that
finds posts with text.
"""

from __future__ import annotations

import re
from typing import Any

from lxml.etree import _Element

from listening.collection.extract.common import (
    clean_author,
    date_of,
    element_text,
    first,
    select_all,
    stable_id,
    to_date,
)
from listening.collection.normalize import clean_line
from listening.errors import CollectionError
from listening.store.documents import DocumentIn

QUOTES = (
    "blockquote, .bbcode_container, .bbCodeBlock--quote, .bbCodeQuote, .quote, .quotecontent, "
    ".xfBb-quote, .codebox, .bbcode_quote, .quote_container"
)
SIGNATURES = (
    ".signature, .signaturecontainer, .message-signature, .sig, .postsignature, .signature_div"
)
CHROME = (
    ".reply, .comment-reply-link, .comment-reply, .moderation, script, style, .links, .editedby"
)

PROFILES: dict[str, dict[str, Any]] = {
    "phpbb": {
        "item": "div.post[id^=p]",
        "author": ".author .username, .author .username-coloured, .postprofile .username, .author strong",
        "date": ".author time, p.author",
        "body": "div.content",
        "remove": f"{QUOTES}, {SIGNATURES}",
        "title": "h3 a, h3",
        "thread_title": "h2.topic-title a, h2.topic-title, h2 a, h1",
        "id_pattern": r"^p(\d+)$",
    },
    "forumotion": {
        "item": "div.post[class*=post--]",
        "author": ".postprofile-name a, .postprofile-name, .postprofile strong",
        "date": ".postbody-head .author, .post-header .author, .topic-date",
        "body": ".post-entry .content, .post-entry, .postbody .content",
        "remove": f"{QUOTES}, {SIGNATURES}",
        "thread_title": "h1.page-title, h1",
        "id_pattern": r"^p(\d+)$",
    },
    "xenforo": {
        "item": "article.message--post, article.message[data-author]",
        "author": "@data-author",
        "date": ".message-attribution time, time.u-dt",
        "body": ".message-body .bbWrapper, .message-content .bbWrapper",
        "remove": f"{QUOTES}, {SIGNATURES}",
        "thread_title": "h1.p-title-value",
        "id_pattern": r"(?:js-)?post-(\d+)",
    },
    "xenforo1": {
        "item": "li.message[data-author]",
        "author": "@data-author",
        "date": ".messageMeta .DateTime, .DateTime",
        "body": ".messageText",
        "remove": f"{QUOTES}, {SIGNATURES}",
        "thread_title": ".titleBar h1, h1",
        "id_pattern": r"post-(\d+)",
    },
    "vbulletin": {
        "item": "li.postbit[id^=post_], li.postbitlegacy[id^=post_], li.postcontainer[id^=post_]",
        "author": ".username_container .username, .username",
        "date": ".postdate .date, .posthead .date, .userstats dd",
        "body": ".postcontent, [id^=post_message_]",
        "remove": f"{QUOTES}, {SIGNATURES}",
        "position": ".postcounter",
        "thread_title": "#pagetitle .threadtitle a, .threadtitle, h1",
        "id_pattern": r"^post_(\d+)$",
    },
    "vbulletin3": {
        "item": "table[id^=post]",
        "author": ".bigusername",
        "date": "td.thead",
        "body": "[id^=post_message_]",
        "remove": f"{QUOTES}, {SIGNATURES}",
        "thread_title": "h1, .navbar strong",
        "id_pattern": r"^post(\d+)$",
    },
    "wordpress": {
        "item": "li.comment[id^=comment-], div.comment[id^=comment-], article.comment[id^=comment-]",
        "author": ".comment-author .fn, .comment-author cite, .comment-author",
        "date": ".comment-metadata time, .comment-meta time, .comment-metadata, .comment-meta",
        "body": ".comment-content, .comment-text, .comment-body > p",
        "remove": f"{CHROME}",
        "thread_title": "h1.entry-title, h1",
        "id_pattern": r"comment-(\d+)$",
        "nested": True,
    },
    "drupal": {
        "item": "div.comment[typeof*=Comment], div.comment.comment-published, div.comment[about]",
        "author": ".username, [property='foaf:name'], .submitted .username, .metas b, .metas strong",
        "date": ".submitted, .metas, .comment-date, time",
        "body": ".field-name-comment-body, .content",
        "title": ".titre, h3",
        "remove": f"{CHROME}",
        "thread_title": "h1",
        "id_pattern": r"comment[-/](\d+)",
    },
    "spip": {
        "item": "li.forum-fil, .comments-list li.comment",
        "author": ".comment-author .fn, .comment-author, .forum-qui",
        "date": ".comment-meta abbr.date, abbr.date, .comment-meta",
        "body": ".comment-content, .forum-texte",
        "remove": f"{CHROME}",
        "thread_title": "h1",
        "id_pattern": r"forum-texte-(\d+)|forum-qui-(\d+)|id_forum=(\d+)",
        "nested": True,
    },
    "comment-ids": {  # custom comment systems whose blocks carry an id="comment-123"
        "item": ".//*[re:test(@id, '^comment-?\\d+$')]",
        "climb": True,
        "author": "[class*=uthor] [class*=ame], [class*=uthor] a, [class*=uthor], .username",
        "date": "time, abbr.date, [class*=date]",
        "body": "[class*=essage]:not([class*=ontainer]):not([class*=nfo]), [class*=ontent], [class*=ext]",
        "remove": f"{QUOTES}, {CHROME}",
        "thread_title": "h1",
        "id_pattern": r"comment-?(\d+)",
    },
}
COMMENT_PROFILES = ("wordpress", "drupal", "spip", "comment-ids")
_RE_NS = {"re": "http://exslt.org/regular-expressions"}


def _items(root: _Element, selector: str) -> list[_Element]:
    try:
        if selector.startswith((".//", "/")):
            return [n for n in root.xpath(selector, namespaces=_RE_NS) if isinstance(n, _Element)]
        return select_all(root, selector)
    except Exception as exc:  # cssselect / lxml syntax errors
        raise CollectionError(
            f"invalid item selector {selector!r}: {exc}",
            "give a CSS selector (div.post) or an XPath starting with .// or /",
        ) from None


def _climb(node: _Element, marker: str) -> _Element:
    """The largest ancestor of ``node`` holding no other item (author blocks sit beside bodies)."""
    current = node
    while True:
        parent = current.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return current
        if len(parent.xpath(marker, namespaces=_RE_NS)) > 1:
            return current
        current = parent


def _field(item: _Element, selector: str | None) -> _Element | None:
    if not selector:
        return None
    for part in (
        [s.strip() for s in selector.split(",")] if not selector.startswith(".//") else [selector]
    ):
        node = first(item, part)
        if node is not None and _owner_ok(item, node):
            return node
    return None


def _owner_ok(item: _Element, node: _Element) -> bool:
    """False when ``node`` belongs to a nested item (a reply inside a threaded comment)."""
    current = node.getparent()
    while current is not None and current is not item:
        if current.get("data-listening-item") == "1":
            return False
        current = current.getparent()
    return True


def _post_id(item: _Element, pattern: str | None, attr: str) -> str | None:
    values = [item.get(attr) or ""]
    values += [item.get("data-content") or "", item.get("about") or ""]
    values += [n.get("id") or "" for n in item.xpath("./preceding-sibling::a[@id][1]")]
    values += [n.get("id") or n.get("class") or "" for n in item.xpath(".//*[@id or @class]")[:40]]
    values += [a.get("href") or "" for a in item.xpath(".//a[@href]")[:20]]
    for value in values:
        if not value:
            continue
        if pattern:
            match = re.search(pattern, value)
            if match:
                return next((g for g in match.groups() if g), match.group(0))
        elif attr in item.attrib:
            return item.get(attr)
    return None


def _thread_parent(item: _Element, ids: dict[int, str]) -> str | None:
    current = item.getparent()
    while current is not None:
        if id(current) in ids:
            return ids[id(current)]
        current = current.getparent()
    return None


def extract_posts(
    root: _Element,
    url: str,
    profile: dict[str, Any],
    language: str | None,
    kind: str = "post",
    min_chars: int = 2,
) -> list[DocumentIn]:
    """Items found in ``root`` with one selector profile."""
    selector = profile.get("item") or ""
    nodes = _items(root, selector)
    if profile.get("climb"):
        nodes = [_climb(n, selector) for n in nodes]
    for node in nodes:
        node.set("data-listening-item", "1")
    thread_node = first(root, profile.get("thread_title") or "h1")
    thread_title = clean_line(thread_node.text_content()) if thread_node is not None else None
    remove = tuple(s.strip() for s in (profile.get("remove") or "").split(",") if s.strip())
    node_ids: dict[int, str] = {}
    items: list[DocumentIn] = []
    try:
        for position, node in enumerate(nodes, start=1):
            author_sel = profile.get("author") or ""
            if author_sel.startswith("@"):
                author = clean_author(node.get(author_sel[1:]))
            else:
                author_node = _field(node, author_sel)
                author = (
                    clean_author(author_node.text_content()) if author_node is not None else None
                )
            found_body = _field(node, profile.get("body"))
            body_node = found_body if found_body is not None else node
            nested = [n for n in body_node.xpath(".//*[@data-listening-item='1']")]
            for child in nested:  # replies are their own items
                child.set("data-listening-skip", "1")
            text = element_text(body_node, drop=(*remove, "[data-listening-skip='1']"))
            for child in nested:
                del child.attrib["data-listening-skip"]
            if author and text.startswith(author):  # bodies that repeat the author line
                pass
            if len(text) < min_chars:
                continue
            date_node = _field(node, profile.get("date"))
            raw_date = date_of(date_node, "" if date_node is not None else element_text(node)[:300])
            title_node = _field(node, profile.get("title"))
            title = clean_line(title_node.text_content()) if title_node is not None else None
            post_id = _post_id(node, profile.get("id_pattern"), profile.get("id_attr") or "id")
            external_id = (
                f"{url}#{post_id}" if post_id else stable_id(url, author, raw_date, text[:200])
            )
            node_ids[id(node)] = external_id
            parent = _thread_parent(node, node_ids) if profile.get("nested") else None
            rating = None
            rating_node = _field(node, profile.get("rating"))
            if rating_node is not None:
                match = re.search(
                    r"\d+(?:[.,]\d+)?", rating_node.get("content") or rating_node.text_content()
                )
                best = float(profile.get("rating_best") or 5)
                if match:
                    rating = max(0.0, min(1.0, float(match.group(0).replace(",", ".")) / best))
            pos_node = _field(node, profile.get("position"))
            shown_position = None
            if pos_node is not None:
                digits = re.sub(r"\D", "", pos_node.text_content())
                shown_position = int(digits) if digits else None
            items.append(
                DocumentIn(
                    external_id=external_id,
                    text=text,
                    url=f"{url.split('#')[0]}#{node.get('id')}" if node.get("id") else url,
                    thread_id=url.split("#")[0],
                    parent_id=parent,
                    author=author,
                    title=title,
                    rating=rating,
                    published_at=to_date(raw_date, language),
                    raw={
                        "kind": kind,
                        "date_raw": raw_date,
                        "post_id": post_id,
                        "position": shown_position or position,
                        "thread_title": thread_title,
                    },
                )
            )
    finally:
        for node in nodes:
            node.attrib.pop("data-listening-item", None)
    return items


def detect_and_extract(
    root: _Element, url: str, names: tuple[str, ...], language: str | None, kind: str
) -> tuple[str | None, list[DocumentIn]]:
    """Try the named profiles in order; the first that yields posts wins."""
    for name in names:
        items = extract_posts(root, url, PROFILES[name], language, kind=kind)
        if items:
            return name, items
    return None, []
