"""The run loop every channel source shares: queries, pages, cursors, ingestion, state.

For each :class:`~.base.Query` of the source, pages are fetched until the platform has
no next page, or a page reaches items already seen (the query's cursor: the newest date
and id of the previous run, plus platform cursors such as X's ``since_id``), or
``collection.channel_max_pages`` is reached (said in the run's errors). Queries a response
opens (a video's comments, a post's comments) are fetched in the same run with their own
cursor. Everything fetched is ingested (dedup, language, pseudonyms) before the cursors are
saved, so a run that fails half-way fetches the same items again next time instead of
losing them. A long rate limit stops the run; the source is skipped until it ends.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from listening.collection import SourceBlockedError
from listening.collection.channels import get_channel
from listening.collection.channels.base import Channel, Query
from listening.collection.channels.http import ChannelHTTP, RateLimited
from listening.collection.ingest import ingest
from listening.errors import CollectionError
from listening.netguard import httpx_event_hooks
from listening.settings import Settings
from listening.store import Source, Store
from listening.store.documents import DocumentIn
from listening.store.models import utcnow


def channel_token(channel: Channel, options: dict[str, Any], settings: Settings) -> str | None:
    """The source's own token or key, else the one of the settings for its kind."""
    for key in ("token", "api_key", "access_token"):
        if options.get(key):
            return str(options[key])
    return settings.collection.channel_tokens.get(channel.kind) or None


def resolve_token(
    http: ChannelHTTP, channel: Channel, options: dict[str, Any], settings: Settings
) -> str | None:
    """The token to use: given, or fetched from app credentials; blocked when one is needed."""
    token = channel_token(channel, options, settings) or channel.fetch_token(http, options)
    if channel.needs_token and not token:
        raise SourceBlockedError(
            f"a {channel.label} source needs credentials: {channel.token_help}",
            f"set 'token' in the source settings or LISTENING_COLLECTION__CHANNEL_TOKENS='{{\"{channel.kind}\": \"...\"}}'",
        )
    return token


def base_url_for(
    kind: str, source_url: str, options: dict[str, Any], settings: Settings
) -> str | None:
    """The API base: the source's ``base_url``, else the setting, else the platform's own.

    A Mastodon source's base is its instance (the origin of the source URL).
    """
    if options.get("base_url"):
        return str(options["base_url"])
    if settings.collection.channel_base_urls.get(kind):
        return settings.collection.channel_base_urls[kind]
    if kind == "mastodon" and source_url:
        parsed = httpx.URL(source_url)
        return f"{parsed.scheme}://{parsed.netloc.decode()}"
    return None


def make_http(
    client: httpx.Client,
    channel: Channel,
    token: str | None,
    settings: Settings,
    sleep: Callable[[float], None] = time.sleep,
) -> ChannelHTTP:
    return ChannelHTTP(
        client,
        kind=channel.kind,
        base_url=channel.base_url,
        auth=channel.auth,
        token=token,
        max_wait_s=settings.collection.channel_max_wait_s,
        sleep=sleep,
    )


def make_client(settings: Settings) -> httpx.Client:
    cfg = settings.collection
    return httpx.Client(
        timeout=httpx.Timeout(cfg.channel_timeout_s),
        follow_redirects=True,
        max_redirects=5,
        event_hooks=httpx_event_hooks(settings.security, "API URL"),  # redirects included
        headers={"User-Agent": cfg.feed_user_agent, "Accept": "application/json"},
    )


