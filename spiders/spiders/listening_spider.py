"""The ``listening`` spider: crawls one source (review site, forum or blog).

Started by :func:`spiders.launch.run_crawl` with ``-a job=<job.json>`` (the source and
listening's settings). It seeds from the source URL (plus ``start_urls``), or discovers
pages from the site's sitemap or feed (``discover: sitemap|feed``, restricted by
``url_patterns``), extracts verbatims with :mod:`listening.collection.extract`, and
follows pagination (``rel=next`` or the source's ``next_selector``) until a page brings
nothing new: a page whose items are all stored already, or a 304 Not Modified answer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from sqlalchemy import func, select
from twisted.python.failure import Failure

from listening.collection.extract import SOURCE_KIND_TO_EXTRACT, extract
from listening.collection.extract.forums import discourse_missing_post_ids, loads_json
from listening.settings import load_settings
from listening.store import Document, Store
from listening.store.documents import DocumentIn
from spiders.resume import UnfinishedRequests

log = logging.getLogger(__name__)
DISCOURSE_CHUNK = 20
NEXT_SELECTORS = ("link[rel~=next]::attr(href)", "a[rel~=next]::attr(href)")


class ListeningSpider(scrapy.Spider):
    name = "listening"

    def __init__(self, job: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not job:
            raise ValueError("the listening spider needs -a job=<job.json> (see spiders.launch)")
        data = json.loads(Path(job).read_text(encoding="utf-8"))
        self.source: dict[str, Any] = data["source"]
        self.options: dict[str, Any] = dict(self.source.get("settings") or {})
        self.listening_settings = load_settings(**data["settings"])
        self.store = Store.from_settings(self.listening_settings)
        self.validators: dict[str, dict[str, Any]] = data.get("validators") or {}
        self.new_validators: dict[str, dict[str, Any]] = {}
        self.extract_kind = SOURCE_KIND_TO_EXTRACT.get(self.source["kind"], "blog")
        self.patterns = [re.compile(p) for p in self.options.get("url_patterns") or []]
        self.max_pages = int(self.options.get("max_pages") or 0)
        # Review listings show the newest first: a page already stored means the rest is
        # too. Forum threads and comment pages grow at the end: always read them through
        # (conditional requests keep unchanged pages cheap).
        default_stop = self.source["kind"] == "review_site"
        self.stop_when_known = bool(self.options.get("stop_when_known", default_stop))
        self.errors: list[str] = []
        self.blocked_reason: str | None = None
        self.pages = 0
        self.not_modified = 0
        self.stopped_incremental: list[str] = []
        self.items_seen = 0
        # crawls stay on the hosts the source names (its URL, start/feed/sitemap URLs) and
        # the ones its ``allowed_hosts`` setting adds: a next-page link to another site is
        # reported, not followed
        named = [self.source["url"], *(self.options.get("start_urls") or [])]
        named += [self.options.get(k) or "" for k in ("feed_url", "sitemap_url")]
        self.allowed_hosts = {host_of(u) for u in named if host_of(u)} | {
            str(h).lower().strip()
            for h in self.options.get("allowed_hosts") or []
            if str(h).strip()
        }
        self.offsite: list[str] = []

    # ------------------------------------------------------------ seeding

    def _request(self, url: str, callback: Any, seed: bool = False) -> scrapy.Request:
        # Seeds are never dropped by the duplicate filter, so that a redirect loop on
        # them ends in a reported error rather than silently.
        return scrapy.Request(url, callback=callback, errback=self.on_error, dont_filter=seed)

    @property
    def unfinished(self) -> UnfinishedRequests:
        if not hasattr(self, "_unfinished"):
            self._unfinished = UnfinishedRequests(self.crawler.settings.get("JOBDIR"))
        return self._unfinished

    async def start(self) -> AsyncIterator[Any]:
        # a resumed crawl first re-issues what the stopped run had started but not finished
        for entry in self.unfinished.load():
            callback = getattr(self, entry.get("callback") or "", None)
            if callable(callback) and entry["callback"].startswith("parse"):
                yield scrapy.Request(
                    entry["url"], callback=callback, errback=self.on_error, dont_filter=True
                )
        for request in self.seed_requests():
            yield request

    def seed_requests(self) -> Iterator[scrapy.Request]:
        url = self.source["url"]
        discover = self.options.get("discover")
        if discover == "sitemap":
            if self.options.get("sitemap_url"):
                yield self._request(self.options["sitemap_url"], self.parse_sitemap, seed=True)
            else:  # the sitemaps robots.txt announces, else /sitemap.xml
                yield self._request(urljoin(url, "/robots.txt"), self.parse_robots, seed=True)
            return
        if discover == "feed":
            yield self._request(self.options.get("feed_url") or url, self.parse_feed, seed=True)
            return
        for start in [url, *(self.options.get("start_urls") or [])]:
            if self.options.get("forum_engine") == "discourse" and not start.split("?")[0].endswith(
                ".json"
            ):
                start = start.rstrip("/") + ".json"
            yield self._request(start, self.parse_page, seed=True)

    def _wanted(self, url: str) -> bool:
        return not self.patterns or any(p.search(url) for p in self.patterns)

    def _on_site(self, url: str) -> bool:
        """Whether ``url`` is on an allowed host (or a subdomain of one); reports it when not."""
        host = host_of(url)
        if any(host == h or host.endswith("." + h) for h in self.allowed_hosts):
            return True
        if len(self.offsite) < 20:
            self.offsite.append(url)
            self.errors.append(
                f"{url}: not followed, {host or 'no host'} is not the source's host "
                f"({', '.join(sorted(self.allowed_hosts))}); add it to the source's allowed_hosts to crawl it"
            )
        return False

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        text = (
            response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace")
        )
        sitemaps = [
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.lower().startswith("sitemap:") and line.split(":", 1)[1].strip()
        ]
        for sitemap in sitemaps or [urljoin(response.url, "/sitemap.xml")]:
            yield self._request(urljoin(response.url, sitemap), self.parse_sitemap, seed=True)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        from scrapy.utils.sitemap import Sitemap

        try:
            sitemap = Sitemap(response.body)
        except Exception as exc:  # lxml errors on malformed sitemaps
            self.errors.append(f"{response.url}: unreadable sitemap ({exc})")
            return
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if not self._on_site(loc):
                continue
            if sitemap.type == "sitemapindex":
                yield self._request(loc, self.parse_sitemap)
            elif self._wanted(loc):
                yield self._request(loc, self.parse_page)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        import feedparser

        from listening.collection.extract import looks_like_feed

        if not looks_like_feed(response.body) and not response.meta.get("listening_feed_found"):
            # a site's page: follow the feeds it announces (<link rel="alternate" ...>)
            links = response.css(
                "link[rel~=alternate][type*=rss]::attr(href), link[rel~=alternate][type*=atom]::attr(href)"
            ).getall()
            if not links:
                self.errors.append(f"{response.url}: neither a feed nor a page announcing one")
            for link in links:
                request = self._request(urljoin(response.url, link), self.parse_feed)
                request.meta["listening_feed_found"] = True
                yield request
            return
        parsed = feedparser.parse(response.body)
        for entry in parsed.entries:
            link = entry.get("link")
            if link and self._wanted(link) and self._on_site(urljoin(response.url, link)):
                yield self._request(urljoin(response.url, link), self.parse_page)

    # ------------------------------------------------------------ pages

    def parse_page(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            self.not_modified += 1
            # unchanged page: a forum thread may still have grown on its next pages
            remembered = (self.validators.get(response.url) or {}).get("next")
            if remembered and not self.stop_when_known and self._on_site(remembered):
                yield self._follow(response, remembered)
            return
        self.pages += 1
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        charset = content_type.split("charset=")[-1].strip() if "charset=" in content_type else None
        try:
            extraction = extract(
                response.body,
                response.url,
                kind=self.extract_kind,
                options=self.options,
                encoding=charset,
            )
        except Exception as exc:  # one bad page never stops the crawl
            self.errors.append(f"{response.url}: extraction failed ({type(exc).__name__}: {exc})")
            return
        items = extraction.items
        for item in items:
            item.raw = {**item.raw, "page_url": response.url}
            self.items_seen += 1
            yield item
        if extraction.engine == "discourse":
            yield from self._discourse_more(response)
            return
        if self.stop_when_known and items and self._all_known(items):
            self.stopped_incremental.append(response.url)
            log.info("%s: every item is already stored; not paginating further", response.url)
            return
        if self.max_pages and self.pages >= self.max_pages:
            return
        next_url = self._next_url(response)
        if next_url and self._on_site(response.urljoin(next_url)):
            request = self._follow(response, next_url)
            entry = self.new_validators.get(response.url)
            if entry is not None:  # remembered for the next run, when this page answers 304
                entry["next"] = request.url
            yield request

    def _follow(self, response: Response, url: str) -> scrapy.Request:
        return scrapy.Request(
            response.urljoin(url), callback=self.parse_page, errback=self.on_error
        )

    def _next_url(self, response: Response) -> str | None:
        custom = self.options.get("next_selector")
        selectors = [custom] if custom else list(NEXT_SELECTORS)
        for selector in selectors:
            try:
                if selector.startswith(("/", "./")):
                    found = response.xpath(selector).get()
                else:
                    sel = selector if "::" in selector else f"{selector}::attr(href)"
                    found = response.css(sel).get()
            except Exception:
                self.errors.append(f"invalid next_selector {selector!r}")
                return None
            if found:
                return found.strip()
        return None

    def _discourse_more(self, response: Response) -> Iterator[scrapy.Request]:
        data = loads_json(response.text)
        if not isinstance(data, dict) or "/posts.json" in response.url:
            return
        missing = discourse_missing_post_ids(data)
        topic = data.get("id")
        base = response.url.split("/t/")[0]
        for start in range(0, len(missing), DISCOURSE_CHUNK):
            ids = "&".join(f"post_ids[]={pid}" for pid in missing[start : start + DISCOURSE_CHUNK])
            yield self._request(f"{base}/t/{topic}/posts.json?{ids}", self.parse_discourse_posts)

    def parse_discourse_posts(self, response: Response) -> Iterator[Any]:
        data = loads_json(response.text) or {}
        if isinstance(data, dict) and "post_stream" in data:
            data.setdefault("id", data["post_stream"].get("posts", [{}])[0].get("topic_id"))
        yield from self.parse_page(response)

    def _all_known(self, items: list[DocumentIn]) -> bool:
        ids = [item.external_id for item in items]
        with self.store.session() as session:
            known = session.scalar(
                select(func.count(Document.id)).where(
                    Document.source_id == self.source["id"], Document.external_id.in_(ids)
                )
            )
        return int(known or 0) >= len(set(ids))

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        if request is not None and not self.crawler.crawling:
            return  # cut by the crawl being stopped: kept unfinished, fetched on resume
        if request is not None:
            self.unfinished.finished(request)
        url = request.url if request is not None else "?"
        message = str(failure.value) or type(failure.value).__name__
        response = getattr(failure.value, "response", None)
        if response is not None and getattr(response, "status", 200) >= 400:
            message = f"HTTP {response.status}: the page could not be fetched"
        if "robots.txt" in message:
            message = "robots.txt forbids crawling this URL"
        self.errors.append(f"{url}: {message}")


def host_of(url: str) -> str:
    """Lower-case host of ``url`` without ``www.`` ('' for a path or a malformed URL)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")
