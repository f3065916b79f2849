"""Read API benchmark: requests per second for a page of /v1/verbatims on a seeded store.

    .venv/bin/python bench/api.py --rows 100000 --seconds 10 --backends sqlite

Seeds the store like bench/dashboard.py (synthetic verbatims with analyses over 365
days), creates a token, starts `listening api` (uvicorn, one process) and calls it
over HTTP from one client for ``--seconds`` per workload: the first page of
``/v1/verbatims`` (50 items), walking pages by cursor, a filtered page (brand + topic +
sentiment), a full-text page and ``/v1/aggregates?by=topic``. Prints requests/s and
p50/p95 latency per workload; the last line is one JSON object with every figure.
The rate limit is off for the run (LISTENING_API__RATE_LIMIT_PER_MINUTE=0).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dashboard as dashboard_bench  # noqa: E402  (bench/dashboard.py: the seeding)

from listening.api.tokens import create_token  # noqa: E402
from listening.store import Store  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    env = {**os.environ, "LISTENING_DATABASE_URL": url, "LISTENING_API__RATE_LIMIT_PER_MINUTE": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "listening.cli", "api", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/v1/health", timeout=2)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the API did not start")


def _run(client: httpx.Client, seconds: float, next_request: Any) -> dict[str, float]:
    latencies: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        path, params = next_request()
        start = time.perf_counter()
        resp = client.get(path, params=params)
        latencies.append(time.perf_counter() - start)
        resp.raise_for_status()
        next_request.last = resp.json()  # type: ignore[attr-defined]
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / sum(latencies), 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
    }


def measure(url: str, seconds: float) -> dict[str, dict[str, float]]:
    store = Store(url)
    with store.session() as s:
        _info, token = create_token(s, f"bench-{time.time()}", "admin")
    proc, base = _serve(url)
    results: dict[str, dict[str, float]] = {}
    try:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            brand = client.get("/v1/aggregates", params={"by": "brand"}).json()["items"][0]["key"]

            def fixed(params: dict[str, Any]) -> Any:
                def next_request() -> tuple[str, dict[str, Any]]:
                    return "/v1/verbatims", params

                return next_request

            def walk() -> tuple[str, dict[str, Any]]:
                last = getattr(walk, "last", None)
                cursor = last and last.get("next_cursor")
                return "/v1/verbatims", {"limit": 50, **({"cursor": cursor} if cursor else {})}

            def aggregates() -> tuple[str, dict[str, Any]]:
                return "/v1/aggregates", {"by": "topic"}

            workloads: dict[str, Any] = {
                "first page (50)": fixed({"limit": 50}),
                "pages by cursor (50)": walk,
                "filtered page (brand+topic+sentiment)": fixed(
                    {"limit": 50, "brand": brand, "topic": "delivery", "sentiment": "negative"}
                ),
                "full-text page (q)": fixed({"limit": 50, "q": "livraison"}),
                "aggregates by topic": aggregates,
            }
            for name, workload in workloads.items():
                results[name] = _run(client, seconds, workload)
                r = results[name]
                print(
                    f"  {name}: {r['rps']} req/s, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms",
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        store.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite file goes")
    args = parser.parse_args()
    summary: dict[str, Any] = {
        "rows": args.rows,
        "seconds": args.seconds,
        "date": date.today().isoformat(),
    }
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-api-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for backend in args.backends.split(","):
        print(f"{backend}: seeding {args.rows:,} verbatims ...", flush=True)
        if backend == "sqlite":
            db = workdir / "bench.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            store = dashboard_bench.seed_sqlite(db, args.rows)
        elif backend == "postgresql":
            store = dashboard_bench.seed_postgresql(args.rows)
        else:
            parser.error(f"unknown backend {backend!r}; valid: sqlite, postgresql")
        url = store.url
        store.dispose()
        summary[backend] = measure(url, args.seconds)
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
