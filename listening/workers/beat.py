"""``listening scheduler``: the single beat of a distributed deployment.

Each tick (``workers.schedule_seconds``) it enqueues one ``collect`` task per due source
that no run holds (the per-source leases of listening.collection.locks still guarantee
that two workers never crawl one source at once), and tops up the analyze, route and
notify queues when they are empty, so work left by a crash or a lost trigger is picked
up. It also applies privacy retention when due (listening.gdpr.retention). Run exactly
one (several only enqueue duplicate triggers, which are harmless).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import Celery

from listening.collection import locks
from listening.collection.runner import select_sources
from listening.gdpr.retention import run_retention_if_due
from listening.settings import Settings
from listening.store import Source, Store
from listening.store.models import utcnow
from listening.workers.app import queue_depths
from listening.workers.tasks import send

log = logging.getLogger(__name__)


class Beat:
    """Remembers what it enqueued, so a source waiting in the queue is not enqueued again."""

    def __init__(
        self,
        app: Celery,
        store: Store,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.app, self.store, self.settings, self.clock = app, store, settings, clock
        self.enqueued: dict[int, tuple[datetime, datetime | None]] = {}
        self.digest_enqueued_at: datetime | None = None

    def _recently_enqueued(self, source_id: int, last_run: datetime | None, now: datetime) -> bool:
        seen = self.enqueued.get(source_id)
        if seen is None:
            return False
        at, last_run_then = seen
        ttl = timedelta(minutes=self.settings.collection.lock_ttl_minutes)
        return last_run == last_run_then and now - at < ttl

    def _digests(self, now: datetime) -> int:
        """Enqueue ``listening.digest`` when a weekly digest is due and unsent (not twice in a row)."""
        from listening.reports.digest import pending_audiences

        if not self.settings.insights.digest_recipients:
            return 0
        retry = timedelta(minutes=self.settings.insights.digest_retry_minutes)
        if self.digest_enqueued_at is not None and now - self.digest_enqueued_at < retry:
            return 0
        if not pending_audiences(self.store, self.settings, now):
            return 0
        send(self.app, "digest")
        self.digest_enqueued_at = now
        return 1

    def tick(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or self.clock()
        sent: dict[str, int] = {"collect": 0, "analyze": 0, "route": 0, "notify": 0}
        due = select_sources(self.store, None, due_only=True)
        with self.store.session() as session:
            last_runs = {s.id: s.last_run_at for s in session.query(Source)}
        for source_id, name in due:
            if locks.holder(self.store, source_id) is not None:
                continue
            if self._recently_enqueued(source_id, last_runs.get(source_id), now):
                continue
            send(self.app, "collect", source_id)
            self.enqueued[source_id] = (now, last_runs.get(source_id))
            sent["collect"] += 1
            log.info("enqueued source %s", name)
        depths = queue_depths(self.app, self.settings)
        fan_out = {"analyze": self.settings.workers.concurrency, "route": 1, "notify": 1}
        for kind, wanted in fan_out.items():
            if not depths.get(kind):
                for _ in range(wanted):
                    send(self.app, kind)
                sent[kind] += wanted
        sent["digest"] = self._digests(now)
        summary: dict[str, Any] = {"enqueued": sent, "due_sources": len(due), "depths": depths}
        try:  # retention runs here, once per privacy.retention_interval_hours (no queue needed)
            retention = run_retention_if_due(self.store, self.settings, now)
        except Exception as exc:  # a bad source setting must not stop the beat
            log.warning("retention failed: %s", exc)
            retention = {"error": f"{type(exc).__name__}: {exc}"}
        if retention is not None:
            summary["retention"] = retention
        return summary


def run(
    app: Celery,
    store: Store,
    settings: Settings,
    once: bool = False,
    stop: threading.Event | None = None,
) -> int:
    """Tick until ``stop`` (or once); returns the number of ticks."""
    beat = Beat(app, store, settings)
    stop = stop or threading.Event()
    ticks = 0
    while not stop.is_set():
        try:
            summary = beat.tick()
            log.info("tick: %s", summary)
        except Exception as exc:  # broker or store away: say so, try again next tick
            log.warning("scheduler tick failed: %s", exc)
        ticks += 1
        if once:
            break
        stop.wait(settings.workers.schedule_seconds)
    return ticks
