"""Feed reader: RSS 0.9x/1.0/2.0, Atom and WordPress comment feeds, politely polled.

The HTTP side is httpx (timeouts, a size limit, redirects followed up to 5 times) with
conditional GET: the ETag and Last-Modified a server sends are kept per source in
``sources.state`` and sent back, so an unchanged feed costs a ``304 Not Modified``.
The state is saved only once the entries are stored, so a run that fails half-way
fetches the feed again next time instead of skipping what it lost.

Parsing is feedparser's (it detects the encoding from the HTTP header, the XML
declaration or the bytes). A malformed feed keeps the entries that could be read and
its fault (feedparser's ``bozo``) is logged and reported in the run's errors.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urlparse

import feedparser
import httpx

from listening.collection import SourceBlockedError
from listening.collection.ingest import IngestResult, ingest
from listening.collection.normalize import clean_line, clean_text, parse_date
from listening.errors import CollectionError
from listening.netguard import httpx_event_hooks
from listening.settings import Settings
from listening.store import Source, Store
from listening.store.documents import DocumentIn

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- parsing


@dataclass
class ParsedFeed:
    title: str | None
    language: str | None
    items: list[DocumentIn]
    fault: str | None = None  # feedparser's bozo exception, when the feed is malformed
    skipped: int = 0  # entries with neither text nor title
    skipped_reasons: list[str] = field(default_factory=list)


def _language(code: str | None) -> str | None:
    if not code:
        return None
    return code.split("-")[0].split("_")[0].strip().lower() or None


def _entry_text(entry: Any) -> str:
    contents = entry.get("content") or []
    for content in contents:
        if content.get("value"):
            return str(content["value"])
    return str(entry.get("summary") or entry.get("description") or "")


def _entry_date(entry: Any, language: str | None) -> tuple[str | None, datetime | None]:
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw:
            continue
        parsed_struct = entry.get(f"{key}_parsed")
        if parsed_struct:
            return raw, datetime.fromtimestamp(calendar.timegm(parsed_struct), tz=UTC)
        return raw, parse_date(raw, language)
    return None, None


def _is_comment_feed(feed_title: str | None, link: str) -> bool:
    title = (feed_title or "").casefold()
    return "#comment-" in link or "comment" in title


def parse_feed(data: bytes, url: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    """Parse feed bytes fetched from ``url`` (``headers`` give the HTTP content type)."""
    response_headers = {"content-location": url}
    for key, value in (headers or {}).items():
        response_headers[key.lower()] = value
    parsed = feedparser.parse(data, response_headers=response_headers)
    feed = parsed.get("feed", {})
    title = clean_line(feed.get("title"))
    language = _language(feed.get("language"))
    fault = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        fault = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    if not parsed.entries and fault and not title:
        raise CollectionError(
            f"{url} is not a readable RSS or Atom feed ({fault})",
            "check the source URL points at the feed itself (often /feed or /rss.xml)",
        )
    items: list[DocumentIn] = []
    skipped_reasons: list[str] = []
    seen: set[str] = set()
    for position, entry in enumerate(parsed.entries, start=1):
        text = clean_text(_entry_text(entry))
        entry_title = clean_line(entry.get("title"))
        link = str(entry.get("link") or "")
        text_from = "body"
        if not text and entry_title:
            # a title-only entry (link blogs, RSS 1.0 item lists): the title is what was said
            text, text_from = entry_title, "title"
        if not text:
            ident = entry.get("id") or link or f"entry {position}"
            reason = f"{ident}: neither title nor text"
            log.info("feed %s: skipped %s", url, reason)
            skipped_reasons.append(reason)
            continue
        key = str(entry.get("id") or link or "")
        if not key or key in seen:
            key = hashlib.sha256(f"{entry_title}\x1f{text}".encode()).hexdigest()[:32]
        seen.add(key)
        date_raw, published = _entry_date(entry, language)
        raw: dict[str, Any] = {"kind": "feed_entry", "feed_url": url}
        if text_from == "title":
            raw["text_from"] = "title"
        if title:
            raw["feed_title"] = title
        if date_raw:
            raw["date_raw"] = date_raw
        tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        if tags:
            raw["tags"] = tags
        comment = _is_comment_feed(title, link)
        in_reply_to = entry.get("thr_in-reply-to") or {}
        items.append(
            DocumentIn(
                external_id=key,
                text=text,
                url=link or None,
                thread_id=urldefrag(link)[0] if comment and link else None,
                parent_id=(in_reply_to.get("ref") if isinstance(in_reply_to, dict) else None),
                author=clean_line(entry.get("author")),
                title=entry_title,
                published_at=published,
                language=language,
                raw=raw,
            )
        )
    if fault:
        log.warning("feed %s is malformed (%s); kept %d entries", url, fault, len(items))
    return ParsedFeed(
        title=title,
        language=language,
        items=items,
        fault=fault,
        skipped=len(skipped_reasons),
        skipped_reasons=skipped_reasons,
    )


def parse_feed_bytes(data: bytes, url: str) -> list[DocumentIn]:
    """The verbatims of a feed file (used by ``listening extract`` and the feed collector)."""
    return parse_feed(data, url).items


# ---------------------------------------------------------------- fetching


@dataclass
class FeedFetch:
    status: int
    data: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def make_client(settings: Settings) -> httpx.Client:
    cfg = settings.collection
    return httpx.Client(
        timeout=httpx.Timeout(cfg.feed_timeout_s),
        follow_redirects=True,
        max_redirects=5,
        event_hooks=httpx_event_hooks(settings.security, "feed URL"),  # redirects included
        headers={
            "User-Agent": cfg.feed_user_agent,
            "Accept": "application/rss+xml, "
            "application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        },
    )


def fetch_feed(client: httpx.Client, url: str, state: dict[str, Any], max_bytes: int) -> FeedFetch:
    """GET ``url`` with the stored validators; errors say what went wrong in plain words."""
    headers: dict[str, str] = {}
    if state.get("etag"):
        headers["If-None-Match"] = str(state["etag"])
    if state.get("last_modified"):
        headers["If-Modified-Since"] = str(state["last_modified"])
    host = urlparse(url).netloc or url
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return FeedFetch(
                    status=304, etag=state.get("etag"), last_modified=state.get("last_modified")
                )
            if response.status_code in (403, 429):
                raise SourceBlockedError(
                    f"{url} answered HTTP {response.status_code} (blocked)",
                    "the site refuses automated access; the source is marked blocked, "
                    "re-enable it once allowed",
                )
            if response.status_code >= 400:
                raise CollectionError(
                    f"{url} answered HTTP {response.status_code}",
                    "check the feed URL; server errors are retried at the next run",
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise CollectionError(
                        f"{url} is larger than {max_bytes} bytes",
                        "raise LISTENING_COLLECTION__FEED_MAX_BYTES if this feed is legitimate",
                    )
                chunks.append(chunk)
            return FeedFetch(
                status=response.status_code,
                data=b"".join(chunks),
                headers=dict(response.headers),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
    except httpx.TimeoutException:
        raise CollectionError(
            f"timed out fetching {url}",
            "the host is slow or down; raise LISTENING_COLLECTION__FEED_TIMEOUT_S if needed",
        ) from None
    except httpx.TooManyRedirects:
        raise CollectionError(f"too many redirects fetching {url}", "fix the feed URL") from None
    except httpx.ConnectError as exc:
        raise CollectionError(
            f"cannot connect to {host}: {exc}", "check the URL and that the host is reachable"
        ) from None
    except httpx.HTTPError as exc:
        raise CollectionError(f"fetching {url} failed: {exc}", "check the URL") from None


def collect_feed(
    store: Store, source_id: int, settings: Settings, client: httpx.Client | None = None
) -> dict[str, Any]:
    """Fetch, parse and store one feed source; returns counts and the HTTP outcome."""
    with store.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise CollectionError(f"no source with id {source_id}", "`listening sources list`")
        url, state = source.url, dict(source.state or {})
    own_client = client is None
    http = client or make_client(settings)
    try:
        fetched = fetch_feed(http, url, state, settings.collection.feed_max_bytes)
    finally:
        if own_client:
            http.close()
    if fetched.not_modified:
        return {
            "new": 0,
            "updated": 0,
            "duplicate": 0,
            "failed": 0,
            "near_duplicates": 0,
            "errors": [],
            "http_status": 304,
        }
    parsed = parse_feed(fetched.data, url, fetched.headers)
    result: IngestResult = ingest(store, source_id, parsed.items, settings)
    counts = result.as_dict()
    if parsed.fault:
        counts["errors"] = [f"malformed feed (bozo): {parsed.fault}", *counts["errors"]]  # type: ignore[misc]
    counts["http_status"] = fetched.status
    counts["entries"] = len(parsed.items)
    with store.session() as session:  # validators saved only after the entries are stored
        source = session.get(Source, source_id)
        if source is not None:
            new_state = dict(source.state or {})
            new_state.pop("etag", None)
            new_state.pop("last_modified", None)
            if fetched.etag:
                new_state["etag"] = fetched.etag
            if fetched.last_modified:
                new_state["last_modified"] = fetched.last_modified
            source.state = new_state
    return counts


# ---------------------------------------------------------------- OPML


def parse_opml(data: bytes) -> list[tuple[str, str]]:
    """(title, feed URL) of every outline with an ``xmlUrl`` in an OPML file."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise CollectionError(
            f"not a valid OPML file: {exc}", "export the feed list as OPML 1.0/2.0"
        ) from None
    feeds: list[tuple[str, str]] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        title = (outline.get("title") or outline.get("text") or urlparse(url).netloc or url).strip()
        feeds.append((" ".join(title.split()), url))
    if not feeds:
        raise CollectionError(
            "the OPML file lists no feed (no outline with xmlUrl)", "check the file"
        )
    return feeds
