"""The one interface every channel connector implements, and the parsing helpers they share.

A connector (:class:`Channel`) says three things about its platform and nothing else:

- :meth:`Channel.queries`: which API requests a source needs (one :class:`Query` per
  subreddit, hashtag, video, keyword...), each with its own cursor key;
- :meth:`Channel.parse`: the verbatims of one documented API response body (pure: it
  is what ``listening extract --kind KIND`` runs on a saved body);
- :meth:`Channel.next_params` / :meth:`Channel.children`: the next page of a query, and
  the queries a response opens (a video's comment threads, a post's comments).

Fetching, authentication, rate limits, blocking on 401/403, cursors and ingestion are
shared (:mod:`listening.collection.channels.http` and :mod:`.collector`), so no connector
repeats them. Authors are real names here; the store pseudonymises them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from listening.collection.normalize import clean_line, clean_text
from listening.errors import CollectionError
from listening.store.documents import DocumentIn

SECRET_KEYS = frozenset(
    {"token", "api_key", "access_token", "reply_token", "client_secret", "password", "app_password"}
)


@dataclass(frozen=True)
class Query:
    """One paged API request of a source: ``key`` names its cursor in ``sources.state``."""

    key: str
    url: str  # absolute, or a path joined to the connector's base URL
    params: dict[str, Any] = field(default_factory=dict)
    link: str | None = None  # the web page the items belong to (used when an item has none)
    incremental: bool = True  # stop paging once items older than the cursor come back


@dataclass(frozen=True)
class ReplyTarget:
    """Where a public reply goes: the platform's id of the verbatim answered."""

    kind: str
    external_id: str
    url: str | None
    raw: dict[str, Any]


class Channel:
    """Base class of the connectors; subclasses set the class attributes and override."""

    kind: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str]
    auth: ClassVar[str] = "bearer"  # "bearer", "header:<name>", "query:<param>" or "none"
    needs_token: ClassVar[bool] = True
    token_help: ClassVar[str] = ""
    can_reply: ClassVar[bool] = False
    rating_scale: ClassVar[float | None] = None  # stars of a 1..N scale, when rated

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")

    def fetch_token(self, http: Any, options: dict[str, Any]) -> str | None:
        """A short-lived token obtained from the source's app credentials, when it has some."""
        return None

    # -- what to fetch
    def queries(self, url: str, options: dict[str, Any]) -> list[Query]:
        raise NotImplementedError

    def since_params(self, query: Query, cursor: dict[str, Any]) -> dict[str, Any]:
        """Extra parameters asking only for what is newer than ``cursor`` (when the API can)."""
        return {}

    def next_params(
        self, body: Any, headers: dict[str, str], query: Query, url: str, params: dict[str, Any]
    ) -> dict[str, Any] | str | None:
        """Parameters of the next page (or its absolute URL), or None after the last."""
        return None

    def children(self, body: Any, query: Query, options: dict[str, Any]) -> list[Query]:
        return []

    def cursor_from(self, body: Any, cursor: dict[str, Any]) -> dict[str, Any]:
        """Platform cursor fields to keep from the first page (X ``newest_id``...)."""
        return {}

    # -- what a response holds
    def parse(self, body: Any, url: str) -> list[DocumentIn]:
        raise NotImplementedError

    # -- answering
    def deep_link(self, target: ReplyTarget) -> str | None:
        """Where a person answers by hand when the API has no reply."""
        return target.url

    def reply_request(
        self, target: ReplyTarget, text: str, options: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        """(method-less URL, body kind "json"|"form", body) of the reply call."""
        raise CollectionError(
            f"{self.label} has no public reply API",
            "answer on the platform itself (the ticket shows a link)",
        )

    def reply_result(self, body: Any) -> tuple[str | None, str | None]:
        """(platform id, URL) of the posted reply, read from the API's answer."""
        return None, None


# ---------------------------------------------------------------- shared parsing helpers


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]  # feeds with a single entry give an object, not a list
    return []


def label(value: Any) -> str | None:
    """The ``label`` of an App Store feed node (``{"label": "..."}``) or a plain string."""
    if isinstance(value, dict):
        value = value.get("label")
    return str(value) if value not in (None, "") else None


def iso_date(value: Any) -> datetime | None:
    """ISO 8601 (``Z``, ``+0000``, ``+00:00``), UNIX seconds, or ``{"seconds": ...}``."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        value = value.get("seconds")
        if value is None:
            return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip().replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():  # +0000 -> +00:00
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stars(value: Any, scale: float = 5.0) -> tuple[float | None, float | None]:
    """(stars, rating 0..1) of a 1..scale star rating; (None, None) when absent or odd."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, None
    if not 1 <= number <= scale:
        return None, None
    return number, round((number - 1) / (scale - 1), 4)


def metrics(**counts: Any) -> dict[str, int]:
    """The engagement counts a platform gave (likes, replies...), absent ones left out."""
    return {k: int(v) for k, v in counts.items() if isinstance(v, int | float)}


def make_item(
    kind: str,
    external_id: Any,
    text: Any,
    *,
    author: Any = None,
    published: datetime | None = None,
    url: str | None = None,
    thread_id: Any = None,
    parent_id: Any = None,
    title: Any = None,
    rating: float | None = None,
    raw: dict[str, Any] | None = None,
) -> DocumentIn | None:
    """A :class:`DocumentIn` with the platform in ``raw``; None when id or text is missing."""
    body = clean_text(str(text)) if text else ""
    ident = str(external_id) if external_id not in (None, "") else ""
    if not body or not ident:
        return None
    extra = {"platform": kind, **{k: v for k, v in (raw or {}).items() if v not in (None, {}, [])}}
    return DocumentIn(
        external_id=ident,
        text=body,
        url=url,
        thread_id=str(thread_id) if thread_id else None,
        parent_id=str(parent_id) if parent_id else None,
        author=clean_line(str(author)) if author else None,
        title=clean_line(str(title)) if title else None,
        rating=rating,
        published_at=published,
        raw=extra,
    )


def keep(items: list[DocumentIn | None]) -> list[DocumentIn]:
    """Drop the ``None`` of :func:`make_item` and repeated ids (first one wins)."""
    seen: set[str] = set()
    out: list[DocumentIn] = []
    for item in items:
        if item is not None and item.external_id not in seen:
            seen.add(item.external_id)
            out.append(item)
    return out


def listify(value: Any) -> list[str]:
    """A source option given as one string or a list of strings."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if str(v).strip()]


def mask(value: Any) -> str:
    """A secret shown as its last four characters (long ones) or stars."""
    text = str(value)
    return f"…{text[-4:]}" if len(text) > 12 else "****"


def mask_settings(options: dict[str, Any]) -> dict[str, Any]:
    """A source's settings with every secret masked (for listings, logs and the dashboard)."""
    return {k: mask(v) if k in SECRET_KEYS and v else v for k, v in options.items()}
