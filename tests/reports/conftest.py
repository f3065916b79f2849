"""Fixtures of the report tests: stores seeded like the dashboard's, a known clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from report_seed import seed_report

from listening.store import Store


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def seeded(store: Store, now: datetime) -> tuple[Store, dict[str, Any]]:
    """On SQLite and PostgreSQL."""
    return store, seed_report(store, now)


@pytest.fixture
def seeded_sqlite(sqlite_store: Store, now: datetime) -> tuple[Store, dict[str, Any]]:
    return sqlite_store, seed_report(sqlite_store, now)
