"""Helpers shared by the collection tests (not fixtures: plain functions)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from listening.store import Document, Store
from listening.store.sources import SourceSpec, add_source


def make_source(
    store: Store,
    name: str = "src",
    kind: str = "feed",
    url: str = "http://127.0.0.1:9/feed",
    brand: str | None = "Maison Lumière",
    **extra: object,
) -> int:
    spec = SourceSpec(name=name, kind=kind, url=url, brand=brand, **extra)  # type: ignore[arg-type]
    with store.session() as session:
        source, _ = add_source(session, spec)
        return source.id


def documents(store: Store, source_id: int | None = None) -> list[Document]:
    with store.session() as session:
        query = select(Document).order_by(Document.id)
        if source_id is not None:
            query = query.where(Document.source_id == source_id)
        return list(session.scalars(query))


# ---------------------------------------------------------------- a real local HTTP server


@dataclass
class Resource:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    location: str | None = None  # for redirects


@dataclass
class FeedServer:
    base: str
    resources: dict[str, Resource]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _handler(server_state: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            server_state.requests.append((self.path, dict(self.headers)))
            res = server_state.resources.get(self.path)
            if res is None:
                return self._send(404, b"not found", "text/plain")
            if res.delay:
                time.sleep(res.delay)
            if res.status == 200 and (
                (res.etag and self.headers.get("If-None-Match") == res.etag)
                or (
                    res.last_modified and self.headers.get("If-Modified-Since") == res.last_modified
                )
            ):
                return self._send(304, b"", None, res)
            return self._send(res.status, res.body, res.content_type, res)

        def _send(
            self, status: int, body: bytes, ctype: str | None, res: Resource | None = None
        ) -> None:
            server_state.statuses.append(status)
            try:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                if res is not None and res.etag:
                    self.send_header("ETag", res.etag)
                if res is not None and res.last_modified:
                    self.send_header("Last-Modified", res.last_modified)
                if res is not None and res.location:
                    self.send_header("Location", res.location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@contextmanager
def feed_server(resources: dict[str, Resource]) -> Iterator[FeedServer]:
    """A threaded HTTP server on 127.0.0.1 serving ``resources`` by path."""
    state = FeedServer(base="", resources=resources)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def rss(
    items: list[tuple[str, str, str]], title: str = "Avis clients", lang: str = "fr-FR"
) -> bytes:
    """An RSS 2.0 feed of (guid, description, pubDate) items."""
    entries = "".join(
        f"<item><title>Avis {guid}</title><link>http://shop.example/avis/{guid}</link>"
        f'<guid isPermaLink="false">{guid}</guid><dc:creator>'
        f"Client {guid}</dc:creator>"
        f"<description><![CDATA[{text}]]></description><pubDate>{date}</pubDate></item>"
        for guid, text, date in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{title}</title><link>http://shop.example/</link><language>{lang}</language>"
        f"{entries}</channel></rss>"
    ).encode()
