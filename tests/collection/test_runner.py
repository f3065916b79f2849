"""collect(): runs rows, source health, dispatch, failures isolated, due sources."""

from __future__ import annotations

import sys
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from collection_helpers import Resource, documents, feed_server, make_source, rss
from sqlalchemy import select

from listening.collection.ingest import ingest, reset_near_duplicate_indexes
from listening.collection.runner import collect, is_due
from listening.errors import CollectionError
from listening.settings import load_settings
from listening.store import Run, Source, Store
from listening.store.documents import DocumentIn
from listening.store.models import utcnow

ITEMS = [
    ("r1", "Livraison rapide et soignée, la suspension est superbe.", "2025-03-01T10:00:00Z"),
    ("r2", "Le SAV ne répond jamais, je demande un remboursement.", "2025-03-02T10:00:00Z"),
]


@pytest.fixture(autouse=True)
def _fresh() -> None:
    reset_near_duplicate_indexes()


def _runs(store: Store) -> list[Run]:
    with store.session() as session:
        return list(session.scalars(select(Run).order_by(Run.id)))


def _source(store: Store, sid: int) -> Source:
    with store.session() as session:
        source = session.get(Source, sid)
        assert source is not None
        return source


def test_runner_records_runs_and_health_and_isolates_failures(store: Store) -> None:
    settings = load_settings(collection={"feed_timeout_s": 2})
    with feed_server(
        {"/ok": Resource(rss(ITEMS), etag='"1"'), "/boom": Resource(b"x", status=500)}
    ) as server:
        ok = make_source(store, "a-ok", url=server.url("/ok"))
        boom = make_source(store, "b-boom", url=server.url("/boom"))
        down = make_source(store, "c-down", url="http://127.0.0.1:1/feed")
        late = make_source(store, "d-ok-after-failures", url=server.url("/ok"))
        summary = collect(store, settings)
    by_name = {r["source"]: r for r in summary["sources"]}
    assert by_name["a-ok"]["status"] == "ok" and by_name["a-ok"]["new"] == 2
    assert by_name["b-boom"]["status"] == "failed"
    assert "HTTP 500" in by_name["b-boom"]["errors"][0]
    assert by_name["c-down"]["status"] == "failed"
    assert by_name["d-ok-after-failures"]["status"] == "ok"  # failures did not stop it
    assert by_name["d-ok-after-failures"]["duplicate"] == 2  # same items, another source
    assert (summary["ran"], summary["failed_sources"], summary["new"]) == (4, 2, 2)
    runs = _runs(store)
    assert [r.status for r in runs] == ["ok", "failed", "failed", "ok"]
    assert runs[0].new == 2 and runs[0].finished_at is not None and runs[0].duration_s is not None
    health_ok, health_boom, health_down = (
        _source(store, ok),
        _source(store, boom),
        _source(store, down),
    )
    assert health_ok.last_success_at is not None and health_ok.last_error is None
    assert health_ok.next_run_at is not None and health_ok.next_run_at > utcnow()
    assert health_boom.last_success_at is None and "HTTP 500" in (health_boom.last_error or "")
    assert "cannot connect to 127.0.0.1:1" in (health_down.last_error or "")
    assert not health_down.blocked
    assert len(documents(store, ok)) == 2 and _source(store, late).last_success_at is not None


def test_runner_403_marks_the_source_blocked(store: Store) -> None:
    with feed_server({"/403": Resource(b"captcha", status=403)}) as server:
        sid = make_source(store, "blocked", url=server.url("/403"))
        summary = collect(store, load_settings(), source_names=["blocked"])
    assert summary["sources"][0]["status"] == "blocked"
    source = _source(store, sid)
    assert source.blocked and "HTTP 403" in (source.blocked_reason or "")
    assert not is_due(source, utcnow() + timedelta(days=2))
    assert collect(store, load_settings(), due_only=True)["sources"] == []
    with feed_server({"/403": Resource(rss(ITEMS))}) as server:  # the site allows us again
        with store.session() as session:
            src = session.get(Source, sid)
            assert src is not None
            src.url = server.url("/403")
        retry = collect(store, load_settings(), source_names=["blocked"])
    assert retry["sources"][0]["status"] == "ok"
    source = _source(store, sid)
    assert not source.blocked and source.blocked_reason is None


