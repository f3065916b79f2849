"""The read API with FastAPI's TestClient on a seeded store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_helpers import auth
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from listening.api.app import SlidingWindow, create_app
from listening.api.tokens import ApiToken
from listening.config.api import ApiSettings
from listening.settings import get_settings
from listening.store import Store


@pytest.fixture
def client(store: Store, seeded: dict[str, Any]) -> TestClient:
    return TestClient(create_app(store.url))


def assert_error(resp: Any, status: int, *words: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "hint"}
    assert body["error"]["code"] == "L011" and body["error"]["hint"]
    assert "Traceback" not in resp.text
    for word in words:
        assert word in body["error"]["message"], body
    return body["error"]


def test_api_verbatims_cursor_pages_cover_everything_once(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    h = auth(make_token("marketing"))
    ids: list[int] = []
    keys: list[tuple[str, int]] = []
    cursor: str | None = None
    pages = 0
    while True:
        resp = client.get(
            "/v1/verbatims",
            params={"limit": 30, **({"cursor": cursor} if cursor else {})},
            headers=h,
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        pages += 1
        ids += [v["id"] for v in body["items"]]
        keys += [(v["published_at"], v["id"]) for v in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["items"]) == 30
    assert pages == 3 and len(ids) == 80 and len(set(ids)) == 80
    assert keys == sorted(keys, key=lambda k: (datetime.fromisoformat(k[0]), k[1]), reverse=True)


def test_api_verbatims_carry_their_analysis_with_labels(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    h = auth(make_token("community"))
    body = client.get(
        "/v1/verbatims", params={"brand": "Luminéo", "topic": "delivery"}, headers=h
    ).json()
    assert len(body["items"]) == 10 and body["next_cursor"] is None
    item = body["items"][0]
    assert item["brand"] == "Luminéo" and item["source"] == "avis-lumineo"
    assert item["analysis"]["sentiment"] == "positive"
    assert item["analysis"]["sentiment_score"] == pytest.approx(0.8)
    (topic,) = item["analysis"]["topics"]
    assert topic["topic"] == "delivery" and topic["sentiment"] == "positive"
    assert topic["confidence"] == pytest.approx(0.9)
    assert topic["label"] not in ("", "delivery")  # the French label of the taxonomy
    assert topic["evidence"][0]["text"] == item["text"][:9]
    en = client.get(
        "/v1/verbatims", params={"topic": "delivery", "lang": "en", "limit": 1}, headers=h
    ).json()["items"][0]["analysis"]["topics"][0]["label"]
    assert en != topic["label"]


def test_api_verbatims_filters(client: TestClient, make_token: Callable[..., str]) -> None:
    h = auth(make_token("admin"))

    def count(**params: Any) -> int:
        resp = client.get("/v1/verbatims", params={"limit": 200, **params}, headers=h)
        assert resp.status_code == 200, resp.text
        return len(resp.json()["items"])

    assert count(sentiment="negative") == 30
    assert count(sentiment="negative,positive") == 80
    assert count(brand="maison lumière") == 40  # names are matched case-insensitively
    assert count(source="forum-deco", kind="forum") == 40
    assert count(language="fr") == 80 and count(language="de") == 0
    today = datetime.now(UTC).date()
    assert count(since=str(today - timedelta(days=4)), until=str(today)) < 80
    found = client.get("/v1/verbatims", params={"q": "plainte"}, headers=h).json()["items"]
    assert found and all("plainte" in v["text"] for v in found)
    assert count(q="plainte", brand="Luminéo") < len(found)


@pytest.mark.parametrize(
    ("params", "status", "word"),
    [
        ({"brand": "Nope"}, 422, "unknown brand 'Nope'"),
        ({"source": "x"}, 422, "unknown source"),
        ({"topic": "weather"}, 422, "unknown topic 'weather'"),
        ({"sentiment": "happy"}, 422, "unknown sentiment"),
        ({"kind": "tv"}, 422, "unknown source kind"),
        ({"language": "french"}, 422, "invalid language"),
        ({"limit": "abc"}, 422, "limit"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 201}, 422, "largest page"),
        ({"since": "2026-13-45"}, 422, "since"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, 422, "is after until"),
        ({"since": "2001-01-01", "until": "2001-12-31"}, 404, "no verbatim between"),
        ({"cursor": "not-a-cursor"}, 400, "invalid cursor"),
        ({"cursor": "eyJ0IjoxfQ"}, 400, "invalid cursor"),  # valid base64 JSON, wrong content
    ],
)
def test_api_bad_input_is_a_json_4xx(
    client: TestClient,
    make_token: Callable[..., str],
    params: dict[str, Any],
    status: int,
    word: str,
) -> None:
    resp = client.get("/v1/verbatims", params=params, headers=auth(make_token("marketing")))
    error = assert_error(resp, status, word)
    if word.startswith("unknown brand"):
        assert "Luminéo" in error["hint"] and "Maison Lumière" in error["hint"]


def test_api_aggregates(client: TestClient, make_token: Callable[..., str]) -> None:
    h = auth(make_token("marketing"))
    topics = client.get("/v1/aggregates", params={"by": "topic"}, headers=h).json()
    rows = {r["key"]: r for r in topics["items"]}
    assert set(rows) == {"delivery", "product", "customer_service", "price"}
    delivery = rows["delivery"]
    assert (delivery["positive"], delivery["negative"], delivery["n"]) == (10, 10, 20)
    assert delivery["net"] == pytest.approx(0.0) and delivery["net_low"] < 0 < delivery["net_high"]
    assert delivery["label"] != "delivery"
    brands = {
        r["key"]: r
        for r in client.get("/v1/aggregates", params={"by": "brand"}, headers=h).json()["items"]
    }
    assert brands["Maison Lumière"]["n"] == 40 and brands["Luminéo"]["positive"] == 30
    assert brands["Luminéo"]["net"] == pytest.approx((30 - 10) / 40)
    days = client.get("/v1/aggregates", params={"by": "day", "brand": "Luminéo"}, headers=h).json()
    assert sum(r["n"] for r in days["items"]) == 40
    assert [r["key"] for r in days["items"]] == sorted(r["key"] for r in days["items"])
    assert_error(client.get("/v1/aggregates", params={"by": "week"}, headers=h), 422, "by")


def test_api_tickets_and_alerts_by_role(client: TestClient, make_token: Callable[..., str]) -> None:
    marketing, support = auth(make_token("marketing")), auth(make_token("support"))
    assert_error(client.get("/v1/tickets", headers=marketing), 403, "may not read tickets")
    tickets = client.get("/v1/tickets", headers=support).json()
    assert [t["priority"] for t in tickets] == ["P1", "P2", "P3", "P4"]
    assert tickets[0]["sla"] == "breached" and tickets[3]["sla"] == "done"
    open_support = client.get(
        "/v1/tickets", params={"team": "support", "status": "new,assigned"}, headers=support
    ).json()
    assert [t["priority"] for t in open_support] == ["P1", "P2"]
    assert_error(
        client.get("/v1/tickets", params={"status": "done"}, headers=support), 422, "unknown status"
    )
    alerts = client.get("/v1/alerts", headers=auth(make_token("community"))).json()
    assert [(a["brand"], a["topic"], a["recent_count"]) for a in alerts] == [
        ("Maison Lumière", "delivery", 12)
    ]
    assert alerts[0]["label"] != "delivery"


def test_api_tokens_unknown_revoked_expired_are_401(
    client: TestClient, store: Store, make_token: Callable[..., str]
) -> None:
    assert_error(client.get("/v1/verbatims"), 401, "missing API token")
    assert_error(client.get("/v1/verbatims", headers=auth("lst_nope")), 401, "unknown API token")
    token = make_token("admin", name="soon-revoked")
    assert client.get("/v1/verbatims", headers=auth(token)).status_code == 200
    with store.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.name == "soon-revoked"))
        assert row is not None and row.last_used_at is not None  # the request touched it
        assert row.token_hash != token and token not in (row.prefix, row.name)
        row.revoked_at = datetime.now(UTC)
    assert_error(client.get("/v1/verbatims", headers=auth(token)), 401, "is revoked")
    old = make_token("admin", name="old", expires_days=1)
    with store.session() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.name == "old")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    resp = client.get("/v1/tickets", headers=auth(old))
    assert_error(resp, 401, "is expired")
    assert resp.headers["WWW-Authenticate"] == "Bearer"


def test_api_rate_limit_per_token(
    store: Store, seeded: dict[str, Any], make_token: Callable[..., str]
) -> None:
    settings = get_settings().model_copy(update={"api": ApiSettings(rate_limit_per_minute=3)})
    client = TestClient(create_app(store.url, settings=settings))
    first, second = auth(make_token("marketing")), auth(make_token("marketing"))
    for _ in range(3):
        assert client.get("/v1/alerts", headers=first).status_code == 200
    resp = client.get("/v1/alerts", headers=first)
    assert_error(resp, 429, "rate limit of 3 requests per minute")
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert client.get("/v1/alerts", headers=second).status_code == 200  # per token


def test_api_sliding_window_frees_slots_as_time_passes() -> None:
    now = [0.0]
    window = SlidingWindow(2, window=60.0, clock=lambda: now[0])
    assert window.hit("t") is None
    now[0] = 30.0
    assert window.hit("t") is None
    assert window.hit("t") == pytest.approx(30.0)
    now[0] = 60.0  # the first hit left the window
    assert window.hit("t") is None
    assert window.hit("t") == pytest.approx(30.0)
    assert SlidingWindow(0).hit("t") is None  # 0: no limit


def test_api_meta_health_openapi_docs_and_read_only(client: TestClient) -> None:
    assert client.get("/v1/health").json() == {"status": "ok", "version": "0.1.0", "store": "ok"}
    schema = client.get("/openapi.json").json()
    assert {"/v1/verbatims", "/v1/aggregates", "/v1/tickets", "/v1/alerts", "/v1/health"} <= set(
        schema["paths"]
    )
    assert all(set(ops) == {"get"} for ops in schema["paths"].values())  # read-only
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert "swagger" in client.get("/docs").text.lower()
    assert_error(client.get("/v2/nothing"), 404, "Not Found")
    assert_error(client.post("/v1/verbatims"), 405, "Method Not Allowed")
