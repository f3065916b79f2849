"""nlp.themes on real e5 embeddings: an unseen theme forms one named cluster."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from themes_data import CARRIER, OTHER

from nlp.themes import best_cluster_scores, class_tfidf, cluster_labels, discover


def test_themes_unseen_carrier_theme_forms_one_named_cluster(encoder: Any) -> None:
    texts = CARRIER + OTHER
    previous = [CARRIER[0], *OTHER[:10]]
    clusters = discover(
        texts,
        encoder.encode(texts),
        encoder.encode(previous),
        min_cluster_size=5,
        min_samples=3,
        reduce_dims=30,
    )
    carrier = set(range(len(CARRIER)))
    best = max(clusters, key=lambda c: len(carrier & set(c.members)))
    found = carrier & set(best.members)
    assert len(found) >= 12, best.members  # 12 of 14 at least
    assert len(found) / len(best.members) >= 0.75  # the cluster is mostly the carrier theme
    assert "rapidexo" in best.label.split(" · ")[0:2] or "rapidexo" in best.label
    assert all(i in carrier for i in best.representatives) and len(best.representatives) == 3
    assert best.distances == sorted(best.distances)
    # the one carrier verbatim of the previous period counts for the theme; most others do not
    assert 0 in best.previous and len(best.previous) <= 3


def test_themes_class_tfidf_prefers_distinctive_words() -> None:
    texts = [
        "colis perdu par Rapidexo",
        "Rapidexo colis perdu encore",
        "Rapidexo a perdu le colis",
        "la bougie sent bon",
        "bougie parfumée qui sent bon",
        "le colis de bougie est arrivé",
    ]
    labels = np.array([0, 0, 0, 1, 1, -1])
    names = class_tfidf(texts, labels, top_n=3)
    assert names[0][0][0] in {"rapidexo", "perdu", "colis perdu"}
    assert "bougie" in {t for t, _ in names[1]} or "sent" in {t for t, _ in names[1]}
    assert all(t != "le" for t, _ in names[0])  # stop words never name a theme


def test_themes_too_few_documents_form_no_cluster() -> None:
    labels = cluster_labels(np.eye(3, 8, dtype=np.float32), min_cluster_size=5, min_samples=3)
    assert labels.tolist() == [-1, -1, -1]
    assert discover(["a", "b", "c"], np.eye(3, 8, dtype=np.float32), min_cluster_size=5) == []


@pytest.mark.parametrize(
    ("labels", "gold", "expected"),
    [
        ([0, 0, 0, 1, -1], [1, 1, 0, 1, 0], {"recall": 0.6667, "purity": 0.6667, "clustered": 1.0}),
        ([-1, -1, 1], [1, 1, 0], {"recall": 0.0, "purity": 0.0, "clustered": 0.0}),
    ],
)
def test_themes_best_cluster_scores(
    labels: list[int], gold: list[int], expected: dict[str, float]
) -> None:
    got = best_cluster_scores(np.array(labels), np.array(gold, dtype=bool))
    assert {k: got[k] for k in expected} == expected
