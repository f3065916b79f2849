"""The spider's callbacks on hand-made responses (no reactor, no network): discovery,
pagination, incremental stop, Discourse follow-ups, 304 handling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse, XmlResponse

from listening.collection.ingest import ingest
from listening.settings import load_settings
from listening.store import Store
from listening.store.documents import DocumentIn
from listening.store.sources import SourceSpec, add_source
from spiders.spiders.listening_spider import ListeningSpider

PAGES = Path(__file__).parent / "pages"


def _spider(store: Store, tmp_path: Path, kind: str, url: str, **options: Any) -> ListeningSpider:
    with store.session() as session:
        name = f"s-{tmp_path.name}"
        source, _ = add_source(session, SourceSpec(name=name, kind=kind, url=url, settings=options))
        info = {"id": source.id, "name": name, "kind": kind, "url": url, "settings": options}
    settings = load_settings(data_dir=str(tmp_path / "data"))
    tmp_path.mkdir(parents=True, exist_ok=True)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"source": info, "settings": settings.model_dump(mode="json")}))
    return ListeningSpider(job=str(job))


def _html(url: str, name: str) -> HtmlResponse:
    return HtmlResponse(url=url, body=(PAGES / name).read_bytes(), encoding="utf-8")


def test_spiders_callbacks_feed_and_sitemap_discovery_follow_url_patterns(
    sqlite_store: Store, tmp_path: Path
) -> None:
    spider = _spider(
        sqlite_store,
        tmp_path,
        "blog",
        "https://blog.example/feed",
        discover="feed",
        url_patterns=[r"/20\d\d/"],
    )
    assert [r.callback for r in spider.seed_requests()] == [spider.parse_feed]
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>'
        b"<item><title>a</title><link>https://blog.example/2026/09/a.html</link></item>"
        b"<item><title>b</title><link>https://blog.example/about.html</link></item>"
        b"</channel></rss>"
    )
    requests = list(spider.parse_feed(XmlResponse(url="https://blog.example/feed", body=feed)))
    assert [r.url for r in requests] == ["https://blog.example/2026/09/a.html"]
    home = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed"></head></html>'
    )
    home_request = Request("https://blog.example/")
    (found_feed,) = spider.parse_feed(
        HtmlResponse(url="https://blog.example/", body=home, request=home_request)
    )
    assert (
        found_feed.url == "https://blog.example/feed" and found_feed.callback == spider.parse_feed
    )
    empty = Request("https://blog.example/x")
    assert (
        list(spider.parse_feed(HtmlResponse(url=empty.url, body=b"<html></html>", request=empty)))
        == []
    )
    assert spider.errors == ["https://blog.example/x: neither a feed nor a page announcing one"]
    sitemap = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://blog.example/2026/10/b.html</loc></url>"
        b"<url><loc>https://blog.example/tag/x</loc></url></urlset>"
    )
    found = list(
        spider.parse_sitemap(XmlResponse(url="https://blog.example/sitemap.xml", body=sitemap))
    )
    assert [r.url for r in found] == ["https://blog.example/2026/10/b.html"]


def test_spiders_callbacks_paginate_until_a_page_is_known(
    sqlite_store: Store, tmp_path: Path
) -> None:
    url = "https://reviews.example/trustpilot_page1.html"
    spider = _spider(sqlite_store, tmp_path, "review_site", url)
    out = list(spider.parse_page(_html(url, "trustpilot_page1.html")))
    items = [o for o in out if isinstance(o, DocumentIn)]
    nexts = [o for o in out if isinstance(o, Request)]
    assert len(items) == 2 and [r.url for r in nexts] == [
        "https://reviews.example/trustpilot_page2.html"
    ]
    ingest(sqlite_store, spider.source["id"], items, spider.listening_settings)
    again = list(spider.parse_page(_html(url, "trustpilot_page1.html")))
    assert not any(isinstance(o, Request) for o in again)  # all stored: stop paginating
    assert spider.stopped_incremental == [url]
    not_modified = HtmlResponse(url=url, status=304, body=b"")
    assert list(spider.parse_page(not_modified)) == [] and spider.not_modified == 1


def test_spiders_callbacks_custom_next_selector_and_discourse_follow_up(
    sqlite_store: Store, tmp_path: Path
) -> None:
    url = "https://forum.example/t/colis-jamais-recu/321"
    spider = _spider(sqlite_store, tmp_path, "forum", url, forum_engine="discourse")
    (seed,) = spider.seed_requests()
    assert seed.url == url + ".json" and seed.dont_filter
    body = (PAGES / "discourse_topic.json").read_bytes()
    out = list(spider.parse_page(TextResponse(url=seed.url, body=body, encoding="utf-8")))
    follow = [o for o in out if isinstance(o, Request)]
    assert len([o for o in out if isinstance(o, DocumentIn)]) == 2
    assert [r.url for r in follow] == ["https://forum.example/t/321/posts.json?post_ids%5B%5D=1003"]

    page = "https://bb.example/phpbb_thread.html"
    other = _spider(sqlite_store, tmp_path / "b", "forum", page, next_selector="li.arrow.next a")
    (nxt,) = [
        o for o in other.parse_page(_html(page, "phpbb_thread.html")) if isinstance(o, Request)
    ]
    assert nxt.url == "https://bb.example/phpbb_thread_p2.html"


def test_spiders_captcha_detection_ignores_forms_protected_by_recaptcha() -> None:
    from spiders.middlewares import captcha_reason

    challenge = "<html><head><title>Just a moment...</title></head><body><div class='cf-challenge'></div></body></html>"
    assert captcha_reason(challenge) == "captcha page (cf-challenge)"
    blog = (PAGES / "wordpress_comments.html").read_text(encoding="utf-8")
    padded = blog.replace(
        "</body>",
        "<p>" + "lorem ipsum " * 8000 + "</p>"
        '<form id="commentform"><div class="g-recaptcha"></div></form></body>',
    )
    assert captcha_reason(padded) is None  # a long page whose comment form uses reCAPTCHA
    assert captcha_reason(blog) is None


def test_spiders_callbacks_sitemaps_announced_by_robots_txt(
    sqlite_store: Store, tmp_path: Path
) -> None:
    spider = _spider(
        sqlite_store, tmp_path, "review_site", "https://shop.example/avis", discover="sitemap"
    )
    (seed,) = spider.seed_requests()
    assert seed.url == "https://shop.example/robots.txt" and seed.callback == spider.parse_robots
    robots = b"User-agent: *\nDisallow: /cart\nSitemap: https://shop.example/sitemap_reviews.xml\n"
    found = list(spider.parse_robots(TextResponse(url=seed.url, body=robots, encoding="utf-8")))
    assert [r.url for r in found] == ["https://shop.example/sitemap_reviews.xml"]
    plain = list(
        spider.parse_robots(TextResponse(url=seed.url, body=b"User-agent: *\n", encoding="utf-8"))
    )
    assert [r.url for r in plain] == ["https://shop.example/sitemap.xml"]


def test_spiders_callbacks_forum_threads_are_read_through(
    sqlite_store: Store, tmp_path: Path
) -> None:
    url = "https://bb.example/phpbb_thread.html"
    spider = _spider(sqlite_store, tmp_path, "forum", url)
    items = [
        o for o in spider.parse_page(_html(url, "phpbb_thread.html")) if isinstance(o, DocumentIn)
    ]
    ingest(sqlite_store, spider.source["id"], items, spider.listening_settings)
    again = list(spider.parse_page(_html(url, "phpbb_thread.html")))
    # new posts come at the end of a thread: a known first page does not stop the crawl
    assert [o.url for o in again if isinstance(o, Request)] == [
        "https://bb.example/phpbb_thread_p2.html"
    ]


def test_spiders_callbacks_not_modified_page_follows_remembered_next(
    sqlite_store: Store, tmp_path: Path
) -> None:
    url = "https://bb.example/t1.html"
    forum = _spider(sqlite_store, tmp_path / "f", "forum", url)
    forum.validators = {url: {"etag": '"x"', "next": "https://bb.example/t1-p2.html"}}
    request = Request(url)
    out = list(forum.parse_page(HtmlResponse(url=url, status=304, body=b"", request=request)))
    assert [r.url for r in out] == ["https://bb.example/t1-p2.html"]
    reviews = _spider(sqlite_store, tmp_path / "r", "review_site", url)
    reviews.validators = forum.validators
    assert (
        list(reviews.parse_page(HtmlResponse(url=url, status=304, body=b"", request=request))) == []
    )
