"""Spike alerts per brand × topic: volume and negative share against a robust baseline.

The recent window (``alert_recent_hours``) is compared with the trailing
``alert_baseline_days`` cut into buckets of the same length:

- **volume**: robust z-score ``(recent - median) / scale`` with
  ``scale = max(1.4826 × MAD, sqrt(max(median, 1)))`` (MAD of the baseline buckets,
  floored by a Poisson standard deviation so a flat, quiet baseline does not make every
  small bump a spike); fires when ``z >= alert_volume_z``, ``recent >= alert_min_count``
  and ``recent >= alert_volume_ratio × max(median, 1)``;
- **negative_share**: share of verbatims whose sentiment on that topic is negative;
  fires when ``recent >= alert_min_count``, the baseline holds at least
  ``alert_min_count`` verbatims, and the share rose by ``alert_negative_share_delta``.

One alert per incident: while a (brand, topic, kind) keeps firing, its open alert is
updated (no new notification); the first check where it no longer fires resolves it.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from listening.routing.locking import lock_keys, take_write_lock
from listening.routing.models import Alert
from listening.routing.notifiers import parse_targets
from listening.routing.outbox import enqueue
from listening.settings import Settings
from listening.store import Store
from listening.store.models import Analysis, Brand, Document, utcnow

SPIKE_KINDS = ("volume", "negative_share")  # theme alerts: listening.insights.theme_alerts


def _rows(session: Session, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    latest = (
        select(func.max(Analysis.id).label("aid"))
        .where(Analysis.error.is_(None))
        .group_by(Analysis.document_id)
        .subquery()
    )
    query = (
        select(
            Document.id, Document.brand_id, Document.published_at, Document.collected_at,
            Document.text, Document.url, Analysis.topics, Analysis.sentiment_score,
        )
        .join(Analysis, Analysis.document_id == Document.id)
        .join(latest, latest.c.aid == Analysis.id)
        .where(
            Document.near_duplicate_of.is_(None),
            or_(
                and_(Document.published_at >= start, Document.published_at <= end),
                and_(
                    Document.published_at.is_(None),
                    Document.collected_at >= start,
                    Document.collected_at <= end,
                ),
            ),
        )
    )
    return [tuple(r) for r in session.execute(query)]


def robust_z(recent: float, baseline: list[float]) -> tuple[float, float, float]:
    """``(z, median, scale)`` of ``recent`` against ``baseline`` buckets (median / MAD)."""
    med = statistics.median(baseline) if baseline else 0.0
    mad = statistics.median([abs(x - med) for x in baseline]) if baseline else 0.0
    scale = max(1.4826 * mad, math.sqrt(max(med, 1.0)))
    return (recent - med) / scale, med, scale


def compute_signals(
    rows: list[tuple[Any, ...]], settings: Settings, now: datetime
) -> list[dict[str, Any]]:
    """The firing signals (brand, topic, kind, figures, top verbatims) in ``rows``."""
    r = settings.routing
    window = timedelta(hours=r.alert_recent_hours)
    n_buckets = max(1, int(r.alert_baseline_days * 24 // r.alert_recent_hours))
    counts: dict[tuple[Any, str], list[int]] = defaultdict(lambda: [0] * (n_buckets + 1))
    negatives: dict[tuple[Any, str], list[int]] = defaultdict(lambda: [0] * (n_buckets + 1))
    recent_docs: dict[tuple[Any, str], list[tuple[int, float, str, Any, Any]]] = defaultdict(list)
    for doc_id, brand_id, published, collected, text, url, topics, score in rows:
        ts = published or collected
        bucket = int((now - ts) / window)
        if bucket < 0 or bucket > n_buckets:
            continue
        for entry in topics or []:
            key = (brand_id, str(entry.get("topic")))
            negative = entry.get("sentiment") == "negative"
            counts[key][bucket] += 1
            negatives[key][bucket] += negative
            if bucket == 0:
                recent_docs[key].append((doc_id, 0 if negative else 1, text, url, score))
    signals: list[dict[str, Any]] = []
    for key, series in counts.items():
        recent, baseline = series[0], [float(x) for x in series[1:]]
        if recent < r.alert_min_count:
            continue
        z, med, _scale = robust_z(recent, baseline)
        docs = sorted(recent_docs[key], key=lambda d: (d[1], d[4] if d[4] is not None else 0.0))
        top = [
            {"document_id": d[0], "excerpt": " ".join(str(d[2]).split())[:200], "url": d[3]}
            for d in docs[: r.alert_top_verbatims]
        ]
        base_total = sum(series[1:])
        recent_share = negatives[key][0] / recent
        base_share = sum(negatives[key][1:]) / base_total if base_total else 0.0
        common = {
            "brand_id": key[0], "topic": key[1], "recent_count": recent, "top_verbatims": top,
            "negative_share": round(recent_share, 3), "baseline_negative_share": round(base_share, 3),
            "baseline_median": med, "window_hours": r.alert_recent_hours,
        }
        if z >= r.alert_volume_z and recent >= r.alert_volume_ratio * max(med, 1.0):
            signals.append({**common, "kind": "volume", "baseline": med, "score": round(z, 2)})
        if base_total >= r.alert_min_count and recent_share - base_share >= r.alert_negative_share_delta:
            signals.append(
                {**common, "kind": "negative_share", "baseline": base_share,
                 "score": round(recent_share - base_share, 3)}
            )
    return signals


def _alert_dict(alert: Alert, brand: str | None) -> dict[str, Any]:
    return {
        "id": alert.id, "brand": brand, "topic": alert.topic, "kind": alert.kind,
        "status": alert.status, "opened_at": alert.opened_at, "last_seen_at": alert.last_seen_at,
        "resolved_at": alert.resolved_at, "recent_count": alert.recent_count,
        "baseline": alert.baseline, "score": alert.score,
        "top_verbatims": alert.details.get("top_verbatims", []),
        "negative_share": alert.details.get("negative_share"),
        "baseline_negative_share": alert.details.get("baseline_negative_share"),
    }


def check_alerts(store: Store, settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Open, update or resolve spike alerts; notify ``alert_targets`` once per new incident."""
    now = now or utcnow()
    r = settings.routing
    parse_targets(r)
    start = now - timedelta(hours=r.alert_recent_hours) * (1 + int(r.alert_baseline_days * 24 // r.alert_recent_hours))
    opened: list[dict[str, Any]] = []
    ongoing = resolved = 0
    with store.session() as session:
        take_write_lock(session, "alerts")
        lock_keys(session, ["alerts:check"])
        brands: dict[int | None, str] = {b.id: b.name for b in session.scalars(select(Brand))}
        signals = compute_signals(_rows(session, start, now), settings, now)
        open_alerts = {
            (a.brand_id, a.topic, a.kind): a
            for a in session.scalars(
                select(Alert).where(Alert.status == "open", Alert.kind.in_(SPIKE_KINDS))
            )
        }
        firing = set()
        for sig in signals:
            key = (sig["brand_id"], sig["topic"], sig["kind"])
            firing.add(key)
            details = {k: sig[k] for k in ("top_verbatims", "negative_share", "baseline_negative_share",
                                            "baseline_median", "window_hours")}
            alert = open_alerts.get(key)
            if alert is not None:
                alert.last_seen_at = now
                alert.recent_count = sig["recent_count"]
                alert.score = max(alert.score, sig["score"])
                alert.details = details
                ongoing += 1
                continue
            alert = Alert(
                brand_id=sig["brand_id"], topic=sig["topic"], kind=sig["kind"], status="open",
                opened_at=now, last_seen_at=now, recent_count=sig["recent_count"],
                baseline=float(sig["baseline"]), score=float(sig["score"]), details=details,
            )
            session.add(alert)
            session.flush()
            data = _alert_dict(alert, brands.get(alert.brand_id))
            brand = data["brand"] or "no brand"
            enqueue(
                session, event="alert.opened", key_base=f"alert:{alert.id}", targets=r.alert_targets,
                payload={
                    "event": "alert.opened", "occurred_at": now.isoformat(),
                    "summary": f"Spike: {alert.kind} on {alert.topic} for {brand} "
                               f"({alert.recent_count} in {r.alert_recent_hours:g} h)",
                    "alert": {k: v for k, v in data.items() if k not in ("opened_at", "last_seen_at", "resolved_at")},
                },
                alert_id=alert.id,
            )
            opened.append(data)
        for key, alert in open_alerts.items():
            if key not in firing:
                alert.status = "resolved"
                alert.resolved_at = now
                resolved += 1
    return {"opened": opened, "ongoing": ongoing, "resolved": resolved, "checked_at": now}


def list_alerts(session: Session, status: str | None = "open", limit: int = 100) -> list[dict[str, Any]]:
    brands: dict[int | None, str] = {b.id: b.name for b in session.scalars(select(Brand))}
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if status:
        query = query.where(Alert.status == status)
    return [_alert_dict(a, brands.get(a.brand_id)) for a in session.scalars(query)]
