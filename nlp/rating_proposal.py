"""Propose, never silently apply, adapting the sentiment head to the user's own star ratings.

When collected reviews carry ratings (``documents.rating``, 0..1) in sufficient number
(``nlp.calibration_min_ratings``), :func:`propose` measures the shipped/current sentiment head
and the adapted one on a held-out 20 % slice of those reviews (nlp/calibration.py) without
saving anything; :func:`apply` retrains and saves only when the user confirms (`listening
calibrate propose --yes`, or the button of the Sources page), and only when the held-out
macro-F1 does not drop.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from listening.errors import AnalysisError
from listening.settings import Settings
from listening.store import Document, Source, Store
from nlp.calibration import calibrate_from_ratings, rating_label


def _query(source: str | None) -> Any:
    query = select(Document.text, Document.rating).where(Document.rating.is_not(None))
    if source:
        query = query.join(Source, Source.id == Document.source_id).where(Source.name == source)
    return query


def rated_count(store: Store, source: str | None = None) -> int:
    """Rated reviews in the store (of ``source`` when given)."""
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(_query(source).subquery())) or 0)


def rated_store_rows(store: Store, source: str | None = None) -> list[dict[str, Any]]:
    if source:
        with store.session() as s:
            if s.scalar(select(Source.id).where(Source.name == source)) is None:
                raise AnalysisError(
                    f"no source named {source!r}", "`listening sources list` shows them"
                )
    with store.session() as s:
        rows = [
            {"text": t, "rating": float(r), "sentiment": rating_label(float(r), stars=False)}
            for t, r in s.execute(_query(source))
            if t and t.strip()
        ]
    return rows


def propose(settings: Settings, store: Store, source: str | None = None) -> dict[str, Any]:
    """Before/after on a held-out slice of the rated reviews; nothing is saved.

    ``eligible`` is False (and nothing is measured) below ``nlp.calibration_min_ratings``."""
    n = rated_count(store, source)
    minimum = settings.nlp.calibration_min_ratings
    out: dict[str, Any] = {
        "rated": n,
        "minimum": minimum,
        "source": source,
        "eligible": n >= minimum,
    }
    if n < minimum:
        return out
    result = calibrate_from_ratings(
        settings,
        None,
        None,
        settings.nlp.calibration_ratings_only,
        rows=rated_store_rows(store, source),
        apply=False,
    )
    out.update({k: result[k] for k in ("held_out", "variant", "before", "after", "gain_macro_f1")})
    out["helps"] = result["gain_macro_f1"] >= 0
    return out


def apply(settings: Settings, store: Store, source: str | None = None) -> dict[str, Any]:
    """Adapt and save the sentiment head (the user confirmed); saved only when it does not hurt."""
    n = rated_count(store, source)
    if n < settings.nlp.calibration_min_ratings:
        raise AnalysisError(
            f"only {n} rated review(s), at least {settings.nlp.calibration_min_ratings} are needed",
            "collect more rated reviews (LISTENING_NLP__CALIBRATION_MIN_RATINGS)",
        )
    return calibrate_from_ratings(
        settings,
        None,
        None,
        settings.nlp.calibration_ratings_only,
        rows=rated_store_rows(store, source),
        apply=True,
    )


def summary(p: dict[str, Any]) -> str:
    """One line: 'N rated reviews: adapting sentiment would change held-out accuracy X -> Y'."""
    if not p["eligible"]:
        return f"{p['rated']} rated review(s): at least {p['minimum']} are needed to propose adapting sentiment"
    return (
        f"{p['rated']} rated reviews: adapting sentiment would change held-out accuracy "
        f"{p['before']['accuracy']:.3f} -> {p['after']['accuracy']:.3f} (macro-F1 "
        f"{p['before']['macro_f1']:.3f} -> {p['after']['macro_f1']:.3f}, {p['held_out']} held-out reviews)"
    )
