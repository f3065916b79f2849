"""Claims, checks and settings of the distributed workers (no worker process)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from listening.cli import main
from listening.errors import WorkerError
from listening.settings import get_settings, load_settings
from listening.store import Document, Source, Store
from listening.store.work import AnalysisClaim, claim_documents, release_documents, still_claimed
from listening.workers.queues import mask_url, parse_queues, queue_names, require_postgres


def _docs(store: Store, n: int) -> list[int]:
    with store.session() as s:
        src = Source(name="claims", kind="review_site", url="https://example.org/avis")
        s.add(src)
        s.flush()
        docs = [
            Document(source_id=src.id, external_id=f"d{i}", text=f"avis {i}", content_hash=f"h{i}")
            for i in range(n)
        ]
        s.add_all(docs)
        s.flush()
        return [d.id for d in docs]


def test_workers_claims_one_owner_per_document_until_the_lease_ends(store: Store) -> None:
    ids = _docs(store, 4)
    with store.session() as s:
        assert claim_documents(s, ids[:3], "A", 60) == ids[:3]
    with store.session() as s:  # a live claim is never taken over
        assert claim_documents(s, ids[1:], "B", 60) == [ids[3]]
    with store.session() as s:  # B cannot release A's claims
        release_documents(s, ids, "B")
        owners = {
            d: o for d, o in s.execute(select(AnalysisClaim.document_id, AnalysisClaim.owner))
        }
    assert owners == {ids[0]: "A", ids[1]: "A", ids[2]: "A"}
    with store.session() as s:  # a dead run's claim expires: short lease, then takeover
        assert claim_documents(s, [ids[0]], "C", 0.05) == []
        release_documents(s, ids, "A")
        assert claim_documents(s, [ids[0]], "C", 0.05) == [ids[0]]
    time.sleep(0.1)
    with store.session() as s:
        assert claim_documents(s, [ids[0]], "D", 60) == [ids[0]]
    with store.session() as s:  # fencing: C, slower than its lease, must not write ids[0]
        assert still_claimed(s, ids, "C") == set() and still_claimed(s, ids, "D") == {ids[0]}


def test_workers_parse_queues_lists_the_valid_ones() -> None:
    assert parse_queues("") == ["collect", "analyze", "route", "notify"]
    assert parse_queues("analyze, route,analyze") == ["analyze", "route"]
    with pytest.raises(WorkerError) as err:
        parse_queues("analyse,route")
    assert "analyse" in str(err.value) and "collect, analyze, route, notify" in str(err.value)


def test_workers_mask_url_hides_passwords_only() -> None:
    assert mask_url("amqp://guest:s3cret@rabbit:5672//") == "amqp://guest:****@rabbit:5672//"
    assert mask_url("redis://:pw@127.0.0.1:6379/0") == "redis://:****@127.0.0.1:6379/0"
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_workers_settings_queue_names_and_sqlite_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENING_WORKERS__QUEUE_PREFIX", "shop1.")
    settings = load_settings()
    assert queue_names(settings)["analyze"] == "shop1.analyze"
    with pytest.raises(WorkerError, match="need PostgreSQL") as err:
        require_postgres(settings)
    assert "LISTENING_DATABASE_URL=postgresql" in str(err.value)
    monkeypatch.setenv("LISTENING_WORKERS__QUEUE_PREFIX", "bad prefix")
    with pytest.raises(Exception, match="queue_prefix"):
        load_settings()


def test_workers_config_show_masks_broker_and_database_passwords(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LISTENING_WORKERS__BROKER_URL", "amqp://guest:hunter2@127.0.0.1:5672//")
    monkeypatch.setenv("LISTENING_DATABASE_URL", "postgresql+psycopg://u:pgpass@db:5432/x")
    get_settings.cache_clear()
    main(["config", "show", "--json"])
    out = capsys.readouterr().out
    assert "hunter2" not in out and "pgpass" not in out
    values = json.loads(out.strip().splitlines()[-1])
    assert values["workers.broker_url"] == "amqp://guest:****@127.0.0.1:5672//"


def test_workers_cli_errors_are_one_clear_line(
    sqlite_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["worker"])
    assert "L007: distributed workers need PostgreSQL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["worker", "--queues", "analyze,routing"])
    err = capsys.readouterr().err
    assert (
        "unknown queue(s): routing" in err
        and "valid queues: collect, analyze, route, notify" in err
    )


def test_workers_unreachable_broker_names_the_masked_url_and_setting(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LISTENING_DATABASE_URL", pg_url)
    Store(pg_url).init()
    monkeypatch.setenv("LISTENING_WORKERS__BROKER_URL", "amqp://guest:topsecret@127.0.0.1:1//")
    monkeypatch.setenv("LISTENING_WORKERS__CONNECT_RETRIES", "1")
    get_settings.cache_clear()
    with pytest.raises(SystemExit):
        main(["worker", "--queues", "analyze"])
    err = capsys.readouterr().err
    assert "cannot reach the broker at amqp://guest:****@127.0.0.1:1//" in err
    assert "LISTENING_WORKERS__BROKER_URL" in err and "topsecret" not in err


def test_workers_core_does_not_import_celery(tmp_path: Path) -> None:
    code = (
        "import sys, listening.cli, listening.pipeline, listening.collection.scheduler; "
        "print('celery' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr
