"""Calibration of the sentiment head from star ratings (`listening train sentiment --from-ratings`).

Rated reviews (from the store's ``documents.rating``, normalised 0..1, or a JSONL file of
``{"text", "rating"}`` with 1-5 stars or 0-1) become sentiment labels: 1-2 stars negative,
3 neutral, 4-5 positive. A stratified 20 % slice is held out; the shipped/current head
and a head retrained on our data + the other 80 % are scored on it, and the gain is
reported. When the gain is not negative, the head retrained on everything is saved
(``ratings_only``: trained on the rated reviews alone, without the project's examples).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from listening.errors import AnalysisError
from listening.settings import Settings
from nlp.heads import Head, train_single
from nlp.pipeline import SENTIMENTS, head_path, models_dir
from nlp.training import Featurizer, sentiment_rows, train_sentiment

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


def _score(head: Head, x: np.ndarray, gold: list[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    pred = [head.labels[int(i)] for i in head.proba(x).argmax(axis=1)]
    return {"accuracy": round(float(accuracy_score(gold, pred)), 4),
            "macro_f1": round(float(f1_score(gold, pred, labels=SENTIMENTS, average="macro",
                                             zero_division=0)), 4)}


def calibrate_from_ratings(settings: Settings, ratings_file: Path | None,
                           out: Path | None, ratings_only: bool = False) -> dict[str, Any]:
    rows = rated_rows(settings, ratings_file)
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
    before = _score(Head.load(head_path(settings, "sentiment")), x_held, gold)
    base_texts, base_labels, _ = ([], [], []) if ratings_only else sentiment_rows()
    x_base, _, _ = feat.docs(base_texts + [r["text"] for r in train_rows])
    y = base_labels + [r["sentiment"] for r in train_rows]
    after = _score(train_single("sentiment", x_base, y, SENTIMENTS, c=1.0), x_held, gold)
    gain = round(after["macro_f1"] - before["macro_f1"], 4)
    result: dict[str, Any] = {"rated": len(rows), "held_out": len(held_rows), "before": before,
                              "after": after, "gain_macro_f1": gain, "saved": False}
    if gain >= 0:
        if ratings_only:
            x_all, _, _ = feat.docs([r["text"] for r in rows])
            head = train_single("sentiment", x_all, [r["sentiment"] for r in rows], SENTIMENTS, c=1.0)
            head.meta.update({"version": "sentiment-ratings-only", "encoder": feat.encoder.fingerprint()})
            path = (out or models_dir(settings)) / "sentiment.joblib"
            head.save(path)
        else:
            path, _m = train_sentiment(settings, out or models_dir(settings), extra=rows)
        result.update({"saved": True, "path": str(path)})
    return result
