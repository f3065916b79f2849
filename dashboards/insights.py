"""Emerging themes for the dashboard: the latest run's themes (cached read) and the
admin's promotion of a theme into a taxonomy topic (listening.insights)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards import queries
from dashboards.queries import MAX_ENTRIES, TTL


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def latest_themes(url: str, brand: str | None = None) -> list[dict[str, Any]]:
    """Themes of the latest `listening themes` run of the scope (all brands, or ``brand``)."""
    from listening.insights.themes import latest_themes as latest

    with queries.read_store(url).session() as session:
        return latest(session, brand=brand)


def promote(url: str, theme_id: int, topic: str, label: str, actor: str) -> dict[str, Any]:
    """Add ``topic`` to the taxonomy, seeded with the theme's verbatims.

    Only for a user whose role may change the taxonomy (admin), checked again in the store
    (:class:`~listening.errors.AccountError` otherwise, nothing written)."""
    from listening import accounts
    from listening.insights.promote import promote_theme
    from listening.settings import get_settings

    store = queries.write_store(url)
    with store.session() as session:
        accounts.authorize(session, actor, "taxonomy")
    result = promote_theme(store, get_settings(), theme_id, topic, label)
    queries.clear_caches()
    return result
