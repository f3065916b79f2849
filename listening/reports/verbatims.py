"""Representative verbatims: the most central text of a group, quoted as written.

Centrality is the cosine similarity of each text's vector to the normalised mean vector
(centroid) of its group: the verbatim that says what most of the group says. Vectors are
the NLP encoder's sentence embeddings (multilingual e5, the ones the pipeline analyses
with) or, when the encoder cannot load or ``insights.report_centrality = "tfidf"``,
TF-IDF vectors of word unigrams and bigrams (scikit-learn). Nothing is generated: the
chosen verbatim's own text is returned, cut at a word boundary only when too long.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from listening.errors import ReportError
from listening.settings import Settings

log = logging.getLogger(__name__)


class Vectoriser:
    """Turns texts into L2-normalised rows; ``method`` says which vectors were used."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.method = "tfidf"
        self._encoder: Any = None
        wanted = settings.insights.report_centrality
        if wanted in ("auto", "embeddings"):
            try:
                import nlp.encoder  # noqa: F401  (registers the encoders)
                from nlp.pipeline import make_encoder

                self._encoder = make_encoder(settings, cache=True)
                self.method = "embeddings"
            except Exception as exc:  # no model available: TF-IDF says it too
                if wanted == "embeddings":
                    raise ReportError(
                        f"the sentence encoder cannot load: {type(exc).__name__}: {exc}",
                        "set LISTENING_INSIGHTS__REPORT_CENTRALITY=auto (falls back to TF-IDF) or tfidf",
                    ) from None
                log.warning("sentence encoder unavailable (%s): TF-IDF centrality", exc)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is not None:
            return np.asarray(self._encoder.encode(list(texts)), dtype=np.float32)
        from sklearn.feature_extraction.text import TfidfVectorizer

        try:
            matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
        except ValueError:  # only stop words / empty texts
            return np.zeros((len(texts), 1), dtype=np.float32)
        return np.asarray(matrix.toarray(), dtype=np.float32)  # rows already L2-normalised


def centrality(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row to the group's centroid (rows are L2-normalised)."""
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.float32)
    centroid = vectors.mean(axis=0)
    norm = float(np.linalg.norm(centroid))
    if norm == 0:
        return np.zeros(len(vectors), dtype=np.float32)
    return np.asarray(vectors @ (centroid / norm), dtype=np.float32)


def most_central(texts: Sequence[str], vectoriser: Vectoriser) -> list[int]:
    """Indices of ``texts`` from most to least central (ties: first come first)."""
    if not texts:
        return []
    scores = centrality(vectoriser.vectors(texts))
    return sorted(range(len(texts)), key=lambda i: (-float(scores[i]), i))


def excerpt(text: str, max_chars: int) -> tuple[str, bool]:
    """The text itself, or its beginning cut at a word boundary; True when cut."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text, False
    cut = text.rfind(" ", 0, max_chars)
    cut = cut if cut > max_chars // 2 else max_chars
    return text[:cut].rstrip(" ,;:"), True
