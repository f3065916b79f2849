"""Emerging themes on a schedule: ``listening serve`` runs the discovery when it is due.

Due ``insights.themes_interval_hours`` after the latest stored run (``themes.created_at``),
or after this process's latest attempt when that one found nothing to cluster (too few
verbatims outside the taxonomy), so a quiet store is not re-clustered on every pass. A
growing theme then raises its alert by itself, as volume spikes do.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from listening.errors import ListeningError
from listening.insights.models import Theme
from listening.settings import Settings
from listening.store import Store
from listening.store.models import utcnow

log = logging.getLogger(__name__)

_ATTEMPTS: dict[str, datetime] = {}  # store URL -> latest attempt of this process


def themes_due(store: Store, settings: Settings, now: datetime) -> bool:
    """Whether the scheduled discovery should run now."""
    hours = settings.insights.themes_interval_hours
    if hours <= 0:
        return False
    with store.session() as session:
        last_run = session.scalar(select(func.max(Theme.created_at)))
    marks = [m for m in (last_run, _ATTEMPTS.get(store.url)) if m is not None]
    return not marks or now - max(marks) >= timedelta(hours=hours)


def run_themes_if_due(
    store: Store, settings: Settings, now: datetime | None = None, encoder: Any | None = None
) -> dict[str, Any] | None:
    """Discover, store and alert when due; None when not due. A store with too little to
    cluster gives ``{"skipped": reason}``, never an exception (serve keeps serving)."""
    from listening.insights.themes import discover_themes

    now = now or utcnow()
    if not themes_due(store, settings, now):
        return None
    _ATTEMPTS[store.url] = now
    try:
        result = discover_themes(store, settings, now=now, encoder=encoder)
    except ListeningError as exc:
        log.info("emerging themes skipped: %s", exc)
        return {"skipped": str(exc)}
    return {
        "run_id": result["run_id"],
        "themes": len(result["themes"]),
        "outside_taxonomy": result["outside_taxonomy"],
        "alerts": result["alerts"],
    }