def test_runner_due_only_runs_due_sources(store: Store) -> None:
    settings = load_settings()
    with feed_server({"/f": Resource(rss(ITEMS))}) as server:
        sid = make_source(store, "feed", url=server.url("/f"), schedule_minutes=30)
        make_source(store, "off", url=server.url("/f"), enabled=False)
        assert [r["source"] for r in collect(store, settings, due_only=True)["sources"]] == ["feed"]
        assert collect(store, settings, due_only=True)["sources"] == []  # ran just now
        with store.session() as session:  # the dashboard enqueues a crawl
            src = session.get(Source, sid)
            assert src is not None
            src.next_run_at = utcnow()
        assert len(collect(store, settings, due_only=True)["sources"]) == 1
        with store.session() as session:  # or the interval passed
            src = session.get(Source, sid)
            assert src is not None
            src.last_run_at = utcnow() - timedelta(minutes=31)
            src.next_run_at = utcnow() + timedelta(minutes=5)
        assert len(collect(store, settings, due_only=True)["sources"]) == 1


def test_runner_unknown_source_name_is_a_clear_error(store: Store) -> None:
    make_source(store, "known")
    with pytest.raises(CollectionError, match="unknown source.*nope.*known sources: known"):
        collect(store, load_settings(), source_names=["nope"])


def test_runner_dispatches_crawled_kinds_to_the_spiders(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def run_crawl(settings: Any, source: Source) -> dict[str, Any]:
        calls.append(source.kind)
        if source.kind == "forum":
            return {
                "new": 0,
                "updated": 0,
                "duplicate": 0,
                "failed": 0,
                "errors": ["HTTP 429"],
                "blocked": True,
                "blocked_reason": "HTTP 429 Too Many Requests",
            }
        result = ingest(
            store,
            source.id,
            [DocumentIn(external_id="p1", text="Avis crawlé sur un site")],
            settings,
        )
        return {"new": result.new, "updated": 0, "duplicate": 0, "failed": 0, "errors": []}

    launch = types.ModuleType("spiders.launch")
    launch.run_crawl = run_crawl  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "spiders.launch", launch)
    make_source(store, "reviews", kind="review_site", url="http://127.0.0.1:1/avis")
    forum = make_source(store, "forum", kind="forum", url="http://127.0.0.1:1/forum")
    summary = collect(store, load_settings())
    assert sorted(calls) == ["forum", "review_site"]  # crawls run in parallel threads
    by_name = {r["source"]: r for r in summary["sources"]}
    assert by_name["reviews"]["new"] == 1 and by_name["reviews"]["status"] == "ok"
    assert by_name["forum"]["status"] == "blocked"
    assert _source(store, forum).blocked_reason == "HTTP 429 Too Many Requests"


def test_runner_collects_a_survey_file_source(store: Store, tmp_path: Path) -> None:
    survey = tmp_path / "nps.csv"
    survey.write_text(
        "id;note;commentaire\n1;9;Très bon accueil au téléphone\n2;2;Colis perdu\n",
        encoding="utf-8",
    )
    make_source(
        store,
        "nps",
        kind="survey",
        url=str(survey),
        settings={
            "text_columns": ["commentaire"],
            "score_column": "note",
            "respondent_column": "id",
        },
    )
    first = collect(store, load_settings(), source_names=["nps"])
    assert first["sources"][0]["new"] == 2
    again = collect(store, load_settings(), source_names=["nps"])
    assert (again["new"], again["duplicate"]) == (0, 2)


