"""The Celery application: queues, reliability settings, broker checks.

``celery -A listening.workers.app worker`` works too (the ``app`` below reads the
settings from the environment); ``listening worker`` is the documented way.
Reliability (docs/SCALING.md): ``acks_late`` + ``reject_on_worker_lost`` (a task whose
worker dies is redelivered), prefetch 1, durable queues and persistent messages, bounded
retries with backoff, then a dead letter in the store (``task_failures``).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from listening.errors import WorkerError
from listening.settings import Settings, get_settings
from listening.workers.queues import BROKER_SETTING, mask_url, queue_names

log = logging.getLogger(__name__)


def make_app(settings: Settings) -> Celery:
    """A Celery app for these settings, with the four tasks registered."""
    from listening.workers.tasks import register

    w = settings.workers
    names = queue_names(settings)
    app = Celery("listening", broker=w.broker_url, set_as_current=False)
    exchange = Exchange(f"{w.queue_prefix}tasks", type="direct", durable=True)
    app.conf.update(
        task_queues=[Queue(n, exchange, routing_key=n, durable=True) for n in names.values()],
        task_default_queue=names["analyze"],
        task_default_exchange=exchange.name,
        task_routes={
            f"listening.{kind}": {"queue": n, "routing_key": n} for kind, n in names.items()
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_delivery_mode="persistent",
        task_time_limit=w.task_time_limit_seconds,
        task_soft_time_limit=min(w.task_soft_time_limit_seconds, w.task_time_limit_seconds - 1),
        worker_prefetch_multiplier=w.prefetch,
        worker_concurrency=w.concurrency,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=w.connect_retries,
        broker_transport_options={
            "visibility_timeout": w.visibility_timeout_seconds,
            "max_retries": w.connect_retries,
            "interval_start": 0.5,
            "interval_step": 1,
            "interval_max": 10,
        },
        worker_send_task_events=True,  # Flower and `celery events` see the tasks
        task_send_sent_event=True,
        enable_utc=True,
    )
    app.listening_settings = settings  # type: ignore[attr-defined]
    register(app)
    return app


def check_broker(app: Celery, settings: Settings, retries: int | None = None) -> None:
    """Connect to the broker, retrying with backoff; a clear error naming the URL (masked)."""
    retries = settings.workers.connect_retries if retries is None else retries
    url = mask_url(settings.workers.broker_url)

    def errback(exc: Exception, interval: float) -> None:
        log.warning("broker %s unreachable (%s); retrying in %.1f s", url, exc, interval)

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                errback=errback,
                max_retries=retries,
                interval_start=0.5,
                interval_step=1,
                interval_max=5,
            )
    except Exception as exc:
        raise WorkerError(
            f"cannot reach the broker at {url} after {retries} retries: {type(exc).__name__}: {exc}",
            f"start Redis/RabbitMQ there or set {BROKER_SETTING} (docs/SCALING.md)",
        ) from None


def queue_depths(app: Celery, settings: Settings) -> dict[str, int | None]:
    """Messages waiting in each queue (None when the broker cannot say)."""
    depths: dict[str, int | None] = {}
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1)
        channel = conn.default_channel
        for kind, name in queue_names(settings).items():
            try:
                depths[kind] = int(channel.queue_declare(queue=name, passive=True).message_count)
            except Exception:  # not declared yet: no worker ever consumed it
                depths[kind] = 0
                channel = conn.channel()
    return depths


def consumers(app: Celery, timeout: float = 1.0) -> dict[str, list[str]]:
    """``{queue name: [worker names]}`` of the live workers (answering within ``timeout``)."""
    found: dict[str, list[str]] = {}
    try:
        replies: dict[str, Any] = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception:
        return found
    for worker, queues in replies.items():
        for queue in queues or []:
            found.setdefault(str(queue.get("name")), []).append(worker)
    return found


def __getattr__(name: str) -> Any:
    """``celery -A listening.workers.app``: the app of the environment's settings, built on use."""
    if name in ("app", "celery"):
        return make_app(get_settings())
    raise AttributeError(name)
