"""Helpers shared by the extractors: decoding, parsing, element text, dates, ids."""

from __future__ import annotations

import contextlib
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import lxml.html
from charset_normalizer import from_bytes
from lxml.etree import ParserError, _Element

from listening.collection.normalize import clean_line, clean_text, parse_date
from listening.store.documents import DocumentIn

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "dd",
    "dt",
}
# Dates as forums and comment systems print them (day first, optional time).
DATE_PATTERNS = (
    re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?"),
    re.compile(
        r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}(?:,?\s*(?:à\s*)?\d{1,2}[:h]\d{2}(?:\s*[ap]\.?m\b\.?)?)?",
        re.I,
    ),
    re.compile(
        r"\b\d{1,2}\.?\s+(?:janv|févr|fevr|mars|avr|mai|juin|juil|août|aout|sept|oct|nov|déc|dec|"
        r"jan|feb|mar|apr|may|jun|jul|aug|sep|okt|dez|märz|januar|februar|april|juni|juli|august|"
        r"september|oktober|november|dezember|january|february|march|october|december)\w*\.?\s+"
        r"\d{4}(?:,?\s*(?:à|um|at|-)?\s*\d{1,2}(?:[:h]\s?\d{2})?)?",
        re.I,
    ),
    re.compile(
        r"\b(?:heute|gestern|aujourd'hui|hier|today|yesterday),?\s*(?:à|um|at)?\s*\d{1,2}[:h]\d{2}",
        re.I,
    ),
)


def decode_html(data: bytes | str, declared: str | None = None) -> str:
    """Text of a page: the declared charset if it decodes cleanly, else detection."""
    if isinstance(data, str):
        return data
    candidates: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if declared:
        candidates.append(declared)
    match = _META_CHARSET.search(data[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", "ignore"))
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    # The web's legacy default, windows-1252, when it reads as a western text (few
    # accented letters); detection alone mistakes short texts for rare code pages.
    try:
        western = data.decode("cp1252")
        letters = [c for c in western if c.isalpha()]
        accented = sum(1 for c in letters if ord(c) > 127)
        if letters and accented / len(letters) < 0.15:
            return western
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace")
    return data.decode("cp1252", errors="replace")


def parse_html(text: str, url: str) -> _Element | None:
    """An lxml tree with links made absolute; ``None`` for an empty document."""
    if not text.strip():
        return None
    try:
        root = lxml.html.document_fromstring(text, base_url=url)
    except (ParserError, ValueError):
        return None
    with contextlib.suppress(ValueError):
        root.make_links_absolute(url, resolve_base_href=True)
    return root


def page_language(root: _Element | None) -> str | None:
    if root is None:
        return None
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not lang:
        metas = root.xpath("//meta[@http-equiv='content-language']/@content")
        lang = metas[0] if metas else None
    return lang.split("-")[0].split("_")[0].lower()[:2] if lang else None


def element_text(element: _Element, drop: tuple[str, ...] = ()) -> str:
    """Readable text of an element: block elements become line breaks; ``drop`` CSS removed."""
    clone = lxml.html.fromstring(lxml.html.tostring(element, encoding="unicode"))
    for selector in ("script", "style", "noscript", "template", *drop):
        for node in clone.cssselect(selector) if clone is not None else []:
            _remove_keep_tail(node)
    for node in clone.iter():
        if isinstance(node.tag, str) and node.tag.lower() in _BLOCKS:
            node.tail = "\n" + (node.tail or "")
            if node.tag.lower() != "br":
                node.text = "\n" + (node.text or "")
    return clean_text(clone.text_content())


def _remove_keep_tail(node: _Element) -> None:
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


def first(element: _Element, selector: str) -> _Element | None:
    """First match of a CSS selector (or XPath when it starts with ``/`` or ``.//``)."""
    if not selector:
        return None
    try:
        found = (
            element.xpath(selector)
            if selector.startswith(("/", ".//", "./"))
            else element.cssselect(selector)
        )
    except Exception:  # invalid selector: treated as no match, reported by config validation
        return None
    for node in found:
        if isinstance(node, _Element):
            return node
    return None


def select_all(element: _Element, selector: str) -> list[_Element]:
    if selector.startswith(("/", ".//", "./")):
        return [n for n in element.xpath(selector) if isinstance(n, _Element)]
    return list(element.cssselect(selector))


def find_date_in_text(text: str) -> str | None:
    for pattern in DATE_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(0)
    return None


def date_of(element: _Element | None, fallback_text: str = "") -> str | None:
    """The raw date string of an element: a machine-readable attribute first, else its text."""
    candidates: list[_Element] = []
    if element is not None:
        candidates.append(element)
        candidates.extend(element.xpath(".//time|.//abbr|.//*[@data-time]|.//*[@datetime]"))
    for node in candidates:
        for attr in ("datetime", "content", "data-datestring"):
            value = node.get(attr)
            if value and re.search(r"\d{4}", value):
                return value.strip()
        if node.tag == "abbr" and node.get("title") and re.search(r"\d{4}", node.get("title", "")):
            return node.get("title", "").strip()
        stamp = node.get("data-time")
        if stamp and stamp.isdigit():
            return datetime.fromtimestamp(int(stamp), UTC).isoformat()
    text = element_text(element) if element is not None else ""
    return find_date_in_text(text) or find_date_in_text(fallback_text)


def to_date(raw: str | None, language: str | None) -> datetime | None:
    return parse_date(raw, language=language) if raw else None


def stable_id(*parts: Any) -> str:
    payload = "\x1f".join(str(p or "") for p in parts)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:20]


_BY_PREFIX = re.compile(r"^(?:par|by|von|de|posté par|geschrieben von)\s+", re.I)


def clean_author(text: str | None) -> str | None:
    """An author name without "Par …," / "dit :" decorations."""
    name = clean_line(text)
    if not name:
        return None
    name = _BY_PREFIX.sub("", name)
    name = re.split(r",|\s+(?:le|am|on|dit|says|schrieb)\b", name, maxsplit=1)[0]
    name = name.strip(" :»-–—")
    return name[:200] or None


def item_to_json(doc: DocumentIn) -> dict[str, Any]:
    """The JSON form printed by ``listening extract``."""
    return {
        "external_id": doc.external_id,
        "text": doc.text,
        "author": doc.author,
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "rating": doc.rating,
        "title": doc.title,
        "url": doc.url,
        "thread_id": doc.thread_id,
        "parent_id": doc.parent_id,
        **{k: v for k, v in doc.raw.items() if k not in ("html",)},
    }
