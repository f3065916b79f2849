"""Retention: expired verbatims anonymised or deleted, per-source override, scheduling by an
injected clock (no sleeping), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from listening.cli import app
from listening.errors import PrivacyError
from listening.gdpr.models import Erasure
from listening.gdpr.retention import apply_retention, retention_due, run_retention_if_due
from listening.settings import get_settings
from listening.store import Analysis, Document, Source, Store
from listening.store.documents import DocumentIn, upsert_documents
from listening.store.sources import SourceSpec, add_source

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _seed(store: Store) -> dict[str, int]:
    """Two sources; verbatims 10, 40 and 400 days old, one without a publication date."""
    ids: dict[str, int] = {}
    with store.session() as s:
        short, _ = add_source(
            s,
            SourceSpec(
                name="short", kind="forum", url="https://f.test/", settings={"retention_days": 30}
            ),
        )
        default, _ = add_source(s, SourceSpec(name="default", kind="blog", url="https://b.test/"))
        for src, prefix in ((short, "s"), (default, "d")):
            items = [
                DocumentIn(
                    f"{prefix}{age}",
                    f"Avis {prefix} vieux de {age} jours, livraison lente.",
                    author=f"client {prefix}{age}",
                    published_at=NOW - timedelta(days=age),
                )
                for age in (10, 40, 400)
            ]
            items.append(DocumentIn(f"{prefix}nodate", f"Avis {prefix} sans date, colis abîmé."))
            res = upsert_documents(s, src.id, None, items, "salt")
            for item, doc_id in zip(items, res.document_ids, strict=True):
                ids[item.external_id] = doc_id
        s.flush()
        for doc_id in ids.values():
            s.add(
                Analysis(
                    document_id=doc_id,
                    model_version="m",
                    sentiment="negative",
                    sentiment_score=-0.5,
                    intent="complaint",
                    topics=[
                        {
                            "topic": "delivery",
                            "sentiment": "negative",
                            "confidence": 0.9,
                            "evidence": [{"start": 0, "end": 4, "text": "Avis"}],
                        }
                    ],
                )
            )
        # the undated verbatims were collected long ago
        s.execute(
            text("UPDATE documents SET collected_at = :at WHERE external_id LIKE '%nodate'"),
            {"at": (NOW - timedelta(days=100)).replace(tzinfo=None)},
        )
    return ids


def _state(store: Store) -> dict[str, str]:
    with store.session() as s:
        return {
            d.external_id if d.erased_at is None else f"erased#{d.id}": d.text
            for d in s.scalars(select(Document))
        }


def test_privacy_retention_anonymises_with_per_source_override(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LISTENING_PRIVACY__RETENTION_DAYS", "365")
    get_settings.cache_clear()
    settings = get_settings()
    ids = _seed(store)
    with store.engine.connect() as conn:
        facts = conn.execute(text("SELECT count(*) FROM analysis_topics")).scalar()
    dry = apply_retention(store, settings, now=NOW, dry_run=True)
    assert dry["by_source"] == {"short": 3, "default": 1} and dry["documents"] == 4
    assert len(_state(store)) == 8 and not any(k.startswith("erased") for k in _state(store))

    done = apply_retention(store, settings, now=NOW)
    assert done["documents"] == 4 and done["counts"]["documents"] == 4
    state = _state(store)
    kept = {k for k in state if not k.startswith("erased")}
    # short (30 days): only the 10-day-old one; default (365): all but the 400-day-old one
    assert kept == {"s10", "d10", "d40", "dnodate"}
    assert all(v == "" for k, v in state.items() if k.startswith("erased"))
    with store.session() as s:
        evidence = [
            a.topics for a in s.scalars(select(Analysis).where(Analysis.document_id == ids["s40"]))
        ]
        record = s.scalar(select(Erasure))
    assert evidence == [[{"topic": "delivery", "sentiment": "negative", "confidence": 0.9}]]
    assert record is not None and record.reason == "retention" and record.documents == 4
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM analysis_topics")).scalar() == facts
    # nothing more to do at the same instant
    assert apply_retention(store, settings, now=NOW)["documents"] == 0


def test_privacy_retention_delete_and_schedule_by_injected_clock(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LISTENING_PRIVACY__RETENTION_ACTION", "delete")
    monkeypatch.setenv("LISTENING_PRIVACY__RETENTION_INTERVAL_HOURS", "24")
    get_settings.cache_clear()
    settings = get_settings()
    _seed(store)
    # only the 'short' source has a retention (global 0 = forever)
    assert retention_due(store, settings, NOW)
    first = run_retention_if_due(store, settings, NOW)
    assert first is not None and first["by_source"] == {"short": 3}
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 5
        assert s.scalar(select(func.count()).select_from(Analysis)) == 5
    # the clock moves: not due for 24 h, then due again and the 10-day-old verbatim has expired
    assert run_retention_if_due(store, settings, NOW + timedelta(hours=23)) is None
    later = NOW + timedelta(days=21)
    again = run_retention_if_due(store, settings, later)
    assert again is not None and again["by_source"] == {"short": 1}
    assert set(_state(store)) == {"d10", "d40", "d400", "dnodate"}
    with store.session() as s:
        assert [e.documents for e in s.scalars(select(Erasure).order_by(Erasure.id))] == [3, 1]


def test_privacy_retention_nothing_configured_and_bad_source(store: Store) -> None:
    settings = get_settings()
    with store.session() as s:
        add_source(s, SourceSpec(name="plain", kind="blog", url="https://b.test/"))
    assert not retention_due(store, settings, NOW)
    assert run_retention_if_due(store, settings, NOW) is None
    with store.session() as s:
        s.add(
            Source(
                name="bad", kind="blog", url="https://c.test/", settings={"retention_days": "soon"}
            )
        )
    with pytest.raises(PrivacyError, match="'bad': retention_days 'soon'"):
        apply_retention(store, settings, now=NOW)


def test_cli_privacy_retention(sqlite_store: Store) -> None:
    _seed(sqlite_store)
    runner = CliRunner()
    out = runner.invoke(
        app, ["privacy", "retention", "--now", "2026-12-01T12:00:00", "--dry-run", "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output.splitlines()[-1])["by_source"] == {"short": 3}
    out = runner.invoke(app, ["privacy", "retention", "--now", "2026-12-01T12:00:00"])
    assert "Anonymised 3 verbatim(s) past retention (short 3)" in out.output
    bad = runner.invoke(app, ["privacy", "retention", "--now", "yesterday"])
    assert isinstance(bad.exception, PrivacyError)


def test_privacy_retention_runs_in_the_scheduler_beat(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The distributed scheduler's tick applies retention when due (real Redis broker)."""
    import uuid

    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis unreachable: {exc}")
    from listening.workers.app import make_app
    from listening.workers.beat import Beat

    prefix = f"t{uuid.uuid4().hex[:10]}."
    monkeypatch.setenv("LISTENING_WORKERS__BROKER_URL", url)
    monkeypatch.setenv("LISTENING_WORKERS__QUEUE_PREFIX", prefix)
    get_settings.cache_clear()
    settings = get_settings()
    _seed(sqlite_store)
    beat = Beat(make_app(settings), sqlite_store, settings)
    try:
        first = beat.tick(now=NOW)
        assert first["retention"]["by_source"] == {"short": 3}
        assert "retention" not in beat.tick(now=NOW + timedelta(hours=1))
        later = beat.tick(now=NOW + timedelta(days=21))
        assert later["retention"]["by_source"] == {"short": 1}
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


