from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from listening.errors import RoutingError
from listening.routing.models import Notification
from listening.routing.notifiers import parse_targets, verify_signature
from listening.routing.outbox import _claim, deliver_pending, retry_dead
from listening.routing.service import route_pending
from listening.settings import Settings, load_settings
from listening.store import Store
from listening.store.models import utcnow

MakeDoc = Callable[..., int]


def _settings(targets: dict[str, dict[str, Any]], **routing: Any) -> Settings:
    return load_settings(
        routing={
            "targets": targets,
            "team_targets": {"support": list(targets), "logistics": list(targets)},
            "backoff_seconds": 10,
            "max_attempts": 3,
            "delivery_timeout_seconds": 1,
            **routing,
        }
    )


def _rows(store: Store) -> list[Notification]:
    with store.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def test_outbox_webhook_signed_and_idempotent(store: Store, make_doc: MakeDoc, receiver: Any) -> None:
    settings = _settings({"ops": {"kind": "webhook", "url": receiver.url + "/hook", "secret": "s3cret"}})
    make_doc(store, "Je saisis mon avocat", urgency=["legal_threat"])
    route_pending(store, settings)
    assert deliver_pending(store, settings)["sent"] == 1
    assert deliver_pending(store, settings)["sent"] == 0  # nothing sent twice
    [req] = receiver.received("/hook")
    body, headers = req["body"], req["headers"]
    payload = json.loads(body)
    assert payload["event"] == "ticket.created" and payload["ticket"]["priority"] == "P1"
    assert headers["Idempotency-Key"] == payload["idempotency_key"]
    sig = headers["X-Listening-Signature"]
    ts = sig.split(",")[0].removeprefix("t=")
    expected = hmac.new(b"s3cret", f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert sig.endswith(f"v1={expected}")
    assert verify_signature("s3cret", body, sig)
    assert not verify_signature("wrong", body, sig)
    assert not verify_signature("s3cret", body + b" ", sig)


def test_outbox_retries_with_backoff_then_dead_letters(sqlite_store: Store, make_doc: MakeDoc, receiver: Any) -> None:
    receiver.plan["/down"] = [500]
    settings = _settings({"down": {"kind": "webhook", "url": receiver.url + "/down"}})
    make_doc(sqlite_store, "Je saisis mon avocat", urgency=["legal_threat"])
    route_pending(sqlite_store, settings)
    now = utcnow()
    first = deliver_pending(sqlite_store, settings, now=now)
    assert first["retry"] == 1 and "HTTP 500" in first["errors"][0]
    [row] = _rows(sqlite_store)
    assert row.attempts == 1 and row.next_attempt_at - now >= timedelta(seconds=9)
    assert deliver_pending(sqlite_store, settings, now=now)["retry"] == 0  # not due yet
    second = deliver_pending(sqlite_store, settings, now=now + timedelta(seconds=11))
    assert second["retry"] == 1
    [row] = _rows(sqlite_store)
    assert row.next_attempt_at - (now + timedelta(seconds=11)) >= timedelta(seconds=19)  # doubled
    third = deliver_pending(sqlite_store, settings, now=now + timedelta(hours=1))
    assert third["dead"] == 1
    [row] = _rows(sqlite_store)
    assert row.status == "dead" and row.attempts == 3 and "HTTP 500" in (row.last_error or "")
    assert len(receiver.received("/down", None)) == 3
    receiver.plan["/down"] = [200]
    assert retry_dead(sqlite_store) == 1
    assert deliver_pending(sqlite_store, settings)["sent"] == 1


def test_outbox_4xx_dead_at_once_and_other_targets_unaffected(
    sqlite_store: Store, make_doc: MakeDoc, receiver: Any
) -> None:
    receiver.plan["/bad"] = [404]
    receiver.delay["/slow"] = 3
    settings = _settings(
        {
            "bad": {"kind": "webhook", "url": receiver.url + "/bad"},
            "slow": {"kind": "webhook", "url": receiver.url + "/slow"},
            "good": {"kind": "slack", "url": receiver.url + "/slack"},
            "gone": {"kind": "webhook", "url": "http://127.0.0.1:9/nothing-listens"},
        }
    )
    make_doc(sqlite_store, "Je saisis mon avocat", urgency=["legal_threat"])
    make_doc(sqlite_store, "Colis perdu", author="a_b", topics={"delivery": "negative"})
    route_pending(sqlite_store, settings)
    out = deliver_pending(sqlite_store, settings)
    assert out["sent"] == 2 and out["dead"] == 2  # two tickets to 'good'; two 404s
    # 'slow' timed out on its first row, its second row was deferred; 'gone' likewise
    assert out["retry"] == 2 and out["deferred"] == 2
    status = {(r.target, r.ticket_id): r.status for r in _rows(sqlite_store)}
    assert [s for (t, _), s in status.items() if t == "good"] == ["sent", "sent"]
    assert [s for (t, _), s in status.items() if t == "bad"] == ["dead", "dead"]
    errors = " ".join(out["errors"])
    assert "timeout" in errors and "cannot reach" in errors and "not retried" in errors
    slack = json.loads(receiver.received("/slack")[0]["body"])
    assert slack["text"].startswith("[P1] support") and slack["blocks"][0]["type"] == "section"


def test_outbox_crash_between_routing_and_sending_delivers_exactly_once(
    store: Store, make_doc: MakeDoc, receiver: Any
) -> None:
    settings = _settings({"ops": {"kind": "webhook", "url": receiver.url + "/hook"}})
    make_doc(store, "Je saisis mon avocat", urgency=["legal_threat"])

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        route_pending(store, settings)  # tickets and outbox rows committed together
        raise Crash("process killed before notifying")
    assert receiver.requests == []
    # a second process also crashes after claiming (lease taken, nothing sent)
    _claim(store, settings, utcnow(), 100)
    assert deliver_pending(store, settings)["sent"] == 0  # the lease still holds
    later = utcnow() + timedelta(minutes=5)
    assert deliver_pending(store, settings, now=later)["sent"] == 1
    assert route_pending(store, settings)["routed"] == 0
    assert deliver_pending(store, settings, now=later + timedelta(minutes=5))["sent"] == 0
    assert len(receiver.received("/hook")) == 1


def test_outbox_helpdesk_shapes_and_templates(sqlite_store: Store, make_doc: MakeDoc, receiver: Any) -> None:
    template = '{"title": "Ticket ${ticket.id}: ${ticket.excerpt}", "prio": ${ticket.priority}, "tags": ${ticket.tags}}'
    template = template.replace("${ticket.priority}", '"${ticket.priority}"')
    settings = _settings(
        {
            "zd": {"kind": "zendesk", "url": receiver.url + "/zd"},
            "fd": {"kind": "freshdesk", "url": receiver.url + "/fd", "requester_email": "shop@example.fr"},
            "custom": {"kind": "webhook", "url": receiver.url + "/custom", "template": template},
        }
    )
    make_doc(sqlite_store, 'Colis "perdu", j\'appelle un avocat', urgency=["legal_threat"])
    route_pending(sqlite_store, settings)
    assert deliver_pending(sqlite_store, settings)["sent"] == 3
    zd = json.loads(receiver.received("/zd")[0]["body"])["ticket"]
    assert zd["priority"] == "urgent" and "legal" in zd["tags"] and zd["comment"]["body"]
    fd = json.loads(receiver.received("/fd")[0]["body"])
    assert fd["priority"] == 4 and fd["status"] == 2 and fd["email"] == "shop@example.fr"
    custom = json.loads(receiver.received("/custom")[0]["body"])
    assert custom["title"].startswith("Ticket ") and '"perdu"' in custom["title"]
    assert custom["prio"] == "P1" and custom["tags"] == ["legal"]


@pytest.mark.parametrize(
    "target,message",
    [
        ({"kind": "webhook", "url": "http://x", "template": '{"a": "${ticket.nope}"}'}, "unknown field ${ticket.nope}"),
        ({"kind": "webhook", "url": "http://x", "template": '{"a": ${ticket.excerpt}}'}, "not valid JSON once filled"),
        ({"kind": "pager", "url": "http://x"}, "'webhook', 'slack', 'email', 'zendesk' or 'freshdesk'"),
        ({"kind": "email"}, "needs 'to'"),
        ({"kind": "slack", "url": "ftp://x"}, "needs an http(s) 'url'"),
        ({"kind": "webhook", "url": "http://x", "sekret": "a"}, "valid keys: kind, url"),
    ],
)
def test_outbox_bad_targets_give_clear_errors(target: dict[str, Any], message: str) -> None:
    with pytest.raises(RoutingError) as err:
        parse_targets(load_settings(routing={"targets": {"t": target}}).routing)
    assert message in str(err.value) and "'t'" in str(err.value)


def test_outbox_unknown_team_target_is_an_error() -> None:
    with pytest.raises(RoutingError, match="unknown target 'nope'; configured targets: none"):
        parse_targets(load_settings(routing={"team_targets": {"support": ["nope"]}}).routing)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_outbox_email_through_real_smtp_server(sqlite_store: Store, make_doc: MakeDoc) -> None:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = _settings(
            {"mail": {"kind": "email", "to": ["logistique@example.fr"]}},
            smtp_host="127.0.0.1", smtp_port=port, smtp_from="listening@example.fr",
        )
        make_doc(sqlite_store, "Colis perdu depuis 10 jours", topics={"delivery": "negative"})
        route_pending(sqlite_store, settings)
        assert deliver_pending(sqlite_store, settings)["sent"] == 1
    finally:
        controller.stop()
    [env] = received
    assert env.rcpt_tos == ["logistique@example.fr"] and env.mail_from == "listening@example.fr"
    content = env.content.decode()
    assert "Subject: [P2] logistics" in content and "Colis perdu" in content
    assert "X-Listening-Idempotency-Key: ticket:" in content
    # the SMTP server is gone now: the next email is retried, not lost
    make_doc(sqlite_store, "Encore un colis perdu", author="a_z", topics={"delivery": "negative"})
    route_pending(sqlite_store, settings)
    out = deliver_pending(sqlite_store, settings)
    assert out["retry"] == 1 and "cannot send through 127.0.0.1" in out["errors"][0]
