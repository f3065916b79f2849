"""Downloader middlewares: SSRF guard, retries with backoff, block detection, conditional
requests."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.defer import deferred_from_coro

from listening.config.security import SecuritySettings
from listening.errors import UnsafeTargetError
from listening.netguard import check_url

log = logging.getLogger(__name__)

BLOCK_STATUSES = {403: "HTTP 403 Forbidden", 429: "HTTP 429 Too Many Requests"}
CAPTCHA_MARKERS = (
    "g-recaptcha",
    "h-captcha",
    "hcaptcha.com/1/api.js",
    "cf-challenge",
    "/cdn-cgi/challenge-platform",
    "captcha-delivery.com",
    "px-captcha",
    "attention required! | cloudflare",
    "are you a robot",
    "êtes-vous un robot",
)


_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
CHALLENGE_TITLES = (
    "captcha",
    "attention required",
    "just a moment",
    "access denied",
    "are you a robot",
    "êtes-vous un robot",
    "security check",
    "vérification de sécurité",
)
CHALLENGE_MAX_BYTES = 60_000


def captcha_reason(html: str) -> str | None:
    """``captcha page (marker)`` when ``html`` is an anti-bot challenge, else ``None``.

    A marker alone is not enough (a blog's comment form may embed reCAPTCHA): the page
    must also be small, or titled like a challenge page.
    """
    head = html[:200_000].lower()
    marker = next((m for m in CAPTCHA_MARKERS if m in head), None)
    if marker is None:
        return None
    title_match = _TITLE_RE.search(head)
    title = title_match.group(1) if title_match else ""
    if len(html) < CHALLENGE_MAX_BYTES or any(t in title for t in CHALLENGE_TITLES):
        return f"captcha page ({marker})"
    return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, each one scheduled after an exponentially growing pause."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = float(settings.getfloat("LISTENING_RETRY_BACKOFF_S", 5.0))

    def _retry(self, request: Request, reason: Any, *args: Any, **kwargs: Any) -> Request | None:
        retried = super()._retry(request, reason, *args, **kwargs)
        if retried is not None:
            attempt = int(retried.meta.get("retry_times", 1))
            retried.meta["listening_backoff_s"] = self.backoff * (2 ** (attempt - 1))
        return retried


class BackoffDelayMiddleware:
    """Waits ``request.meta['listening_backoff_s']`` before sending a retried request."""

    async def process_request(self, request: Request) -> None:
        delay = float(request.meta.pop("listening_backoff_s", 0) or 0)
        if delay > 0:
            log.info("waiting %.1f s before retrying %s", delay, request.url)
            await asyncio.sleep(delay)
        return None


class BlockDetectionMiddleware:
    """A 403, a 429 or a captcha page stops the crawl and marks the source blocked.

    listening never tries to get around anti-bot measures: the reason is reported so
    the source's health shows it, and a person decides what to do.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockDetectionMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        spider = self.crawler.spider
        if response.url.endswith("/robots.txt"):
            return response
        reason = BLOCK_STATUSES.get(response.status)
        if reason is None and isinstance(response, TextResponse) and response.status in (200, 503):
            reason = captcha_reason(response.text)
        if reason is None:
            return response
        message = f"{reason} at {response.url}"
        if not getattr(spider, "blocked_reason", None):
            spider.blocked_reason = message  # type: ignore[union-attr]
            log.warning("source blocked: %s; stopping the crawl", message)
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="blocked"))
        raise IgnoreRequest(message)


class SafeTargetMiddleware:
    """The SSRF guard (:mod:`listening.netguard`) on every request the crawl makes: seeds,
    links, robots.txt, sitemaps and each redirect (Scrapy's RedirectMiddleware schedules
    the redirected request anew, so it passes here before any connection)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.verdicts: dict[tuple[str, str, int | None], str | None] = {}  # per crawl

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeTargetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        listening = getattr(self.crawler.spider, "listening_settings", None)
        security = listening.security if listening is not None else SecuritySettings()
        parts = urlsplit(request.url)
        try:
            key = (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port)
        except ValueError:
            key = (parts.scheme.lower(), parts.netloc, None)
        if key not in self.verdicts:  # one DNS look-up per host and crawl, not per page
            try:
                check_url(request.url, security, "crawl request to")
                self.verdicts[key] = None
            except UnsafeTargetError as exc:
                self.verdicts[key] = str(exc)
        refused = self.verdicts[key]
        if refused is not None:
            log.warning("%s", refused)
            raise IgnoreRequest(refused)
        return None


class ConditionalRequestMiddleware:
    """``If-None-Match`` / ``If-Modified-Since`` from the validators of the previous run.

    The spider keeps validators in ``spider.validators`` ({url: {"etag", "last_modified"}});
    a 304 answer reaches the spider, which treats the page as unchanged.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        known = getattr(self.crawler.spider, "validators", {}).get(request.url)
        if not known or request.meta.get("listening_unconditional"):
            return None
        if known.get("etag"):
            request.headers.setdefault(b"If-None-Match", known["etag"].encode("latin-1"))
        if known.get("last_modified"):
            request.headers.setdefault(
                b"If-Modified-Since", known["last_modified"].encode("latin-1")
            )
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        spider = self.crawler.spider
        if response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            if etag or modified:
                validators = getattr(spider, "new_validators", None)
                if validators is not None:
                    validators[response.url] = {
                        "etag": etag.decode("latin-1") if etag else None,
                        "last_modified": modified.decode("latin-1") if modified else None,
                    }
        return response
