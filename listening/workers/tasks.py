"""The four tasks. Each is idempotent: it does whatever is pending in the store, so a
duplicate or redelivered message does nothing twice (claims, unique decisions, outbox
idempotency keys, per-source leases make the store the single source of truth)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery, Task

from listening.settings import Settings
from listening.store import Source, Store
from listening.workers.queues import queue_name

log = logging.getLogger(__name__)
_STORES: dict[str, Store] = {}
_LOCK = threading.Lock()


def store_for(settings: Settings) -> Store:
    """One store (connection pool) per worker process and database."""
    with _LOCK:
        if settings.database_url not in _STORES:
            _STORES[settings.database_url] = Store.from_settings(settings)
        return _STORES[settings.database_url]


class ListeningTask(Task):  # type: ignore[misc]
    """Bounded retries with backoff, then a dead letter in the store."""

    abstract = True
    kind = ""

    @property
    def settings(self) -> Settings:
        return self.app.listening_settings  # type: ignore[no-any-return]

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        from listening.store.work import record_failure

        attempts = int(getattr(self.request, "retries", 0) or 0) + 1
        log.error("task %s %s dead-lettered after %d attempts: %s", self.name, args, attempts, exc)
        try:
            with store_for(self.settings).session() as session:
                record_failure(
                    session,
                    task=self.name,
                    queue=self.kind,
                    args=list(args or []),
                    error=f"{type(exc).__name__}: {exc}",
                    attempts=attempts,
                    task_id=task_id,
                )
        except Exception as store_exc:  # the store is down too: the log line is all we have
            log.error("cannot record the failure of %s: %s", task_id, store_exc)


# tasks without a queue of their own ride on one of the four
QUEUE_OF = {"digest": "notify"}


def send(app: Celery, kind: str, *args: Any) -> None:
    settings: Settings = app.listening_settings  # type: ignore[attr-defined]
    queue = queue_name(settings, QUEUE_OF.get(kind, kind))
    app.send_task(f"listening.{kind}", args=list(args), queue=queue)


def register(app: Celery) -> None:
    w = app.listening_settings.workers  # type: ignore[attr-defined]
    options: dict[str, Any] = {
        "bind": True,
        "base": ListeningTask,
        "acks_late": True,
        "autoretry_for": (Exception,),
        "max_retries": w.max_retries,
        "retry_backoff": w.retry_backoff_seconds,
        "retry_backoff_max": w.retry_backoff_max_seconds,
        "retry_jitter": True,
    }

    @app.task(name="listening.collect", kind="collect", **options)
    def collect(self: ListeningTask, source_id: int) -> dict[str, Any]:
        """Collect one due source under its lease (a crawl is a scrapy subprocess)."""
        from listening.collection.runner import run_source

        store = store_for(self.settings)
        with store.session() as session:
            source = session.get(Source, source_id)
            if source is None:
                return {"source_id": source_id, "status": "removed"}
            name = source.name
        result = run_source(store, self.settings, source_id, name)
        if int(result.get("new", 0)) + int(result.get("updated", 0)):
            send(self.app, "analyze")
        return {k: result.get(k) for k in ("source", "status", "new", "updated", "failed")}

    @app.task(name="listening.analyze", kind="analyze", **options)
    def analyze(self: ListeningTask) -> dict[str, Any]:
        """Claim and analyse up to ``workers.analyze_task_docs`` pending documents."""
        from nlp.service import analyze_pending

        limit = self.settings.workers.analyze_task_docs
        result = analyze_pending(store_for(self.settings), self.settings, limit=limit)
        done = int(result["analysed"]) + int(result["failed"])
        if done:
            send(self.app, "route")
        if done >= limit:  # probably more waiting: keep this worker busy
            send(self.app, "analyze")
        return {k: result[k] for k in ("analysed", "failed", "model_version")}

    @app.task(name="listening.route", kind="route", **options)
    def route(self: ListeningTask) -> dict[str, Any]:
        """Route analysed documents (row locks: several routers split the work), check spikes."""
        from listening.routing.alerts import check_alerts
        from listening.routing.service import route_pending

        store = store_for(self.settings)
        result = route_pending(store, self.settings)
        alerts = check_alerts(store, self.settings)
        send(self.app, "notify")
        return {
            "routed": result["routed"],
            "ticketed": result["ticketed"],
            "alerts": str(alerts)[:200],
        }

    @app.task(name="listening.notify", kind="notify", **options)
    def notify(self: ListeningTask) -> dict[str, Any]:
        """Deliver due notifications from the outbox (leases + idempotency keys)."""
        from listening.routing.outbox import deliver_pending

        result = deliver_pending(store_for(self.settings), self.settings)
        return {k: result[k] for k in ("sent", "retry", "dead", "pending")}

    @app.task(name="listening.digest", kind="notify", **options)
    def digest(self: ListeningTask) -> dict[str, Any]:
        """E-mail the weekly digests that are due and not sent yet (report_digests keeps them once)."""
        from listening.reports.digest import send_due_digests

        result = send_due_digests(store_for(self.settings), self.settings)
        return {"due": result["due"], "statuses": [d.get("status") for d in result["digests"]]}
