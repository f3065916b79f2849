"""Channel bits of the dashboard: platform icons and the public-reply state of a ticket."""

from __future__ import annotations

from typing import Any

from listening.collection.channels import CHANNEL_KINDS, ICONS

REPLY_ACTIONS = {
    "reply_queued": "queued",
    "reply_posted": "posted",
    "reply_link": "link",
    "reply_collected": "posted",
}


def is_channel(kind: Any) -> bool:
    return str(kind) in CHANNEL_KINDS


def icon(kind: Any) -> str:
    """The platform's icon for a channel kind, '' for other sources."""
    return ICONS.get(str(kind), "")


def with_icon(kind: Any) -> str:
    mark = icon(kind)
    return f"{mark} {kind}" if mark else str(kind)


def reply_state(actions: list[str]) -> str | None:
    """posted / queued / link (answer on the platform) / None, from a ticket's event actions."""
    states = [REPLY_ACTIONS[a] for a in actions if a in REPLY_ACTIONS]
    if "posted" in states:
        return "posted"
    return states[-1] if states else None
