"""Channels: social networks, app stores and review platforms read through their official APIs.

One source kind per platform, one connector module each (:mod:`.reddit`, :mod:`.youtube`,
:mod:`.mastodon`, :mod:`.bluesky`, :mod:`.x`, :mod:`.meta` for Facebook and Instagram,
:mod:`.appstore`, :mod:`.googleplay`, :mod:`.trustpilot`), all implementing
:class:`~.base.Channel`. The shared HTTP layer is :mod:`.http`, the shared run loop
(cursors, pages, ingestion) :mod:`.collector`, public replies :mod:`.replies`.
See docs/CHANNELS.md.
"""

from __future__ import annotations

from typing import Any

from listening.collection.channels.appstore import AppStore
from listening.collection.channels.base import Channel
from listening.collection.channels.bluesky import Bluesky
from listening.collection.channels.googleplay import GooglePlay
from listening.collection.channels.mastodon import Mastodon
from listening.collection.channels.meta import Facebook, Instagram
from listening.collection.channels.reddit import Reddit
from listening.collection.channels.trustpilot import Trustpilot
from listening.collection.channels.x import X
from listening.collection.channels.youtube import YouTube
from listening.errors import CollectionError
from listening.store.documents import DocumentIn

CHANNELS: dict[str, type[Channel]] = {
    c.kind: c
    for c in (
        Reddit,
        YouTube,
        Mastodon,
        Bluesky,
        X,
        Facebook,
        Instagram,
        AppStore,
        GooglePlay,
        Trustpilot,
    )
}
CHANNEL_KINDS: tuple[str, ...] = tuple(CHANNELS)  # the same as listening.store.models.CHANNEL_KINDS
ICONS: dict[str, str] = {
    "reddit": "👽",
    "youtube": "▶️",
    "mastodon": "🐘",
    "bluesky": "🦋",
    "x": "𝕏",
    "facebook": "📘",
    "instagram": "📷",
    "appstore": "🍎",
    "googleplay": "🤖",
    "trustpilot": "⭐",
}


def get_channel(kind: str, base_url: str | None = None) -> Channel:
    try:
        return CHANNELS[kind](base_url)
    except KeyError:
        raise CollectionError(
            f"unknown channel {kind!r}", f"valid channels: {', '.join(CHANNEL_KINDS)}"
        ) from None


def parse_body(kind: str, data: bytes, url: str) -> list[DocumentIn]:
    """The verbatims of a saved API response body, parsed by the connector's own code."""
    import json

    channel = get_channel(kind)
    text = data.decode("utf-8-sig", errors="replace")
    body: Any
    if kind == "trustpilot" and text.lstrip().startswith("<"):
        body = text  # a saved business page
    else:
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise CollectionError(
                f"the file is not valid JSON ({exc})",
                f"save the body the {channel.label} API answered, unchanged (docs/CHANNELS.md)",
            ) from None
    return channel.parse(body, url)


__all__ = ["CHANNELS", "CHANNEL_KINDS", "ICONS", "Channel", "get_channel", "parse_body"]
