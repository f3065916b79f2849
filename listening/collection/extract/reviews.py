"""schema.org reviews from JSON-LD, microdata and RDFa (via extruct).

Every ``Review`` node found anywhere in the page's structured data becomes one item:
author, date, rating (stars and normalised 0–1 as ``(value - worst) / (best - worst)``,
schema.org's defaults 1..5), title, body, the product or business reviewed, and the
merchant's reply (a nested ``comment``) when present. ``AggregateRating`` alone gives no
item. Some shops put a placeholder in the markup and the text in the page (zooroyal.de:
``description="comment"``): the body is then recovered from the visible review block
that carries the author's name.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from lxml.etree import _Element

from listening.collection.extract.common import (
    clean_author,
    element_text,
    page_language,
    stable_id,
    to_date,
)
from listening.collection.normalize import clean_line, clean_text
from listening.store.documents import DocumentIn

SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/")
_PLACEHOLDER = re.compile(r"^[a-z_]{1,20}$")


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type") or []
    values = value if isinstance(value, list) else [value]
    out = set()
    for v in values:
        text = str(v)
        for prefix in SCHEMA_PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :]
        out.add(text)
    return out


def _rdfa_nodes(rdfa: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """RDFa (expanded JSON-LD) turned into plain schema.org-like dicts, references resolved."""
    by_id = {n.get("@id"): n for n in rdfa if isinstance(n, dict)}

    def simplify(node: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "@type" in node:
            out["@type"] = node["@type"]
        if "@id" in node:
            out["@id"] = node["@id"]
        for key, values in node.items():
            if key.startswith("@"):
                continue
            short = key
            for prefix in SCHEMA_PREFIXES:
                if key.startswith(prefix):
                    short = key[len(prefix) :]
            converted = []
            for v in values if isinstance(values, list) else [values]:
                if isinstance(v, dict) and "@value" in v:
                    converted.append(v["@value"])
                elif isinstance(v, dict) and "@id" in v and depth < 4 and v["@id"] in by_id:
                    converted.append(simplify(by_id[v["@id"]], depth + 1))
                else:
                    converted.append(v)
            out[short] = converted[0] if len(converted) == 1 else converted
        return out

    return [simplify(n) for n in rdfa if isinstance(n, dict) and "@type" in n]


def _walk(
    node: Any,
    parent: dict[str, Any] | None,
    found: list[tuple[dict[str, Any], dict[str, Any] | None]],
) -> None:
    if isinstance(node, list):
        for child in node:
            _walk(child, parent, found)
        return
    if not isinstance(node, dict):
        return
    if "Review" in _types(node) or "UserReview" in _types(node) or "CriticReview" in _types(node):
        found.append((node, parent))
    for key, value in node.items():
        if key in ("@context",):
            continue
        _walk(value, node if _types(node) else parent, found)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return _text(
            value.get("name") or value.get("@value") or value.get("text") or value.get("value")
        )
    return str(value)


def _number(value: Any) -> float | None:
    text = _text(value).strip().replace(",", ".")
    match = re.search(r"-?\d+(?:\.\d+)?", text)
    return float(match.group(0)) if match else None


def rating_of(
    review: dict[str, Any],
) -> tuple[float | None, float | None, float | None, float | None]:
    """(stars, best, worst, normalised 0..1) of a review's ``reviewRating``."""
    rating = review.get("reviewRating")
    if isinstance(rating, list):
        rating = rating[0] if rating else None
    if rating is None:
        return None, None, None, None
    if not isinstance(rating, dict):
        value = _number(rating)
        best, worst = 5.0, 1.0
    else:
        value = _number(rating.get("ratingValue"))
        best = _number(rating.get("bestRating")) or 5.0
        worst_raw = _number(rating.get("worstRating"))
        worst = worst_raw if worst_raw is not None else (1.0 if best > 1 else 0.0)
    if value is None:
        return None, None, None, None
    span = best - worst
    normalised = min(1.0, max(0.0, (value - worst) / span)) if span > 0 else None
    return value, best, worst, round(normalised, 4) if normalised is not None else None


