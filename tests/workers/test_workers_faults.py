"""Real Celery workers on a real broker and PostgreSQL: kill -9, broker restart, parallel
workers. Every outcome must exist exactly once: analyses per model version, routing
decisions and tickets per document, notifications per target (counted by a receiver)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from worker_helpers import RedisServer, new_prefix, receiver, wait_for, worker_env, workers

from listening.routing.models import Notification, RoutingDecision
from listening.settings import get_settings, load_settings
from listening.store import Analysis, Document, Run, Source, Store, Ticket
from listening.store.work import AnalysisClaim, TaskFailure

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collection"))
from collection_helpers import feed_server, make_source, rss  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TEXTS = [
    "Colis jamais reçu, le service client ne répond pas, je vais porter plainte.",
    "Lampe arrivée cassée, je demande un remboursement immédiat.",
    "Livraison rapide et produit conforme, merci beaucoup !",
    "Le site plante au paiement, impossible de commander.",
    "Trois semaines de retard de livraison, c'est inadmissible.",
    "Très belle suspension, montage facile.",
]


def _teams() -> list[str]:
    rules = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "listening/routing/default_rules.yaml").read_text()
    )
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("team"), str):
                found.add(node["team"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(rules)
    return sorted(found)


def _seed(store: Store, n: int) -> None:
    with store.session() as s:
        src = Source(name="avis", kind="review_site", url="https://shop.example/avis")
        s.add(src)
        s.flush()
        s.add_all(
            Document(
                source_id=src.id,
                external_id=f"r{i}",
                author=f"a_{i}",
                text=f"{TEXTS[i % len(TEXTS)]} (commande {i})",
                content_hash=f"h{i}",
            )
            for i in range(n)
        )


def _settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Any:
    for key, value in env.items():
        if key.startswith("LISTENING_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return load_settings()


def test_workers_kill9_mid_batch_and_mid_send_three_per_queue_exactly_once(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from listening.workers.app import make_app
    from listening.workers.beat import Beat

    n = 60
    store = Store(pg_url)
    store.init()
    _seed(store, n)
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        with receiver(slow_first_seconds=6) as hook:
            env = worker_env(
                pg_url,
                redis.url,
                new_prefix(),
                tmp_path / "data",
                LISTENING_WORKERS__ANALYSIS_LEASE_SECONDS="3",
                LISTENING_WORKERS__ANALYZE_TASK_DOCS="12",
                LISTENING_WORKERS__CONCURRENCY="3",
                LISTENING_NLP__BATCH_SIZE="4",
                LISTENING_ROUTING__BATCH_SIZE="5",
                LISTENING_ROUTING__DELIVERY_TIMEOUT_SECONDS="1",
                LISTENING_ROUTING__BACKOFF_SECONDS="1",
                LISTENING_ROUTING__TARGETS=json.dumps(
                    {"hook": {"kind": "webhook", "url": hook.url}}
                ),
                LISTENING_ROUTING__TEAM_TARGETS=json.dumps({t: ["hook"] for t in _teams()}),
            )
            settings = _settings(monkeypatch, env)
            beat = Beat(make_app(settings), store, settings)
            with workers(env, tmp_path / "logs") as group:
                for i in range(3):
                    group.start(f"an{i}", "analyze")
                    group.start(f"rn{i}", "route,notify")
                beat.tick()

                def live_claim_pid() -> int | None:
                    with store.session() as s:
                        owner = s.scalar(select(AnalysisClaim.owner).limit(1))
                    return int(owner.split(":")[1]) if owner else None

                pid = wait_for(
                    live_claim_pid, 90, "an analysis worker to claim a batch", every=0.01
                )
                victim = next(name for name, p in group.procs.items() if p.pid == pid)
                group.kill9(victim)  # mid-batch: it holds a claim, nothing of the batch committed
                with store.session() as s:
                    claimed_by_victim = s.scalar(
                        select(func.count())
                        .select_from(AnalysisClaim)
                        .where(AnalysisClaim.owner.like(f"%:{pid}:%"))
                    )
                assert claimed_by_victim, "the killed worker held no claim"
                group.start("an-restarted", "analyze")

                wait_for(
                    hook.first_started.is_set, 120, "a notification to be sent", tick=beat.tick
                )
                for i in range(3):  # the sender is one of them, mid-request
                    group.kill9(f"rn{i}")
                for i in range(3):
                    group.start(f"rn-restarted{i}", "route,notify")

                def finished() -> bool:
                    with store.session() as s:
                        analysed = s.scalar(select(func.count(Analysis.id)))
                        decided = s.scalar(select(func.count(RoutingDecision.id)))
                        waiting = s.scalar(
                            select(func.count(Notification.id)).where(Notification.status != "sent")
                        )
                    return analysed == n and decided == n and waiting == 0

                wait_for(
                    finished,
                    150,
                    "every document analysed, routed and notified",
                    tick=beat.tick,
                    every=0.5,
                )
            logs = group.log_text()
        with store.session() as s:
            per_doc = Counter(s.scalars(select(Analysis.document_id)))
            versions = set(s.scalars(select(Analysis.model_version)))
            decisions = Counter(s.scalars(select(RoutingDecision.document_id)))
            tickets = Counter(s.scalars(select(Ticket.document_id)))
            ticketed = s.scalar(
                select(func.count())
                .select_from(RoutingDecision)
                .where(RoutingDecision.outcome == "ticketed")
            )
            keys = list(s.scalars(select(Notification.idempotency_key)))
            errors = [a for a in s.scalars(select(Analysis)) if a.error]
            failures = s.scalar(select(func.count()).select_from(TaskFailure))
        assert len(per_doc) == n and set(per_doc.values()) == {1} and len(versions) == 1
        assert not errors and not failures
        assert len(decisions) == n and set(decisions.values()) == {1}
        assert tickets and set(tickets.values()) == {1} and sum(tickets.values()) == ticketed
        assert len(keys) == len(set(keys)) >= len(tickets)  # one per ticket event and target
        received = Counter(hook.received)
        assert set(received) == set(keys)  # every notification reached the target...
        # ...once, but for the one whose sender was killed mid-request: sent again with its key
        assert sum(received.values()) <= len(keys) + 1
        assert "IntegrityError" not in logs  # no two workers ever wrote one analysis or decision
    finally:
        redis.kill()


def test_workers_broker_restart_loses_no_queued_task_and_workers_reconnect(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from listening.workers.app import make_app, queue_depths
    from listening.workers.tasks import send

    store = Store(pg_url)
    store.init()
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        with feed_server({}) as server:
            ids = []
            for i in range(6):
                server.resources[f"/f{i}.xml"] = __import__("collection_helpers").Resource(
                    rss([(f"g{i}", f"Avis numéro {i} : livraison rapide.", "hier")])
                )
                ids.append(make_source(store, f"feed{i}", url=server.url(f"/f{i}.xml")))
            env = worker_env(pg_url, redis.url, new_prefix(), tmp_path / "data")
            settings = _settings(monkeypatch, env)
            app = make_app(settings)
            for source_id in ids:  # queued while no worker runs
                send(app, "collect", source_id)
            assert queue_depths(app, settings)["collect"] == len(ids)
            redis.kill()  # kill -9: the append-only file was fsynced at each write
            with workers(env, tmp_path / "logs") as group:
                group.start("collector", "collect")  # starts while the broker is down: retries
                wait_for(
                    lambda: (
                        "unreachable" in group.log_text()
                        or "Cannot connect" in group.log_text()
                        or "retrying" in group.log_text().lower()
                    ),
                    30,
                    "the worker to retry connecting",
                )
                redis.start()

                def collected() -> bool:
                    with store.session() as s:
                        return s.scalar(
                            select(func.count(Run.id)).where(Run.status == "ok")
                        ) == len(ids)

                wait_for(collected, 60, "every queued source to be collected", every=0.3)
            with store.session() as s:
                runs = Counter(s.scalars(select(Run.source_id)))
                docs = s.scalar(select(func.count(Document.id)))
            assert runs == Counter(ids) and docs == len(ids)
    finally:
        redis.kill()


def test_workers_failing_task_is_dead_lettered_and_shown_by_status(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from listening.workers.app import make_app
    from listening.workers.tasks import send

    store = Store(pg_url)
    store.init()
    _seed(store, 2)
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        env = worker_env(
            pg_url,
            redis.url,
            new_prefix(),
            tmp_path / "data",
            LISTENING_WORKERS__MAX_RETRIES="1",
            LISTENING_WORKERS__RETRY_BACKOFF_SECONDS="1",
            LISTENING_NLP__ENCODER="listening.encoder.nope.v1",
        )
        settings = _settings(monkeypatch, env)
        with workers(env, tmp_path / "logs") as group:
            group.start("broken", "analyze")
            send(make_app(settings), "analyze")

            def dead() -> Any:
                with store.session() as s:
                    return s.scalar(select(TaskFailure).limit(1))

            failure = wait_for(dead, 90, "the failing task to be dead-lettered", every=0.3)
        assert failure.task == "listening.analyze" and failure.queue == "analyze"
        assert failure.attempts == 2 and failure.error
        out = subprocess.run(
            [sys.executable, "-m", "listening.cli", "workers", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        status = json.loads(out.stdout.strip().splitlines()[-1])
        assert status["queues"]["analyze"]["failures"] == 1
        assert status["queues"]["analyze"]["pending"] == 2
        assert status["dead_letters"][0]["task"] == "listening.analyze"
        assert status["queues"]["analyze"]["depth"] == 0 and "broker_error" not in status
    finally:
        redis.kill()


RABBIT = "amqp://guest:guest@127.0.0.1:5672//"


def test_workers_on_rabbitmq_queue_depth_and_delivery(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from listening.errors import WorkerError
    from listening.routing.outbox import enqueue
    from listening.workers.app import check_broker, make_app, queue_depths
    from listening.workers.queues import queue_names
    from listening.workers.tasks import send

    store = Store(pg_url)
    store.init()
    with receiver() as hook:
        env = worker_env(
            pg_url,
            RABBIT,
            new_prefix(),
            tmp_path / "data",
            LISTENING_ROUTING__TARGETS=json.dumps({"hook": {"kind": "webhook", "url": hook.url}}),
        )
        settings = _settings(monkeypatch, env)
        app = make_app(settings)
        try:
            check_broker(app, settings, retries=0)
        except WorkerError as exc:
            pytest.skip(f"RabbitMQ unavailable: {exc}")
        try:
            with store.session() as s:
                enqueue(
                    s, event="test.event", key_base="rabbit:1", targets=["hook"], payload={"n": 1}
                )
            with workers(env, tmp_path / "logs") as group:
                group.start("notifier", "notify")
                wait_for(
                    lambda: (
                        queue_depths(app, settings)["notify"] == 0 and "ready" in group.log_text()
                    ),
                    60,
                    "the worker to declare its queue",
                )
                send(app, "notify")
                wait_for(lambda: hook.received, 60, "the notification over RabbitMQ", every=0.2)
            assert hook.received == ["rabbit:1:hook"]
            with store.session() as s:
                assert s.scalar(select(Notification.status)) == "sent"
        finally:
            with app.connection_for_write() as conn:
                channel = conn.default_channel
                for name in queue_names(settings).values():
                    channel.queue_delete(name)
                channel.exchange_delete(f"{settings.workers.queue_prefix}tasks")


def test_workers_scheduler_enqueues_each_due_source_once_and_skips_held_ones(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from listening.cli import main
    from listening.collection import locks
    from listening.workers.app import make_app, queue_depths

    store = Store(pg_url)
    store.init()
    ids = [make_source(store, f"feed{i}", url=f"http://127.0.0.1:9/f{i}.xml") for i in range(3)]
    make_source(store, "paused", url="http://127.0.0.1:9/p.xml", enabled=False)
    assert locks.acquire(store, ids[2], "another-run", 5)  # being collected right now
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        env = worker_env(pg_url, redis.url, new_prefix(), tmp_path / "data")
        settings = _settings(monkeypatch, env)
        main(["scheduler", "--once", "--json"])
        first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert first["enqueued"]["collect"] == 2 and first["due_sources"] == 3
        app = make_app(settings)
        depths = queue_depths(app, settings)
        assert depths["collect"] == 2
        assert depths["analyze"] == settings.workers.concurrency and depths["route"] == 1
        from listening.workers.beat import Beat

        beat = Beat(app, store, settings)
        beat.enqueued = {}  # a fresh beat re-enqueues what no run holds...
        assert beat.tick()["enqueued"]["collect"] == 2
        assert beat.tick()["enqueued"]["collect"] == 0  # ...but never twice itself
        assert (
            queue_depths(app, settings)["analyze"] == settings.workers.concurrency
        )  # not topped up
        with store.session() as s:  # it ran since, and is due again: enqueued again
            src = s.get(Source, ids[0])
            assert src is not None
            src.last_run_at = src.created_at - timedelta(hours=2)
        assert beat.tick()["enqueued"]["collect"] == 1
    finally:
        redis.kill()