def test_runner_cli_collect_and_opml_import(sqlite_store: Store, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from listening.cli import app
    from listening.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    nothing = runner.invoke(app, ["collect"])
    assert nothing.exit_code != 0
    with feed_server({"/a": Resource(rss(ITEMS)), "/b": Resource(b"x", status=500)}) as server:
        opml = tmp_path / "feeds.opml"
        opml.write_text(
            '<?xml version="1.0"?><opml version="1.0"><body>'
            f'<outline text="Avis A" xmlUrl="{server.url("/a")}"/>'
            f'<outline text="Avis B" xmlUrl="{server.url("/b")}"/></body></opml>',
            encoding="utf-8",
        )
        imported = runner.invoke(
            app, ["sources", "import-opml", str(opml), "--brand", "Luminéo", "--json"]
        )
        assert imported.exit_code == 0, imported.output
        assert json.loads(imported.stdout.strip().splitlines()[-1])["created"] == [
            "Avis A",
            "Avis B",
        ]
        again = runner.invoke(app, ["sources", "import-opml", str(opml), "--json"])
        assert json.loads(again.stdout.strip().splitlines()[-1])["already_known"] != []
        result = runner.invoke(app, ["collect", "--all", "--json"])
        assert result.exit_code == 1, result.output  # one source failed
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert (summary["new"], summary["failed_sources"]) == (2, 1)
        text = runner.invoke(app, ["collect", "--source", "Avis B"])
        assert "HTTP 500" in text.output and "1 source(s) failed" in text.output
        assert text.exit_code == 1
        fine = runner.invoke(app, ["collect", "--source", "Avis A"])
        assert fine.exit_code == 0, fine.output


def test_runner_marks_an_interrupted_run_failed_on_the_next_run(store: Store) -> None:
    with feed_server({"/f": Resource(rss(ITEMS))}) as server:
        sid = make_source(store, "f", url=server.url("/f"))
        with store.session() as session:  # a run whose process was killed
            session.add(Run(source_id=sid, status="running", errors=[]))
        collect(store, load_settings(), source_names=["f"])
    stale, fresh = _runs(store)
    assert stale.status == "failed" and stale.errors[0].startswith("interrupted")
    assert fresh.status == "ok" and fresh.new == 2


def test_runner_runs_crawls_in_parallel_with_per_source_runs_and_isolated_failures(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    active, peak, lock = [0], [0], threading.Lock()

    def run_crawl(settings: Any, source: Source) -> dict[str, Any]:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            time.sleep(0.6)
            if source.name == "c-broken":
                raise RuntimeError("scrapy exploded")
            result = ingest(
                store,
                source.id,
                [DocumentIn(external_id="p1", text=f"Avis crawlé sur le site {source.name}")],
                settings,
            )
            return {"new": result.new, "updated": 0, "duplicate": 0, "failed": 0, "errors": []}
        finally:
            with lock:
                active[0] -= 1

    launch = types.ModuleType("spiders.launch")
    launch.run_crawl = run_crawl  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "spiders.launch", launch)
    names = ["a-avis", "b-forum", "c-broken", "d-blog", "e-avis"]
    for name in names:
        make_source(store, name, kind="review_site", url=f"http://127.0.0.1:1/{name}")
    with feed_server({"/ok": Resource(rss(ITEMS))}) as server:
        make_source(store, "f-feed", url=server.url("/ok"))
        seen: list[tuple[str, str]] = []
        summary = collect(
            store,
            load_settings(collection={"parallel_crawls": 2}),
            progress=lambda name, result: seen.append((name, threading.current_thread().name)),
        )
    assert peak[0] == 2  # crawls overlapped, never more than parallel_crawls at once
    assert [r["source"] for r in summary["sources"]] == [*names, "f-feed"]  # name order
    by_name = {r["source"]: r for r in summary["sources"]}
    assert by_name["c-broken"]["status"] == "failed"
    assert "scrapy exploded" in by_name["c-broken"]["errors"][0]
    assert all(
        by_name[n]["status"] == "ok" and by_name[n]["new"] == 1 for n in names if n != "c-broken"
    )
    assert by_name["f-feed"]["new"] == 2
    assert (summary["new"], summary["failed_sources"], summary["ran"]) == (6, 1, 6)
    assert {thread for _name, thread in seen} == {threading.main_thread().name}
    runs = _runs(store)
    assert len(runs) == 6 and len({r.source_id for r in runs}) == 6
    assert sorted(r.status for r in runs) == ["failed", *["ok"] * 5]
    assert all(r.finished_at is not None for r in runs)
    with store.session() as session:
        broken = session.scalar(select(Source).where(Source.name == "c-broken"))
        assert broken is not None and "scrapy exploded" in (broken.last_error or "")
        assert broken.last_run_at is not None and broken.last_success_at is None
