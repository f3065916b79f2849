"""A crawl stopped mid-way (SIGTERM to its `scrapy crawl` process) resumes from its JOBDIR."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from listening.settings import load_settings
from listening.store import Document, Source, Store
from listening.store.sources import SourceSpec, add_source
from spiders.launch import crawl_dir, run_crawl

pytestmark = pytest.mark.slow
PAGES, PER_PAGE, GATED = 6, 3, 3  # the crawl is stopped while page 3 is being served


def _page(number: int) -> bytes:
    reviews = [
        {
            "@type": "Review",
            "author": {"@type": "Person", "name": f"Client {number}-{i}"},
            "datePublished": f"2026-09-{number:02d}T10:0{i}:00Z",
            "reviewBody": f"Avis {i} de la page {number} : la lampe n°{number * 10 + i} "
            f"est arrivée en {number + i} jours, emballage correct.",
            "reviewRating": {"@type": "Rating", "bestRating": "5", "ratingValue": str(1 + i)},
        }
        for i in range(PER_PAGE)
    ]
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Lampe",
        "review": reviews,
    }
    nxt = f'<link rel="next" href="/p/{number + 1}.html">' if number < PAGES else ""
    return (
        f'<html lang="fr"><head><meta charset="utf-8"><title>Avis page {number}</title>'
        f'<script type="application/ld+json">{json.dumps(data)}</script>{nxt}</head>'
        f"<body><h1>Avis {number}</h1></body></html>"
    ).encode()


@contextmanager
def _paged_site() -> Iterator[tuple[str, list[str], threading.Event, threading.Event]]:
    requested: list[str] = []
    gate_reached, gate_open = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            requested.append(self.path)
            if self.path == f"/p/{GATED}.html" and not gate_open.is_set():
                gate_reached.set()
                gate_open.wait(60)  # held in flight while the crawl is stopped
            if self.path.startswith("/p/"):
                number = int(self.path[3:].split(".")[0])
                body, status = (_page(number), 200) if 1 <= number <= PAGES else (b"", 404)
            else:
                body, status = b"User-agent: *\nAllow: /\n", 200
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the stopped crawl closed its connection
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested, gate_reached, gate_open
    finally:
        gate_open.set()
        server.shutdown()
        server.server_close()


def _crawl_pid(job_file: Path) -> int:
    """The pid of the `scrapy crawl` process started for ``job_file``."""
    needle = f"job={job_file}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    return int(entry.name)
            except OSError:
                continue
    raise AssertionError(f"no scrapy process for {job_file}")


def test_spiders_resume_stopped_crawl_from_jobdir_and_store_each_item_once(
    store: Store, tmp_path: Path
) -> None:
    _stop_then_resume(store, tmp_path, signal.SIGTERM)  # `kill`, a shutdown, serve stopping


def test_spiders_resume_killed_crawl_from_jobdir_and_store_each_item_once(
    sqlite_store: Store, tmp_path: Path
) -> None:
    _stop_then_resume(sqlite_store, tmp_path, signal.SIGKILL)  # no chance to clean up


def _stop_then_resume(store: Store, tmp_path: Path, stop: signal.Signals) -> None:
    settings = load_settings(
        data_dir=str(tmp_path / "data"),
        collection={
            "crawl_download_delay_s": 0,
            "crawl_timeout_s": 3,
            "crawl_retry_times": 0,
            "crawl_pipeline_batch": 2,
        },
    )
    with _paged_site() as (base, requested, gate_reached, gate_open):
        with store.session() as session:
            source, _ = add_source(
                session, SourceSpec(name="avis", kind="review_site", url=f"{base}/p/1.html")
            )
            session.flush()
            session.expunge(source)
        folder = crawl_dir(settings, source.id)
        outcome: dict[str, Any] = {}
        crawler = threading.Thread(target=lambda: outcome.update(run_crawl(settings, source)))
        crawler.start()
        assert gate_reached.wait(120), "the crawl never reached page 3"
        os.kill(_crawl_pid(folder / "job.json"), stop)
        crawler.join(120)
        gate_open.set()
        if stop == signal.SIGTERM:
            assert outcome["finish_reason"] == "shutdown", outcome
        else:
            assert "without a result" in outcome["errors"][0], outcome
        assert (folder / "job").is_dir()  # interrupted: resume state kept
        first_stored = _stored(store, source.id)
        assert 0 < len(first_stored) < PAGES * PER_PAGE
        first_requests = len(requested)

        with store.session() as session:
            again = session.get(Source, source.id)
            assert again is not None
            session.expunge(again)
        second = run_crawl(settings, again)
        resumed = [p for p in requested[first_requests:] if p.startswith("/p/")]

    assert second["finish_reason"] == "finished" and second["errors"] == [], second
    assert not (folder / "job").exists()  # finished: the next run starts afresh
    # resumed at the page cut short; the seed is only re-checked (its reviews are stored,
    # so pagination stops there): nothing read twice beyond it
    assert resumed[0] == f"/p/{GATED}.html" and "/p/2.html" not in resumed
    assert resumed.count("/p/1.html") <= 1 and f"/p/{PAGES}.html" in resumed
    stored = _stored(store, source.id)
    assert len(stored) == PAGES * PER_PAGE  # every review, each exactly once
    assert len(set(stored)) == len(stored)
    assert second["new"] == PAGES * PER_PAGE - len(first_stored)


def _stored(store: Store, source_id: int) -> list[str]:
    with store.session() as session:
        return list(
            session.scalars(select(Document.external_id).where(Document.source_id == source_id))
        )
