"""Small scikit-learn heads on sentence embeddings, saved data-only in ``nlp/models/`` as
``NAME.npz`` + ``NAME.json`` (the numpy forms of :mod:`nlp.linear`, so applying them needs
no scikit-learn, and loading them never unpickles: :mod:`nlp.head_files`).

A :class:`Head` is single-label (sentiment, intent) or multi-label (topics, urgency) with
per-label decision thresholds. Its ``digest`` (hash of the saved content) enters the
analysis ``model_version``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError
from nlp.head_files import load_head_payload, save_head_payload

_QUESTION = re.compile(
    r"\?|^\s*(est-ce|comment|pourquoi|quand|combien|où|quel|quelle|how|why|when|where|what|"
    r"which|can|could|is|are|do|does)\b",
    re.IGNORECASE,
)
_SUGGEST = re.compile(
    r"\b(devriez|pourriez|serait bien|serait top|suggère|suggestion|proposer|ajouter|should|"
    r"could you|would be nice|would be great|suggest|please add)\b",
    re.IGNORECASE,
)
_THANKS = re.compile(r"\b(merci|thanks?|thank you|bravo|bonne journée|have a nice)\b", re.I)


def lexical_features(texts: list[str]) -> np.ndarray:
    """A few surface cues that embeddings blur: questions, suggestions, thanks, '!'."""
    rows = []
    for text in texts:
        rows.append(
            [
                1.0 if _QUESTION.search(text) else 0.0,
                1.0 if _SUGGEST.search(text) else 0.0,
                1.0 if _THANKS.search(text) else 0.0,
                min(text.count("!"), 3) / 3.0,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), 4)


@dataclass
class Head:
    """A trained classifier over embeddings (+ optional lexical features)."""

    name: str
    labels: list[str]
    multilabel: bool
    models: list[Any]  # one estimator (single-label) or one per label (multi-label)
    thresholds: list[float] = field(default_factory=list)
    lexical: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    vectorizer: Any = None  # optional fitted TF-IDF over words, fused with the embeddings
    digest: str = ""

    def features(self, vectors: np.ndarray, texts: list[str] | None) -> Any:
        if not self.lexical and self.vectorizer is None:
            return vectors
        if texts is None:
            raise AnalysisError(f"head {self.name} needs the texts", "pass texts with the vectors")
        if self.vectorizer is not None:
            from scipy.sparse import csr_matrix, hstack

            return hstack([csr_matrix(vectors), self.vectorizer.transform(texts)]).tocsr()
        return np.hstack([vectors, lexical_features(texts)])

    def proba(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """(n, len(labels)) probabilities."""
        if len(vectors) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        x = self.features(vectors, texts)
        if not self.multilabel:
            model = self.models[0]
            probs = model.predict_proba(x)
            order = [list(model.classes_).index(label) for label in self.labels]
            return np.asarray(probs[:, order], dtype=np.float32)
        cols = []
        for model in self.models:
            if isinstance(model, float):  # label never seen positive/negative in training
                cols.append(np.full(x.shape[0], model, dtype=np.float32))
            else:
                cols.append(model.predict_proba(x)[:, list(model.classes_).index(1)])
        return np.stack(cols, axis=1).astype(np.float32)

    def save(self, path: Path) -> str:
        """Write ``NAME.json`` + ``NAME.npz`` beside ``path`` (its suffix is ignored)."""
        payload = {k: getattr(self, k) for k in
                   ("name", "labels", "multilabel", "thresholds", "lexical", "meta", "models",
                    "vectorizer")}
        _, self.digest = save_head_payload(payload, path)
        return self.digest

    @classmethod
    def load(cls, path: Path) -> Head:
        """Read a data-only head (``NAME.json``/``NAME.npz``); pickles are refused."""
        payload, digest = load_head_payload(path)
        head = cls(**payload)
        head.digest = digest
        return head


def train_single(name: str, x: np.ndarray, y: list[str], labels: list[str], c: float = 2.0,
                 lexical: bool = False, texts: list[str] | None = None,
                 class_weight: str | None = "balanced", sample_weight: np.ndarray | None = None) -> Head:
    """Logistic regression over the given labels (optionally with per-row weights)."""
    present = sorted(set(y))
    missing = [label for label in labels if label not in present]
    if missing:
        raise AnalysisError(
            f"no training example for label(s) {', '.join(missing)} of {name}",
            "add a few examples of each label to the training data",
        )
    from sklearn.linear_model import LogisticRegression

    head = Head(name, labels, False, [], lexical=lexical)
    model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
    model.fit(head.features(x, texts), y, sample_weight=sample_weight)
    head.models = [model]
    return head


def word_vectorizer(texts: list[str]) -> Any:
    """TF-IDF over words and word pairs (lexical evidence the embeddings blur)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=15000, sublinear_tf=True)
    try:
        vec.fit(texts)
    except ValueError:  # a handful of examples sharing no word: keep every word instead
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, max_features=15000, sublinear_tf=True)
        vec.fit(texts)
    return vec


def train_multilabel(name: str, x: np.ndarray, y: np.ndarray, labels: list[str], c: float = 2.0,
                     thresholds: list[float] | None = None, texts: list[str] | None = None,
                     sample_weight: np.ndarray | None = None) -> Head:
    """One logistic regression per label (one-vs-rest); ``y`` is a 0/1 matrix. With
    ``texts``, word TF-IDF features are fused with the embeddings; ``sample_weight`` weighs
    rows (users' corrections)."""
    from sklearn.linear_model import LogisticRegression

    models: list[Any] = []
    head = Head(name, labels, True, models, thresholds or [0.5] * len(labels))
    if texts is not None:
        head.vectorizer = word_vectorizer(texts)
    feats = head.features(x, texts)
    for j, _label in enumerate(labels):
        col = y[:, j].astype(int)
        if col.min() == col.max():
            models.append(float(col[0]))
            continue
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        model.fit(feats, col, sample_weight=sample_weight)
        models.append(model)
    return head
