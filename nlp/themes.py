"""Emerging themes: unsupervised clusters of verbatims outside the taxonomy.

BERTopic's recipe rebuilt on the project's own encoder (no model hub): the L2-normalised
e5 embeddings, centred and reduced by PCA (then normalised again), are clustered by
scikit-learn's HDBSCAN (density-based: the number of themes is not fixed, verbatims in
no dense region stay unclustered), and each cluster is named by class-based TF-IDF over
French and English words and word pairs (spaCy's stop words removed):

    c-TF-IDF(t, c) = tf(t, c) × log(1 + A / f(t))

with ``tf(t, c)`` the share of the documents of cluster ``c`` holding term ``t`` (the
unclustered verbatims form one more class, so words common everywhere score low), ``A``
the mean number of terms per class and ``f(t)`` the term's document count over all
classes. Representative verbatims are the members closest to the cluster's centroid.
Verbatims of the previous period count for the theme whose centroid is nearest when
they fall inside its radius (the 90th percentile of its own members' distances), which
gives the growth.

Pure functions on arrays and texts: the store side is ``listening.insights.themes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from nlp.encoder import normalise_rows

TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_'’-]+\b"
_NOISE_WORDS = {
    # chat and review filler the stop lists miss
    "très",
    "tres",
    "trop",
    "bien",
    "bon",
    "bonne",
    "vraiment",
    "merci",
    "bonjour",
    "svp",
    "fois",
    "commande",
    "produit",
    "site",
    "the",
    "and",
    "very",
    "really",
    "ok",
    "an",
    "ça",
    "ca",
    "j'ai",
    "qu",
    "c'est",
    "n'est",
    "it's",
    "i'm",
    "pas",
    "plus",
    "cordialement",
    "madame",
    "monsieur",
    "salutations",
    "hello",
    "thanks",
    "thank",
    "please",
    "hi",
}


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """French and English stop words of spaCy, plus review filler words."""
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.fr.stop_words import STOP_WORDS as FR

    return frozenset({w.lower() for w in FR | EN} | _NOISE_WORDS)


@dataclass
class Cluster:
    """One theme of the current period (indexes point into the inputs)."""

    members: list[int]
    distances: list[float]  # cosine distance of each member to the centroid
    centroid: np.ndarray
    terms: list[tuple[str, float]] = field(default_factory=list)
    representatives: list[int] = field(default_factory=list)
    previous: list[int] = field(default_factory=list)  # previous-period inputs assigned to it
    previous_distances: list[float] = field(default_factory=list)
    radius: float = 0.0

    @property
    def label(self) -> str:
        return " · ".join(t for t, _ in self.terms[:3])


def reduce(vectors: np.ndarray, dims: int, random_state: int = 0) -> np.ndarray:
    """Rows normalised, centred on their mean (e5 embeddings share one dominant direction:
    centring lifts recall of a held-out topic from 0.22 to 0.41, docs/BENCHMARKS.md), then
    reduced by PCA to ``dims`` dimensions (0: none) and normalised again."""
    x = normalise_rows(np.asarray(vectors, dtype=np.float32))
    x = normalise_rows(x - x.mean(axis=0, keepdims=True))
    if dims <= 0 or dims >= min(x.shape):
        return x
    from sklearn.decomposition import PCA

    return normalise_rows(PCA(n_components=dims, random_state=random_state).fit_transform(x))


def cluster_labels(
    vectors: np.ndarray, min_cluster_size: int, min_samples: int, reduce_dims: int = 0
) -> np.ndarray:
    """HDBSCAN labels (-1: noise) of the normalised (optionally PCA-reduced) rows."""
    from sklearn.cluster import HDBSCAN

    n = len(vectors)
    if n < max(2, min_cluster_size):
        return np.full(n, -1, dtype=int)
    x = reduce(vectors, reduce_dims)
    model = HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min(min_samples, n - 1),
        metric="euclidean",
        cluster_selection_method="eom",
        copy=True,
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(model.fit_predict(x), dtype=int)


def class_tfidf(
    texts: list[str], labels: np.ndarray, top_n: int = 8
) -> dict[int, list[tuple[str, float]]]:
    """The ``top_n`` most distinctive terms (uni- and bigrams) of each label >= 0."""
    from sklearn.feature_extraction.text import CountVectorizer

    classes = sorted(set(int(v) for v in labels))
    if not any(c >= 0 for c in classes):
        return {}
    vectorizer = CountVectorizer(
        lowercase=True,
        token_pattern=TOKEN_PATTERN,
        ngram_range=(1, 2),
        binary=True,
        stop_words=sorted(stop_words()),
        min_df=2,
    )
    import warnings

    cleaned = [re.sub(r"https?://\S+", " ", t or "") for t in texts]
    try:
        with warnings.catch_warnings():  # spaCy's stop words hold "qu'" forms the tokenizer splits
            warnings.simplefilter("ignore")
            counts = vectorizer.fit_transform(cleaned)
    except ValueError:  # nothing left after stop words / min_df
        return {c: [] for c in classes if c >= 0}
    vocab = np.asarray(vectorizer.get_feature_names_out())
    per_class = np.vstack(
        [np.asarray(counts[np.flatnonzero(labels == c)].sum(axis=0)).ravel() for c in classes]
    ).astype(np.float64)
    sizes = np.array([max(1, int((labels == c).sum())) for c in classes], dtype=np.float64)
    tf = per_class / sizes[:, None]
    freq = per_class.sum(axis=0)
    avg = per_class.sum() / len(classes)
    idf = np.log(1.0 + avg / np.maximum(freq, 1.0))
    scores = tf * idf
    out: dict[int, list[tuple[str, float]]] = {}
    for row, c in enumerate(classes):
        if c < 0:
            continue
        order = np.argsort(-scores[row], kind="stable")
        picked: list[tuple[str, float]] = []
        for j in order:
            if per_class[row, j] < 2 or len(picked) >= top_n:
                break
            term = str(vocab[j])
            # a unigram already inside a picked bigram adds nothing
            if any(term in p.split() for p, _ in picked):
                continue
            picked.append((term, round(float(scores[row, j]), 4)))
        out[c] = picked
    return out


def discover(
    texts: list[str],
    vectors: np.ndarray,
    previous: np.ndarray | None = None,
    *,
    min_cluster_size: int = 8,
    min_samples: int = 3,
    reduce_dims: int = 30,
    top_terms: int = 8,
    representatives: int = 3,
) -> list[Cluster]:
    """Themes of ``texts`` (rows of ``vectors``), largest first, with the ``previous``
    period's rows assigned to them."""
    x = normalise_rows(np.asarray(vectors, dtype=np.float32))
    labels = cluster_labels(x, min_cluster_size, min_samples, reduce_dims)
    names = class_tfidf(texts, labels, top_terms)
    clusters: list[Cluster] = []
    for c in sorted(set(int(v) for v in labels) - {-1}):
        idx = np.flatnonzero(labels == c)
        centroid = normalise_rows(x[idx].mean(axis=0, keepdims=True))[0]
        dist = 1.0 - x[idx] @ centroid
        order = np.argsort(dist, kind="stable")
        clusters.append(
            Cluster(
                members=[int(i) for i in idx[order]],
                distances=[round(float(d), 4) for d in dist[order]],
                centroid=centroid,
                terms=names.get(c, []),
                representatives=[int(i) for i in idx[order][:representatives]],
                radius=float(np.quantile(dist, 0.9)),
            )
        )
    if previous is not None and len(previous) and clusters:
        p = normalise_rows(np.asarray(previous, dtype=np.float32))
        centroids = np.vstack([c.centroid for c in clusters])
        dist = 1.0 - p @ centroids.T
        nearest = dist.argmin(axis=1)
        for i, k in enumerate(nearest):
            d = float(dist[i, k])
            if d <= clusters[k].radius:
                clusters[k].previous.append(i)
                clusters[k].previous_distances.append(round(d, 4))
    clusters.sort(key=lambda c: -len(c.members))
    return clusters


def best_cluster_scores(labels: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """For the documents where ``gold`` is true: the cluster holding most of them (recall:
    their share in it; purity: its share of them), and the share clustered at all."""
    held = np.flatnonzero(gold)
    if not len(held):
        return {"recall": 0.0, "purity": 0.0, "clustered": 0.0, "best_size": 0}
    found = labels[held]
    found = found[found >= 0]
    if not len(found):
        return {"recall": 0.0, "purity": 0.0, "clustered": 0.0, "best_size": 0}
    values, counts = np.unique(found, return_counts=True)
    best = int(values[counts.argmax()])
    size = int((labels == best).sum())
    return {
        "recall": round(float(counts.max() / len(held)), 4),
        "purity": round(float(counts.max() / size), 4),
        "clustered": round(float(len(found) / len(held)), 4),
        "best_size": size,
    }
