"""All data visible: the dashboard says what its filters hide, offers "all time" (undated
verbatims included), and takes topic filters and labels from the active taxonomy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import make_app, no_exception
from sqlalchemy import select

from listening.settings import get_settings
from listening.store import Store
from listening.store.models import Analysis, Brand, Document, Source


def _texts(at: Any) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


def _add_backlog(store: Store) -> None:
    """Two verbatims of 2019 and one without a publication date."""
    with store.session() as s:
        source = s.scalar(select(Source).where(Source.name == "forum-deco"))
        brand = s.scalar(select(Brand).where(Brand.is_own.is_(True)))
        assert source is not None and brand is not None
        for i, published in enumerate(
            [datetime(2019, 3, 12, tzinfo=UTC), datetime(2019, 3, 13, tzinfo=UTC), None]
        ):
            doc = Document(
                source_id=source.id,
                brand_id=brand.id,
                external_id=f"old{i}",
                url=None,
                text=f"Ancien verbatim numéro {i} sur la livraison",
                content_hash=f"old{i}",
                published_at=published,
                language="fr",
                raw={},
                author=f"o{i}",
            )
            s.add(doc)
            s.flush()
            s.add(
                Analysis(
                    document_id=doc.id,
                    model_version="test",
                    language="fr",
                    sentiment="neutral",
                    sentiment_score=0.0,
                    topics=[],
                    intent="other",
                    urgency=[],
                    actionable=False,
                )
            )


def test_dashboard_says_how_many_verbatims_the_filters_hide(
    seeded: dict[str, Any], sqlite_store: Store
) -> None:
    _add_backlog(sqlite_store)
    at = make_app()
    no_exception(at)
    assert {m.label: m.value for m in at.metric}["Verbatims"] == "80"
    body = _texts(at)
    assert "80 verbatims sur 83 correspondent aux filtres : 3 masqués." in body
    assert "Dont 1 sans date de publication" in body


def test_dashboard_all_time_shows_backlog_and_undated(
    seeded: dict[str, Any], sqlite_store: Store
) -> None:
    _add_backlog(sqlite_store)
    at = make_app("explorer", sent="neutral")  # only the backlog is neutral
    no_exception(at)
    assert "Ancien verbatim" not in _texts(at)  # outside the default window, and undated
    at.sidebar.checkbox(key="f_all").check().run()
    no_exception(at)
    assert at.query_params["all"] == "1"
    assert at.query_params["start"] == "2019-03-12"
    body = _texts(at)
    assert (
        "3 verbatims sur 83 correspondent aux filtres : 80 masqués." in body
    )  # by the sentiment filter
    assert "sans date de publication" not in body.replace("plus les verbatims sans date", "")
    assert "Ancien verbatim numéro 2" in body  # the undated one is listed
    assert "Ancien verbatim numéro 0" in body


@pytest.fixture
def custom_taxonomy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tax.yaml"
    path.write_text(
        "name: custom\ntopics:\n  loyalty:\n    label: {fr: Fidélité, en: Loyalty}\n"
        "  delivery:\n    description: {fr: 'Livraison, colis', en: 'Delivery, parcels'}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LISTENING_NLP__TAXONOMY", str(path))
    get_settings.cache_clear()
    return path


def test_dashboard_topic_filter_comes_from_the_active_taxonomy(
    seeded: dict[str, Any], custom_taxonomy: Path
) -> None:
    at = make_app("explorer")
    no_exception(at)
    topic = at.sidebar.multiselect(key="f_topic")
    assert list(topic.options) == ["Fidélité", "Livraison"]  # labels in the UI language
    at.sidebar.selectbox(key="ui_lang").set_value("en").run()
    assert list(at.sidebar.multiselect(key="f_topic").options) == ["Loyalty", "Delivery"]


def test_sources_page_shows_failed_and_warning_runs(sqlite_store: Store) -> None:
    """What `collect` judged (listening.collection.runner.judge) is what the page shows."""
    from listening.collection.runner import run_source

    with sqlite_store.session() as s:
        for name in ("site-404", "site-vide"):
            s.add(
                Source(
                    name=name,
                    kind="review_site",
                    url=f"https://{name}.example/",
                    settings={},
                    state={},
                )
            )
    with sqlite_store.session() as s:
        ids = {src.name: src.id for src in s.scalars(select(Source))}
    outcomes = {
        "site-404": {
            "errors": ["https://site-404.example/: HTTP 404: the page could not be fetched"]
        },
        "site-vide": {"pages": 1, "items": 0, "errors": []},
    }
    for name, outcome in outcomes.items():
        result = run_source(
            sqlite_store, get_settings(), ids[name], name, dispatch=lambda *a, o=outcome: o
        )
        assert result["status"] == ("failed" if name == "site-404" else "warning")
    at = make_app("sources")
    no_exception(at)
    table = at.dataframe[0].value
    rows = {r["Nom"]: r for r in table.to_dict("records")}
    assert rows["site-404"]["Statut"] == "failed" and "HTTP 404" in rows["site-404"]["Santé"]
    assert (
        rows["site-vide"]["Statut"] == "warning"
        and "no verbatim extracted" in rows["site-vide"]["Santé"]
    )