def _recover_body(root: _Element | None, author: str | None) -> str:
    """Text of the visible block carrying ``author`` (for markup with a placeholder body)."""
    if root is None or not author:
        return ""
    matches = root.xpath(
        "//body//*[not(self::script or self::style or self::meta) and "
        "contains(normalize-space(text()), $name)]",
        name=author,
    )
    for node in matches:
        block = node
        for _ in range(4):
            block = block.getparent()
            if block is None:
                break
            candidates = [
                p
                for p in block.xpath(".//p|.//div[not(.//div)]")
                if author not in (p.text_content() or "")
            ]
            texts = sorted((element_text(p) for p in candidates), key=len, reverse=True)
            if texts and len(texts[0]) >= 10:
                return texts[0]
    return ""


def extract_reviews(
    html: str, url: str, root: _Element | None = None, language: str | None = None
) -> list[DocumentIn]:
    """Items for every schema.org review with text in the page."""
    syntaxes = review_syntaxes(html)
    if not syntaxes:
        return []
    import extruct  # imported here: a second of start-up that pages without reviews never need

    try:
        data = extruct.extract(html, base_url=url, syntaxes=syntaxes, uniform=True, errors="ignore")
    except Exception:  # extruct chokes on some broken markup: no structured data then
        data = {}
    nodes: list[Any] = list(data.get("json-ld", [])) + list(data.get("microdata", []))
    nodes += _rdfa_nodes(data.get("rdfa", []))
    found: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    _walk(nodes, None, found)
    language = language or page_language(root)
    items: list[DocumentIn] = []
    seen: set[str] = set()
    for position, (review, parent) in enumerate(found, start=1):
        author = clean_author(_text(review.get("author")))
        body = _text(review.get("reviewBody") or review.get("description") or review.get("text"))
        body = clean_text(body)
        if not body or _PLACEHOLDER.match(body):
            body = _recover_body(root, author)
        if not body:
            continue
        title = clean_line(_text(review.get("headline") or review.get("name"))) or None
        if title and title == body:
            title = None
        raw_date = _text(review.get("datePublished") or review.get("dateCreated")).strip() or None
        stars, best, worst, normalised = rating_of(review)
        reviewed = review.get("itemReviewed") or parent or {}
        product = (
            clean_line(_text(reviewed))
            if isinstance(reviewed, dict)
            else clean_line(_text(reviewed))
        )
        reply = review.get("comment") or review.get("replyToReview")
        reply_text = (
            clean_text(_text(reply.get("text") if isinstance(reply, dict) else reply)) or None
        )
        review_url = urljoin(url, _text(review.get("url")).strip()) if review.get("url") else None
        ident = _text(review.get("@id") or review.get("identifier")).strip() or review_url
        external_id = ident or stable_id(url, author, raw_date, body[:200])
        if external_id in seen:
            continue
        seen.add(external_id)
        items.append(
            DocumentIn(
                external_id=external_id,
                text=body,
                url=review_url or url,
                thread_id=url,
                author=author,
                title=title,
                rating=normalised,
                published_at=to_date(raw_date, _text(review.get("inLanguage")) or language),
                raw={
                    "kind": "review",
                    "date_raw": raw_date,
                    "stars": stars,
                    "best_rating": best,
                    "worst_rating": worst,
                    "product": product,
                    "merchant_reply": reply_text,
                    "position": position,
                },
            )
        )
    return items


def has_review_markup(html: str) -> bool:
    """Cheap test for schema.org review vocabulary in a page."""
    return bool(
        re.search(
            r"schema\.org/?\"?[^>]{0,40}Review|\"@type\"\s*:\s*\"Review\"|typeof=\"[^\"]*Review",
            html,
        )
    )


_RDFA_REVIEW = re.compile(r"""(?:typeof|property)\s*=\s*["'][^"']*review""", re.I)


def review_syntaxes(html: str) -> list[str]:
    """The structured-data syntaxes worth parsing for reviews (RDFa parsing is slow)."""
    low = html.lower()
    if "review" not in low:
        return []
    syntaxes = []
    if "ld+json" in low:
        syntaxes.append("json-ld")
    if "itemscope" in low:
        syntaxes.append("microdata")
    if _RDFA_REVIEW.search(html):
        syntaxes.append("rdfa")
    return syntaxes