def test_privacy_retention_runs_in_serve(sqlite_store: Store) -> None:
    """One `listening serve` pass applies retention after the downstream stages."""
    from listening.collection.scheduler import serve
    from listening.store.models import utcnow

    now = utcnow()
    with sqlite_store.session() as s:
        src, _ = add_source(
            s,
            SourceSpec(
                name="old",
                kind="blog",
                url="https://b.test/",
                enabled=False,
                settings={"retention_days": 7},
            ),
        )
        upsert_documents(
            s,
            src.id,
            None,
            [
                DocumentIn(
                    "x1", "Vieil avis, livraison en retard.", published_at=now - timedelta(days=8)
                ),
                DocumentIn(
                    "x2", "Avis récent, tout va bien.", published_at=now - timedelta(days=1)
                ),
            ],
            "salt",
        )
    summaries: list[dict[str, object]] = []
    assert serve(sqlite_store, get_settings(), once=True, on_pass=summaries.append) == 1
    downstream = summaries[0]["downstream"]
    assert isinstance(downstream, dict) and downstream["retention"]["by_source"] == {"old": 1}
    assert set(_state(sqlite_store)) == {"x2", f"erased#{min(_ids(sqlite_store))}"}


def _ids(store: Store) -> list[int]:
    with store.session() as s:
        return list(s.scalars(select(Document.id)))
