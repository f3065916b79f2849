"""Outbound-target guard (SSRF): the one check for every URL listening fetches or posts to.

Source URLs (when added and when crawled), feed URLs, API connector URLs, webhook
targets and each redirect pass through :func:`check_url`. It refuses non-http(s) schemes
and any host that resolves (all its addresses, after DNS) to a loopback, private,
link-local, CGNAT, multicast, reserved or unspecified address, unless
``security.allow_private_targets`` is on or the host is listed in
``security.allowed_hosts``. Cloud metadata endpoints (169.254.169.254, fd00:ec2::254,
metadata.google.internal) are refused even with ``allow_private_targets``: only an explicit
``allowed_hosts`` entry lets one through.

Wiring: :func:`httpx_event_hooks` for httpx clients (the request hook runs before each
request, redirects included), ``spiders.middlewares.SafeTargetMiddleware`` for Scrapy
(redirected requests pass through the downloader middlewares again).

Known limit: for httpx clients the address is checked, then the client resolves the name
again to connect; a DNS server answering differently within that window (DNS rebinding) is
not caught there (crawls are: ``spiders.resolver.SafeResolver`` checks the address Scrapy
connects to). docs/SECURITY.md.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from listening.config.security import SecuritySettings
from listening.errors import UnsafeTargetError
from listening.secrets import mask_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

SCHEMES = ("http", "https")
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "instance-data"})
METADATA_IPS = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
ENV_ALLOW = "LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS"
ENV_HOSTS = "LISTENING_SECURITY__ALLOWED_HOSTS"


def address_class(ip: IPAddress) -> str | None:
    """The refused class of ``ip`` ("loopback", "private"...), or ``None`` for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_IPS:
        return "cloud metadata"
    checks: list[tuple[str, bool]] = [
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("CGNAT (shared)", isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ]
    for name, hit in checks:
        if hit:
            return name
    return None if ip.is_global else "non-public"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


def host_allowed(host: str, allowed: list[str]) -> bool:
    for entry in allowed:
        if host == entry or (entry.startswith("*.") and host.endswith(entry[1:])):
            return True
    return False


def _refuse(
    what: str, url: str, detail: str, host: str, metadata: bool = False
) -> UnsafeTargetError:
    lab = "" if metadata else f", or set {ENV_ALLOW}=true for a lab"
    return UnsafeTargetError(
        f"{what} {mask_url(url)} is refused: {detail}",
        "listening does not fetch from or post to internal addresses (SSRF guard). If this "
        f'target is yours, add its host to {ENV_HOSTS}=["{host}"] (or [security] '
        f"allowed_hosts in listening.toml){lab}; see docs/SECURITY.md",
    )


def check_url(
    url: str,
    security: SecuritySettings | None = None,
    what: str = "URL",
    resolver: Resolver = system_resolver,
) -> None:
    """Raise :class:`UnsafeTargetError` when ``url`` must not be fetched or posted to.

    ``what`` names the URL in the message ("source URL", "webhook"...). A host that does
    not resolve passes (the connection will fail on its own).
    """
    sec = security or SecuritySettings()
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeTargetError(
            f"{what} {mask_url(url)} is refused: scheme {scheme or '(none)'!r} is not http or https",
            "give an absolute http:// or https:// URL",
        )
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeTargetError(f"{what} {mask_url(url)} has no host", "give an absolute URL")
    if host_allowed(host, sec.allowed_hosts):
        return
    if host in METADATA_HOSTS:
        raise _refuse(what, url, f"{host} is a cloud metadata endpoint", host, metadata=True)
    literal = True
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        literal = False
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise UnsafeTargetError(
                f"{what} {mask_url(url)} has a bad port", "fix the URL"
            ) from None
        try:
            addresses = [ipaddress.ip_address(a) for a in resolver(host, port)]
        except (OSError, UnicodeError, ValueError):
            return
    for ip in addresses:
        kind = address_class(ip)
        if kind is None:
            continue
        if kind == "cloud metadata" or not sec.allow_private_targets:
            shown = host if literal else f"{host} resolves to {ip}, which"
            article = "an" if kind[0] in "aeiou" else "a"
            raise _refuse(
                what,
                url,
                f"{shown} is {article} {kind} address",
                host,
                metadata=kind == "cloud metadata",
            )


def httpx_event_hooks(
    security: SecuritySettings | None, what: str = "request to"
) -> dict[str, list[Callable[..., Any]]]:
    """``event_hooks`` for an ``httpx.Client``: every request, each redirect included, is
    checked before it is sent."""

    def _check(request: Any) -> None:
        check_url(str(request.url), security, what)

    return {"request": [_check]}
