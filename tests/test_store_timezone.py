"""Days are counted in the readers' time zone: rollups, date filters and the facts path agree."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from listening.cli import app
from listening.collection.normalize import parse_date
from listening.errors import ConfigError
from listening.queries import reads
from listening.queries.sql import Filters, day_expr
from listening.settings import get_settings
from listening.store import Store
from listening.store.documents import DocumentIn, upsert_documents
from listening.store.sources import SourceSpec, add_source
from listening.store.timezone import offsets

SALT = "test-salt"
LATE_EVENING_UTC = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)  # 00:30 on 4 Nov in Paris
MIDDAY_UTC = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def _add(store: Store, *items: tuple[str, datetime | None]) -> None:
    with store.session() as session:
        src, _ = add_source(
            session,
            SourceSpec(
                name="avis",
                kind="review_site",
                url="https://example.org/avis",
                brand="Maison Lumière",
            ),
            replace=True,
        )
        upsert_documents(
            session,
            src.id,
            src.brand_id,
            [
                DocumentIn(ext, f"Verbatim {ext} : livraison en retard.", published_at=at)
                for ext, at in items
            ],
            SALT,
        )


def _rollup_days(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT day, sum(n) FROM daily_documents GROUP BY day")).all()
    return {str(day)[:10]: int(n) for day, n in rows if n}


def test_offsets_follow_the_zone_rules() -> None:
    paris = dict(offsets("Europe/Paris"))
    assert paris[datetime(2026, 3, 29, 1, 0, tzinfo=UTC)] == 120  # summer time starts
    assert paris[datetime(2026, 10, 25, 1, 0, tzinfo=UTC)] == 60  # and ends
    assert offsets("UTC") == [(datetime(1970, 1, 1, tzinfo=UTC), 0)]
    assert dict(offsets("Asia/Kolkata"))[datetime(1970, 1, 1, tzinfo=UTC)] == 330


def test_unknown_zone_is_a_clear_error(store: Store) -> None:
    with pytest.raises(ConfigError, match="unknown time zone 'Europe/Pariss'.*IANA name"):
        store.set_time_zone("Europe/Pariss")
    assert store.time_zone() == "UTC"


def test_days_are_counted_in_the_store_zone(store: Store) -> None:
    _add(store, ("late", LATE_EVENING_UTC), ("noon", MIDDAY_UTC))
    assert store.time_zone() == "UTC"
    assert _rollup_days(store) == {"2026-11-03": 2}

    assert store.set_time_zone("Europe/Paris") is True
    assert store.set_time_zone("Europe/Paris") is False  # nothing to recount
    assert store.time_zone() == "Europe/Paris"
    assert _rollup_days(store) == {"2026-11-03": 1, "2026-11-04": 1}

    # new verbatims are counted on their local day by the triggers
    _add(store, ("later", datetime(2026, 11, 4, 23, 15, tzinfo=UTC)))  # 00:15 on 5 Nov
    assert _rollup_days(store) == {"2026-11-03": 1, "2026-11-04": 1, "2026-11-05": 1}

    store.set_time_zone("UTC")
    assert _rollup_days(store) == {"2026-11-03": 2, "2026-11-04": 1}


def test_date_filters_rollups_and_facts_agree_in_the_zone(store: Store) -> None:
    _add(store, ("late", LATE_EVENING_UTC), ("noon", MIDDAY_UTC), ("undated", None))
    store.set_time_zone("Europe/Paris")
    url = store.url
    nov4 = Filters(start=date(2026, 11, 4), end=date(2026, 11, 4))
    # from the rollup (no topic filter)
    counts = reads.document_counts(url, nov4)
    assert counts.groupby("day")["n"].sum().to_dict() == {"2026-11-04": 1}
    # timestamp ranges (coverage, verbatim lists) use local midnights
    assert reads.coverage(url, nov4)["shown"] == 1
    assert len(reads.latest_verbatims(url, nov4)) == 1
    cov = reads.coverage(url, Filters(start=date(2026, 11, 3), end=date(2026, 11, 4)))
    assert (cov["shown"], cov["undated"], date.fromordinal(cov["first_day"])) == (
        2,
        1,
        date(2026, 11, 3),
    )
    with store.engine.connect() as conn:  # the facts path's day expression matches the rollup
        day = day_expr(store.dialect, "f.published_at")
        days = sorted(
            str(r[0])[:10]
            for r in conn.execute(
                text(f"SELECT {day} FROM document_facts AS f WHERE f.published_at IS NOT NULL")
            )
        )
    assert days == ["2026-11-03", "2026-11-04"]


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Asia/Tokyo"])
def test_date_only_values_stay_on_their_day(store: Store, zone: str) -> None:
    """A survey answer dated 5 Nov is counted on 5 Nov wherever the readers are."""
    published = parse_date("2026-11-05", naive_timezone="Europe/Paris")
    assert published is not None
    _add(store, ("survey", published))
    store.set_time_zone(zone)
    assert _rollup_days(store) == {"2026-11-05": 1}


def test_init_applies_the_timezone_setting(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENING_DATABASE_URL", store_url)
    monkeypatch.setenv("LISTENING_TIMEZONE", "Europe/Paris")
    runner = CliRunner()
    first = runner.invoke(app, ["init", "--json"])
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert (out["time_zone"], out["days_recounted"]) == ("Europe/Paris", True)
    again = json.loads(runner.invoke(app, ["init", "--json"]).output)
    assert again["days_recounted"] is False
    monkeypatch.setenv("LISTENING_TIMEZONE", "Mars/Olympus")
    get_settings.cache_clear()
    bad = runner.invoke(app, ["init"])
    assert bad.exit_code != 0
    assert "unknown time zone 'Mars/Olympus'" in bad.output + str(bad.exception)
