"""Report periods: the last complete week or month, or custom dates, and the period before.

A period is whole calendar days ``start`` .. ``end`` (inclusive), in UTC like the store's
daily rollups. ``week`` is the last complete Monday–Sunday week before ``today``, ``month``
the last complete calendar month: both stay the same all week (month) long, which is what
makes the digests idempotent per period. ``custom`` is ``--since`` .. ``--until``
(``--until`` defaults to yesterday). The previous period has the same length and ends
the day before ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from listening.errors import ReportError

PERIODS: tuple[str, ...] = ("week", "month", "custom")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        if self.kind == "month":
            end = self.start - timedelta(days=1)
            return Period("month", end.replace(day=1), end)
        return Period(
            self.kind, self.start - timedelta(days=self.days), self.start - timedelta(days=1)
        )


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReportError(
            f"{option} {value!r} is not a date", "write it as YYYY-MM-DD, e.g. 2026-03-01"
        ) from None


def resolve_period(
    kind: str, today: date, since: str | date | None = None, until: str | date | None = None
) -> Period:
    """The period named by ``kind`` (or by ``since``/``until``, which imply ``custom``)."""
    if since is not None or until is not None:
        kind = "custom"
    if kind not in PERIODS:
        raise ReportError(
            f"unknown period {kind!r}",
            f"valid periods: {', '.join(PERIODS)} (custom needs --since)",
        )
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return Period("week", monday - timedelta(days=7), monday - timedelta(days=1))
    if kind == "month":
        end = today.replace(day=1) - timedelta(days=1)
        return Period("month", end.replace(day=1), end)
    if since is None:
        raise ReportError(
            "a custom period needs --since", "e.g. --since 2026-03-01 --until 2026-03-31"
        )
    start = since if isinstance(since, date) else parse_day(since, "--since")
    end = (
        today - timedelta(days=1)
        if until is None
        else until
        if isinstance(until, date)
        else parse_day(until, "--until")
    )
    if end < start:
        raise ReportError(
            f"--until {end.isoformat()} is before --since {start.isoformat()}",
            "give the first day with --since and the last day with --until",
        )
    return Period("custom", start, end)
