"""Requests a stopped crawl had started but not finished, kept in its JOBDIR for the resume.

Scrapy's JOBDIR keeps the queue of pending requests and the fingerprints of every
request already scheduled, but a request that was being downloaded (or whose page was
being parsed) when the crawl stopped is in neither: it is not pending any more, and
its fingerprint marks it as seen, so a resumed crawl would never fetch it, nor the
pages it leads to. :class:`UnfinishedRequests` records each request from the moment it
reaches the downloader until its callback has run to the end (or it failed for a
reason other than the stop), in ``<JOBDIR>/listening_unfinished.json``, rewritten on
every change so that even a killed process leaves it behind. A resumed crawl issues
those requests again first (:meth:`ListeningSpider.start`).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

FILE_NAME = "listening_unfinished.json"


class UnfinishedRequests:
    """URL + callback name of every started, unfinished request of one crawl."""

    def __init__(self, jobdir: str | None) -> None:
        self.path = Path(jobdir) / FILE_NAME if jobdir else None
        self.requests: dict[str, dict[str, str]] = {}

    @staticmethod
    def _key(request: Request) -> str:
        callback = getattr(request.callback, "__name__", "parse")
        return f"{callback} {request.url}"

    def load(self) -> list[dict[str, str]]:
        """What the previous, stopped run left unfinished (and forget it: it is re-issued)."""
        if self.path is None or not self.path.exists():
            return []
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        self._save()
        return [e for e in entries if isinstance(e, dict) and e.get("url")]

    def started(self, request: Request) -> None:
        callback = getattr(request.callback, "__name__", None)
        if callback is None or self.path is None:
            return
        self.requests[self._key(request)] = {"url": request.url, "callback": callback}
        self._save()

    def finished(self, request: Request) -> None:
        if self.requests.pop(self._key(request), None) is not None:
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(list(self.requests.values())), encoding="utf-8")
        os.replace(temporary, self.path)


class UnfinishedRequestsMiddleware:
    """Spider middleware: a request is finished once its callback's output is consumed."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.request_reached, signal=signals.request_reached_downloader)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UnfinishedRequestsMiddleware:
        return cls(crawler)

    def _tracker(self) -> UnfinishedRequests | None:
        return getattr(self.crawler.spider, "unfinished", None)

    def request_reached(self, request: Request, spider: Any) -> None:
        tracker = self._tracker()
        if tracker is not None:
            tracker.started(request)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        yield from result
        self._done(response)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for item in result:
            yield item
        self._done(response)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        self._done(response)  # the callback failed: reported by Scrapy, not resumed

    def _done(self, response: Response) -> None:
        tracker = self._tracker()
        if tracker is not None and response.request is not None:
            tracker.finished(response.request)
