"""build_report on SQLite and PostgreSQL: every figure equals the shared queries' answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from report_seed import EURO_TEXT
from sqlalchemy import text

from listening.errors import ReportError
from listening.insights.models import Theme as ThemeRow
from listening.queries import reads
from listening.queries.sql import Filters
from listening.reports import build_report, render
from listening.reports.period import Period, resolve_period
from listening.reports.verbatims import Vectoriser, excerpt, most_central
from listening.settings import load_settings
from listening.store import Document, Store


def _since(now: datetime, days: int = 25) -> str:
    return (now - timedelta(days=days)).date().isoformat()


def _settings(**insights: Any) -> Any:
    return load_settings(insights={"report_centrality": "tfidf", **insights})


def test_reports_figures_match_the_queries(
    seeded: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, ids = seeded
    report = build_report(
        store,
        since=_since(now),
        until=now.date().isoformat(),
        lang="en",
        now=now,
        settings=_settings(),
    )
    assert report.brand == "Maison Lumière" and report.reference == "Maison Lumière"
    p = report.period
    assert (p.kind, p.start, p.end) == ("custom", (now - timedelta(days=25)).date(), now.date())
    f = Filters(start=p.start, end=p.end, brand_ids=(ids["own_brand"],))
    expected = reads.overview_kpis(store.url, f)
    kpis = {k.key: k for k in report.kpis}
    assert {k: int(kpis[k].value) for k in expected} == expected
    assert expected["documents"] == 41 and expected["analysed"] == 41  # 40 seeded + the € one
    assert kpis["net"].value == pytest.approx((expected["positive"] - expected["negative"]) / 41)
    assert kpis["documents"].previous == 0  # nothing before the seed
    # topics: volume and net sentiment of the own brand, English taxonomy labels
    counts = reads.topic_sentiment(store.url, f)
    for row in report.topics:
        mine = counts[counts["topic"] == row.topic]
        assert row.n == int(mine["n"].sum())
        assert row.positive == int(mine.loc[mine["sentiment"] == "positive", "n"].sum())
    by_topic = {r.topic: r for r in report.topics}
    assert by_topic["delivery"].label == "Delivery" and by_topic["delivery"].net == -1.0
    assert by_topic["price"].n == 11 and by_topic["price"].net == 1.0
    # competitors: only the significant difference (delivery: all praise vs all complaints)
    [diff] = report.competitors
    assert (diff.brand, diff.topic, diff.better) == ("Luminéo", "delivery", True)
    assert (diff.net, diff.reference_net, diff.n, diff.reference_n) == (1.0, -1.0, 10, 10)
    # inbox: 4 opened, P4 closed, P1 breached, P2 answered after 2 h
    sla = report.sla
    assert sla is not None
    assert (sla.opened, sla.closed, sla.breached, sla.answered) == (4, 1, 1, 1)
    assert sla.median_first_response_hours == pytest.approx(2.0)
    assert report.themes is None  # no themes table: the section is left out


def test_reports_verbatims_are_quoted_as_written(
    seeded: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, ids = seeded
    report = build_report(
        store,
        since=_since(now),
        until=now.date(),
        now=now,
        lang="fr",
        settings=_settings(report_verbatims=10),
    )
    assert report.verbatim_method == "tfidf"
    texts = [v.text for v in report.verbatims]
    assert len(texts) == len(set(texts))  # the same words posted twice are quoted once
    assert EURO_TEXT in texts  # the second distinct text of "Prix"
    assert report.verbatims[0].topic == report.topics[0].topic  # one per leading topic first
    with store.session() as s:
        for v in report.verbatims:
            doc = s.get(Document, v.document_id)
            assert doc is not None and v.text == " ".join(doc.text.split())  # never invented
            assert v.brand == "Maison Lumière" and v.published_at is not None
    assert {v.topic_label for v in report.verbatims} >= {"Livraison", "Prix"}


def test_reports_competitor_brand_and_team_filter(
    seeded: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, ids = seeded
    report = build_report(
        store,
        since=_since(now),
        until=now.date(),
        brand="luminéo",
        now=now,
        teams=("logistics",),
        settings=_settings(),
    )
    assert report.brand == "Luminéo"
    [diff] = report.competitors  # compared with the reported brand now
    assert (diff.brand, diff.better) == ("Maison Lumière", False)
    assert report.sla is not None and report.sla.opened == 1 and report.sla.teams == ("logistics",)


def test_reports_bad_input_is_a_clear_error(
    seeded: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, _ = seeded
    with pytest.raises(
        ReportError, match="unknown brand 'Nope'; valid brands: Maison Lumière, Luminéo"
    ):
        build_report(store, brand="Nope", now=now)
    with pytest.raises(
        ReportError,
        match="no verbatim published between 2001-01-01 and 2001-01-31 for Maison Lumière",
    ) as err:
        build_report(store, since="2001-01-01", until="2001-01-31", now=now)
    assert "start on" in err.value.hint and err.value.code == "L013"
    empty = build_report(store, since="2001-01-01", until="2001-01-31", now=now, allow_empty=True)
    assert empty.empty and not empty.topics and not empty.verbatims
    for kwargs, message in [
        ({"period": "year"}, "unknown period 'year'"),
        ({"period": "custom"}, "a custom period needs --since"),
        ({"since": "2026-02-30"}, "is not a date"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "is before --since"),
        ({"lang": "de"}, "unknown language 'de'"),
    ]:
        with pytest.raises(ReportError, match=message):
            build_report(store, now=now, **kwargs)


def test_reports_empty_store_names_no_brands(sqlite_store: Store) -> None:
    with pytest.raises(ReportError, match="the store has no brands yet"):
        build_report(sqlite_store, brand="X")


def test_reports_periods() -> None:
    wednesday = date(2026, 3, 11)
    week = resolve_period("week", wednesday)
    assert (week.start, week.end) == (date(2026, 3, 2), date(2026, 3, 8))
    assert (week.previous().start, week.previous().end) == (date(2026, 2, 23), date(2026, 3, 1))
    month = resolve_period("month", wednesday)
    assert (month.start, month.end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (month.previous().start, month.previous().end) == (date(2026, 1, 1), date(2026, 1, 31))
    custom = resolve_period("week", wednesday, since="2026-03-01")
    assert custom == Period("custom", date(2026, 3, 1), date(2026, 3, 10))
    assert custom.previous() == Period("custom", date(2026, 2, 19), date(2026, 2, 28))


def _run(
    store: Store, run_id: str, start: datetime, end: datetime, *themes: tuple[str, int]
) -> None:
    """A `listening themes` run over [start, end) with themes (label, size)."""
    with store.session() as s:
        for n, (label, size) in enumerate(themes):
            s.add(
                ThemeRow(
                    run_id=run_id,
                    key=f"{run_id}-{n}",
                    created_at=end,
                    period_start=start,
                    period_end=end,
                    label=label,
                    size=size,
                    previous_count=1,
                    growth=float(size),
                )
            )


def test_reports_themes_section_only_when_the_period_has_themes(
    seeded_sqlite: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, _ = seeded_sqlite
    report = build_report(store, since=_since(now), now=now, settings=_settings())
    assert report.themes is None  # no run yet
    old = datetime(2001, 1, 1, tzinfo=UTC)
    _run(store, "old", old, old + timedelta(days=28), ("Ancien thème", 40))
    report = build_report(store, since=_since(now), now=now, settings=_settings())
    assert report.themes is None  # a run, but of another period
    _run(store, "r2", now - timedelta(days=28), now, ("Colis abîmés", 12), ("Câbles", 30))
    report = build_report(store, since=_since(now), now=now, settings=_settings(report_themes=1))
    assert report.themes is not None and [(t.label, t.size) for t in report.themes] == [
        ("Câbles", 30)
    ]
    md = render(report, "md").decode()
    assert "## Thèmes émergents" in md and "| Câbles | 30 |" in md


def test_reports_themes_of_the_latest_run_only(
    seeded_sqlite: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, _ = seeded_sqlite
    _run(store, "r1", now - timedelta(days=28), now - timedelta(days=1), ("Ampoules", 50))
    _run(store, "r2", now - timedelta(days=27), now, ("Ampoules", 20), ("Câbles", 8))
    report = build_report(store, since=_since(now), now=now, settings=_settings())
    assert report.themes is not None and [(t.label, t.size) for t in report.themes] == [
        ("Ampoules", 20),
        ("Câbles", 8),
    ]


@pytest.mark.parametrize("method", ["tfidf", "embeddings"])
def test_reports_centrality_picks_the_typical_text(method: str) -> None:
    texts = [
        "J'adore la couleur de cette lampe de chevet.",
        "Livraison en retard, colis abîmé à l'arrivée.",
        "Colis arrivé abîmé et livraison très en retard.",
        "Livraison en retard de deux semaines, colis abîmé.",
        "Retard de livraison, le colis était abîmé.",
    ]
    vectoriser = Vectoriser(load_settings(insights={"report_centrality": method}))
    assert vectoriser.method == method
    order = most_central(texts, vectoriser)
    assert order[-1] == 0  # the lamp is the outlier
    assert order[0] != 0 and sorted(order) == list(range(5))


def test_reports_excerpt_cuts_at_a_word() -> None:
    assert excerpt("court", 40) == ("court", False)
    cut, truncated = excerpt("un texte " * 20, 40)
    assert (
        truncated
        and len(cut) <= 40
        and not cut.endswith(" ")
        and ("un texte " * 20).startswith(cut)
    )


def test_reports_centrality_falls_back_to_tfidf_without_encoder() -> None:
    broken = {"encoder": "listening.encoder.missing.v9"}
    auto = Vectoriser(load_settings(nlp=broken, insights={"report_centrality": "auto"}))
    assert auto.method == "tfidf"
    assert most_central(["colis en retard", "colis en retard encore", "jolie lampe"], auto)[-1] == 2
    with pytest.raises(ReportError, match="the sentence encoder cannot load"):
        Vectoriser(load_settings(nlp=broken, insights={"report_centrality": "embeddings"}))


def test_reports_without_an_own_brand_cover_every_brand(
    seeded_sqlite: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, _ = seeded_sqlite
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE brands SET is_own = :f"), {"f": False})
    report = build_report(store, since=_since(now), until=now.date(), now=now, settings=_settings())
    assert report.brand is None and report.reference is None and not report.competitors
    assert report.kpis[0].value == 81  # both brands
    md = render(report, "md").decode()
    assert "Rapport d’écoute client — toutes marques" in md and "Concurrents" not in md
