"""Emerging themes on the store: discover, store, alert, list.

``discover_themes`` takes the verbatims of the period (default the last
``insights.themes_days`` days) that the taxonomy does not cover confidently (no topic, or
every topic below ``insights.themes_max_topic_confidence``), embeds them with the
configured encoder (the on-disk embedding cache makes a rerun cheap), clusters them
(:mod:`nlp.themes`), counts the previous period's verbatims falling inside each theme
(growth), and stores one ``themes`` row per theme plus its ``theme_members`` in one
transaction. A theme close to a theme of the previous run keeps its ``key``; a theme that
grows fast raises one alert per incident (``alerts`` row of kind ``emerging_theme``,
notified to ``routing.alert_targets``), resolved when it stops growing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from listening.errors import InsightsError
from listening.insights.models import Theme, ThemeMember
from listening.settings import Settings
from listening.store import Store
from listening.store.models import Analysis, Brand, Document, Source, utcnow


def _latest_analysis() -> Any:
    return (
        select(Analysis.document_id.label("doc"), func.max(Analysis.id).label("aid"))
        .where(Analysis.error.is_(None))
        .group_by(Analysis.document_id)
        .subquery()
    )


def _in_period(start: datetime, end: datetime) -> Any:
    return or_(
        and_(Document.published_at >= start, Document.published_at < end),
        and_(
            Document.published_at.is_(None),
            Document.collected_at >= start,
            Document.collected_at < end,
        ),
    )


def period_documents(
    session: Session,
    start: datetime,
    end: datetime,
    brand_id: int | None,
    max_confidence: float,
    limit: int,
) -> tuple[int, list[dict[str, Any]]]:
    """(verbatims in the period, those outside the taxonomy: newest first, at most ``limit``)."""
    latest = _latest_analysis()
    cond = [Document.near_duplicate_of.is_(None), _in_period(start, end)]
    if brand_id is not None:
        cond.append(Document.brand_id == brand_id)
    total = int(session.scalar(select(func.count(Document.id)).where(*cond)) or 0)
    query = (
        select(
            Document.id,
            Document.text,
            Document.title,
            Document.language,
            Document.brand_id,
            Document.source_id,
            Analysis.sentiment,
            Analysis.topics,
        )
        .outerjoin(latest, latest.c.doc == Document.id)
        .outerjoin(Analysis, Analysis.id == latest.c.aid)
        .where(*cond)
        .order_by(
            func.coalesce(Document.published_at, Document.collected_at).desc(), Document.id.desc()
        )
    )
    out: list[dict[str, Any]] = []
    for doc_id, text, title, lang, brand, source, sentiment, topics in session.execute(query):
        confident = [t for t in topics or [] if float(t.get("confidence") or 0.0) >= max_confidence]
        if confident and max_confidence < 1.0:
            continue
        out.append(
            {
                "id": doc_id,
                "text": text or "",
                "title": title,
                "language": lang,
                "brand_id": brand,
                "source_id": source,
                "sentiment": sentiment,
            }
        )
        if len(out) >= limit:
            break
    return total, out


def _brand_id(session: Session, brand: str | None) -> int | None:
    if not brand:
        return None
    found = session.scalar(select(Brand.id).where(Brand.name == brand))
    if found is None:
        known = sorted(session.scalars(select(Brand.name)))
        raise InsightsError(
            f"unknown brand {brand!r}",
            f"known brands: {', '.join(known) or 'none (import your sources first)'}",
        )
    return int(found)


def _embed(settings: Settings, texts: list[str], encoder: Any | None) -> np.ndarray:
    if encoder is None:
        import nlp.encoder  # noqa: F401  (registers the encoders)
        from nlp.pipeline import make_encoder

        encoder = make_encoder(settings, cache=True)
    if not texts:
        return np.zeros((0, int(getattr(encoder, "dim", 384))), np.float32)
    return np.asarray(encoder.encode(texts), dtype=np.float32)


def _figures(
    docs: list[dict[str, Any]], brands: dict[int, str], sources: dict[int, str]
) -> dict[str, Any]:
    sentiments = Counter(d["sentiment"] for d in docs if d["sentiment"])
    analysed = sum(sentiments.values())
    net = (sentiments["positive"] - sentiments["negative"]) / analysed if analysed else None
    return {
        "sentiments": dict(sentiments),
        "net_sentiment": round(net, 3) if net is not None else None,
        "brands": dict(Counter(brands.get(d["brand_id"], "no brand") for d in docs).most_common()),
        "sources": dict(Counter(sources.get(d["source_id"], "?") for d in docs).most_common()),
    }


def _previous_keys(session: Session, brand_id: int | None) -> list[tuple[str, np.ndarray]]:
    """Keys and centroids of the latest earlier run of the same scope."""
    scope = Theme.brand_id.is_(None) if brand_id is None else Theme.brand_id == brand_id
    run = session.scalar(select(Theme.run_id).where(scope).order_by(Theme.id.desc()).limit(1))
    if run is None:
        return []
    return [
        (t.key, np.asarray(t.centroid, dtype=np.float32))
        for t in session.scalars(select(Theme).where(Theme.run_id == run))
    ]


def _assign_keys(
    centroids: list[np.ndarray], earlier: list[tuple[str, np.ndarray]], max_distance: float
) -> list[str]:
    """An earlier theme's key for each centroid close enough to it (each key used once)."""
    keys = [""] * len(centroids)
    pairs = sorted(
        (float(1.0 - c @ e), i, key)
        for i, c in enumerate(centroids)
        for key, e in earlier
        if len(e) == len(c)
    )
    taken: set[str] = set()
    for dist, i, key in pairs:
        if dist <= max_distance and not keys[i] and key not in taken:
            keys[i] = key
            taken.add(key)
    return [k or uuid.uuid4().hex[:12] for k in keys]


