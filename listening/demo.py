"""``listening demo``: the whole product on bundled sample data.

Creates a workspace with its own SQLite store, serves the bundled sample site
(a fictitious French shop and two competitors) from a local HTTP server, imports
its sources, collects them with the real collectors, then analyses, routes and
notifies. The store is recreated at each run so the demo always shows the same
picture.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import func, select

from listening.settings import get_settings
from listening.store import Analysis, Document, Store, Ticket
from listening.store.sources import import_sources, load_sources_file

console = Console(stderr=True, highlight=False)


def use_workspace(workspace: Path) -> None:
    """Point the settings of this process (and its children) at the workspace."""
    workspace.mkdir(parents=True, exist_ok=True)
    db = workspace / "listening.db"
    for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        leftover.unlink(missing_ok=True)
    os.environ["LISTENING_DATABASE_URL"] = f"sqlite:///{db.resolve()}"
    os.environ["LISTENING_DATA_DIR"] = str((workspace / "data").resolve())
    # the sample site is served by this process on 127.0.0.1: no need to pace requests to it
    os.environ.setdefault("LISTENING_COLLECTION__CRAWL_DOWNLOAD_DELAY_S", "0.05")
    # ... and 127.0.0.1 is a private target, refused by default (SSRF guard): allow it here
    os.environ.setdefault("LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS", "true")
    # the sample verbatims are dated November 2026 and only grow older: the demo tickets
    # them whatever their age (a real store keeps the 14-day limit on backlog)
    os.environ.setdefault("LISTENING_ROUTING__TICKET_MAX_AGE_DAYS", "0")
    get_settings.cache_clear()


def run_demo(workspace: Path) -> dict[str, Any]:
    """Run every stage on the sample data; returns the summary printed as JSON."""
    from listening.collection.runner import collect
    from listening.demo_site.server import serve_demo_site, sources_yaml
    from listening.pipeline import run_downstream

    started = time.monotonic()
    use_workspace(workspace)
    settings = get_settings()
    store = Store.from_settings(settings)
    store.init()
    store.set_time_zone(settings.timezone)
    with console.status("Serving the sample site and collecting…"), serve_demo_site() as base_url:
        parsed = load_sources_file(sources_yaml(base_url, workspace))
        with store.session() as session:
            import_sources(session, parsed)
        collected = collect(store, settings)
    console.print(f"Collected {len(parsed.sources)} sample sources from {base_url}.")
    with console.status("Analysing, routing and notifying…"):
        downstream = run_downstream(store, settings)
    with store.session() as session:
        documents = session.scalar(select(func.count(Document.id))) or 0
        analysed = session.scalar(select(func.count(func.distinct(Analysis.document_id)))) or 0
        tickets = session.scalar(select(func.count(Ticket.id))) or 0
    store.dispose()
    summary: dict[str, Any] = {
        "documents": documents,
        "analysed": analysed,
        "tickets": tickets,
        "sources": len(parsed.sources),
        "collection": collected,
        "downstream": downstream,
        "database": os.environ["LISTENING_DATABASE_URL"],
        "seconds": round(time.monotonic() - started, 1),
    }
    console.print(
        f"Demo ready: {documents} verbatims, {analysed} analysed, {tickets} tickets "
        f"in {summary['seconds']} s."
    )
    return summary
