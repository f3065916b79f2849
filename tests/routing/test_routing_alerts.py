from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from listening.routing.alerts import check_alerts, robust_z
from listening.routing.outbox import deliver_pending
from listening.settings import load_settings
from listening.store import Store
from listening.store.models import utcnow

MakeDoc = Callable[..., int]


def _baseline(store: Store, make_doc: MakeDoc, now: Any, per_bucket: tuple[int, int], neg_every: int = 3) -> None:
    rng = random.Random(7)
    n = 0
    for bucket in range(1, 56):  # 14 days of 6-hour buckets before the recent window
        for _ in range(rng.randint(*per_bucket)):
            n += 1
            sentiment = "negative" if n % neg_every == 0 else "positive"
            make_doc(store, f"Livraison {n}", author=f"a_{n}", sentiment=sentiment,
                     topics={"delivery": sentiment},
                     published_at=now - timedelta(hours=6 * bucket + rng.uniform(0.1, 5.9)))


def _recent(store: Store, make_doc: MakeDoc, now: Any, count: int, negative: int, topic: str = "delivery") -> None:
    for i in range(count):
        sentiment = "negative" if i < negative else "positive"
        make_doc(store, f"Recent {topic} {i}", author=f"r_{topic}_{i}", sentiment=sentiment,
                 topics={topic: sentiment}, published_at=now - timedelta(hours=0.1 + i * 0.3))


def test_alerts_robust_z_is_floored() -> None:
    z, med, scale = robust_z(3, [0.0] * 50)
    assert med == 0 and scale == 1.0 and z == 3.0
    z, med, _ = robust_z(30, [10, 11, 9, 10, 12, 8, 10])
    assert med == 10 and z > 6


def test_alerts_spike_opens_one_incident_with_top_verbatims(
    store: Store, make_doc: MakeDoc, receiver: Any
) -> None:
    now = utcnow()
    _baseline(store, make_doc, now, per_bucket=(0, 3))
    _recent(store, make_doc, now, count=14, negative=12)
    _recent(store, make_doc, now, count=2, negative=2, topic="price")  # too few to alert
    settings = load_settings(
        routing={"targets": {"ops": {"kind": "webhook", "url": receiver.url + "/alerts"}},
                 "alert_targets": ["ops"]}
    )
    first = check_alerts(store, settings, now=now)
    kinds = sorted(a["kind"] for a in first["opened"])
    assert kinds == ["negative_share", "volume"]
    volume = next(a for a in first["opened"] if a["kind"] == "volume")
    assert volume["brand"] == "Maison Lumière" and volume["topic"] == "delivery"
    assert volume["recent_count"] == 14 and volume["score"] >= 3.5
    top = volume["top_verbatims"]
    assert len(top) == 5 and all(v["excerpt"].startswith("Recent delivery") for v in top)
    again = check_alerts(store, settings, now=now + timedelta(minutes=30))
    assert again["opened"] == [] and again["ongoing"] == 2
    assert deliver_pending(store, settings)["sent"] == 2
    bodies = [json.loads(r["body"]) for r in receiver.received("/alerts")]
    assert {b["alert"]["kind"] for b in bodies} == {"volume", "negative_share"}
    assert all(b["event"] == "alert.opened" for b in bodies)
    quiet = check_alerts(store, settings, now=now + timedelta(hours=7))
    assert quiet["resolved"] == 2 and quiet["opened"] == []


def test_alerts_no_alert_on_normal_activity(sqlite_store: Store, make_doc: MakeDoc) -> None:
    now = utcnow()
    _baseline(sqlite_store, make_doc, now, per_bucket=(6, 12))
    _recent(sqlite_store, make_doc, now, count=11, negative=4)  # busy but normal, usual share
    out = check_alerts(sqlite_store, load_settings(), now=now)
    assert out["opened"] == [], out["opened"]


def test_alerts_no_alert_without_baseline_or_below_minimum(sqlite_store: Store, make_doc: MakeDoc) -> None:
    now = utcnow()
    _recent(sqlite_store, make_doc, now, count=4, negative=4)
    assert check_alerts(sqlite_store, load_settings(), now=now)["opened"] == []
    _recent(sqlite_store, make_doc, now, count=6, negative=6, topic="stock")
    out = check_alerts(sqlite_store, load_settings(), now=now)
    # a new topic with no history: a volume spike, but no negative-share baseline to compare
    assert [(a["topic"], a["kind"]) for a in out["opened"]] == [("stock", "volume")]
