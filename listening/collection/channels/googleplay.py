"""Google Play reviews of the merchant's own app (Google Play Developer API v3, official).

Documented shape of ``GET /androidpublisher/v3/applications/{packageName}/reviews``:
``{"reviews": [{"reviewId", "authorName", "comments": [{"userComment": {"text",
"lastModified": {"seconds"}, "starRating", "reviewerLanguage", "appVersionName",
"thumbsUpCount"}}, {"developerComment": {...}}]}], "tokenPagination": {"nextPageToken"}}``.
The API returns the reviews of the last week with text (Google's limit). The developer's
answer (``developerComment``) is kept in ``raw``. Source options: ``package_name``.
The token is an OAuth access token of a service account with access to the app.
Public replies go through ``reviews/{id}:reply``.
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
    stars,
)
from listening.errors import CollectionError
from listening.store.documents import DocumentIn


class GooglePlay(Channel):
    kind = "googleplay"
    label = "Google Play"
    default_base_url = "https://androidpublisher.googleapis.com"
    token_help = "an OAuth access token (scope androidpublisher) of an account linked to the app"
    can_reply = True
    rating_scale = 5.0

    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        package = str(options.get("package_name") or "").strip()
        if not package:
            raise CollectionError(
                "a Google Play source needs the 'package_name' setting (e.g. com.acme.app)",
                "see docs/CHANNELS.md",
            )
        return [
            Query(
                package,
                f"/androidpublisher/v3/applications/{package}/reviews",
                {"maxResults": 100},
                link=f"https://play.google.com/store/apps/details?id={package}",
            )
        ]

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        token = as_dict(as_dict(body).get("tokenPagination")).get("nextPageToken")
        return {**params, "token": token} if token else None

    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        package = url.split("id=")[-1].split("&")[0] if "id=" in url else None
        items: list[DocumentIn | None] = []
        for review in map(as_dict, as_list(as_dict(body).get("reviews"))):
            comments = [as_dict(c) for c in as_list(review.get("comments"))]
            user = next((as_dict(c["userComment"]) for c in comments if c.get("userComment")), {})
            dev = next(
                (as_dict(c["developerComment"]) for c in comments if c.get("developerComment")), {}
            )
            star, rating = stars(user.get("starRating"))
            ident = review.get("reviewId")
            items.append(
                make_item(
                    self.kind,
                    ident,
                    user.get("text"),
                    author=review.get("authorName"),
                    published=iso_date(user.get("lastModified")),
                    url=(
                        f"https://play.google.com/store/apps/details?id={package}&reviewId={ident}"
                        if package
                        else None
                    ),
                    rating=rating,
                    raw={
                        "stars": star,
                        "declared_language": user.get("reviewerLanguage"),
                        "app_version": user.get("appVersionName"),
                        "developer_reply": dev.get("text"),
                        "metrics": metrics(likes=user.get("thumbsUpCount")),
                    },
                )
            )
        return keep(items)

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        package = str(options.get("package_name") or "")
        return (
            f"/androidpublisher/v3/applications/{package}/reviews/{target.external_id}:reply",
            "json",
            {"replyText": text},
        )

    def reply_result(self, body: Any) -> tuple[str | None, str | None]:
        return None, None  # a developer reply has no id of its own: it is part of the review
