"""The spiders as they really run: `scrapy crawl` subprocesses against a local HTTP server,
writing into a real store (SQLite, and PostgreSQL through the ``store`` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from spider_server import spider_server
from sqlalchemy import func, select

from listening.errors import CollectionError
from listening.settings import Settings, load_settings
from listening.store import Document, Source, Store
from listening.store.sources import SourceSpec, add_source
from spiders.launch import crawl_dir, run_crawl

pytestmark = pytest.mark.slow
FAST = {
    "crawl_download_delay_s": 0,
    "crawl_timeout_s": 1.5,
    "crawl_retry_times": 1,
    "crawl_retry_backoff_s": 0.2,
    "crawl_max_page_bytes": 1_000_000,
    "crawl_contact": "mailto:crawler@shop.example",
}


def _settings(tmp_path: Path, **collection: Any) -> Settings:
    return load_settings(data_dir=str(tmp_path / "data"), collection={**FAST, **collection})


def _add(store: Store, name: str, kind: str, url: str, **settings: Any) -> Source:
    with store.session() as session:
        source, _ = add_source(
            session, SourceSpec(name=name, kind=kind, url=url, settings=settings)
        )
        source_id = source.id
    return _reload(store, source_id)


def _reload(store: Store, source_id: int) -> Source:
    with store.session() as session:
        source = session.get(Source, source_id)
        assert source is not None
        session.expunge(source)
    return source


def _count(store: Store, source_id: int) -> int:
    with store.session() as session:
        return int(
            session.scalar(select(func.count(Document.id)).where(Document.source_id == source_id))
            or 0
        )


def test_spiders_reviews_paginate_into_store_and_rerun_adds_nothing(
    store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    with spider_server() as (base, state):
        source = _add(store, "lampes", "review_site", f"{base}/pages/trustpilot_page1.html")
        first = run_crawl(settings, source)
        assert first["errors"] == [] and first["blocked"] is False
        assert (first["new"], first["pages"]) == (3, 2)  # followed rel=next to page 2
        assert _count(store, source.id) == 3
        agents = {headers.get("User-Agent", "") for _path, headers in state.requests}
        assert all("mailto:crawler@shop.example" in a and "listening" in a for a in agents)
        assert any(path == "/robots.txt" for path, _h in state.requests)
        assert not (
            crawl_dir(settings, source.id) / "job"
        ).exists()  # finished: no resume state left

        second = run_crawl(settings, _reload(store, source.id))
        assert second["new"] == 0 and second["updated"] == 0
        assert second["not_modified"] == 1  # conditional GET answered 304: nothing re-read
        conditional = [h for p, h in state.requests if p.endswith("trustpilot_page1.html")][-1]
        assert "If-None-Match" in conditional
        assert _count(store, source.id) == 3
    with store.session() as session:
        doc = session.scalars(
            select(Document).where(Document.source_id == source.id).order_by(Document.id)
        ).first()
        assert (
            doc is not None and doc.rating == 0.25 and doc.author != "Jeanne Martin"
        )  # pseudonymised
        assert doc.published_at is not None and doc.raw.get("merchant_reply")


def test_spiders_stop_paginating_when_a_page_is_already_stored(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    with spider_server() as (base, state):
        source = _add(
            sqlite_store, "reviews", "review_site", f"{base}/noetag/trustpilot_page1.html"
        )
        first = run_crawl(settings, source)
        assert (first["new"], first["pages"]) == (3, 2)
        second = run_crawl(settings, _reload(sqlite_store, source.id))
        assert second["new"] == 0 and second["duplicate"] == 2
        assert second["pages"] == 1 and second["stopped_incremental"]
    assert _count(sqlite_store, source.id) == 3


def test_spiders_memory_limit_is_the_crawls_own(sqlite_store: Store, tmp_path: Path) -> None:
    """A crawl started by a big process (a service holding the NLP models) is not stopped
    for its parent's memory: Linux hands the parent's peak RSS to the child."""
    ballast = bytearray(400 * 1024 * 1024)  # this process: > 400 MB resident
    ballast[::4096] = b"x" * len(ballast[::4096])
    settings = _settings(tmp_path, crawl_memory_limit_mb=300)
    with spider_server() as (base, _state):
        source = _add(sqlite_store, "lampes", "review_site", f"{base}/pages/trustpilot_page1.html")
        result = run_crawl(settings, source)
    del ballast
    assert result["finish_reason"] != "memusage_exceeded", result
    assert (result["new"], result["pages"]) == (3, 2)
    # a crawl that does exceed its own limit stops and says so (never an empty "ok")
    tight = _settings(tmp_path, crawl_memory_limit_mb=64)
    with spider_server() as (base, _state):
        source = _add(sqlite_store, "lampes2", "review_site", f"{base}/pages/trustpilot_page1.html")
        stopped = run_crawl(tight, source)
    assert stopped["finish_reason"] == "memusage_exceeded"
    assert "crawl_memory_limit_mb" in " ".join(stopped["errors"])


def test_spiders_survive_faults_and_report_them(sqlite_store: Store, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with spider_server() as (base, state):
        faults = [
            "/flaky/xenforo_thread.html",
            "/always500",
            "/slow",
            "/loop",
            "/huge",
            "/broken-encoding",
            "/private/secret.html",
        ]
        source = _add(
            sqlite_store,
            "faults",
            "forum",
            f"{base}/pages/vbulletin_thread.html",
            start_urls=[base + f for f in faults],
        )
        result = run_crawl(settings, source)
        assert result["blocked"] is False
        errors = " ".join(result["errors"])
        assert "/always500" in errors and "500" in errors
        assert "/slow" in errors
        assert "/loop" in errors
        assert "/huge" in errors
        assert "robots.txt forbids" in errors and "/private/secret.html" in errors
        assert not any(p.startswith("/private/") for p, _h in state.requests)
        assert state.flaky_calls["/flaky/xenforo_thread.html"] == 2  # retried after the 500
        assert result["new"] == 2 + 2 + 1  # vBulletin, XenForo after retry, the mis-declared page
    with sqlite_store.session() as session:
        texts = list(session.scalars(select(Document.text).where(Document.source_id == source.id)))
    assert any(
        "Händler war sehr freundlich" in t for t in texts
    )  # decoded despite the wrong charset
    assert any("Mein Paket" in t for t in texts)


@pytest.mark.parametrize(
    ("path", "reason"), [("/limited", "429"), ("/forbidden", "403"), ("/captcha", "captcha")]
)
def test_spiders_mark_source_blocked(
    sqlite_store: Store, tmp_path: Path, path: str, reason: str
) -> None:
    settings = _settings(tmp_path)
    with spider_server() as (base, state):
        source = _add(sqlite_store, f"blocked{reason}", "review_site", base + path)
        result = run_crawl(settings, source)
        assert result["blocked"] is True and reason in result["blocked_reason"]
        assert result["new"] == 0
        assert (
            sum(1 for p, _h in state.requests if p == path) == 1
        )  # never retried, never circumvented
    blocked = _reload(sqlite_store, source.id)
    assert blocked.blocked is True and reason in (blocked.blocked_reason or "")


def test_spiders_discourse_json_api_fetches_missing_posts(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    with spider_server() as (base, state):
        source = _add(
            sqlite_store,
            "discourse",
            "forum",
            f"{base}/discourse/t/colis-jamais-recu/321",
            forum_engine="discourse",
        )
        result = run_crawl(settings, source)
        assert result["errors"] == [] and result["new"] == 3
        assert any("posts.json" in p and "post_ids" in p for p, _h in state.requests)


def test_spiders_discover_from_sitemap_with_url_patterns(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    with spider_server() as (base, state):
        source = _add(
            sqlite_store,
            "discovered",
            "review_site",
            base + "/",
            discover="sitemap",
            url_patterns=["trustpilot"],
        )
        result = run_crawl(settings, source)
        assert result["new"] == 3
        assert not any("phpbb" in p for p, _h in state.requests)  # filtered out by url_patterns


def test_spiders_refuse_kinds_they_do_not_crawl(sqlite_store: Store, tmp_path: Path) -> None:
    source = _add(sqlite_store, "feed", "feed", "http://127.0.0.1:9/feed.xml")
    with pytest.raises(CollectionError, match="review_site, forum, blog"):
        run_crawl(_settings(tmp_path), source)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url_patterns": ["(unclosed"]}, "not a valid regular expression"),
        ({"forum_engine": "phpbb4"}, "valid engines: auto, discourse"),
        ({"discover": "robots"}, "valid values: sitemap, feed"),
        ({"selectors": {"author": ".fn"}}, "'item' selector"),
        (
            {"selectors": {"item": "li", "author": "b[[["}},
            "author selector 'b\\[\\[\\[' is invalid",
        ),
        ({"next_selector": ".//a[@rel='next'"}, "next_selector selector"),
    ],
)
def test_spiders_refuse_unusable_source_settings(
    sqlite_store: Store, tmp_path: Path, settings: dict[str, Any], message: str
) -> None:
    source = _add(sqlite_store, "bad", "forum", "http://127.0.0.1:9/t", **settings)
    with pytest.raises(CollectionError, match=message):
        run_crawl(_settings(tmp_path), source)


def test_spiders_keep_resume_state_when_a_crawl_is_cut_short(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, crawl_max_minutes=0.02, crawl_timeout_s=5, crawl_retry_times=0)
    with spider_server() as (base, state):
        state.slow_seconds = 4
        source = _add(sqlite_store, "cut", "forum", f"{base}/slow")
        result = run_crawl(settings, source)
    assert result["finish_reason"] == "closespider_timeout"
    assert (crawl_dir(settings, source.id) / "job").is_dir()  # JOBDIR kept: the next run resumes


def test_spiders_forum_rerun_revalidates_every_thread_page(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    with spider_server() as (base, state):
        source = _add(sqlite_store, "thread", "forum", f"{base}/pages/phpbb_thread.html")
        first = run_crawl(settings, source)
        assert (first["new"], first["pages"]) == (3, 2)
        second = run_crawl(settings, _reload(sqlite_store, source.id))
        # page 1 answered 304, and its remembered next page was revalidated too (304)
        assert (second["new"], second["pages"], second["not_modified"]) == (0, 0, 2)
        page2 = [h for p, h in state.requests if p.endswith("phpbb_thread_p2.html")]
        assert len(page2) == 2 and "If-None-Match" in page2[-1]


def test_spiders_failures_are_visible_in_runs_and_crawls_stay_on_host(
    store: Store, tmp_path: Path
) -> None:
    """A 404, a DNS failure, an empty extraction and an off-host next link are never "ok"."""
    from listening.collection.runner import collect

    settings = _settings(tmp_path)
    with spider_server() as (base, state):
        _add(store, "a-404", "review_site", f"{base}/pages/no-such-page.html")
        _add(store, "b-dns", "review_site", "http://no-such-host.invalid/avis.html")
        _add(store, "c-empty", "review_site", f"{base}/no-verbatims")
        _add(store, "d-offsite", "review_site", f"{base}/offsite-next")
        _add(store, "e-allowed", "review_site", f"{base}/offsite-next", allowed_hosts=["localhost"])
        summary = collect(store, settings)
    by_name = {r["source"]: r for r in summary["sources"]}
    assert by_name["a-404"]["status"] == "failed"
    assert "404" in by_name["a-404"]["errors"][0]
    assert by_name["b-dns"]["status"] == "failed"
    assert by_name["c-empty"]["status"] == "warning"
    assert "no verbatim extracted" in by_name["c-empty"]["errors"][0]
    # page 1 collected, the next page on another host reported and not fetched
    assert (by_name["d-offsite"]["status"], by_name["d-offsite"]["new"]) == ("warning", 2)
    assert "not the source's host" in by_name["d-offsite"]["errors"][0]
    assert by_name["e-allowed"]["status"] == "ok"
    assert (summary["failed_sources"], summary["warning_sources"]) == (2, 2)
    with store.session() as session:
        sources = {s.name: s for s in session.scalars(select(Source))}
        assert sources["a-404"].last_error and sources["c-empty"].last_error
        assert sources["d-offsite"].last_success_at is not None  # a warning still succeeded
