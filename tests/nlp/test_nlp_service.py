"""analyze_pending on real stores (SQLite and PostgreSQL): rows, idempotence, versions."""

from __future__ import annotations

from pathlib import Path

from nlp_helpers import plain_settings
from sqlalchemy import select

from listening.settings import Settings
from listening.store import Analysis, Document, Source, Store
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
