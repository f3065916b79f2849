"""Calibration of the sentiment head from star ratings (`listening train sentiment --from-ratings`).

Rated reviews (from the store's ``documents.rating``, normalised 0..1, or a JSONL file of
``{"text", "rating"}`` with 1-5 stars or 0-1) become sentiment labels: 1-2 stars negative,
3 neutral, 4-5 positive. A stratified 20 % slice is held out; the shipped/current head
and the adapted head (trained on the other 80 %) are scored on it, and the gain is
reported. How the rated reviews are used (added to the project's examples with weight 1,
weighted to count as much as them, or alone; and C) is chosen by 5-fold cross-validation
on the 80 % slice. When the gain is not negative, the chosen variant retrained on every
rated review is saved (``ratings_only`` restricts the choice to the rated reviews alone).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from listening.errors import AnalysisError
from listening.settings import Settings
from nlp.heads import Head, train_single
from nlp.pipeline import SENTIMENTS, head_path, models_dir
from nlp.training import Featurizer, sentiment_rows

MIN_RATED = 20


def rating_label(rating: float, stars: bool) -> str:
    """Stars (1-5) or a normalised 0..1 rating → negative | neutral | positive."""
    norm = (rating - 1) / 4 if stars else rating
    if norm < 0.4:
        return "negative"
    return "neutral" if norm <= 0.6 else "positive"


def rated_rows(settings: Settings, ratings_file: Path | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if ratings_file is not None:
        if not ratings_file.is_file():
            raise AnalysisError(f"{ratings_file} not found", 'give a JSONL file of {"text", "rating"}')
        for n, line in enumerate(ratings_file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                rows.append({"text": str(obj["text"]), "rating": float(obj["rating"])})
            except (ValueError, KeyError, TypeError):
                raise AnalysisError(f"{ratings_file}:{n} needs 'text' and a numeric 'rating'",
                                    'write {"text": "...", "rating": 4} per line') from None
    else:
        from sqlalchemy import select

        from listening.store import Document, Store

        store = Store.from_settings(settings)
        with store.session() as s:
            for text, rating in s.execute(select(Document.text, Document.rating)
                                          .where(Document.rating.is_not(None))):
                if rating is not None:
                    rows.append({"text": text, "rating": float(rating)})
        store.dispose()
    rows = [r for r in rows if r["text"].strip()]
    # the store keeps ratings normalised to 0..1; a file may give stars (any value > 1)
    stars = ratings_file is not None and any(r["rating"] > 1 for r in rows)
    for r in rows:
        r["sentiment"] = rating_label(r["rating"], stars)
    return rows


def _macro_f1(gold: list[str], pred: list[str]) -> float:
    """Macro-F1 over the labels present in the gold (binary-rated data has no neutral)."""
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, labels=sorted(set(gold)), average="macro", zero_division=0))


def _score(head: Head, x: np.ndarray, gold: list[str], texts: list[str] | None = None,
           ) -> dict[str, float]:
    from sklearn.metrics import accuracy_score

    pred = [head.labels[int(i)] for i in head.proba(x, texts).argmax(axis=1)]
    return {"accuracy": round(float(accuracy_score(gold, pred)), 4),
            "macro_f1": round(_macro_f1(gold, pred), 4)}


# (name, weight of the rated reviews relative to the project's examples, C); "ratings-only"
# drops the project's examples. "balanced" gives the rated reviews, together, as much weight
# as the project's examples.
VARIANTS: tuple[tuple[str, str, float], ...] = (
    ("combined", "1", 2.0),
    ("combined-balanced", "balanced", 2.0),
    ("combined-balanced-c8", "balanced", 8.0),
    ("ratings-only", "only", 2.0),
    ("ratings-only-c8", "only", 8.0),
)


def _fit(x_base: np.ndarray, y_base: list[str], x_rated: np.ndarray, y_rated: list[str],
         weight: str, c: float) -> Head:
    if weight == "only" or not y_base:
        x, y, w = x_rated, y_rated, np.ones(len(y_rated))
    else:
        ratio = 1.0 if weight == "1" else max(1.0, len(y_base) / max(1, len(y_rated)))
        x = np.vstack([x_base, x_rated])
        y = y_base + y_rated
        w = np.concatenate([np.ones(len(y_base)), np.full(len(y_rated), ratio)])
    missing = [label for label in SENTIMENTS if label not in y]
    if missing:  # e.g. ratings only, without 3-star reviews: keep the 3 labels of the head
        raise AnalysisError(f"no rated review labelled {', '.join(missing)}",
                            "use the project's examples too (drop --ratings-only) or add such reviews")
    return train_single("sentiment", x, y, list(SENTIMENTS), c=c, class_weight=None, sample_weight=w)


def _select(x_base: np.ndarray, y_base: list[str], x_rated: np.ndarray, y_rated: list[str],
            variants: tuple[tuple[str, str, float], ...]) -> tuple[tuple[str, str, float], dict[str, float]]:
    """Pick the variant with the best 5-fold CV macro-F1 on the rated training slice."""
    k = min(5, min(y_rated.count(label) for label in set(y_rated)))
    if k < 2 or len(variants) == 1:
        return variants[0], {}
    scores: dict[str, float] = {}
    for variant in variants:
        gold: list[str] = []
        pred: list[str] = []
        try:
            for tr, va in StratifiedKFold(k, shuffle=True, random_state=0).split(x_rated, y_rated):
                head = _fit(x_base, y_base, x_rated[tr], [y_rated[i] for i in tr], variant[1], variant[2])
                pred += [head.labels[int(i)] for i in head.proba(x_rated[va]).argmax(axis=1)]
                gold += [y_rated[i] for i in va]
        except AnalysisError:
            continue
        scores[variant[0]] = round(_macro_f1(gold, pred), 4)
    if not scores:
        return variants[0], {}
    best = max(variants, key=lambda v: scores.get(v[0], -1.0))
    return best, scores


def calibrate_from_ratings(settings: Settings, ratings_file: Path | None,
                           out: Path | None, ratings_only: bool = False,
                           rows: list[dict[str, Any]] | None = None,
                           apply: bool = True) -> dict[str, Any]:
    """Adapt the document sentiment head to rated reviews and report the gain on a held-out
    20 % slice. The way the rated reviews are used (with or without the project's examples,
    their weight, C) is chosen by cross-validation on the other 80 % only. ``rows`` (with their
    ``sentiment``) replace the store / file; without ``apply`` nothing is saved (a proposal)."""
    rows = rows if rows is not None else rated_rows(settings, ratings_file)
    if len(rows) < MIN_RATED:
        raise AnalysisError(
            f"only {len(rows)} rated review(s) found, at least {MIN_RATED} are needed",
            "collect review sites with star ratings, or pass --ratings-file FILE.jsonl",
        )
    labels = [r["sentiment"] for r in rows]
    stratify = labels if min(labels.count(s) for s in set(labels)) >= 2 else None
    train_rows, held_rows = train_test_split(rows, test_size=0.2, random_state=0, stratify=stratify)
    feat = Featurizer.from_settings(settings)
    x_held, _, _ = feat.docs([r["text"] for r in held_rows])
    gold = [r["sentiment"] for r in held_rows]
    before = _score(Head.load(head_path(settings, "sentiment")), x_held, gold,
                    [r["text"] for r in held_rows])
    base_texts, base_labels, _ = ([], [], []) if ratings_only else sentiment_rows()
    x_base, _, _ = feat.docs(base_texts) if base_texts else (np.zeros((0, feat.encoder.dim)), [], [])
    x_train, _, _ = feat.docs([r["text"] for r in train_rows])
    y_train = [r["sentiment"] for r in train_rows]
    variants = tuple(v for v in VARIANTS if v[1] == "only") if ratings_only else VARIANTS
    variant, cv = _select(x_base, base_labels, x_train, y_train, variants)
    after = _score(_fit(x_base, base_labels, x_train, y_train, variant[1], variant[2]), x_held, gold)
    gain = round(after["macro_f1"] - before["macro_f1"], 4)
    result: dict[str, Any] = {"rated": len(rows), "held_out": len(held_rows), "variant": variant[0],
                              "cv_macro_f1": cv, "before": before, "after": after,
                              "gain_macro_f1": gain, "saved": False}
    if gain >= 0 and apply:
        x_all = np.vstack([x_train, x_held])
        head = _fit(x_base, base_labels, x_all, y_train + gold, variant[1], variant[2])
        head.meta.update({"version": f"sentiment-ratings-{variant[0]}",
                          "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                          "encoder": feat.encoder.fingerprint(), "rated_reviews": len(rows)})
        path = (out or models_dir(settings)) / "sentiment.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        head.save(path)
        result.update({"saved": True, "path": str(path)})
    return result
