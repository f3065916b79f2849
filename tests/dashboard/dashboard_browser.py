"""A minimal headless-Chromium driver over the DevTools protocol (no selenium needed).

Used by the browser tests: start `listening dashboard` (:func:`running_dashboard`), start Chromium with a free remote-debugging port, open a
URL, wait until Streamlit has finished running the page, read its text and the
exception elements, and save a PNG screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """One headless Chromium with one page, driven through CDP."""

    def __init__(self, binary: str, width: int = 1400, height: int = 1000) -> None:
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", f"--remote-debugging-port={self.port}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.width, self.height = width, height
        self._id = 0
        ws_url = self._page_ws_url()
        self.ws = connect(ws_url, max_size=64 * 1024 * 1024, open_timeout=20)
        self.call("Emulation.setDeviceMetricsOverride",
                  width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _page_ws_url(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                targets = httpx.get(f"http://127.0.0.1:{self.port}/json/list", timeout=2).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise RuntimeError("Chromium did not open its DevTools port within 30 s")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        message_id = self._id
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, ready_text: str = "", timeout: float = 60) -> None:
        """Navigate and wait until the app rendered ``ready_text`` and stopped running."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        stable_since: float | None = None
        while time.monotonic() < deadline:
            state = self.evaluate(
                "JSON.stringify({"
                "app: !!document.querySelector('[data-testid=\"stApp\"]'),"
                "running: /Stop|Running/i.test((document.querySelector("
                "'[data-testid=stStatusWidget]') || {}).innerText || ''),"
                "skeleton: document.querySelectorAll('[data-testid*=Skeleton i]').length,"
                "text: document.body ? document.body.innerText : ''})"
            )
            info = json.loads(state or "{}")
            ready = (info.get("app") and not info.get("running") and not info.get("skeleton")
                     and ready_text in info.get("text", ""))
            if ready:
                stable_since = stable_since or time.monotonic()
                if time.monotonic() - stable_since > 2.0:  # charts finish drawing
                    return
            else:
                stable_since = None
            time.sleep(0.3)
        raise TimeoutError(f"{url} did not finish rendering {ready_text!r} within {timeout} s")

    def text(self) -> str:
        return str(self.evaluate("document.body.innerText") or "")

    def exceptions(self) -> list[str]:
        found = self.evaluate(
            "Array.from(document.querySelectorAll('[data-testid=\"stException\"]'))"
            ".map(e => e.innerText)"
        )
        return [str(x) for x in found or []]

    def count(self, selector: str) -> int:
        return int(self.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length") or 0)

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        """Save a PNG; ``full_page`` grows the viewport to the page's content height first."""
        if full_page:
            height = self.evaluate(
                "Math.max(...Array.from(document.querySelectorAll("
                "'[data-testid=stMain], [data-testid=stMainBlockContainer]'))"
                ".map(e => e.scrollHeight), window.innerHeight)"
            )
            self.call("Emulation.setDeviceMetricsOverride", width=self.width,
                      height=min(int(height or self.height) + 40, 5000), deviceScaleFactor=1,
                      mobile=False)
            time.sleep(1.5)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        if full_page:
            self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                      deviceScaleFactor=1, mobile=False)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


@contextlib.contextmanager
def running_dashboard(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`listening dashboard ARGS` with stdin closed, until its health check answers; its URL."""
    port = free_port()
    log_path = tmp_path / "dashboard.log"
    log = log_path.open("w")
    # its own process group: `listening dashboard` starts `streamlit run` as a child,
    # and both must go when the test ends
    proc = subprocess.Popen(
        # `python -m` from the checkout: this tree's code, whatever the venv's install points at
        [sys.executable, "-m", "listening.cli", "dashboard", *args, "--port", str(port)],
        cwd=Path(__file__).resolve().parents[2], stdin=subprocess.DEVNULL,
        env=env if env is not None else os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"`listening dashboard` exited: {log_path.read_text()}")
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("the dashboard did not answer its health check within 60 s")
        yield base
    finally:
        stop_group(proc)
        log.close()


def stop_group(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the dashboard's process group, SIGKILL what is left after 10 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        proc.poll()  # reap the wrapper so only live members keep the group alive
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
