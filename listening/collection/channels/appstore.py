"""Apple App Store reviews: the public customer-reviews feed of one app in one country.

Documented shape (RSS JSON, no key): ``{"feed": {"entry": [...]}}`` where each review has
``id.label``, ``author.name.label``, ``updated.label``, ``im:rating.label`` (1-5),
``title.label``, ``content.label``, ``im:version.label``, ``im:voteSum``. Older feeds
start with an entry describing the app itself (no ``im:rating``): it is skipped; a feed
of one review gives an object instead of a list. Pages 1..10 of
``/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json``.
Source options: ``app_id``, ``country`` (default fr). Apple's public feed has no reply:
replies are written in App Store Connect (the ticket links to it).
"""

from __future__ import annotations

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
    label,
    make_item,
    metrics,
    stars,
)
from listening.errors import CollectionError
from listening.store.documents import DocumentIn

MAX_PAGE = 10  # the feed stops at page 10


class AppStore(Channel):
    kind = "appstore"
    label = "App Store"
    default_base_url = "https://itunes.apple.com"
    auth = "none"
    needs_token = False
    rating_scale = 5.0

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        app = str(options.get("app_id") or "").removeprefix("id")
        if not app.isdigit():
            raise CollectionError(
                "an App Store source needs the numeric 'app_id' setting (the digits after /id in "
                "the app's URL)",
                "see docs/CHANNELS.md",
            )
        country = str(options.get("country") or "fr").lower()
        return [
            Query(
                f"{country}:{app}",
                f"/{country}/rss/customerreviews/page=1/id={app}/sortby=mostrecent/json",
                link=f"https://apps.apple.com/{country}/app/id{app}",
            )
        ]

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> str | None:
        if not as_list(as_dict(as_dict(body).get("feed")).get("entry")):
            return None
        found = re.search(r"/page=(\d+)/", url)
        page = int(found.group(1)) + 1 if found else MAX_PAGE + 1
        if page > MAX_PAGE:
            return None
        return url.replace(found.group(0), f"/page={page}/") if found else None

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        items: list[DocumentIn | None] = []
        link = url if url.startswith("http") and "/rss/" not in url else None
        for entry in map(as_dict, as_list(as_dict(as_dict(body).get("feed")).get("entry"))):
            star, rating = stars(label(entry.get("im:rating")))
            if star is None:
                continue  # the app's own entry, not a review
            href = as_dict(as_dict(entry.get("link")).get("attributes")).get("href")
            items.append(
                make_item(
                    self.kind,
                    label(entry.get("id")),
                    label(entry.get("content")),
                    author=label(as_dict(entry.get("author")).get("name")),
                    published=iso_date(label(entry.get("updated"))),
                    url=link or href,
                    title=label(entry.get("title")),
                    rating=rating,
                    raw={
                        "stars": star,
                        "app_version": label(entry.get("im:version")),
                        "metrics": metrics(
                            votes=_int(label(entry.get("im:voteCount"))),
                            helpful=_int(label(entry.get("im:voteSum"))),
                        ),
                    },
                )
            )
        return keep(items)

    def deep_link(self, target: ReplyTarget) -> str | None:
        return "https://appstoreconnect.apple.com/apps"


def _int(value: str | None) -> int | None:
    return int(value) if value and value.lstrip("-").isdigit() else None
