"""analyze_pending on real stores (SQLite and PostgreSQL): rows, idempotence, versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from nlp_helpers import plain_settings
from sqlalchemy import select

from listening.settings import Settings
from listening.store import Analysis, Document, Source, Store
from listening.store.work import live_claims
from nlp import service
from nlp.pipeline import Analyzer


def _add_docs(store: Store, texts: list[str]) -> list[int]:
    with store.session() as s:
        src = Source(name="test-reviews", kind="review_site", url="https://example.org/avis")
        s.add(src)
        s.flush()
        docs = [Document(source_id=src.id, external_id=f"r{i}", text=t, content_hash=f"h{i}")
                for i, t in enumerate(texts)]
        s.add_all(docs)
        s.flush()
        return [d.id for d in docs]


def _settings_for(store: Store, tmp_path: Path, **nlp: object) -> Settings:
    settings = plain_settings(tmp_path, **nlp)
    return settings.model_copy(update={"database_url": store.url})


def test_service_analyze_pending_rerun_and_version_change(
    store: Store, tmp_path: Path, analyzer: Analyzer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    texts = ["livraison rapide mais SAV injoignable", "je vais porter plainte",
             "merci, bonne journée", "", "🙂🙂"]
    ids = _add_docs(store, texts)
    settings = _settings_for(store, tmp_path)
    # reuse the session analyzer (same encoder and heads) to keep the test fast
    monkeypatch.setattr(service, "get_analyzer", lambda _s: analyzer)
    first = service.analyze_pending(store, settings)
    assert first == {"analysed": 5, "failed": 0, "skipped": 0, "model_version": analyzer.model_version}
    with store.session() as s:
        rows = {a.document_id: a for a in s.scalars(select(Analysis))}
    assert set(rows) == set(ids)
    legal = rows[ids[1]]
    assert "legal_threat" in legal.urgency and legal.actionable and legal.sentiment == "negative"
    assert not rows[ids[2]].actionable
    topics = {t["topic"]: t for t in rows[ids[0]].topics}
    ev = topics["customer_service"]["evidence"][0]
    assert texts[0][ev["start"] : ev["end"]] == ev["text"]
    assert rows[ids[3]].language == "und" and rows[ids[3]].topics == []

    again = service.analyze_pending(store, settings)
    assert again["analysed"] == 0 and again["failed"] == 0 and again["skipped"] == 5

    # another model version (here: another pattern boost) re-analyses everything, keeping history
    other = Analyzer(_settings_for(store, tmp_path, pattern_boost=0.1),
                     encoder=analyzer.encoder, heads=dict(analyzer.heads))
    assert other.model_version != analyzer.model_version
    monkeypatch.setattr(service, "get_analyzer", lambda _s: other)
    third = service.analyze_pending(store, settings, limit=3)
    assert third["analysed"] == 3 and third["model_version"] == other.model_version
    rest = service.analyze_pending(store, settings)
    assert rest["analysed"] == 2
    with store.session() as s:
        versions = s.scalars(select(Analysis.model_version)).all()
    assert sorted(set(versions)) == sorted({analyzer.model_version, other.model_version})
    assert len(versions) == 10


def test_service_get_analyzer_is_cached(tmp_path: Path) -> None:
    settings = plain_settings(tmp_path)
    first = service.get_analyzer(settings)
    assert service.get_analyzer(settings) is first
    assert first.model_version.startswith("nlp1-")


def test_analyze_stream_gives_the_results_of_analyze_in_order(analyzer: Analyzer) -> None:
    batches = [
        (["livraison rapide mais SAV injoignable", "je vais porter plainte"], None, "a"),
        (["", "Remboursement toujours pas reçu après mon retour"], ["fr", None], "b"),
        (["where is my order??"], ["en"], "c"),
    ]
    streamed = list(analyzer.analyze_stream(iter(batches)))
    assert [tag for tag, _ in streamed] == ["a", "b", "c"]
    for (texts, hints, _tag), (_, results) in zip(batches, streamed, strict=True):
        assert [r.to_json() for r in results] == [r.to_json() for r in analyzer.analyze(texts, hints)]


def test_analyze_stream_surfaces_a_failing_source_after_the_batches_before_it(
    analyzer: Analyzer,
) -> None:
    def source():  # type: ignore[no-untyped-def]
        yield ["SAV injoignable"], None, 1
        raise RuntimeError("store went away")

    stream = analyzer.analyze_stream(source())
    tag, results = next(stream)  # the next batch is pulled before this one is handed out
    assert tag == 1 and results[0].topics
    with pytest.raises(RuntimeError, match="store went away"):
        next(stream)


def test_service_streams_batches_and_releases_its_claims_when_a_batch_fails(
    store: Store, tmp_path: Path, analyzer: Analyzer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    texts = [f"colis numéro {i} toujours pas reçu" for i in range(7)]
    _add_docs(store, texts)
    settings = _settings_for(store, tmp_path, batch_size=2)
    monkeypatch.setattr(service, "get_analyzer", lambda _s: analyzer)
    calls = {"n": 0}
    real = analyzer.analyze_prepared

    def fail_second(items):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("encoder crashed")
        return real(items)

    monkeypatch.setattr(analyzer, "analyze_prepared", fail_second)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        service.analyze_pending(store, settings)
    with store.session() as s:
        assert len(s.scalars(select(Analysis)).all()) == 2  # the first batch was written
        # neither the failed batch nor the one claimed ahead of it stays claimed
        assert s.execute(select(Document.id).where(Document.id.in_(live_claims()))).all() == []
    monkeypatch.setattr(analyzer, "analyze_prepared", real)
    done = service.analyze_pending(store, settings, limit=3)
    assert done["analysed"] == 3  # a limit that is not a multiple of the batch size
    rest = service.analyze_pending(store, settings)
    assert rest["analysed"] == 2 and rest["skipped"] == 5


def test_preparation_models_load_beside_the_encoder_and_their_failure_surfaces(
    analyzer: Analyzer, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from nlp.prepare import Preparer

    fresh = Analyzer(plain_settings(tmp_path), encoder=analyzer.encoder, heads=dict(analyzer.heads))
    fresh.ready()
    assert set(fresh.preparer._matchers) == {"fr", "en"}  # loaded by the thread, not the batch
    assert fresh.analyze(["SAV injoignable"])[0].topics

    def broken(self: Preparer) -> None:
        raise OSError("fr_core_news_sm is damaged")

    monkeypatch.setattr(Preparer, "warm", broken)
    failing = Analyzer(plain_settings(tmp_path), encoder=analyzer.encoder, heads=dict(analyzer.heads))
    with pytest.raises(OSError, match="damaged"):
        failing.analyze(["SAV injoignable"])
