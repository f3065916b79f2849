"""``listening serve``: collect due sources on their intervals, then run the downstream stages.

Each pass runs :func:`listening.collection.runner.collect` with ``due_only=True`` (so a
source runs every ``schedule_minutes``, minus a random jitter, or at once when the
dashboard enqueued it), then :func:`listening.pipeline.run_downstream` (analyse → route →
notify), then the emerging themes when they are due (listening.insights.schedule). Sources are locked one by one in the store, so several ``serve`` processes, or a
``serve`` and a manual ``listening collect``, never collect one source twice at once.
SIGINT / SIGTERM stop the loop after the current source.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from listening.collection.runner import collect
from listening.settings import Settings
from listening.store import Store

log = logging.getLogger(__name__)

Downstream = Callable[[Store, Settings], dict[str, Any]]


def _default_downstream(store: Store, settings: Settings) -> dict[str, Any]:
    from listening.insights.schedule import run_themes_if_due
    from listening.pipeline import run_downstream

    summary = run_downstream(store, settings)
    themes = run_themes_if_due(store, settings)  # emerging themes, when due (docs/INSIGHTS.md)
    if themes is not None:
        summary["themes"] = themes
    return summary


def run_pass(
    store: Store,
    settings: Settings,
    downstream: Downstream | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """One pass: collect the due sources, then the downstream stages (their failure is reported)."""
    should_stop = stop.is_set if stop is not None else None
    summary: dict[str, Any] = {
        "collection": collect(store, settings, due_only=True, should_stop=should_stop)
    }
    step = downstream or _default_downstream
    try:
        summary["downstream"] = step(store, settings)
    except Exception as exc:  # keep serving: the next pass retries
        log.warning("downstream stages failed: %s", exc)
        summary["downstream"] = {"error": f"{type(exc).__name__}: {exc}"}
    return summary


def serve(
    store: Store,
    settings: Settings,
    once: bool = False,
    stop: threading.Event | None = None,
    downstream: Downstream | None = None,
    on_pass: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Loop over passes until ``stop`` is set (or SIGINT/SIGTERM); returns the number of passes."""
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def _stop(signum: int, _frame: FrameType | None) -> None:
            log.warning("signal %s: stopping after the current source", signum)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    passes = 0
    try:
        while not stop.is_set():
            summary = run_pass(store, settings, downstream, stop)
            passes += 1
            if on_pass is not None:
                on_pass(summary)
            if once:
                break
            stop.wait(settings.collection.serve_poll_seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return passes
