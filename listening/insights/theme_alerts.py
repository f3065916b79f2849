"""Alerts on fast-growing emerging themes, through the spike alerts' table and outbox.

A theme of the latest run fires when it holds at least ``insights.themes_alert_min_count``
verbatims and ``size >= insights.themes_alert_growth × max(previous_count, 1)``. One alert per
incident: the ``alerts`` row (kind ``emerging_theme``, topic ``theme:<key>``) opened by the
first firing run is updated while the theme (same key) keeps firing, and resolved by the
first run of the same scope where it no longer does. Only a new incident is notified
(``routing.alert_targets``, event ``alert.opened``, idempotency key ``alert:<id>``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from listening.insights.models import Theme
from listening.routing.locking import lock_keys, take_write_lock
from listening.routing.models import Alert
from listening.routing.notifiers import parse_targets
from listening.routing.outbox import enqueue
from listening.settings import Settings
from listening.store import Store
from listening.store.models import Brand

ALERT_KIND = "emerging_theme"
ALERT_PREFIX = "theme:"


def check_theme_alerts(
    store: Store, settings: Settings, run_id: str, brand_id: int | None, now: datetime
) -> dict[str, Any]:
    cfg = settings.insights
    targets = settings.routing.alert_targets
    parse_targets(settings.routing)
    opened: list[dict[str, Any]] = []
    ongoing = resolved = 0
    with store.session() as session:
        take_write_lock(session, "alerts")
        lock_keys(session, ["alerts:themes"])
        brand = session.scalar(select(Brand.name).where(Brand.id == brand_id)) if brand_id else None
        scope = Alert.brand_id.is_(None) if brand_id is None else Alert.brand_id == brand_id
        open_alerts = {
            a.topic: a
            for a in session.scalars(
                select(Alert).where(Alert.kind == ALERT_KIND, Alert.status == "open", scope)
            )
        }
        firing: set[str] = set()
        for theme in session.scalars(select(Theme).where(Theme.run_id == run_id)):
            if (
                theme.size < cfg.themes_alert_min_count
                or theme.size < cfg.themes_alert_growth * max(theme.previous_count, 1)
            ):
                continue
            topic = f"{ALERT_PREFIX}{theme.key}"
            firing.add(topic)
            details = {
                "theme_id": theme.id,
                "label": theme.label,
                "terms": [t for t, _ in theme.terms],
                "previous_count": theme.previous_count,
                "growth": theme.growth,
                "net_sentiment": theme.net_sentiment,
                "representatives": theme.representatives,
            }
            alert = open_alerts.get(topic)
            if alert is not None:
                alert.last_seen_at = now
                alert.recent_count = theme.size
                alert.score = max(alert.score, theme.growth)
                alert.details = details
                theme.alert_id = alert.id
                ongoing += 1
                continue
            alert = Alert(
                brand_id=brand_id,
                topic=topic,
                kind=ALERT_KIND,
                status="open",
                opened_at=now,
                last_seen_at=now,
                recent_count=theme.size,
                baseline=float(theme.previous_count),
                score=float(theme.growth),
                details=details,
            )
            session.add(alert)
            session.flush()
            theme.alert_id = alert.id
            summary = (
                f"Emerging theme: {theme.label} ({theme.size} verbatims, "
                f"{theme.previous_count} the period before) for {brand or 'all brands'}"
            )
            enqueue(
                session,
                event="alert.opened",
                key_base=f"alert:{alert.id}",
                targets=targets,
                payload={
                    "event": "alert.opened",
                    "occurred_at": now.isoformat(),
                    "summary": summary,
                    "alert": {
                        "id": alert.id,
                        "kind": ALERT_KIND,
                        "topic": topic,
                        "brand": brand,
                        "recent_count": theme.size,
                        "baseline": theme.previous_count,
                        "score": theme.growth,
                        **details,
                    },
                },
                alert_id=alert.id,
            )
            opened.append(
                {
                    "id": alert.id,
                    "theme_id": theme.id,
                    "label": theme.label,
                    "size": theme.size,
                    "previous_count": theme.previous_count,
                }
            )
        for topic, alert in open_alerts.items():
            if topic not in firing:
                alert.status = "resolved"
                alert.resolved_at = now
                resolved += 1
    return {"opened": opened, "ongoing": ongoing, "resolved": resolved}
