"""Fixtures of the API tests: a seeded store (the dashboard tests' seed) and token makers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))

from dashboard_seed import seed  # noqa: E402

from listening.api.tokens import create_token  # noqa: E402
from listening.routing.models import Alert  # noqa: E402
from listening.store import Store  # noqa: E402


@pytest.fixture
def seeded(store: Store) -> dict[str, Any]:
    """The dashboard seed (80 verbatims, 4 tickets) plus two open alerts, on each backend."""
    ids = seed(store)
    now = datetime.now(UTC)
    with store.session() as s:
        s.add_all(
            [
                Alert(
                    brand_id=ids["own_brand"],
                    topic="delivery",
                    kind="volume",
                    status="open",
                    opened_at=now - timedelta(hours=3),
                    last_seen_at=now,
                    recent_count=12,
                    baseline=2.0,
                    score=5.5,
                    details={},
                ),
                Alert(
                    brand_id=ids["rival_brand"],
                    topic="price",
                    kind="negative_share",
                    status="resolved",
                    opened_at=now - timedelta(days=3),
                    last_seen_at=now,
                    recent_count=3,
                    baseline=1.0,
                    score=1.2,
                    details={},
                ),
            ]
        )
    return ids


@pytest.fixture
def make_token(store: Store) -> Callable[..., str]:
    def make(role: str, name: str | None = None, **kw: Any) -> str:
        with store.session() as s:
            _info, token = create_token(
                s, name or f"{role}-{datetime.now(UTC).timestamp()}", role, **kw
            )
        return token

    return make
