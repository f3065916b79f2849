"""Emerging themes: does a topic held out of the taxonomy come back as one cluster?

Labelled verbatims: the project's journey dev set and realistic evaluation set
(``nlp/data/journey_dev.jsonl``, ``nlp/data/realistic_eval.jsonl``; French and English,
reviews and chat). For each held-out topic T, the verbatims the taxonomy would still cover
are left out the way ``listening themes`` leaves them out (a confident taxonomy topic):

- ``oracle``: the pool is the verbatims whose gold topics are T only, plus those with no
  gold topic (the ideal "outside the taxonomy" filter);
- ``all``: every verbatim is clustered (no filter at all: the hardest case);
- ``model``: the real loop. A topic head is trained on the journey taxonomy without T
  (``listening train topics`` on a taxonomy whose T was removed: T's training verbatims
  become "no topic" rows), the verbatims are analysed with it, and the pool is those with no
  topic at or above ``insights.themes_max_topic_confidence`` (what ``listening themes``
  clusters). ``coverage`` is the share of T's verbatims that reach the pool. About 1.5 min
  of training per topic on 2 cores.

The pool is clustered by ``nlp.themes.discover`` (HDBSCAN on the default encoder's
embeddings) and, for T's verbatims: ``recall`` is the share landing in their best
cluster, ``purity`` that cluster's share of T, ``clustered`` the share in any cluster,
``clusters`` the number of clusters. Embeddings are cached (``<data_dir>/cache``).

    .venv/bin/python bench/themes.py [--held-out returns,payment] [--min-cluster-size 8]
        [--min-samples 3] [--reduce-dims 30] [--mode oracle,all,model] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FILES = ("journey_dev.jsonl", "realistic_eval.jsonl")


def rows() -> list[dict[str, Any]]:
    from nlp.datasets import read_jsonl, topics_of

    out = []
    for name in FILES:
        for row in read_jsonl(ROOT / "nlp" / "data" / name):
            out.append({"text": row["text"], "topics": set(topics_of(row))})
    return out


def model_pool(topic: str, texts: list[str], encoder: Any, max_confidence: float) -> list[int]:
    """Indexes of ``texts`` a topic head trained without ``topic`` leaves outside the taxonomy."""
    import dataclasses
    import tempfile

    from listening.settings import get_settings
    from nlp.pipeline import Analyzer
    from nlp.taxonomy import NOT_PREFIX, load_taxonomy
    from nlp.training import Featurizer, train_topics

    settings = get_settings()
    tax = load_taxonomy()
    tax = dataclasses.replace(
        tax,
        name=f"journey_without_{topic}",
        labels=[x for x in tax.labels if x != topic],
        examples={k: v for k, v in tax.examples.items() if k != topic},
        patterns={k: v for k, v in tax.patterns.items() if k not in (topic, NOT_PREFIX + topic)},
    )
    with tempfile.TemporaryDirectory() as out:
        _path, head, _metrics = train_topics(
            settings, out_dir=Path(out), tax=tax, featurizer=Featurizer(settings, encoder)
        )
    analyzer = Analyzer(settings, encoder=encoder, heads={"topics": head})
    results = analyzer.analyze(texts)
    return [
        i
        for i, r in enumerate(results)
        if not any(float(t.get("confidence") or 0.0) >= max_confidence for t in r.topics)
    ]


def run(
    held_out: list[str], modes: list[str], min_cluster_size: int, min_samples: int, reduce_dims: int
) -> dict[str, Any]:
    import numpy as np

    import nlp.encoder  # noqa: F401  (registers the encoders)
    from listening.settings import get_settings
    from nlp.pipeline import make_encoder
    from nlp.themes import best_cluster_scores, discover

    data = rows()
    encoder = make_encoder(get_settings(), cache=True)
    vectors = encoder.encode([r["text"] for r in data])
    results: list[dict[str, Any]] = []
    max_confidence = get_settings().insights.themes_max_topic_confidence
    for topic in held_out:
        for mode in modes:
            if mode == "model":
                keep = model_pool(topic, [r["text"] for r in data], encoder, max_confidence)
            else:
                keep = [
                    i
                    for i, r in enumerate(data)
                    if mode == "all" or not r["topics"] or r["topics"] == {topic}
                ]
            texts = [data[i]["text"] for i in keep]
            start = time.perf_counter()
            clusters = discover(
                texts,
                vectors[keep],
                min_cluster_size=min_cluster_size,
                min_samples=min_samples,
                reduce_dims=reduce_dims,
            )
            wall = time.perf_counter() - start
            labels = np.full(len(keep), -1)
            for k, c in enumerate(clusters):
                labels[c.members] = k
            gold = np.array([topic in data[i]["topics"] for i in keep])
            scores = best_cluster_scores(labels, gold)
            best = None
            if scores["best_size"]:
                held_labels = labels[gold]
                held_labels = held_labels[held_labels >= 0]
                best = clusters[int(np.bincount(held_labels).argmax())].label
            results.append(
                {
                    "topic": topic,
                    "mode": mode,
                    "pool": len(keep),
                    "held_out": int(gold.sum()),
                    "coverage": round(
                        int(gold.sum()) / max(1, sum(topic in r["topics"] for r in data)), 4
                    ),
                    "clusters": len(clusters),
                    **scores,
                    "best_label": best,
                    "wall_s": round(wall, 2),
                }
            )
    return {
        "params": {
            "min_cluster_size": min_cluster_size,
            "min_samples": min_samples,
            "reduce_dims": reduce_dims,
            "encoder": encoder.name,
            "n_docs": len(data),
        },
        "results": results,
        "mean_recall": {
            m: round(float(np.mean([r["recall"] for r in results if r["mode"] == m])), 4)
            for m in modes
        },
        "mean_purity": {
            m: round(float(np.mean([r["purity"] for r in results if r["mode"] == m])), 4)
            for m in modes
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--held-out", default="returns,payment,stock,website,customer_service,price"
    )
    parser.add_argument("--mode", default="oracle,all")
    parser.add_argument("--min-cluster-size", type=int, default=8)
    parser.add_argument("--min-samples", type=int, default=3)
    parser.add_argument("--reduce-dims", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = run(
        args.held_out.split(","),
        args.mode.split(","),
        args.min_cluster_size,
        args.min_samples,
        args.reduce_dims,
    )
    if not args.json:
        print(
            f"{'topic':<18}{'mode':<8}{'pool':>6}{'held':>6}{'cover':>7}{'clus':>6}{'recall':>8}"
            f"{'purity':>8}{'in any':>8}  best cluster"
        )
        for r in out["results"]:
            print(
                f"{r['topic']:<18}{r['mode']:<8}{r['pool']:>6}{r['held_out']:>6}{r['coverage']:>7.3f}"
                f"{r['clusters']:>6}"
                f"{r['recall']:>8.3f}{r['purity']:>8.3f}{r['clustered']:>8.3f}  {r['best_label']}"
            )
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
