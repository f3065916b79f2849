"""Digests through a real local SMTP server (aiosmtpd): content, once per period, schedule
with an injected clock, the CLI, and the distributed scheduler's trigger (real Redis)."""

from __future__ import annotations

import contextlib
import email
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from report_seed import seed_report
from sqlalchemy import select

from listening.errors import ReportError
from listening.reports.digest import (
    audience_key,
    due_period,
    pending_audiences,
    send_digest,
    send_due_digests,
)
from listening.settings import Settings, get_settings, load_settings
from listening.store import Store
from listening.store.digests import ReportDigest

# the seed's verbatims fall in the 20 days before SEEDED; the week Mon 2 – Sun 8 March 2026
# is the last complete week on Wednesday 11 March
SEEDED = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
WEDNESDAY = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
RECIPIENTS = {
    "team:support": ["sav@example.fr"],
    "role:marketing": ["cmo@example.fr", "cm@example.fr"],
}


class Mailbox:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(envelope)
        return "250 OK"

    def messages(self) -> list[Message]:
        return [email.message_from_bytes(e.content) for e in self.received]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _settings(port: int, **insights: Any) -> Settings:
    return load_settings(
        routing={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": "listening@example.fr"},
        insights={"digest_recipients": RECIPIENTS, "report_centrality": "tfidf", **insights},
    )


def _rows(store: Store) -> list[tuple[str, str, str, int]]:
    with store.session() as s:
        return [
            (r.audience, r.period_start.isoformat(), r.status, r.attempts)
            for r in s.scalars(select(ReportDigest).order_by(ReportDigest.id))
        ]


def test_reports_digest_sent_once_per_period(store: Store, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    seed_report(store, SEEDED)
    settings = _settings(port)
    out = send_digest(store, settings, "team:support", now=WEDNESDAY)
    assert out["status"] == "sent" and (out["start"], out["end"]) == ("2026-03-02", "2026-03-08")
    [env] = box.received
    assert env.rcpt_tos == ["sav@example.fr"] and env.mail_from == "listening@example.fr"
    [msg] = box.messages()
    subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
    assert subject == "Synthèse semaine Maison Lumière : 02/03/2026 → 08/03/2026"
    parts = {part.get_content_type(): part for part in msg.walk()}
    html = parts["text/html"].get_payload(decode=True).decode()
    assert "Équipe : support" in html and "data:image/png;base64," in html
    plain = parts["text/plain"].get_payload(decode=True).decode()
    assert "| Tickets ouverts |" in plain and "Le rapport PDF est joint." in plain
    pdf = parts["application/pdf"]
    assert pdf.get_filename() == "report-2026-03-02-2026-03-08.pdf"
    assert pdf.get_payload(decode=True).startswith(b"%PDF-")
    # the same period again: nothing sent, nothing written twice
    again = send_digest(store, settings, "team:support", now=WEDNESDAY + timedelta(hours=2))
    assert again["status"] == "skipped" and "already sent" in again["reason"]
    assert len(box.received) == 1 and _rows(store) == [("team:support", "2026-03-02", "sent", 1)]
    # unless forced
    assert (
        send_digest(store, settings, "team:support", now=WEDNESDAY, force=True)["status"] == "sent"
    )
    assert len(box.received) == 2 and _rows(store) == [("team:support", "2026-03-02", "sent", 2)]
    # a dry run builds it, sends and records nothing
    dry = send_digest(store, settings, "role:marketing", now=WEDNESDAY, dry_run=True)
    assert dry["status"] == "dry_run" and dry["pdf_bytes"] > 10_000 and len(box.received) == 2
    assert len(_rows(store)) == 1


def test_reports_digest_failures_are_recorded_and_retried(sqlite_store: Store) -> None:
    seed_report(sqlite_store, SEEDED)
    settings = _settings(_free_port())  # nothing listens there
    out = send_digest(sqlite_store, settings, "team:support", now=WEDNESDAY)
    assert out["status"] == "failed" and "cannot send through 127.0.0.1" in out["error"]
    assert _rows(sqlite_store) == [("team:support", "2026-03-02", "failed", 1)]
    # the scheduler waits digest_retry_minutes before trying again
    assert pending_audiences(sqlite_store, settings, WEDNESDAY) == ["role:marketing"]
    later = WEDNESDAY + timedelta(minutes=61)
    assert pending_audiences(sqlite_store, settings, later) == ["team:support", "role:marketing"]


def test_reports_digest_schedule_with_an_injected_clock(
    sqlite_store: Store, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    seed_report(sqlite_store, SEEDED)
    settings = _settings(port, digest_weekday=0, digest_hour=7)  # Monday 07:00, Europe/Paris
    monday_early = datetime(2026, 3, 9, 5, 30, tzinfo=UTC)  # 06:30 in Paris
    assert due_period(settings, monday_early) is None
    assert send_due_digests(sqlite_store, settings, monday_early) == {"due": False, "digests": []}
    monday_on_time = datetime(2026, 3, 9, 6, 5, tzinfo=UTC)  # 07:05 in Paris
    out = send_due_digests(sqlite_store, settings, monday_on_time)
    assert out["due"] and [d["status"] for d in out["digests"]] == ["sent", "sent"]
    assert sorted(tuple(e.rcpt_tos) for e in box.received) == [
        ("cmo@example.fr", "cm@example.fr"),
        ("sav@example.fr",),
    ]
    # every later pass of the week does nothing
    for hours in (1, 30, 100):
        assert (
            send_due_digests(sqlite_store, settings, monday_on_time + timedelta(hours=hours))[
                "digests"
            ]
            == []
        )
    assert len(box.received) == 2
    # next Monday: the week 9–15 March has no verbatim: recorded, nothing sent
    out = send_due_digests(sqlite_store, settings, monday_on_time + timedelta(days=7))
    assert [d["status"] for d in out["digests"]] == ["no_data", "no_data"]
    assert len(box.received) == 2
    assert [r[1:3] for r in _rows(sqlite_store)] == [
        ("2026-03-02", "sent"),
        ("2026-03-02", "sent"),
        ("2026-03-09", "no_data"),
        ("2026-03-09", "no_data"),
    ]


def test_reports_digest_audiences_are_checked() -> None:
    settings = load_settings(insights={"digest_recipients": RECIPIENTS})
    assert audience_key("support", None, settings) == "team:support"
    with pytest.raises(ReportError, match="configured: role:marketing, team:support"):
        audience_key("logistics", None, settings)
    with pytest.raises(ReportError, match="either --team or --role"):
        audience_key("support", "marketing", settings)
    from listening.errors import ConfigError

    with pytest.raises(ConfigError, match='must be "team:<team>" or "role:<role>"'):
        load_settings(insights={"digest_recipients": {"support": ["a@b.fr"]}})
    with pytest.raises(ConfigError, match="needs e-mail addresses"):
        load_settings(insights={"digest_recipients": {"team:support": ["nobody"]}})


def test_reports_digest_cli(
    sqlite_store: Store,
    smtp: tuple[Mailbox, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from listening.cli import main

    box, port = smtp
    seed_report(sqlite_store, datetime.now(UTC) - timedelta(days=datetime.now(UTC).weekday()))
    monkeypatch.setenv("LISTENING_INSIGHTS__DIGEST_RECIPIENTS", json.dumps(RECIPIENTS))
    monkeypatch.setenv("LISTENING_INSIGHTS__REPORT_CENTRALITY", "tfidf")
    monkeypatch.setenv("LISTENING_ROUTING__SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LISTENING_ROUTING__SMTP_PORT", str(port))
    get_settings.cache_clear()
    main(["digest", "send", "--role", "marketing", "--dry-run", "--json"])
    dry = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert dry["status"] == "dry_run" and not box.received
    main(["digest", "send", "--role", "marketing"])
    assert "Digest role:marketing" in capsys.readouterr().out and len(box.received) == 1
    main(["digest", "send", "--role", "marketing"])
    assert "skipped (already sent for this period)" in capsys.readouterr().out
    assert len(box.received) == 1
    with pytest.raises(SystemExit) as exc:
        main(["digest", "send", "--team", "nope"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("Error: L013: no digest recipients for 'team:nope'")
        and "Traceback" not in err
    )


def _redis_url() -> str | None:
    url = os.environ.get("LISTENING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return url
    except OSError:
        return None


def test_reports_scheduler_enqueues_the_digest_when_due(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("celery")
    import uuid

    from listening.workers.app import make_app, queue_depths
    from listening.workers.beat import Beat

    url = _redis_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("Redis is required in CI")
        pytest.skip("Redis unreachable on 127.0.0.1:6379")
    seed_report(sqlite_store, SEEDED)
    settings = _settings(_free_port()).model_copy(
        update={
            "workers": load_settings().workers.model_copy(
                update={"broker_url": url, "queue_prefix": f"t{uuid.uuid4().hex[:10]}."}
            )
        }
    )
    app = make_app(settings)
    clock = [datetime(2026, 3, 9, 5, 30, tzinfo=UTC)]  # Monday 06:30 in Paris: not yet
    beat = Beat(app, sqlite_store, settings, clock=lambda: clock[0])
    try:
        assert beat.tick()["enqueued"]["digest"] == 0
        clock[0] = datetime(2026, 3, 9, 6, 5, tzinfo=UTC)  # 07:05: due
        base = queue_depths(app, settings)["notify"] or 0
        assert beat.tick()["enqueued"]["digest"] == 1
        assert beat.tick()["enqueued"]["digest"] == 0  # not twice in a row
        assert (queue_depths(app, settings)["notify"] or 0) >= base + 1
        # once the digests are recorded as sent, a later tick (past the retry delay) sends none
        with sqlite_store.session() as s:
            for audience in RECIPIENTS:
                s.add(
                    ReportDigest(
                        audience=audience,
                        period="week",
                        period_start=datetime(2026, 3, 2).date(),
                        period_end=datetime(2026, 3, 8).date(),
                        status="sent",
                        recipients=[],
                        attempts=1,
                    )
                )
        clock[0] += timedelta(hours=2)
        assert beat.tick()["enqueued"]["digest"] == 0
    finally:
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            for kind in ("collect", "analyze", "route", "notify"):
                with contextlib.suppress(Exception):
                    channel.queue_delete(f"{settings.workers.queue_prefix}{kind}")


def test_reports_serve_pass_sends_the_due_digest_once(
    sqlite_store: Store, smtp: tuple[Mailbox, int]
) -> None:
    """`listening serve`'s downstream stages send the weekly digest when due (real clock)."""
    from zoneinfo import ZoneInfo

    from listening.pipeline import run_downstream

    box, port = smtp
    now = datetime.now(UTC)
    seed_report(sqlite_store, now)
    local = now.astimezone(ZoneInfo("Europe/Paris"))
    settings = _settings(port, digest_weekday=local.weekday(), digest_hour=0)  # due since midnight
    first = run_downstream(sqlite_store, settings)
    assert [d["status"] for d in first["digests"]["digests"]] == ["sent", "sent"]
    assert len(box.received) == 2
    second = run_downstream(sqlite_store, settings)
    assert second["digests"] == {"due": True, "digests": []} and len(box.received) == 2
    quiet = run_downstream(
        sqlite_store,
        _settings(port).model_copy(
            update={"insights": settings.insights.model_copy(update={"digest_recipients": {}})}
        ),
    )
    assert "digests" not in quiet  # no recipients: the stage is not even looked at


def test_reports_digest_two_senders_at_once_send_one(
    store: Store, smtp: tuple[Mailbox, int]
) -> None:
    """Two processes (threads here) on one store: the (audience, period) row lets one win."""
    from concurrent.futures import ThreadPoolExecutor

    box, port = smtp
    seed_report(store, SEEDED)
    settings = _settings(port, digest_pdf=False)
    with ThreadPoolExecutor(4) as pool:
        outs = list(
            pool.map(
                lambda _: send_digest(store, settings, "team:support", now=WEDNESDAY), range(4)
            )
        )
    assert sorted(o["status"] for o in outs) == ["sent", "skipped", "skipped", "skipped"]
    assert len(box.received) == 1
    assert _rows(store) == [("team:support", "2026-03-02", "sent", 1)]