def discover_themes(
    store: Store,
    settings: Settings,
    *,
    days: int | None = None,
    brand: str | None = None,
    now: datetime | None = None,
    encoder: Any | None = None,
) -> dict[str, Any]:
    """Cluster the period's verbatims outside the taxonomy; store the themes; raise alerts."""
    from nlp.themes import discover

    cfg = settings.insights
    days = cfg.themes_days if days is None else days
    if days < 1:
        raise InsightsError(
            f"--days must be at least 1, got {days}", "give a number of days such as 28"
        )
    now = now or utcnow()
    start, prev_start = now - timedelta(days=days), now - timedelta(days=2 * days)
    with store.session() as session:
        brand_id = _brand_id(session, brand)
        total, current = period_documents(
            session, start, now, brand_id, cfg.themes_max_topic_confidence, cfg.themes_max_documents
        )
        _, previous = period_documents(
            session,
            prev_start,
            start,
            brand_id,
            cfg.themes_max_topic_confidence,
            cfg.themes_max_documents,
        )
        brands = {b.id: b.name for b in session.scalars(select(Brand))}
        sources = {s.id: s.name for s in session.scalars(select(Source))}
    scope = f" for brand {brand}" if brand else ""
    when = f"between {start:%Y-%m-%d %H:%M} and {now:%Y-%m-%d %H:%M} UTC"
    if total == 0:
        raise InsightsError(
            f"no verbatims{scope} {when}",
            "collect and analyse first, or widen the period with --days",
        )
    if len(current) < cfg.themes_min_cluster_size:
        raise InsightsError(
            f"only {len(current)} of the {total} verbatims{scope} {when} are outside the taxonomy, "
            f"fewer than the {cfg.themes_min_cluster_size} a theme needs",
            "widen the period with --days, or lower LISTENING_INSIGHTS__THEMES_MIN_CLUSTER_SIZE",
        )
    vectors = _embed(settings, [d["text"] for d in current], encoder)
    prev_vectors = _embed(settings, [d["text"] for d in previous], encoder)
    clusters = discover(
        [d["text"] for d in current],
        vectors,
        prev_vectors,
        min_cluster_size=cfg.themes_min_cluster_size,
        min_samples=cfg.themes_min_samples,
        reduce_dims=cfg.themes_reduce_dims,
        top_terms=cfg.themes_top_terms,
    )
    run_id = uuid.uuid4().hex
    themes: list[dict[str, Any]] = []
    with store.session() as session:
        keys = _assign_keys(
            [c.centroid for c in clusters],
            _previous_keys(session, brand_id),
            cfg.themes_match_distance,
        )
        for cluster, key in zip(clusters, keys, strict=True):
            docs = [current[i] for i in cluster.members]
            prev_count = len(cluster.previous)
            figures = _figures(docs, brands, sources)
            theme = Theme(
                run_id=run_id,
                key=key,
                created_at=now,
                period_start=start,
                period_end=now,
                brand_id=brand_id,
                label=(cluster.label or "(unnamed)")[:300],
                terms=[[t, s] for t, s in cluster.terms],
                size=len(docs),
                previous_count=prev_count,
                growth=round(len(docs) / max(prev_count, 1), 3),
                net_sentiment=figures["net_sentiment"],
                sentiments=figures["sentiments"],
                brands=figures["brands"],
                sources=figures["sources"],
                representatives=[current[i]["id"] for i in cluster.representatives],
                centroid=[round(float(v), 6) for v in cluster.centroid],
            )
            session.add(theme)
            session.flush()
            session.add_all(
                [
                    ThemeMember(
                        theme_id=theme.id, document_id=current[i]["id"], previous=False, distance=d
                    )
                    for i, d in zip(cluster.members, cluster.distances, strict=True)
                ]
            )
            session.add_all(
                [
                    ThemeMember(
                        theme_id=theme.id, document_id=previous[i]["id"], previous=True, distance=d
                    )
                    for i, d in zip(cluster.previous, cluster.previous_distances, strict=True)
                ]
            )
            themes.append(theme_dict(theme, brands))
    from listening.insights.theme_alerts import check_theme_alerts

    alerts = check_theme_alerts(store, settings, run_id, brand_id, now)
    return {
        "run_id": run_id,
        "period_start": start,
        "period_end": now,
        "previous_start": prev_start,
        "brand": brand,
        "documents": total,
        "outside_taxonomy": len(current),
        "previous_outside_taxonomy": len(previous),
        "themes": themes,
        "alerts": alerts,
    }


def theme_dict(theme: Theme, brands: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "id": theme.id,
        "run_id": theme.run_id,
        "key": theme.key,
        "label": theme.label,
        "terms": [t for t, _ in theme.terms],
        "size": theme.size,
        "previous_count": theme.previous_count,
        "growth": theme.growth,
        "net_sentiment": theme.net_sentiment,
        "sentiments": theme.sentiments,
        "brands": theme.brands,
        "sources": theme.sources,
        "representatives": theme.representatives,
        "period_start": theme.period_start,
        "period_end": theme.period_end,
        "brand": (brands or {}).get(theme.brand_id) if theme.brand_id is not None else None,
        "promoted_topic": theme.promoted_topic,
        "alert_id": theme.alert_id,
    }


def latest_themes(
    session: Session, brand: str | None = None, run_id: str | None = None
) -> list[dict[str, Any]]:
    """The themes of the latest run (of ``brand``'s scope, or the all-brands scope), largest
    first, each with its representative verbatims' text."""
    brands = {b.id: b.name for b in session.scalars(select(Brand))}
    if run_id is None:
        brand_id = next((i for i, n in brands.items() if n == brand), -1) if brand else None
        scope = Theme.brand_id.is_(None) if brand_id is None else Theme.brand_id == brand_id
        run_id = session.scalar(
            select(Theme.run_id).where(scope).order_by(Theme.id.desc()).limit(1)
        )
        if run_id is None:
            return []
    rows = list(
        session.scalars(select(Theme).where(Theme.run_id == run_id).order_by(Theme.size.desc()))
    )
    ids = {i for t in rows for i in t.representatives}
    texts: dict[int, str] = {}
    if ids:
        texts = {
            int(i): str(t)
            for i, t in session.execute(
                select(Document.id, Document.text).where(Document.id.in_(ids))
            )
        }
    out = []
    for theme in rows:
        data = theme_dict(theme, brands)
        data["verbatims"] = [
            {"document_id": i, "text": texts.get(i, "")} for i in theme.representatives
        ]
        out.append(data)
    return out
