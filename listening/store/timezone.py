"""The store's time zone: which calendar day a timestamp belongs to.

Timestamps are stored in UTC. Charts, rollups and date filters count *days*, and a day
is a day where the people reading the store live: a comment posted at 00:30 in Paris
belongs to that day, not to the previous UTC day. The store keeps its zone as a table
of UTC offsets (``local_time_offsets``: from each UTC instant, the offset in minutes
until the next row), built from the IANA database by :func:`apply_time_zone`; the daily
rollup triggers and :func:`local_day_sql` read it, on SQLite and PostgreSQL alike. An
empty table is UTC.

``listening init`` applies the ``timezone`` setting (and rebuilds the rollups when the
zone changed). Date-only values (a survey answer dated "2026-11-05") are anchored at
local noon on ingestion, so they stay on their day in every zone within 12 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection

from listening.errors import ConfigError
from listening.store.models import LocalTimeOffset

FIRST_YEAR = 1970
LAST_YEAR = 2100

_OFFSET_SQL = (
    "coalesce((SELECT o_tz.offset_minutes FROM local_time_offsets AS o_tz "
    "WHERE o_tz.starts_at <= {col} ORDER BY o_tz.starts_at DESC LIMIT 1), 0)"
)


def local_day_sql(dialect: str, column: str) -> str:
    """SQL giving the store-local calendar day of the UTC timestamp ``column``."""
    offset = _OFFSET_SQL.format(col=column)
    if dialect == "postgresql":
        return f"((({column}) AT TIME ZONE 'UTC') + make_interval(mins => {offset}))::date"
    return f"date({column}, {offset} || ' minutes')"


def zone(name: str) -> tzinfo:
    """The zone called ``name``; a clear error naming valid examples otherwise."""
    try:
        return UTC if name.upper() == "UTC" else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        europe = sorted(z for z in available_timezones() if z.startswith("Europe/"))[:6]
        raise ConfigError(
            f"unknown time zone {name!r}",
            f"use an IANA name such as UTC, {', '.join(europe)} (setting LISTENING_TIMEZONE)",
        ) from None


def offsets(name: str) -> list[tuple[datetime, int]]:
    """(UTC start, offset in minutes) for every offset change of ``name``, 1970-2100."""
    tz = zone(name)

    def minutes(at: datetime) -> int:
        delta = at.astimezone(tz).utcoffset() or timedelta(0)
        return int(delta.total_seconds() // 60)

    start = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    rows = [(start, minutes(start))]
    step = timedelta(days=1)  # no zone changes its offset twice within a day
    at = start
    end = datetime(LAST_YEAR, 1, 1, tzinfo=UTC)
    while at < end:
        nxt = at + step
        if minutes(nxt) != rows[-1][1]:
            lo, hi = at, nxt  # the change lies in (lo, hi]: bisect to the minute
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= lo:
                    break
                if minutes(mid) == rows[-1][1]:
                    lo = mid
                else:
                    hi = mid
            rows.append((hi, minutes(hi)))
        at = nxt
    return rows


def store_time_zone(conn: Connection) -> str:
    """The zone the store's days are counted in (``UTC`` when none was applied)."""
    found = conn.execute(select(LocalTimeOffset.zone).limit(1)).scalar()
    return str(found) if found else "UTC"


def apply_time_zone(conn: Connection, name: str) -> bool:
    """Count the store's days in ``name`` from now on; True when it changed.

    In the caller's transaction: replace the offsets, then rebuild the daily rollups so
    past days are re-counted in the new zone (the triggers keep them from then on).
    """
    zone(name)  # an unknown zone is refused before anything is read or written
    tz_name = "UTC" if name.upper() == "UTC" else name
    if store_time_zone(conn) == tz_name:
        return False  # the usual `listening init`: nothing to compute
    conn.execute(delete(LocalTimeOffset))
    if tz_name != "UTC":
        conn.execute(
            insert(LocalTimeOffset),
            [{"starts_at": at, "offset_minutes": m, "zone": tz_name} for at, m in offsets(tz_name)],
        )
    rebuild_rollups(conn)
    return True


def rebuild_rollups(conn: Connection) -> None:
    """Re-count ``daily_documents`` and ``daily_topics`` from their source tables."""
    dialect = conn.dialect.name
    facts_day = local_day_sql(dialect, "published_at")
    conn.execute(text("DELETE FROM daily_documents"))
    conn.execute(text("DELETE FROM daily_topics"))
    conn.execute(
        text(
            "INSERT INTO daily_documents (day, source_id, brand_id, language, sentiment, n) "
            f"SELECT {facts_day}, source_id, coalesce(brand_id, 0), coalesce(language, ''), "
            "coalesce(sentiment, ''), count(*) FROM document_facts "
            "WHERE published_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
        )
    )
    conn.execute(
        text(
            "INSERT INTO daily_topics (day, brand_id, topic, sentiment, n) "
            f"SELECT {facts_day}, coalesce(brand_id, 0), topic, coalesce(sentiment, ''), "
            "count(*) FROM analysis_topics WHERE published_at IS NOT NULL GROUP BY 1, 2, 3, 4"
        )
    )


def local_date(value: datetime, name: str) -> date:
    """The calendar day of the aware ``value`` in zone ``name``."""
    return value.astimezone(zone(name)).date()


def day_start_utc(day: date, name: str) -> datetime:
    """The UTC instant local midnight of ``day`` in zone ``name`` falls on."""
    return datetime.combine(day, time(), zone(name)).astimezone(UTC)
