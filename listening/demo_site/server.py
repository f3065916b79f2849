"""A local HTTP server (in a thread) serving the bundled sample site.

``serve_demo_site()`` is what ``listening demo`` and the collection tests use: the real
collectors crawl it over HTTP exactly as they would crawl a remote site. It answers
``Last-Modified`` / ``If-Modified-Since`` (304) like a static web server, and fills in
its own base URL in ``robots.txt`` and ``sitemap.xml``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from listening.demo_site import sources_yaml

__all__ = ["SITE_DIR", "serve_demo_site", "sources_yaml"]
SITE_DIR = Path(__file__).resolve().parent / "site"
_TEMPLATED = ("/robots.txt", "/sitemap.xml")
log = logging.getLogger(__name__)


class _DemoHandler(SimpleHTTPRequestHandler):
    """Static files from :data:`SITE_DIR`; robots.txt and sitemap.xml get the base URL."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".xml": "application/xml; charset=utf-8",
        ".csv": "text/csv; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
    }

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        path = self.path.split("?", 1)[0]
        if path in _TEMPLATED:
            body = (SITE_DIR / path.lstrip("/")).read_text(encoding="utf-8")
            host = self.headers.get("Host") or "127.0.0.1"
            data = body.replace("__BASE_URL__", f"http://{host}").encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", self.extensions_map[path[path.rfind(".") :]])
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("demo site: " + format, *args)


@contextmanager
def serve_demo_site(port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the sample site on ``host:port`` (0 = a free port); yields the base URL."""
    handler = partial(_DemoHandler, directory=str(SITE_DIR))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
