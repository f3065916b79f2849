"""The crawl's DNS resolver with the SSRF guard at connection time.

``SafeTargetMiddleware`` checks each request's host before it is scheduled; this resolver
checks again the very address Scrapy is about to connect to (the answer it caches for the
crawl). A DNS server that answered a public address to the first look-up and an internal
one to the connection's (DNS rebinding) is refused here. Same rules and settings as
:mod:`listening.netguard`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, cast

from scrapy.crawler import Crawler
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.base import ReactorBase
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from listening.config.security import SecuritySettings
from listening.netguard import address_class, host_allowed
from listening.settings import get_settings


class SafeResolver(CachingThreadedResolver):
    """``CachingThreadedResolver`` that refuses internal addresses (SSRF guard)."""

    crawler: Any = None  # the Crawler, or the CrawlerProcess that installs the resolver

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> SafeResolver:  # type: ignore[override]
        resolver = super().from_crawler(crawler, reactor)
        resolver.crawler = crawler
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802
        deferred = super().getHostByName(name, timeout)
        deferred.addCallback(self.check, name)
        return deferred

    def security(self) -> SecuritySettings:
        """The crawl's security settings (the resolver is installed once per process: it is
        handed the crawler process, whose crawlers hold the listening spider)."""
        owner: Any = self.crawler
        crawlers = [owner] if hasattr(owner, "spider") else list(getattr(owner, "crawlers", []))
        for crawler in crawlers:
            listening = getattr(getattr(crawler, "spider", None), "listening_settings", None)
            if listening is not None:
                return cast(SecuritySettings, listening.security)
        return get_settings().security

    def check(self, address: Any, name: str) -> Any:
        """``address`` when ``name`` may be reached there, else :class:`DNSLookupError`."""
        security = self.security()
        host = name.lower().rstrip(".")
        if host_allowed(host, security.allowed_hosts):
            return address
        try:
            kind = address_class(ipaddress.ip_address(str(address)))
        except ValueError:
            return address
        if kind is not None and (kind == "cloud metadata" or not security.allow_private_targets):
            raise DNSLookupError(
                f"{name} resolved to {address}, a {kind} address: refused (SSRF guard, "
                "docs/SECURITY.md; LISTENING_SECURITY__ALLOWED_HOSTS allows a host)"
            )
        return address
