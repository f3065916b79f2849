"""Sources page: work queues and dead-lettered tasks of the distributed workers."""

from __future__ import annotations

from typing import Any

import streamlit as st
from dashboard_helpers import make_app, no_exception

from listening.store import Store
from listening.store.work import record_failure


def test_dashboard_sources_shows_work_queues_and_dead_letters(
    sqlite_store: Store, seeded: dict[str, Any]
) -> None:
    at = make_app("sources")
    no_exception(at)
    assert not any("échoué" in e.value for e in at.error)
    queues = at.dataframe[1].value
    assert list(queues["File"]) == ["collect", "analyze", "route", "notify"]
    assert list(queues["Tâches en échec définitif"]) == [0, 0, 0, 0]

    with sqlite_store.session() as s:
        record_failure(
            s,
            task="listening.route",
            queue="route",
            args=[],
            attempts=6,
            error="RoutingError: unknown target 'ops'",
            task_id="t-1",
        )
        record_failure(
            s,
            task="listening.route",
            queue="route",
            args=[],
            attempts=6,
            error="RoutingError: unknown target 'ops'",
            task_id="t-1",
        )  # once per task
    st.cache_data.clear()  # the page caches its queries for dashboard.cache_ttl_seconds
    at = make_app("sources")
    no_exception(at)
    assert any("1 tâche(s) ont échoué" in e.value for e in at.error)
    queues = at.dataframe[1].value
    assert list(queues["Tâches en échec définitif"]) == [0, 0, 1, 0]
    dead = at.dataframe[2].value
    assert list(dead["task"]) == ["listening.route"] and "unknown target" in dead["error"][0]
