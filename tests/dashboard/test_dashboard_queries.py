"""The dashboard's SQL aggregates on SQLite and PostgreSQL, the derived table and full-text search."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from dashboard_seed import seed
from sqlalchemy import delete, select, text

from dashboards import queries
from listening.queries.sql import Filters
from listening.store import Analysis, Document, Store


def _filters(**kw: Any) -> Filters:
    today = datetime.now(UTC).date()
    return Filters(start=today - timedelta(days=60), end=today, **kw)


@pytest.fixture
def seeded_store(store: Store) -> tuple[Store, dict[str, Any]]:
    return store, seed(store)


def test_dashboard_queries_overview_aggregates(seeded_store: tuple[Store, dict[str, Any]]) -> None:
    store, ids = seeded_store
    url = store.url
    assert queries.overview_kpis(url, _filters()) == {
        "documents": 80, "analysed": 80, "positive": 50, "negative": 30}
    volume = queries.volume_by_day(url, _filters())
    assert volume["n"].sum() == 80
    assert set(volume["kind"]) == {"forum", "review_site"}
    assert all(len(d) == 10 for d in volume["day"])
    rival = queries.overview_kpis(url, _filters(brand_ids=(ids["rival_brand"],), topics=("delivery",)))
    assert rival["documents"] == 10 and rival["positive"] == 10
    negative = queries.overview_kpis(url, _filters(sentiments=("negative",)))
    assert negative["documents"] == 30
    by_kind = queries.overview_kpis(url, _filters(kinds=("forum",), languages=("fr",)))
    assert by_kind["documents"] == 40
    sentiment = queries.sentiment_by_day(url, _filters())
    assert sentiment[["positive", "neutral", "negative"]].to_numpy().sum() == 80
    # a range with nothing in it
    empty = Filters(start=date(2000, 1, 1), end=date(2000, 1, 2))
    assert queries.overview_kpis(url, empty)["documents"] == 0
    assert queries.volume_by_day(url, empty).empty


def test_dashboard_queries_topics_and_competitors(seeded_store: tuple[Store, dict[str, Any]]) -> None:
    store, ids = seeded_store
    own_heat = queries.topic_sentiment(store.url, _filters(brand_ids=(ids["own_brand"],)))
    counts = {(r.topic, r.sentiment): int(r.n) for r in own_heat.itertuples()}
    assert counts[("delivery", "negative")] == 10 and counts[("product", "positive")] == 10
    matrix = queries.criterion_matrix(store.url, _filters())
    cell = matrix[(matrix["brand"] == "Luminéo") & (matrix["topic"] == "delivery")].iloc[0]
    assert (int(cell["positive"]), int(cell["n"]), bool(cell["is_own"])) == (10, 10, False)
    trend = queries.criterion_trend(store.url, _filters(topics=("delivery",)))
    assert trend["n"].sum() == 20 and set(trend["topic"]) == {"delivery"}
    drill = queries.topic_verbatims(store.url, _filters(brand_ids=(ids["rival_brand"],),
                                                        topics=("delivery",)))
    assert len(drill) == 10 and set(drill["brand"]) == {"Luminéo"}
    spikes = queries.topic_spikes(store.url, _filters())
    assert set(spikes["topic"]) == {"delivery", "product", "customer_service", "price"}
    assert (spikes["recent"] + spikes["baseline"]).sum() == 80  # one topic per verbatim


def test_dashboard_queries_full_text_search(seeded_store: tuple[Store, dict[str, Any]]) -> None:
    store, _ = seeded_store
    hits = queries.search(store.url, "colis", _filters())
    assert len(hits) == 20  # 10 "colis abîmé" + 10 "colis parfait"
    assert len(queries.search(store.url, "colis parfait", _filters())) == 10
    assert queries.search(store.url, "zzzintrouvable", _filters()).empty
    assert len(queries.search(store.url, "  ", _filters())) == 50  # no query: latest verbatims
    # hostile FTS syntax is data, not a query error
    assert queries.search(store.url, 'colis" OR NEAR(', _filters()).empty
    if store.dialect == "sqlite":
        assert len(queries.search(store.url, "abime", _filters())) == 10  # accents folded
        assert len(queries.search(store.url, "magnif*", _filters())) == 20  # prefix


def test_dashboard_queries_tickets(seeded_store: tuple[Store, dict[str, Any]]) -> None:
    store, ids = seeded_store
    now = queries.now_utc()
    summary = queries.ticket_summary(store.url, (), (), (), now, 4.0)
    sla = summary.groupby("sla")["n"].sum().to_dict()
    assert sla == {"breached": 1, "at_risk": 1, "on_time": 1, "done": 1}
    only = queries.ticket_list(store.url, ("logistics",), (), ("new",), now, 4.0)
    assert only["priority"].tolist() == ["P3"]
    listing = queries.ticket_list(store.url, (), (), (), now, 4.0)
    assert listing["priority"].tolist() == ["P1", "P2", "P3", "P4"]
    assert queries.ticket_teams(store.url) == ["logistics", "support"]
    detail = queries.ticket_detail(store.url, ids["tickets"][0])
    assert detail is not None and detail["thread_id"] == "t1"
    assert len(detail["thread"]) == 2  # the other forum documents of thread t1 (same source)
    assert detail["events"]["action"].tolist() == ["created"]
    assert queries.ticket_detail(store.url, 999999) is None


def test_dashboard_queries_source_health(seeded_store: tuple[Store, dict[str, Any]]) -> None:
    store, _ = seeded_store
    health = queries.source_health(store.url).set_index("name")
    assert int(health.loc["forum-deco", "items"]) == 40
    assert health.loc["forum-deco", "last_status"] == "ok"
    assert bool(health.loc["avis-lumineo", "blocked"]) is True
    assert int(health.loc["enquete", "items"]) == 0


def test_dashboard_queries_read_only_store(seeded_store: tuple[Store, dict[str, Any]]) -> None:
    store, _ = seeded_store
    ro = queries.read_store(store.url)
    assert ro.read_only
    with pytest.raises(Exception), ro.engine.begin() as conn:  # noqa: B017 - driver-specific error
        conn.execute(text("UPDATE sources SET enabled = enabled"))


def test_dashboard_analysis_topics_follow_the_store(seeded_store: tuple[Store, dict[str, Any]]) -> None:
    store, ids = seeded_store
    doc_id = ids["documents"][0]

    def topics_of(document_id: int) -> list[tuple[str, str]]:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT topic, sentiment FROM analysis_topics WHERE document_id = :d ORDER BY topic"
            ), {"d": document_id})]

    def fact_of(document_id: int) -> str | None:
        with store.engine.connect() as conn:
            return conn.execute(text("SELECT sentiment FROM document_facts WHERE document_id = :d"),
                                {"d": document_id}).scalar_one_or_none()

    assert topics_of(doc_id) == [("delivery", "negative")]
    assert fact_of(doc_id) == "negative"
    with store.session() as s:  # a newer model version replaces the topics
        s.add(Analysis(document_id=doc_id, model_version="v2", sentiment="positive",
                       sentiment_score=0.5, intent="praise", urgency=[], actionable=False,
                       topics=[{"topic": "price", "sentiment": "positive"},
                               {"topic": "stock", "sentiment": "neutral"}, "junk", {"x": 1}]))
    assert topics_of(doc_id) == [("price", "positive"), ("stock", "neutral")]
    assert fact_of(doc_id) == "positive"  # the document's latest sentiment follows
    with store.session() as s:  # an analysis corrected in place
        s.execute(text("UPDATE analyses SET sentiment = 'neutral' WHERE document_id = :d "
                       "AND model_version = 'v2'"), {"d": doc_id})
    assert fact_of(doc_id) == "neutral"
    moved = datetime(2020, 1, 1, tzinfo=UTC)
    with store.session() as s:  # re-dated documents move in the aggregates
        doc = s.get(Document, doc_id)
        assert doc is not None
        doc.published_at = moved
    old = Filters(start=date(2019, 12, 31), end=date(2020, 1, 2))
    assert queries.topic_sentiment(store.url, old)["n"].sum() == 2
    with store.session() as s:  # deleting analyses and documents removes their rows
        s.execute(delete(Analysis).where(Analysis.document_id == doc_id, Analysis.model_version == "v2"))
    assert topics_of(doc_id) == []
    assert fact_of(doc_id) == "negative"  # back to the remaining analysis
    with store.session() as s:
        s.execute(delete(Document).where(Document.id == ids["documents"][1]))
        assert s.scalar(select(Document.id).where(Document.id == ids["documents"][1])) is None
    assert topics_of(ids["documents"][1]) == []
    assert fact_of(ids["documents"][1]) is None
    assert queries.overview_kpis(store.url, old)["documents"] == 1


def test_dashboard_rollups_match_the_detail_tables(seeded_store: tuple[Store, dict[str, Any]]) -> None:
    store, ids = seeded_store
    url = store.url
    with store.session() as s:  # changes after seeding: a new analysis, a deletion, a re-dating
        s.add(Analysis(document_id=ids["documents"][2], model_version="v2", sentiment="negative",
                       sentiment_score=-1, intent="complaint", urgency=[], actionable=True,
                       topics=[{"topic": "returns", "sentiment": "negative"}]))
        s.execute(delete(Document).where(Document.id == ids["documents"][3]))
        doc = s.get(Document, ids["documents"][4])
        assert doc is not None
        doc.published_at = datetime.now(UTC) - timedelta(days=30)
    f = _filters()
    # rollup path (no topic filter) == document_facts path (a topic filter matching everything)
    every = _filters(topics=("delivery", "product", "customer_service", "price", "returns"))
    assert queries.overview_kpis(url, f) == queries.overview_kpis(url, every)
    assert queries.overview_kpis(url, f)["documents"] == 79
    a = queries.volume_by_day(url, f).sort_values(["day", "kind", "brand"]).reset_index(drop=True)
    b = queries.volume_by_day(url, every).sort_values(["day", "kind", "brand"]).reset_index(drop=True)
    assert a.equals(b)
    # daily_topics path == analysis_topics path (a language filter matching everything)
    fr = _filters(languages=("fr",))
    key = ["brand", "topic"]
    m1 = queries.criterion_matrix(url, f).sort_values(key).reset_index(drop=True)
    m2 = queries.criterion_matrix(url, fr).sort_values(key).reset_index(drop=True)
    assert m1[key + ["positive", "neutral", "negative", "n"]].equals(
        m2[key + ["positive", "neutral", "negative", "n"]])
    assert int(m1["n"].sum()) == 79
    with store.engine.connect() as conn:
        for rollup, detail in (("daily_documents", "document_facts"),
                               ("daily_topics", "analysis_topics")):
            total = conn.execute(text(f"SELECT coalesce(sum(n), 0) FROM {rollup}")).scalar()
            assert total == conn.execute(text(f"SELECT count(*) FROM {detail}")).scalar()
