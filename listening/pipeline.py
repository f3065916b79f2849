"""The stages after collection, run in order: analyse → route → spike alerts → notify
(→ the weekly digests when they are due and recipients are configured) → retention
(when due).

Used by ``listening demo`` and by ``listening serve`` after each collection pass.
Each stage is idempotent and talks to the others only through the store.
"""

from __future__ import annotations

from typing import Any

from listening.errors import ListeningError
from listening.settings import Settings
from listening.store import Store


def run_downstream(store: Store, settings: Settings) -> dict[str, Any]:
    """Analyse what is new or outdated, route it, check spikes, deliver pending notifications,
    then apply retention when it is due (listening.gdpr.retention)."""
    from listening.gdpr.retention import run_retention_if_due
    from listening.routing.alerts import check_alerts
    from listening.routing.outbox import deliver_pending
    from listening.routing.service import route_pending
    from nlp.service import analyze_pending

    summary: dict[str, Any] = {
        "analysis": analyze_pending(store, settings),
        "routing": route_pending(store, settings),
        "alerts": check_alerts(store, settings),
        "notifications": deliver_pending(store, settings),
    }
    if settings.insights.digest_recipients:  # weekly digests, once each (docs/INSIGHTS.md)
        from listening.reports.digest import send_due_digests

        summary["digests"] = send_due_digests(store, settings)
    try:
        summary["retention"] = run_retention_if_due(store, settings)
    except ListeningError as exc:  # a bad source setting: say so, keep serving
        summary["retention"] = {"error": str(exc)}
    return summary
