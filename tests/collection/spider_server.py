"""A real local HTTP server for the spider tests: fixture pages plus fault resources."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAGES = Path(__file__).parent / "pages"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
CAPTCHA = (
    b"<html><head><title>Attention Required! | Cloudflare</title></head><body>"
    b'<div class="g-recaptcha" data-sitekey="x"></div></body></html>'
)
BROKEN_ENCODING = (
    '<html lang="de"><head><title>Lieferung</title></head><body id="phpbb">'
    '<div id="p1" class="post"><p class="author">von <a class="username">Jürgen</a> » '
    '<time datetime="2026-10-01T10:00:00+00:00">1. Okt. 2026</time></p>'
    '<div class="content">Die Lieferung kam pünktlich, der Händler war sehr freundlich.</div></div>'
    "</body></html>"
).encode("cp1252")  # served as "charset=utf-8": a lie the extractor must survive


@dataclass
class ServerState:
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    flaky_calls: dict[str, int] = field(default_factory=dict)
    slow_seconds: float = 3.0


def _make_handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _page(self, name: str, conditional: bool = True) -> None:
            path = PAGES / name
            if not path.is_file():
                self._send(404, b"not found")
                return
            body = path.read_bytes()
            ctype = "application/json" if name.endswith(".json") else "text/html; charset=utf-8"
            if name.startswith("vbulletin"):
                ctype = "text/html; charset=ISO-8859-1"
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if conditional and self.headers.get("If-None-Match") == etag:
                self._send(304, b"", headers={"ETag": etag})
                return
            self._send(200, body, ctype, {"ETag": etag} if conditional else None)

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            state.requests.append((self.path, dict(self.headers.items())))
            if path == "/robots.txt":
                self._send(200, ROBOTS, "text/plain")
            elif path.startswith("/pages/"):
                self._page(path[len("/pages/") :])
            elif path.startswith("/noetag/"):
                self._page(path[len("/noetag/") :], conditional=False)
            elif path.startswith("/flaky/"):
                count = state.flaky_calls.get(path, 0) + 1
                state.flaky_calls[path] = count
                if count == 1:
                    self._send(500, b"temporary failure")
                else:
                    self._page(path[len("/flaky/") :])
            elif path == "/always500":
                self._send(500, b"server error")
            elif path == "/slow":
                time.sleep(state.slow_seconds)
                self._send(200, b"<html><body>too late</body></html>")
            elif path in ("/loop", "/loop2"):
                self._send(302, b"", headers={"Location": "/loop2" if path == "/loop" else "/loop"})
            elif path == "/huge":
                self._send(200, b"<html><body>" + b"x" * 10_000_000 + b"</body></html>")
            elif path == "/broken-encoding":
                self._send(200, BROKEN_ENCODING, "text/html; charset=utf-8")
            elif path.startswith("/private/"):
                self._page("phpbb_thread.html")
            elif path == "/limited":
                self._send(429, b"slow down", headers={"Retry-After": "3600"})
            elif path == "/forbidden":
                self._send(403, b"forbidden")
            elif path == "/captcha":
                self._send(200, CAPTCHA)
            elif path == "/sitemap.xml":
                host = self.headers.get("Host")
                locs = "".join(
                    f"<url><loc>http://{host}/pages/{n}</loc></url>"
                    for n in ("trustpilot_page1.html", "phpbb_thread.html")
                )
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>'
                    f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
                ).encode()
                self._send(200, body, "application/xml")
            elif path == "/offsite-next":  # a real review page whose next link leaves the host
                port = self.server.server_address[1]
                body = (
                    (PAGES / "trustpilot_page1.html")
                    .read_bytes()
                    .replace(
                        b'href="trustpilot_page2.html"',
                        f'href="http://localhost:{port}/pages/trustpilot_page2.html"'.encode(),
                    )
                )
                self._send(200, body)
            elif path == "/no-verbatims":  # a page that answers 200 but holds no review
                self._send(
                    200,
                    b"<html><head><title>Accueil</title></head><body><p>Bienvenue</p></body></html>",
                )
            elif path == "/discourse/t/colis-jamais-recu/321.json":
                self._page("discourse_topic.json")
            elif path == "/discourse/t/321/posts.json":
                self._page("discourse_posts.json")
            else:
                self._send(404, b"not found")

    return Handler


@contextmanager
def spider_server() -> Iterator[tuple[str, ServerState]]:
    state = ServerState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