def _newer(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def fetch_query(
    http: ChannelHTTP,
    channel: Channel,
    query: Query,
    cursor: dict[str, Any],
    options: dict[str, Any],
    pages_left: int,
) -> tuple[list[DocumentIn], list[Query], dict[str, Any], int, str | None]:
    """(items, child queries, new cursor, pages used, note) of one query."""
    old = cursor.get("newest_at")
    old_at = datetime.fromisoformat(old) if old else None
    params = {**query.params, **(channel.since_params(query, cursor) if query.incremental else {})}
    url, items, children, extra = query.url, [], [], {}
    newest: datetime | None = None
    pages, note = 0, None
    while True:
        body, response = http.request("GET", url, params)
        pages += 1
        shown = query.link or str(response.request.url).split("?", 1)[0]
        page_items = channel.parse(body, shown)
        if pages == 1:
            extra = channel.cursor_from(body, cursor)
        items.extend(page_items)
        children.extend(channel.children(body, query, options))
        for item in page_items:
            newest = _newer(newest, item.published_at)
        reached = (
            query.incremental
            and old_at is not None
            and any(i.published_at is not None and i.published_at <= old_at for i in page_items)
        )
        nxt = channel.next_params(
            body, dict(response.headers), query, str(response.request.url), params
        )
        if reached or nxt is None:
            break
        if pages >= pages_left or http.exhausted:
            note = (
                f"{channel.kind} {query.key}: stopped after {pages} pages "
                f"({'quota exhausted' if http.exhausted else 'collection.channel_max_pages'}); "
                "older items were not fetched"
            )
            break
        url, params = (nxt, {}) if isinstance(nxt, str) else (url, nxt)
    new_cursor = dict(cursor)
    best = _newer(old_at, newest)
    if best is not None:
        new_cursor["newest_at"] = best.isoformat()
        latest = [i for i in items if i.published_at == newest]
        if latest and newest is not None and (old_at is None or newest > old_at):
            new_cursor["newest_id"] = latest[0].external_id
    new_cursor.update(extra)
    return items, children, new_cursor, pages, note


def collect_channel(
    store: Store,
    source_id: int,
    settings: Settings,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Fetch what is new on one channel source and store it; returns counts and errors."""
    with store.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise CollectionError(f"no source with id {source_id}", "`listening sources list`")
        kind, url = source.kind, source.url
        options, state = dict(source.settings or {}), dict(source.state or {})
    limited = state.get("rate_limited_until")
    if limited and datetime.fromisoformat(limited) > utcnow():
        return {
            "new": 0,
            "updated": 0,
            "duplicate": 0,
            "failed": 0,
            "errors": [f"{kind}: rate limited until {limited}; skipped"],
            "rate_limited": True,
        }
    channel = get_channel(kind, base_url_for(kind, url, options, settings))
    own = client is None
    http = make_http(client or make_client(settings), channel, None, settings, sleep)
    cursors: dict[str, Any] = dict(state.get("cursors") or {})
    pending: deque[Query] = deque()
    items: list[DocumentIn] = []
    errors: list[str] = []
    new_cursors: dict[str, Any] = {}
    pages_left = settings.collection.channel_max_pages
    seen_keys: set[str] = set()
    try:
        http.token = resolve_token(http, channel, options, settings)
        pending.extend(channel.queries(url, options))
        while pending and pages_left > 0:
            query = pending.popleft()
            if query.key in seen_keys:
                continue
            seen_keys.add(query.key)
            got, children, cursor, used, note = fetch_query(
                http, channel, query, dict(cursors.get(query.key) or {}), options, pages_left
            )
            pages_left -= used
            items.extend(got)
            pending.extend(children)
            new_cursors[query.key] = cursor
            if note:
                errors.append(note)
            if http.exhausted:
                break
        if pending:
            errors.append(
                f"{kind}: {len(pending)} queries left for the next run (page budget or quota spent)"
            )
        state.pop("rate_limited_until", None)
    except RateLimited as exc:
        errors.append(str(exc))
        state["rate_limited_until"] = exc.until.isoformat()
    finally:
        if own:
            http.client.close()
    from listening.collection.channels.replies import claim_own_replies

    result = ingest(store, source_id, items, settings)
    claim_own_replies(store, source_id, result.document_ids)
    counts: dict[str, Any] = result.as_dict()
    counts["errors"] = [*errors, *counts["errors"]]
    counts["requests"] = http.requests
    counts["rate_limited"] = bool(state.get("rate_limited_until"))
    with store.session() as session:  # cursors saved only once the items are stored
        stored = session.get(Source, source_id)
        if stored is not None:
            merged = dict(stored.state or {})
            merged.pop("rate_limited_until", None)
            if state.get("rate_limited_until"):
                merged["rate_limited_until"] = state["rate_limited_until"]
            merged["cursors"] = {**cursors, **new_cursors}
            stored.state = merged
    return counts
