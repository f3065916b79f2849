"""Real worker processes, a private Redis and a counting webhook receiver for the fault tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    cond: Callable[[], Any],
    timeout: float,
    what: str,
    tick: Callable[[], None] | None = None,
    every: float = 0.05,
) -> Any:
    """Poll ``cond`` until truthy; fail the test naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_tick = 0.0
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        if tick is not None and time.monotonic() - last_tick > 1.0:
            tick()
            last_tick = time.monotonic()
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


class RedisServer:
    """A private redis-server with an fsync-always append-only file (survives kill -9)."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._up, 10, "redis-server to accept connections")

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None


def worker_env(
    pg_url: str, broker: str, prefix: str, data_dir: Path, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENING_")}
    env.update(
        LISTENING_CONFIG=str(data_dir / "absent.toml"),
        LISTENING_DATABASE_URL=pg_url,
        LISTENING_DATA_DIR=str(data_dir),
        LISTENING_LOG_LEVEL="INFO",
        LISTENING_WORKERS__BROKER_URL=broker,
        LISTENING_WORKERS__QUEUE_PREFIX=prefix,
        LISTENING_WORKERS__CONNECT_RETRIES="20",
        # the workers fetch and post to local test servers: allowed explicitly (docs/SECURITY.md)
        LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS="true",
        # several worker processes share this machine's cores: one encoder thread each, as
        # docs/NLP.md "Threads" advises (cores / processes), so that none starves the others
        LISTENING_NLP__THREADS="1",
        **extra,
    )
    return env


def new_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@dataclass
class Workers:
    """Worker processes started by a test, each in its own process group."""

    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(
        self, name: str, queues: str, pool: str = "solo", concurrency: int = 1
    ) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "listening.cli",
                "worker",
                "--queues",
                queues,
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--name",
                f"{name}@%h",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def kill9(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))


@contextmanager
def workers(env: dict[str, str], logs: Path) -> Iterator[Workers]:
    group = Workers(env, logs)
    try:
        yield group
    finally:
        group.stop_all()


@dataclass
class Receiver:
    """A webhook endpoint counting deliveries by ``Idempotency-Key``; the first one is slow."""

    url: str = ""
    received: list[str] = field(default_factory=list)
    first_started: threading.Event = field(default_factory=threading.Event)
    slow_first_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiver(slow_first_seconds: float = 0.0) -> Iterator[Receiver]:
    state = Receiver(slow_first_seconds=slow_first_seconds)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            key = self.headers.get("Idempotency-Key", "")
            json.loads(body or b"{}")
            first = not state.first_started.is_set()
            state.first_started.set()
            if first and state.slow_first_seconds:
                time.sleep(state.slow_first_seconds)  # the sender is killed meanwhile
            with state.lock:
                state.received.append(key)
            try:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
