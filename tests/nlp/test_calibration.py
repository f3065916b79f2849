"""Calibration from ratings: variant choice by CV on the rated slice, on synthetic vectors."""

from __future__ import annotations

import numpy as np
import pytest

from listening.errors import AnalysisError
from nlp.calibration import VARIANTS, _fit, _macro_f1, _select, rating_label


def _blobs(n: int, shift: float, seed: int) -> tuple[np.ndarray, list[str]]:
    """Three separable clusters; ``shift`` moves the rated domain away from the base one."""
    rng = np.random.default_rng(seed)
    centres = {"negative": -2.0, "neutral": 0.0, "positive": 2.0}
    xs, ys = [], []
    for label, centre in centres.items():
        x = rng.normal(0, 0.6, (n, 8))
        x[:, 0] += centre
        x[:, 1] += shift * (1 if label == "positive" else -1)
        xs.append(x)
        ys += [label] * n
    return np.vstack(xs), ys


def test_rating_labels() -> None:
    assert [rating_label(s, stars=True) for s in (1, 2, 3, 4, 5)] == [
        "negative", "negative", "neutral", "positive", "positive"]
    assert rating_label(0.5, stars=False) == "neutral"


def test_select_prefers_the_rated_domain_when_it_differs() -> None:
    # base examples say "dimension 0 decides"; the rated domain flips dimension 0 and
    # puts its signal on dimension 1: only variants that trust the rated reviews work.
    x_base, y_base = _blobs(60, 0.0, 0)
    x_rated, y_rated = _blobs(30, 3.0, 1)
    x_rated[:, 0] *= -1
    best, scores = _select(x_base, y_base, x_rated, y_rated, VARIANTS)
    assert set(scores) == {v[0] for v in VARIANTS}
    assert scores[best[0]] == max(scores.values())
    assert scores[best[0]] > scores["combined"]
    head = _fit(x_base, y_base, x_rated, y_rated, best[1], best[2])
    pred = [head.labels[int(i)] for i in head.proba(x_rated).argmax(axis=1)]
    assert _macro_f1(y_rated, pred) > 0.8


def test_binary_ratings_skip_ratings_only_variants() -> None:
    x_base, y_base = _blobs(40, 0.0, 2)
    x_rated, y_rated = _blobs(30, 0.0, 3)
    keep = [i for i, y in enumerate(y_rated) if y != "neutral"]  # 1 and 5 stars only
    x_rated, y_rated = x_rated[keep], [y_rated[i] for i in keep]
    best, scores = _select(x_base, y_base, x_rated, y_rated, VARIANTS)
    assert best[1] != "only" and all(not name.startswith("ratings-only") for name in scores)
    with pytest.raises(AnalysisError, match="neutral"):
        _fit(x_base, y_base, x_rated, y_rated, "only", 2.0)
