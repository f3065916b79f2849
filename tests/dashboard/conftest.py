"""Fixtures of the dashboard tests: seeded stores and an AppTest on the router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from dashboard_seed import seed

from listening.store import Store


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def seeded(sqlite_store: Store) -> dict[str, Any]:
    return seed(sqlite_store)


