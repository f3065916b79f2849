"""Emerging themes on SQLite and PostgreSQL: discover, store, alert once, promote; bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from themes_data import CARRIER, OTHER

from listening.config.insights import InsightsSettings
from listening.config.nlp import NLPSettings
from listening.errors import InsightsError
from listening.insights.models import Theme, ThemeMember
from listening.insights.promote import promote_theme
from listening.insights.themes import discover_themes, latest_themes
from listening.routing.alerts import check_alerts
from listening.routing.models import Alert, Notification
from listening.settings import Settings
from listening.store import Analysis, Brand, Document, Source, Store

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
DELIVERY = [
    "Livraison rapide, colis reçu en 48h.",
    "Colis arrivé avec une semaine de retard.",
    "Le livreur a été très aimable.",
    "Livré en point relais sans souci.",
    "Expédition soignée, carton bien protégé.",
    "Toujours pas livré après dix jours.",
]


def _settings(tmp_path: Path, store: Store, **insights: Any) -> Settings:
    values = {
        "themes_min_cluster_size": 5,
        "themes_min_samples": 3,
        "themes_alert_min_count": 5,
        **insights,
    }
    return Settings(
        database_url=store.url,
        data_dir=str(tmp_path / "data"),
        nlp=NLPSettings(),
        insights=InsightsSettings(**values),
        routing={
            "targets": {"ops": {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}},
            "alert_targets": ["ops"],
        },
    )


def _seed(
    store: Store, current: list[str], previous: list[str], start: int = 0, now: datetime = NOW
) -> None:
    """Verbatims of the current period (last 28 days) and of the 28 days before; the
    delivery ones carry a confident taxonomy topic, the others none."""
    with store.session() as s:
        brand = s.scalar(select(Brand).where(Brand.name == "Maison Lumière"))
        if brand is None:
            brand = Brand(name="Maison Lumière", is_own=True, aliases=[])
            s.add(brand)
            s.flush()
            s.add(
                Source(
                    name="avis",
                    kind="review_site",
                    url="https://avis.example",
                    brand_id=brand.id,
                    settings={},
                    state={},
                )
            )
            s.flush()
        source = s.scalar(select(Source).where(Source.name == "avis"))
        assert source is not None
        rows = [(t, now - timedelta(days=1 + i % 20), None) for i, t in enumerate(current)]
        rows += [(t, now - timedelta(days=30 + i % 20), None) for i, t in enumerate(previous)]
        rows += [(t, now - timedelta(days=2), "delivery") for t in DELIVERY]
        for n, (text, when, topic) in enumerate(rows, start=start):
            doc = Document(
                source_id=source.id,
                brand_id=brand.id,
                external_id=f"d{n}",
                text=text,
                content_hash=f"h{n}",
                published_at=when,
                language="fr",
                raw={},
            )
            s.add(doc)
            s.flush()
            negative = "perdu" in text or "jamais" in text
            s.add(
                Analysis(
                    document_id=doc.id,
                    model_version="t",
                    language="fr",
                    sentiment="negative" if negative else "positive",
                    sentiment_score=-0.8 if negative else 0.8,
                    topics=[{"topic": topic, "sentiment": "neutral", "confidence": 0.95}]
                    if topic
                    else [],
                    intent="other",
                    urgency=[],
                    actionable=False,
                )
            )


def _carrier_theme(result: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in result["themes"] if "rapidexo" in t["label"])


def test_themes_discover_store_alert_once_then_resolve(
    store: Store, tmp_path: Path, encoder: Any
) -> None:
    settings = _settings(tmp_path, store)
    _seed(store, CARRIER + OTHER, [CARRIER[0], *OTHER[:10]])
    result = discover_themes(store, settings, now=NOW, encoder=encoder)
    assert result["documents"] == len(CARRIER) + len(OTHER) + len(DELIVERY)
    assert result["outside_taxonomy"] == len(CARRIER) + len(OTHER)  # confident delivery left out
    theme = _carrier_theme(result)
    assert theme["size"] >= 12 and theme["previous_count"] <= 3
    assert theme["growth"] == round(theme["size"] / max(theme["previous_count"], 1), 3)
    assert theme["brands"] == {"Maison Lumière": theme["size"]} and theme["sources"] == {
        "avis": theme["size"]
    }
    assert theme["net_sentiment"] is not None and theme["net_sentiment"] < 0
    with store.session() as s:
        row = s.get(Theme, theme["id"])
        assert row is not None and len(row.centroid) == 384
        members = s.scalars(select(ThemeMember).where(ThemeMember.theme_id == theme["id"])).all()
        assert sum(not m.previous for m in members) == theme["size"]
        assert sum(m.previous for m in members) == theme["previous_count"]
        texts = [v["text"] for v in latest_themes(s)[0]["verbatims"]]
        assert len(texts) == 3
    # one alert for the growing theme (another fast grower may alert too), notified once
    assert theme["id"] in [a["theme_id"] for a in result["alerts"]["opened"]]
    # the spike check leaves the theme alert alone
    check_alerts(store, settings, now=NOW)
    # same data again: same theme key, the incident goes on (no new alert, no new notification)
    again = discover_themes(store, settings, now=NOW + timedelta(hours=1), encoder=encoder)
    theme2 = _carrier_theme(again)
    assert theme2["key"] == theme["key"] and theme2["id"] != theme["id"]
    assert again["alerts"]["opened"] == [] and again["alerts"]["ongoing"] >= 1
    with store.session() as s:
        alerts = s.scalars(select(Alert).where(Alert.kind == "emerging_theme")).all()
        mine = [a for a in alerts if a.topic == f"theme:{theme['key']}"]
        assert [a.status for a in mine] == ["open"] and mine[0].details["theme_id"] == theme2["id"]
        notified = s.scalar(
            select(func.count(Notification.id)).where(Notification.alert_id == mine[0].id)
        )
        assert notified == 1
    # a month later the carrier verbatims are the previous period: no growth, the alert resolves
    later = NOW + timedelta(days=28)
    _seed(store, OTHER, [], start=1000, now=later)
    third = discover_themes(store, settings, now=later, encoder=encoder)
    assert all("rapidexo" not in a["label"] for a in third["alerts"]["opened"])
    assert third["alerts"]["resolved"] >= 1
    with store.session() as s:
        statuses = {
            a.topic: a.status
            for a in s.scalars(select(Alert).where(Alert.kind == "emerging_theme"))
        }
        assert statuses[f"theme:{theme['key']}"] == "resolved"


def test_themes_promote_adds_a_seeded_topic(store: Store, tmp_path: Path, encoder: Any) -> None:
    from listening.taxonomy import load_topics
    from nlp.taxonomy import load_taxonomy

    settings = _settings(tmp_path, store)
    _seed(store, CARRIER + OTHER, [])
    theme = _carrier_theme(discover_themes(store, settings, now=NOW, encoder=encoder))
    result = promote_theme(
        store, settings, theme["id"], "carrier_rapidexo", "Transporteur Rapidexo"
    )
    path = Path(result["taxonomy"])
    assert path == tmp_path / "data" / "taxonomy.yaml" and not result["active"]
    assert "LISTENING_NLP__TAXONOMY" in result["next"]
    tax = load_taxonomy(path)
    assert tax.labels[-1] == "carrier_rapidexo" and "delivery" in tax.labels
    seeds = [t for t, _ in tax.examples["carrier_rapidexo"]]
    assert len(seeds) == result["examples"] == theme["size"]
    assert sum("Rapidexo" in t for t in seeds) >= 12
    assert load_topics(path).label("carrier_rapidexo", "fr") == "Transporteur Rapidexo"
    with store.session() as s:
        row = s.get(Theme, theme["id"])
        assert row is not None and row.promoted_topic == "carrier_rapidexo"
    # bad input: nothing written
    before = path.read_text(encoding="utf-8")
    with pytest.raises(InsightsError, match="already promoted"):
        promote_theme(store, settings, theme["id"], "other_id", "X")
    with pytest.raises(InsightsError, match="no theme with id 999999"):
        promote_theme(store, settings, 999999, "other_id", "X")
    with pytest.raises(InsightsError, match="invalid topic id"):
        promote_theme(store, settings, theme["id"], "Bad Id!", "X")
    assert path.read_text(encoding="utf-8") == before
    # the active custom taxonomy is extended in place; an existing topic id is refused
    custom = settings.model_copy(update={"nlp": NLPSettings(taxonomy=str(path))})
    with store.session() as s:
        s.get(Theme, theme["id"]).promoted_topic = None  # type: ignore[union-attr]
    with pytest.raises(InsightsError, match="already in the taxonomy"):
        promote_theme(store, custom, theme["id"], "delivery", "Livraison")
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["topics"]["carrier_rapidexo"]


def test_themes_no_data_or_too_little_is_a_clear_error(
    store: Store, tmp_path: Path, encoder: Any
) -> None:
    settings = _settings(tmp_path, store)
    with pytest.raises(InsightsError, match="no verbatims between") as err:
        discover_themes(store, settings, now=NOW, encoder=encoder)
    assert err.value.code == "L012" and "--days" in err.value.hint
    _seed(store, CARRIER[:3], [])
    with pytest.raises(InsightsError, match="only 3 of the 9 verbatims"):
        discover_themes(store, settings, now=NOW, encoder=encoder)
    with pytest.raises(InsightsError, match="unknown brand 'Nope'"):
        discover_themes(store, settings, now=NOW, brand="Nope", encoder=encoder)
    with store.session() as s:
        assert s.scalar(select(func.count(Theme.id))) == 0


def test_themes_promoted_taxonomy_keeps_learning_from_our_verbatims(tmp_path: Path) -> None:
    from nlp.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
    from nlp.training import learns_from_own

    journey = yaml.safe_load(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    journey["topics"]["carrier_x"] = {
        "examples": ["Rapidexo a perdu mon colis", "Colis perdu par Rapidexo"]
    }
    extended = tmp_path / "extended.yaml"
    extended.write_text(yaml.safe_dump(journey, allow_unicode=True), encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text(
        yaml.safe_dump(
            {"topics": {"food": {"examples": ["a", "b"]}, "delivery": {"examples": ["c", "d"]}}}
        ),
        encoding="utf-8",
    )
    assert learns_from_own(load_taxonomy(extended)) and learns_from_own(load_taxonomy())
    assert not learns_from_own(load_taxonomy(other))


def test_themes_scheduled_in_serve_when_due(store: Store, tmp_path: Path, encoder: Any) -> None:
    from listening.insights.schedule import run_themes_if_due

    off = _settings(tmp_path, store, themes_interval_hours=0)
    assert run_themes_if_due(store, off, now=NOW, encoder=encoder) is None  # 0: never by itself
    settings = _settings(tmp_path, store, themes_interval_hours=24)
    skipped = run_themes_if_due(store, settings, now=NOW, encoder=encoder)
    assert skipped is not None and "no verbatims" in skipped["skipped"]  # said, not raised
    assert run_themes_if_due(store, settings, now=NOW + timedelta(hours=1), encoder=encoder) is None
    _seed(store, CARRIER + OTHER, [CARRIER[0], *OTHER[:10]])
    later = NOW + timedelta(hours=25)
    ran = run_themes_if_due(store, settings, now=later, encoder=encoder)
    assert ran is not None and ran["themes"] >= 1
    opened = ran["alerts"]["opened"]
    assert any("rapidexo" in a["label"] for a in opened)  # the growing carrier theme alerts
    with store.session() as s:
        n = s.scalar(select(func.count(Alert.id)).where(Alert.kind == "emerging_theme"))
        assert n == len(opened)
    # not again until the interval has passed since that run
    assert (
        run_themes_if_due(store, settings, now=later + timedelta(hours=2), encoder=encoder) is None
    )
