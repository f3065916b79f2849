"""Learning curve of users' corrections: how much do 0, 50, 100, 200 corrections help?

A labelled set (journey JSONL: text, topics, sentiment, intent, urgency) is split with a
fixed seed, stratified on the first gold topic ("none" for no topic), into a pool and a
held-out slice. For each N, the first N pool items (a fixed shuffle) become corrections
(their gold topics, sentiment and intent, as a user fixing every field would give), are added
to the shipped training rows with weight W (``nlp.correction_weight`` unless --weight), and
the topic, document sentiment and intent heads are retrained (urgency and the per-topic
sentiment head keep the shipped ones). The
held-out slice is then analysed by the full pipeline. Printed per N: topics micro-F1,
delivery recall, document sentiment accuracy, intent accuracy, and actionable accuracy
against a gold derived from the labels (any urgency, or intent complaint/question). The
shipped heads are scored too. Last line: JSON.

    .venv/bin/python bench/corrections_curve.py --data nlp/data/realistic_eval.jsonl [--weight 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.settings import Settings, load_settings  # noqa: E402
from nlp.datasets import read_jsonl, topics_of  # noqa: E402

STEPS = (0, 50, 100, 200)


def split(
    rows: list[dict[str, Any]], held_share: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pool, held-out), stratified on the first gold topic, both in a fixed shuffled order."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[next(iter(sorted(topics_of(r))), "none")].append(r)
    rng = random.Random(seed)
    pool: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for key in sorted(by):
        group = by[key]
        rng.shuffle(group)
        k = round(len(group) * held_share)
        held += group[:k]
        pool += group[k:]
    rng.shuffle(pool)
    return pool, held


def as_correction(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"text": row["text"], "topics": sorted(topics_of(row))}
    if row.get("sentiment"):
        out["sentiment"] = row["sentiment"]
    if row.get("intent"):
        out["intent"] = row["intent"]
    return out


def gold_actionable(row: dict[str, Any]) -> bool:
    return bool(row.get("urgency")) or row.get("intent") in ("complaint", "question")


def score(settings: Settings, held: list[dict[str, Any]]) -> dict[str, Any]:
    from nlp.evaluation import cached_analyzer, eval_topics

    analyzer = cached_analyzer(settings)
    res = eval_topics(analyzer, held)
    results = analyzer.analyze([r["text"] for r in held], [r.get("lang") for r in held])
    act = sum(gold_actionable(r) == a.actionable for r, a in zip(held, results, strict=True))
    return {
        "topics_micro_f1": res["micro_f1"],
        "delivery_recall": res["per_topic"]["delivery"]["recall"],
        "sentiment_accuracy": res["document_sentiment_accuracy"],
        "intent_accuracy": res.get("intent_accuracy"),
        "actionable_accuracy": round(act / len(held), 4),
    }


def with_models(settings: Settings, folder: Path) -> Settings:
    return settings.model_copy(
        update={"nlp": settings.nlp.model_copy(update={"models_dir": str(folder)})}
    )


def train(settings: Settings, corrections: list[dict[str, Any]], weight: float) -> None:
    """Topics and intent as `listening train` does; the document sentiment head with the
    shipped recipe (rows, weights, C, offset) but without its cross-validation report, and the
    per-topic (aspect) sentiment head stays the shipped one: corrections do not train it."""
    from nlp.corrections_training import intent_extra, sentiment_extra, topic_extra
    from nlp.pipeline import SENTIMENTS, models_dir
    from nlp.training import (
        Featurizer,
        _finish,
        fit_sentiment_head,
        sentiment_training_set,
        train_intent,
        train_topics,
    )

    feat = Featurizer.from_settings(settings)
    train_topics(settings, featurizer=feat, extra=topic_extra(corrections), extra_weight=weight)
    texts, labels, weights, _n, _data = sentiment_training_set(
        sentiment_extra(corrections) or None, extra_weight=weight
    )
    x, _, _ = feat.docs(texts)
    head = fit_sentiment_head(x, labels, weights)
    _finish(head, models_dir(settings), feat, {s: labels.count(s) for s in SENTIMENTS})
    train_intent(settings, extra=intent_extra(corrections), extra_weight=weight)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="labelled JSONL (journey format)")
    parser.add_argument("--weight", type=float, default=None, help="weight of a correction row")
    parser.add_argument("--held-share", type=float, default=0.4, help="share of the held-out slice")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="numbers of corrections")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    base = load_settings()
    weight = base.nlp.correction_weight if args.weight is None else args.weight
    rows = read_jsonl(args.data)
    pool, held = split(rows, args.held_share, args.seed)
    steps = [int(s) for s in args.steps.split(",")]
    if max(steps) > len(pool):
        raise SystemExit(
            f"the pool has {len(pool)} items, fewer than {max(steps)}: lower --held-share"
        )
    print(
        f"{args.data.name}: {len(rows)} items, pool {len(pool)}, held-out {len(held)}, "
        f"correction weight {weight}, seed {args.seed}"
    )
    curve: dict[str, Any] = {"shipped": score(base, held)}
    print(f"shipped heads: {curve['shipped']}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in steps:
            t = time.perf_counter()
            settings = with_models(base, Path(tmp) / str(n))
            train(settings, [as_correction(r) for r in pool[:n]], weight)
            curve[str(n)] = score(settings, held)
            print(
                f"{n:>4} corrections: {curve[str(n)]} ({time.perf_counter() - t:.0f} s)", flush=True
            )
    print(
        json.dumps(
            {
                "data": args.data.name,
                "n": len(rows),
                "pool": len(pool),
                "held_out": len(held),
                "weight": weight,
                "seed": args.seed,
                "curve": curve,
            }
        )
    )


if __name__ == "__main__":
    main()
