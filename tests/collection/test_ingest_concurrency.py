"""Two processes ingesting at once: SQLite's single writer makes them wait, never fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from collection_helpers import documents, make_source
from sqlalchemy import update

from listening.store import Source, Store

ITEMS = 60
WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from listening.collection.ingest import ingest
    from listening.settings import load_settings
    from listening.store import Store
    from listening.store.documents import DocumentIn

    url, source_id, tag, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    settings = load_settings(collection={"ingest_batch_size": 10})
    store = Store(url)
    items = [
        DocumentIn(external_id=f"{tag}-{i}",
                   text=f"Avis {i} du site {tag} : la lampe numéro {i * 7} est arrivée en {i} jours.")
        for i in range(int(os.environ["ITEMS"]))
    ]
    (folder / f"{tag}.ready").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    started = time.monotonic()
    result = ingest(store, source_id, items, settings)
    print(json.dumps({"new": result.new, "failed": result.failed, "errors": result.errors,
                      "seconds": time.monotonic() - started}))
    """
)


def test_ingest_concurrent_processes_wait_for_the_writer_lock(store: Store, tmp_path: Path) -> None:
    sources = {tag: make_source(store, f"site-{tag}") for tag in ("a", "b")}
    env = {**os.environ, "ITEMS": str(ITEMS)}
    workers = {
        tag: subprocess.Popen(
            [sys.executable, "-c", WORKER, store.url, str(sid), tag, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for tag, sid in sources.items()
    }
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"{tag}.ready").exists() for tag in workers):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(w.poll() is None for w in workers.values()), "a worker died on start-up"
        time.sleep(0.05)
    # hold the store's write lock while both start writing: on SQLite they must queue
    with store.session() as session:
        session.execute(update(Source).where(Source.id == sources["a"]).values(schedule_minutes=61))
        session.flush()
        (tmp_path / "go").touch()
        time.sleep(1.5)
    results = {}
    for tag, worker in workers.items():
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        results[tag] = json.loads(out.strip().splitlines()[-1])
    for result in results.values():
        assert (result["new"], result["failed"], result["errors"]) == (ITEMS, 0, [])
        if store.url.startswith("sqlite"):
            assert result["seconds"] >= 1.0  # waited on the busy timeout for the lock
    stored = documents(store)
    assert len(stored) == 2 * ITEMS
    assert len({(d.source_id, d.external_id) for d in stored}) == 2 * ITEMS
