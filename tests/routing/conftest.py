"""Build documents + analyses rows directly in the store (no NLP models needed)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from listening.store import Store
from listening.store.models import Analysis, Brand, Document, Source, utcnow

_counter = itertools.count(1)


def ensure_source(
    store: Store, name: str = "reviews-ml", kind: str = "review_site", brand: str = "Maison Lumière", own: bool = True
) -> tuple[int, int]:
    from sqlalchemy import select

    with store.session() as s:
        b = s.scalar(select(Brand).where(Brand.name == brand))
        if b is None:
            b = Brand(name=brand, is_own=own, aliases=[])
            s.add(b)
            s.flush()
        src = s.scalar(select(Source).where(Source.name == name))
        if src is None:
            src = Source(name=name, kind=kind, url="https://example.test/" + name, brand_id=b.id, settings={}, state={})
            s.add(src)
            s.flush()
        return src.id, b.id


def add_doc(
    store: Store,
    text: str,
    *,
    source: str = "reviews-ml",
    kind: str = "review_site",  # the brand's own review page: relevant by construction
    brand: str = "Maison Lumière",
    own: bool = True,
    author: str | None = "a_author1",
    thread_id: str | None = None,
    order_id: str | None = None,
    published_at: datetime | None = None,
    sentiment: str = "negative",
    topics: dict[str, str] | None = None,
    intent: str = "complaint",
    urgency: list[str] | None = None,
    actionable: bool = True,
    rating: float | None = None,
    analysed: bool = True,
    error: str | None = None,
    model_version: str = "test-1",
    raw: dict[str, Any] | None = None,
) -> int:
    """Insert one document (and its analysis unless ``analysed=False``); returns its id."""
    source_id, brand_id = ensure_source(store, source, kind, brand, own)
    n = next(_counter)
    raw = {**(raw or {}), **({"order_id": order_id} if order_id else {})}
    with store.session() as s:
        doc = Document(
            source_id=source_id,
            brand_id=brand_id,
            external_id=f"ext-{n}",
            url=f"https://example.test/post/{n}",
            thread_id=thread_id,
            author=author,
            text=text,
            rating=rating,
            published_at=published_at or utcnow(),
            language="fr",
            content_hash=hashlib.sha256(f"{n}{text}".encode()).hexdigest(),
            raw=raw,
        )
        s.add(doc)
        s.flush()
        if analysed:
            s.add(
                Analysis(
                    document_id=doc.id,
                    model_version=model_version,
                    language="fr",
                    sentiment=sentiment,
                    sentiment_score=-0.8 if sentiment == "negative" else 0.5,
                    topics=[
                        {"topic": t, "sentiment": v, "confidence": 0.9, "evidence": []}
                        for t, v in (topics or {}).items()
                    ],
                    intent=intent,
                    urgency=urgency or [],
                    actionable=actionable,
                    error=error,
                )
            )
        return doc.id


@pytest.fixture
def make_doc() -> Callable[..., int]:
    """``make_doc(store, text, **fields)`` inserts a document and its analysis."""
    return add_doc


class Receiver:
    """A real local HTTP server recording POSTs; ``plan[path]`` lists the statuses to answer."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict[str, Any]] = []
        self.plan: dict[str, list[int]] = {}
        self.delay: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                import time

                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.delay.get(self.path):
                    time.sleep(receiver.delay[self.path])
                with receiver.lock:
                    statuses = receiver.plan.get(self.path) or [200]
                    status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body,
                         "status": status, "at": time.time()}
                    )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "nope"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self, path: str, status: int | None = 200) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path and (status is None or r["status"] == status)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
