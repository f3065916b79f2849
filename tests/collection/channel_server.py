"""A local mock of the platforms' APIs (127.0.0.1, in the test process) for the channel tests.

Routes are ``"METHOD /path"`` (query string ignored unless the route has one) mapped to a
list of :class:`Reply`: each request takes the next reply, the last one repeats. Every
request is recorded with its query, headers and body, so tests check what was asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    body: Any = None  # JSON-encoded unless bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class ApiServer:
    routes: dict[str, list[Reply]]
    base: str = ""
    seen: list[Seen] = field(default_factory=list)

    def calls(self, route: str) -> list[Seen]:
        method, path = route.split(" ", 1)
        return [s for s in self.seen if s.method == method and s.path == path]


def _handler(state: ApiServer) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            with lock:
                state.seen.append(Seen(method, parts.path, query, dict(self.headers), body))
                replies = state.routes.get(
                    f"{method} {parts.path}?{parts.query}"
                ) or state.routes.get(f"{method} {parts.path}")
                reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else None
            if reply is None:
                reply = Reply({"error": {"message": f"no route {method} {parts.path}"}}, 404)
            data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            data = data.replace(b"{BASE}", state.base.encode())
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            for key, value in reply.headers.items():
                self.send_header(key, value.replace("{BASE}", state.base))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

    return Handler


@contextmanager
def api_server(routes: dict[str, list[Reply]]) -> Iterator[ApiServer]:
    state = ApiServer(routes=routes)
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
