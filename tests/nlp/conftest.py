"""NLP fixtures: one real analyzer (default encoder + shipped heads) and one exported ONNX
model folder per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nlp_helpers import plain_settings

from nlp.pipeline import Analyzer


@pytest.fixture(scope="session")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Analyzer]:
    yield Analyzer(plain_settings(tmp_path_factory.mktemp("nlp")))


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly exported ONNX model folder (the OpenVINO and ONNX Runtime encoders' model)."""
    from nlp.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("onnx") / "e5-small-onnx"
    assert export_onnx(out)["written"]
    return out
