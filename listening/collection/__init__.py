"""Collection: feeds, survey and email imports, normalisation, ingestion, scheduling.

Every collector hands its verbatims to :func:`listening.collection.ingest.ingest`;
:func:`listening.collection.runner.collect` runs sources and records their runs.
"""

from __future__ import annotations

from listening.errors import CollectionError


class SourceBlockedError(CollectionError):
    """The site refused automated access (HTTP 403/429, captcha): the source is blocked."""


__all__ = ["SourceBlockedError"]
