"""Inference-only forms of the fitted scikit-learn pieces our heads use.

Heads are trained with scikit-learn (``LogisticRegression``, ``TfidfVectorizer``) but saved
as these small numpy objects, so that loading and applying a head does not import
scikit-learn (with scipy.stats and pandas behind it, ~2 s of cold start). They expose the
same ``classes_`` / ``predict_proba`` / ``transform`` and give the same numbers (tested
against scikit-learn in ``tests/nlp/test_linear.py``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class LinearProba:
    """A fitted ``LogisticRegression``: softmax over classes, or a sigmoid for two."""

    classes_: np.ndarray
    coef: np.ndarray  # (n_classes or 1, n_features)
    intercept: np.ndarray

    @classmethod
    def from_sklearn(cls, model: Any) -> LinearProba:
        return cls(np.asarray(model.classes_), np.asarray(model.coef_, dtype=np.float64),
                   np.asarray(model.intercept_, dtype=np.float64))

    def predict_proba(self, x: Any) -> np.ndarray:
        scores = np.asarray(x @ self.coef.T, dtype=np.float64) + self.intercept
        if self.coef.shape[0] == 1:  # binary: P(classes_[1]) = sigmoid(score)
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


@dataclass
class WordTfidf:
    """A fitted word ``TfidfVectorizer`` (default analyzer: lower-case, ``token_pattern``,
    word n-grams), with its vocabulary and idf weights."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    ngram_range: tuple[int, int]
    token_pattern: str
    lowercase: bool
    sublinear_tf: bool
    norm: str | None

    @classmethod
    def from_sklearn(cls, vec: Any) -> WordTfidf:
        if vec.analyzer != "word" or vec.tokenizer is not None or vec.preprocessor is not None \
                or vec.strip_accents is not None or vec.stop_words is not None or not vec.use_idf \
                or vec.binary or vec.norm not in ("l2", None):
            raise ValueError("only the default word analyzer with idf and l2/no norm is supported")
        return cls({str(k): int(v) for k, v in vec.vocabulary_.items()},
                   np.asarray(vec.idf_, dtype=np.float64), tuple(vec.ngram_range),
                   vec.token_pattern, bool(vec.lowercase), bool(vec.sublinear_tf), vec.norm)

    def _terms(self, doc: str, pattern: re.Pattern[str]) -> list[str]:
        tokens = pattern.findall(doc.lower() if self.lowercase else doc)
        low, high = self.ngram_range
        terms = list(tokens) if low == 1 else []
        for n in range(max(2, low), high + 1):
            terms += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return terms

    def transform(self, docs: list[str]) -> Any:
        from scipy.sparse import csr_matrix

        pattern = re.compile(self.token_pattern)
        data: list[float] = []
        indices: list[int] = []
        indptr = [0]
        for doc in docs:
            counts: dict[int, int] = {}
            for term in self._terms(doc, pattern):
                j = self.vocabulary.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            cols = sorted(counts)
            vals = [((1.0 + math.log(counts[j])) if self.sublinear_tf else float(counts[j])) * self.idf[j]
                    for j in cols]
            if self.norm == "l2" and vals:
                scale = math.sqrt(sum(v * v for v in vals))
                vals = [v / scale for v in vals]
            indices += cols
            data += vals
            indptr.append(len(indices))
        return csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32),
                           np.asarray(indptr, dtype=np.int32)), shape=(len(docs), len(self.idf)))


def plain(model: Any) -> Any:
    """The inference-only form of a fitted estimator/vectorizer (others unchanged)."""
    kind = type(model).__name__
    if kind == "LogisticRegression":
        return LinearProba.from_sklearn(model)
    if kind == "TfidfVectorizer":
        return WordTfidf.from_sklearn(model)
    return model
