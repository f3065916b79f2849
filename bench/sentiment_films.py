"""How much should the MIT film reviews weigh in the shipped sentiment head, and how is
"neutral" kept reachable next to them? (model selection)

The MIT Allociné film reviews (``nlp/data/allocine_films_fr_mit``, train + extra) are binary:
adding them pulls the 3-class head away from "neutral". For each film weight and C, the head
is trained exactly as ``listening train sentiment`` does (``training.sentiment_training_set`` +
``training.fit_sentiment_head``), then a grid of log-odds offsets for "positive" and "neutral"
is scored on selection data only, never on the test splits:

- Allociné-TV **dev** accuracy (binary) and DEFT-2017 **val** macro-F1 and neutral recall;
- the held-out MIT films (``test.csv``, never trained on) accuracy (binary);
- our own neutral rows: out-of-fold neutral recall (5-fold CV over our rows; the film rows are
  always on the training side) and journey **dev** document-sentiment accuracy / neutral recall.

    .venv/bin/python bench/sentiment_films.py [--weights 0 0.5 1] [--c 1 4] [--json]

Needs ../shared/data for Allociné-TV and DEFT (exits 0 with a message when it is absent).
Vectors go through the embedding cache: the first run embeds the films (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "sentiment"
POSITIVE_OFFSETS = (0.0, 0.2, 0.4)
NEUTRAL_OFFSETS = (0.0, 0.25, 0.5, 0.75, 1.0)


def predict(head: Any, x: np.ndarray, pos: float, neu: float, binary: bool) -> list[str]:
    """Labels of the head fitted without offsets, with the given offsets added."""
    from nlp.pipeline import SENTIMENTS

    model = head.models[0]
    z = model.decision_function(x)
    classes = list(model.classes_)
    z[:, classes.index("positive")] += pos
    z[:, classes.index("neutral")] += neu
    z = z[:, [classes.index(s) for s in SENTIMENTS]]
    if binary:
        return ["positive" if row[2] >= row[0] else "negative" for row in z]
    return [SENTIMENTS[int(i)] for i in z.argmax(axis=1)]


def recall(gold: list[str], pred: list[str], label: str) -> float:
    hits = [p == label for g, p in zip(gold, pred, strict=True) if g == label]
    return round(float(np.mean(hits)), 3) if hits else float("nan")


def own_cv_neutral(
    x: np.ndarray,
    y: list[str],
    w: np.ndarray,
    own: np.ndarray,
    c: float,
    offsets: list[tuple[float, float]],
) -> dict[tuple[float, float], float]:
    """Out-of-fold neutral recall on our own rows (other rows stay on the training side)."""
    from sklearn.model_selection import StratifiedKFold

    from nlp.training import fit_sentiment_head

    own_idx = np.flatnonzero(own)
    rest = np.flatnonzero(~own)
    y_arr = np.array(y)
    pred: dict[tuple[float, float], np.ndarray] = {
        o: np.empty(len(y), dtype=object) for o in offsets
    }
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(own_idx, y_arr[own_idx]):
        train = np.concatenate([own_idx[tr], rest])
        head = fit_sentiment_head(x[train], list(y_arr[train]), w[train], c, 0.0, 0.0)
        for o in offsets:
            pred[o][own_idx[te]] = predict(head, x[own_idx[te]], *o, binary=False)
    gold = list(y_arr[own_idx])
    return {o: recall(gold, list(p[own_idx]), "neutral") for o, p in pred.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    parser.add_argument("--c", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument(
        "--own-cv", action="store_true", help="also the 5-fold own neutral recall (slower)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"{DATA} not found: this benchmark needs ../shared/data")
        return
    from listening.settings import load_settings
    from nlp import datasets, training
    from nlp.evaluation import sentiment_metrics

    feat = training.Featurizer.from_settings(load_settings())
    dev_rows = [
        r
        for r in datasets.read_jsonl(datasets.DATA_DIR / "journey_dev.jsonl")
        if r.get("sentiment")
    ]
    film_test = datasets.read_labelled_csv(datasets.FILMS_DIR / "test.csv")
    sets = {
        "allocine_dev": datasets.read_tsv(DATA / "allocine_tv_fr" / "dev.tsv"),
        "deft_val": datasets.read_xlmt(DATA / "deft2017_tweets_fr", "val"),
        "films_heldout": film_test,
        "journey_dev": ([r["text"] for r in dev_rows], [r["sentiment"] for r in dev_rows]),
    }
    ex = {name: feat.docs(list(t))[0] for name, (t, _) in sets.items()}
    ey = {name: list(lab) for name, (_, lab) in sets.items()}
    own_texts = {r["text"] for r in datasets.own_examples()}
    offsets = list(itertools.product(POSITIVE_OFFSETS, NEUTRAL_OFFSETS))
    results: list[dict[str, Any]] = []
    for weight in args.weights:
        texts, labels, weights, n, _data = training.sentiment_training_set(film_weight=weight)
        x = feat.docs(texts)[0]
        own = np.array([t in own_texts for t in texts[:n]])
        for c in args.c:
            head = training.fit_sentiment_head(x, labels, weights, c, 0.0, 0.0)
            cv = (
                own_cv_neutral(x[:n], labels[:n], weights[:n], own, c, offsets)
                if args.own_cv
                else {}
            )
            for pos, neu in offsets:
                row: dict[str, Any] = {
                    "film_weight": weight,
                    "C": c,
                    "positive_offset": pos,
                    "neutral_offset": neu,
                }
                for name in sets:
                    binary = name in ("allocine_dev", "films_heldout")
                    pred = predict(head, ex[name], pos, neu, binary)
                    m = sentiment_metrics(ey[name], pred, binary)
                    row[f"{name}_{'acc' if binary else 'macro_f1'}"] = round(
                        m["accuracy" if binary else "macro_f1"], 3
                    )
                    if not binary:
                        row[f"{name}_neutral_recall"] = recall(ey[name], pred, "neutral")
                if cv:
                    row["own_cv_neutral_recall"] = cv[(pos, neu)]
                results.append(row)
                if not args.json:
                    print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
