"""Scheduling: per-source locks, serve passes, downstream call, graceful stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from collection_helpers import Resource, feed_server, make_source, rss
from sqlalchemy import select

from listening.collection import locks
from listening.collection.ingest import reset_near_duplicate_indexes
from listening.collection.runner import collect
from listening.collection.scheduler import serve
from listening.settings import Settings, load_settings
from listening.store import Run, Store

ITEMS = [("s1", "La suspension en laiton est arrivée bien emballée.", "2025-03-01T10:00:00Z")]


@pytest.fixture(autouse=True)
def _fresh() -> None:
    reset_near_duplicate_indexes()


def test_scheduler_two_concurrent_runs_of_one_source_run_once(store: Store) -> None:
    settings = load_settings()
    with feed_server({"/slow": Resource(rss(ITEMS), delay=1.0)}) as server:
        make_source(store, "slow", url=server.url("/slow"))
        results: list[dict[str, Any]] = []
        barrier = threading.Barrier(2)

        def run() -> None:
            barrier.wait()
            results.append(collect(Store(store.url), settings, source_names=["slow"]))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    statuses = sorted(r["sources"][0]["status"] for r in results)
    assert statuses == ["ok", "skipped"]
    with store.session() as session:
        assert len(list(session.scalars(select(Run)))) == 1
    assert len([p for p, _h in server.requests if p == "/slow"]) == 1


def test_scheduler_lock_expires_and_is_released(store: Store) -> None:
    sid = make_source(store, "x")
    assert locks.acquire(store, sid, "a", ttl_minutes=1)
    assert not locks.acquire(store, sid, "b", ttl_minutes=1)
    assert locks.holder(store, sid) == "a"
    locks.release(store, sid, "b")  # not the owner: nothing happens
    assert locks.holder(store, sid) == "a"
    with store.session() as session:  # a crashed run: its lease has expired
        from datetime import timedelta

        from listening.store.models import utcnow

        lock = session.get(locks.CollectionLock, sid)
        assert lock is not None
        lock.expires_at = utcnow() - timedelta(seconds=1)
    assert locks.acquire(store, sid, "b", ttl_minutes=1)
    locks.release(store, sid, "b")
    assert locks.holder(store, sid) is None


def test_scheduler_serve_once_collects_then_runs_downstream(store: Store) -> None:
    calls: list[str] = []

    def downstream(s: Store, settings: Settings) -> dict[str, Any]:
        calls.append("downstream")
        return {"analysis": {"analysed": 0}}

    with feed_server({"/f": Resource(rss(ITEMS))}) as server:
        make_source(store, "f", url=server.url("/f"))
        summaries: list[dict[str, Any]] = []
        passes = serve(
            store, load_settings(), once=True, downstream=downstream, on_pass=summaries.append
        )
    assert passes == 1 and calls == ["downstream"]
    assert summaries[0]["collection"]["new"] == 1
    assert summaries[0]["downstream"] == {"analysis": {"analysed": 0}}


def test_scheduler_downstream_failure_does_not_stop_serving(store: Store) -> None:
    stop = threading.Event()
    seen: list[dict[str, Any]] = []

    def failing(s: Store, settings: Settings) -> dict[str, Any]:
        raise RuntimeError("model missing")

    def on_pass(summary: dict[str, Any]) -> None:
        seen.append(summary)
        if len(seen) == 2:
            stop.set()

    settings = load_settings(collection={"serve_poll_seconds": 0.05})
    assert serve(store, settings, stop=stop, downstream=failing, on_pass=on_pass) == 2
    assert seen[0]["downstream"]["error"] == "RuntimeError: model missing"


def test_scheduler_serve_stops_on_sigterm(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["LISTENING_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    env["LISTENING_COLLECTION__SERVE_POLL_SECONDS"] = "0.2"
    listening = [sys.executable, "-c", "from listening.cli import main; main()"]
    subprocess.run([*listening, "init"], env=env, check=True, capture_output=True, timeout=60)
    proc = subprocess.Popen(
        [*listening, "serve", "--no-downstream"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("Pass done"):
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Stopped after" in out
