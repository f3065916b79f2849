"""SSRF guard: source, feed, API and webhook targets and redirects to internal addresses are
refused before any connection (a local TCP listener must see nothing)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from security_helpers import tcp_listener
from sqlalchemy import select

from listening.collection.channels.collector import make_client as api_client
from listening.collection.feeds import fetch_feed
from listening.collection.feeds import make_client as feed_client
from listening.config.security import SecuritySettings
from listening.errors import SourceError, UnsafeTargetError
from listening.netguard import address_class, check_url
from listening.routing.notifiers import TargetConfig, deliver
from listening.settings import get_settings, load_settings
from listening.store import Store
from listening.store.sources import SourceSpec, add_source

pytestmark = pytest.mark.usefixtures("strict")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:{port}/", "loopback"),
        ("http://10.0.0.7:{port}/", "private"),
        ("http://192.168.1.1:{port}/", "private"),
        ("http://172.16.0.1:{port}/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
        ("http://[::1]:{port}/", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://169.254.1.1/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://0.0.0.0:{port}/", "unspecified"),
        ("http://240.0.0.1/", "reserved"),
        ("http://localhost:{port}/", "localhost resolves to 127.0.0.1"),
        ("http://2130706433:{port}/", "loopback"),  # decimal form of 127.0.0.1
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://127.0.0.1:{port}/_x", "scheme 'gopher'"),
    ],
)
def test_ssrf_targets_refused_before_any_connection(url: str, kind: str) -> None:
    with tcp_listener() as listener:
        target = url.format(port=listener.port)
        for what in ("feed", "api"):
            client = (feed_client if what == "feed" else api_client)(get_settings())
            with client, pytest.raises(UnsafeTargetError) as err:
                client.get(target)
            assert err.value.code == "L010"
            if "scheme" in kind:  # (httpx hands the hook a file: URL without its scheme)
                assert "scheme" in err.value.message
            else:
                assert kind in err.value.message and "ALLOWED_HOSTS" in err.value.hint
        with pytest.raises(UnsafeTargetError) as direct:
            check_url(target, get_settings().security)
        assert kind in direct.value.message
    assert listener.connections == []


def test_ssrf_ipv6_loopback_listener_sees_nothing() -> None:
    with (
        tcp_listener("::1") as listener,
        feed_client(get_settings()) as client,
        pytest.raises(UnsafeTargetError, match="loopback"),
    ):
        client.get(f"http://[::1]:{listener.port}/feed.xml")
    assert listener.connections == []


def test_ssrf_source_add_refused(sqlite_store: Store) -> None:
    with tcp_listener() as listener, sqlite_store.session() as session:
        for url in (
            f"http://127.0.0.1:{listener.port}/forum",
            f"http://localhost:{listener.port}/",
            "http://169.254.169.254/latest/",
        ):
            with pytest.raises(UnsafeTargetError, match="source 'inside': URL"):
                add_source(session, SourceSpec(name="inside", kind="forum", url=url))
        with pytest.raises(SourceError, match="bad URL"):
            add_source(session, SourceSpec(name="inside", kind="forum", url="gopher://x/"))
    assert listener.connections == []


def test_ssrf_webhook_refused_and_not_retried() -> None:
    with tcp_listener() as listener:
        cfg = TargetConfig(kind="webhook", url=f"http://127.0.0.1:{listener.port}/hook")
        result = deliver(
            "ops", cfg, {"event": "ticket.created", "summary": "x"}, "k1", get_settings().routing
        )
        with httpx.Client() as client:  # a caller's own client: the URL is still checked
            result2 = deliver(
                "ops", cfg, {"event": "ticket.created"}, "k2", get_settings().routing, client
            )
    assert not result.ok and not result.retry and "L010" not in result.error
    assert "loopback" in result.error and "ALLOWED_HOSTS" in result.error
    assert not result2.ok and "loopback" in result2.error
    assert listener.connections == []


class _Redirect(BaseHTTPRequestHandler):
    location = ""
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits.append(self.path)
        if self.path == "/robots.txt":
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(302)
        self.send_header("Location", type(self).location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def redirect_server(location: str) -> Iterator[tuple[str, list[str]]]:
    handler = type("Handler", (_Redirect,), {"location": location, "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # reached under its allowed host name; the redirect goes to another (private) host
        yield f"http://localhost:{server.server_address[1]}", handler.hits
    finally:
        server.shutdown()
        server.server_close()


def test_ssrf_redirect_to_private_refused_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENING_SECURITY__ALLOWED_HOSTS", '["localhost"]')
    get_settings.cache_clear()
    with (
        tcp_listener() as listener,
        redirect_server(f"http://127.0.0.1:{listener.port}/internal") as (base, hits),
    ):
        for make in (feed_client, api_client):
            with make(get_settings()) as client, pytest.raises(UnsafeTargetError) as err:
                client.get(f"{base}/feed.xml")
            assert "127.0.0.1 is a loopback address" in err.value.message
        with feed_client(get_settings()) as client, pytest.raises(UnsafeTargetError):
            fetch_feed(client, f"{base}/feed.xml", {}, 100_000)
    assert hits == ["/feed.xml"] * 3  # the allowed host was reached...
    assert listener.connections == []  # ...the private redirect target never


@pytest.mark.slow
def test_ssrf_redirect_to_private_refused_in_crawl(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spiders.launch import run_crawl

    monkeypatch.setenv("LISTENING_SECURITY__ALLOWED_HOSTS", '["localhost"]')
    get_settings.cache_clear()
    settings = load_settings(
        data_dir=str(tmp_path / "data"),
        collection={"crawl_download_delay_s": 0, "crawl_timeout_s": 2, "crawl_retry_times": 0},
    )
    with (
        tcp_listener() as listener,
        redirect_server(f"http://127.0.0.1:{listener.port}/internal") as (base, hits),
    ):
        with sqlite_store.session() as session:
            source, _ = add_source(
                session, SourceSpec(name="fwd", kind="forum", url=f"{base}/thread.html")
            )
            session.flush()
            session.expunge(source)
        result = run_crawl(settings, source)
    assert "/thread.html" in hits, result["errors"]
    errors = " ".join(result["errors"])
    assert "127.0.0.1 is a loopback address" in errors, result
    assert listener.connections == []


def test_ssrf_settings_allow_explicitly() -> None:
    check_url("http://10.1.2.3/", SecuritySettings(allow_private_targets=True))
    check_url(
        "http://intranet.example:8080/",
        SecuritySettings(allowed_hosts=["intranet.example"]),
        resolver=lambda _h, _p: ["10.9.9.9"],
    )
    check_url(
        "http://a.intra.example/",
        SecuritySettings(allowed_hosts=["*.intra.example"]),
        resolver=lambda _h, _p: ["10.9.9.9"],
    )
    with pytest.raises(UnsafeTargetError, match="cloud metadata"):  # never by the lab switch
        check_url("http://169.254.169.254/", SecuritySettings(allow_private_targets=True))
    with pytest.raises(UnsafeTargetError, match="resolves to 10.9.9.9"):  # any resolved address
        check_url("http://mixed.example/", resolver=lambda _h, _p: ["93.184.216.34", "10.9.9.9"])
    check_url("https://93.184.216.34/")
    assert address_class(__import__("ipaddress").ip_address("8.8.8.8")) is None


def test_ssrf_outbox_dead_letters_a_private_webhook(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from listening.routing.models import Notification
    from listening.routing.outbox import deliver_pending, enqueue

    with tcp_listener() as listener:
        monkeypatch.setenv(
            "LISTENING_ROUTING__TARGETS",
            json.dumps({"lan": {"kind": "webhook", "url": f"http://127.0.0.1:{listener.port}/h"}}),
        )
        get_settings.cache_clear()
        with sqlite_store.session() as session:
            enqueue(
                session,
                event="ticket.created",
                key_base="t1",
                targets=["lan"],
                payload={"event": "ticket.created", "summary": "x"},
            )
        out = deliver_pending(sqlite_store, get_settings())
        with sqlite_store.session() as session:
            row = session.scalars(select(Notification)).one()
            status, error = row.status, row.last_error
    assert out["sent"] == 0 and out["dead"] == 1, out
    assert status == "dead" and "127.0.0.1 is a loopback address" in str(error)
    assert listener.connections == []


def test_ssrf_cli_sources_add_one_clear_line() -> None:
    from typer.testing import CliRunner

    from listening.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    res = runner.invoke(
        app, ["sources", "add", "meta", "--kind", "blog", "--url", "http://169.254.169.254/x"]
    )
    assert res.exit_code != 0
    assert "L010" in str(res.exception) and "cloud metadata" in str(res.exception)


def test_ssrf_crawl_resolver_refuses_internal_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connection-time check (DNS rebinding): the crawl's resolver refuses an internal answer."""
    from types import SimpleNamespace

    from scrapy.utils.test import get_crawler
    from twisted.internet import reactor
    from twisted.internet.error import DNSLookupError

    from spiders import settings as spider_settings
    from spiders.resolver import SafeResolver

    assert spider_settings.DNS_RESOLVER == "spiders.resolver.SafeResolver"
    crawler = get_crawler(settings_dict={"DNSCACHE_ENABLED": False})
    resolver = SafeResolver.from_crawler(crawler, reactor)  # type: ignore[arg-type]
    # the resolver is installed by the crawler process, whose crawlers hold the spider
    spider = SimpleNamespace(
        listening_settings=load_settings(security={"allowed_hosts": ["intranet.example"]})
    )
    resolver.crawler = SimpleNamespace(crawlers=[SimpleNamespace(spider=spider)])
    assert resolver.check("93.184.216.34", "shop.example") == "93.184.216.34"
    assert resolver.check("10.0.0.8", "intranet.example") == "10.0.0.8"
    for address in ("127.0.0.1", "10.0.0.8", "169.254.169.254"):
        with pytest.raises(DNSLookupError, match="SSRF guard"):
            resolver.check(address, "rebind.example")
