"""Query parameters of the API checked and turned into :class:`Filters` and cursors.

Every refusal is an :class:`ApiError` saying which parameter was wrong and what is
accepted (names of the brands and sources, the taxonomy's topics...).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, date, datetime

import pandas as pd

from listening.errors import ApiError
from listening.queries import pages, reads
from listening.queries.sql import SENTIMENTS, Filters
from listening.store.models import SOURCE_KINDS
from listening.store.timezone import local_date
from listening.taxonomy import TopicSet

EARLIEST = date(1970, 1, 1)
LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _listed(values: list[str], limit: int = 20) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _split(values: list[str] | None) -> list[str]:
    """Repeated parameters and comma-separated lists alike: ``?brand=a&brand=b`` = ``?brand=a,b``."""
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _names_to_ids(kind: str, asked: list[str], known: dict[str, int]) -> tuple[int, ...]:
    by_lower = {name.lower(): i for name, i in known.items()}
    unknown = [a for a in asked if a.lower() not in by_lower]
    if unknown:
        raise ApiError(
            f"unknown {kind} {', '.join(map(repr, unknown))}",
            f"known {kind}s: {_listed(sorted(known)) or 'none yet'}",
            status=422,
        )
    return tuple(sorted({by_lower[a.lower()] for a in asked}))


def _check(kind: str, asked: list[str], valid: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    bad = [a for a in asked if a not in valid]
    if bad:
        raise ApiError(
            f"unknown {kind} {', '.join(map(repr, bad))}",
            f"valid {kind}s: {_listed(list(valid))}",
            status=422,
        )
    return tuple(dict.fromkeys(asked))


def period(url: str, since: date | None, until: date | None) -> tuple[date, date]:
    """The asked period; a period given explicitly must overlap the store's dated verbatims."""
    today = local_date(datetime.now(UTC), reads.time_zone(url))
    start, end = since or EARLIEST, until or today
    if start > end:
        raise ApiError(
            f"since ({start}) is after until ({end})",
            "give since <= until (dates as YYYY-MM-DD, both inclusive)",
            status=422,
        )
    if since is not None or until is not None:
        span = pages.date_range(url)
        if span is None:
            raise ApiError(
                "the store holds no dated verbatim",
                "collect sources first (`listening collect`), or leave since/until out",
                status=404,
            )
        if start > span[1] or end < span[0]:
            raise ApiError(
                f"no verbatim between {start} and {end}",
                f"the store holds verbatims from {span[0]} to {span[1]}",
                status=404,
            )
    return start, end


def filters(
    url: str,
    topics: TopicSet,
    *,
    brand: list[str] | None = None,
    source: list[str] | None = None,
    kind: list[str] | None = None,
    topic: list[str] | None = None,
    sentiment: list[str] | None = None,
    language: list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Filters:
    """The filters of a request, every value checked against the store and the taxonomy."""
    start, end = period(url, since, until)
    brand_ids = _names_to_ids(
        "brand", _split(brand), {str(r.name): int(r.id) for r in reads.brands(url).itertuples()}
    )
    source_ids = _names_to_ids(
        "source", _split(source), {str(r.name): int(r.id) for r in reads.sources(url).itertuples()}
    )
    languages = tuple(dict.fromkeys(v.lower() for v in _split(language)))
    bad = [v for v in languages if not LANGUAGE.match(v)]
    if bad:
        raise ApiError(
            f"invalid language {', '.join(map(repr, bad))}",
            "use ISO 639-1 codes such as fr, en, de",
            status=422,
        )
    return Filters(
        start=start,
        end=end,
        brand_ids=brand_ids,
        source_ids=source_ids,
        kinds=_check("source kind", _split(kind), SOURCE_KINDS),
        topics=_check("topic", _split(topic), topics.ids),
        sentiments=_check("sentiment", _split(sentiment), SENTIMENTS),
        languages=languages,
    )


def encode_cursor(published_at: object, doc_id: int) -> str:
    """An opaque cursor for the position after the verbatim (published_at, id)."""
    at = pd.Timestamp(published_at)  # type: ignore[arg-type]
    at = at.tz_localize(UTC) if at.tzinfo is None else at.tz_convert(UTC)
    raw = json.dumps({"t": at.isoformat(), "i": int(doc_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        at = datetime.fromisoformat(data["t"])
        doc_id = int(data["i"])
        if at.tzinfo is None or doc_id < 0:
            raise ValueError("incomplete cursor")
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ApiError(
            "invalid cursor",
            "pass the `next_cursor` of the previous page unchanged, "
            "or leave cursor out for the first page",
            status=400,
        ) from None
    return at.astimezone(UTC), doc_id
