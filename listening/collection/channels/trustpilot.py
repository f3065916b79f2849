"""Trustpilot: a business unit's reviews, from the Consumer API (with a key) or the public
business page.

Documented API shape (``GET /v1/business-units/{id}/reviews?apikey=...``):
``{"reviews": [{"id", "consumer": {"displayName"}, "stars", "title", "text", "language",
"createdAt", "companyReply": {...}}], "links": [{"rel": "next-page", "href"}]}``.
A saved business page (``https://www.trustpilot.com/review/DOMAIN``) is read from its
``__NEXT_DATA__`` JSON (``props.pageProps.reviews[]`` with ``rating``, ``dates.publishedDate``)
or, failing that, its schema.org JSON-LD. Source options: ``business_unit_id``.
Trustpilot has no public reply in the Consumer API: the ticket links to Trustpilot Business.
"""

from __future__ import annotations

import json
import re
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
    stars,
)
from listening.errors import CollectionError
from listening.store.documents import DocumentIn

_NEXT_DATA = re.compile(r'<script[^>]*id="__NEXT_DATA__"[^>]*>(.*?)</script>', re.S)


class Trustpilot(Channel):
    kind = "trustpilot"
    label = "Trustpilot"
    default_base_url = "https://api.trustpilot.com"
    auth = "header:apikey"  # the Consumer API takes the key as a header too
    token_help = "a Trustpilot API key"
    rating_scale = 5.0

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        unit = str(options.get("business_unit_id") or "").strip()
        if not unit:
            raise CollectionError(
                "a Trustpilot source needs the 'business_unit_id' setting",
                "find it with the API's business-units/find call; see docs/CHANNELS.md",
            )
        return [
            Query(
                unit,
                f"/v1/business-units/{unit}/reviews",
                {"perPage": 100, "orderBy": "createdat.desc"},
                link=url or None,
            )
        ]

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> str | None:
        for link in map(as_dict, as_list(as_dict(body).get("links"))):
            if link.get("rel") == "next-page" and link.get("href"):
                return str(link["href"])
        return None

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        if isinstance(body, str):
            return self.parse_page(body, url)
        items: list[DocumentIn | None] = []
        for review in map(as_dict, as_list(as_dict(body).get("reviews"))):
            items.append(self._review(review, review.get("stars"), review.get("createdAt")))
        return keep(items)

    def _review(self, review: dict[str, Any], rating_value: Any, date: Any) -> DocumentIn | None:
        star, rating = stars(rating_value)
        ident = review.get("id")
        reply = as_dict(review.get("companyReply") or review.get("reply"))
        return make_item(
            self.kind,
            ident,
            review.get("text"),
            author=as_dict(review.get("consumer")).get("displayName"),
            published=iso_date(date),
            url=f"https://www.trustpilot.com/reviews/{ident}" if ident else None,
            title=review.get("title"),
            rating=rating,
            raw={
                "stars": star,
                "declared_language": review.get("language"),
                "company_reply": reply.get("text") or reply.get("message"),
            },
        )

    def parse_page(self, html: str, url: str) -> list[DocumentIn]:
        found = _NEXT_DATA.search(html)
        if found:
            try:
                data = json.loads(found.group(1))
            except ValueError:
                data = {}
            reviews = as_list(
                as_dict(as_dict(as_dict(data).get("props")).get("pageProps")).get("reviews")
            )
            return keep(
                [
                    self._review(r, r.get("rating"), as_dict(r.get("dates")).get("publishedDate"))
                    for r in map(as_dict, reviews)
                ]
            )
        from listening.collection.extract.common import parse_html
        from listening.collection.extract.reviews import extract_reviews

        items = extract_reviews(html, url, parse_html(html, url))
        for item in items:
            item.raw["platform"] = self.kind
        return items

    def deep_link(self, target: ReplyTarget) -> str | None:
        return "https://businessapp.b2b.trustpilot.com/reviews"
