"""A real headless Chromium against `listening dashboard` on a seeded store.

Opens every page, saves a screenshot of each (in ``$DASHBOARD_SCREENSHOTS`` when set,
else the test's temporary folder) and fails on any Streamlit exception shown in the page.
Needs the ``chromium`` Debian package: the test fails in CI (CI=true) when it is
missing, and is skipped elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dashboard_browser import Browser, find_chromium, running_dashboard

from listening.store import Store

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PAGES = {  # url path -> text the page must show once rendered
    "": "Vue d'ensemble",
    "overview": "Vue d'ensemble",  # a shared link to the first page is a real path
    "inbox": "Détail du ticket",
    "competitors": "Marques × critères du parcours client",
    "explorer": "résultat(s) affiché(s)",
    "sources": "Santé des sources",
}


@pytest.fixture
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        message = "chromium is not installed: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture
def dashboard_url(sqlite_store: Store, seeded: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    with running_dashboard(tmp_path, "--headless") as base:
        yield base


def test_dashboard_first_run_without_terminal_serves(sqlite_store: Store, tmp_path: Path) -> None:
    """`make run` on a fresh machine, without a terminal (stdin closed, no Streamlit
    credentials in HOME, no display): Streamlit must not stop at its e-mail question."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {"HOME": str(home)}
    with running_dashboard(tmp_path, env=env) as base:
        assert httpx.get(base, timeout=5).status_code == 200
    assert "Email:" not in (tmp_path / "dashboard.log").read_text()




@pytest.mark.slow
def test_dashboard_browser_every_page(chromium: str, dashboard_url: str, tmp_path: Path) -> None:
    shots = Path(os.environ.get("DASHBOARD_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    browser = Browser(chromium)
    try:
        for path, ready in PAGES.items():
            browser.open(f"{dashboard_url}/{path}", ready_text=ready, timeout=90)
            name = path or "overview"
            browser.screenshot(shots / f"{name}.png")
            assert (shots / f"{name}.png").stat().st_size > 10_000, f"{name}: blank screenshot"
            assert browser.exceptions() == [], f"{name}: Streamlit exception shown"
            page_text = browser.text()
            assert "Traceback" not in page_text, name
            assert "Page not found" not in page_text, name
            if path in ("", "overview"):
                assert browser.count("[data-testid='stVegaLiteChart']") >= 3
                assert browser.evaluate("window.location.pathname.endsWith('/overview')")
                assert browser.evaluate("window.__xss === undefined")  # the hostile verbatim
            if path == "explorer":
                assert "<script>window.__xss" in page_text  # shown as text ...
                assert browser.evaluate("window.__xss === undefined")  # ... never run
            if path == "competitors":
                assert "▲" in page_text  # the significant difference is flagged
    finally:
        browser.close()
