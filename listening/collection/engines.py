"""Names of the forum engines the extractor knows (a light module: no lxml import).

``FORUM_PROFILES`` are the engines with a selector profile in
:mod:`listening.collection.extract.posts`, tried in this order when guessing;
``FORUM_ENGINES`` are the values a source's ``forum_engine`` setting may take.
"""

from __future__ import annotations

FORUM_PROFILES: tuple[str, ...] = (
    "phpbb",
    "xenforo",
    "xenforo1",
    "vbulletin",
    "vbulletin3",
    "forumotion",
    "comment-ids",
)
FORUM_ENGINES: tuple[str, ...] = (
    "auto",
    "discourse",
    *(name for name in FORUM_PROFILES if name != "comment-ids"),
)
