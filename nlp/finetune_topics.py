"""``listening train topics --finetune``: the end-to-end aspect fine-tuning of
:mod:`nlp.finetune_tasks` on labelled verbatims (``{"text", "topics": {topic: sentiment}}``
JSONL, default: the project's own journey rows, Apache-2.0), saved as a LoRA adapter + heads
in ``<models_dir>/topics-finetuned``; and its scorer on a gold file (``listening eval topics
FILE --finetuned DIR``), with the definitions of ``eval_topics`` (micro/macro F1, topic
sentiment accuracy on the gold topics it finds) so the two can be compared.

The analyzer does not load the adapter yet (docs/NLP.md "Fine-tuned aspects"): it is a
measured option for users with enough labels, not a shipped model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from listening.errors import AnalysisError, ConfigError
from listening.settings import Settings
from nlp import datasets
from nlp.finetune_tasks import AspectExample, FinetuneConfig, load_tuned, micro_f1, train_aspects
from nlp.pipeline import SENTIMENTS, models_dir
from nlp.taxonomy import load_taxonomy
from nlp.transformers_encoder import resolve_model_dir

FOLDER = "topics-finetuned"
MIN_ROWS = 200  # below this, the frozen heads (seconds, CV-tuned) are the better tool
MIN_PER_TOPIC = 5


def aspect_examples(rows: list[dict[str, Any]], labels: list[str]) -> list[AspectExample]:
    out = []
    for row in rows:
        topics = {t: s for t, s in datasets.topics_of(row).items() if t in labels}
        out.append(AspectExample(row["text"], set(topics),
                                 [(t, s, "") for t, s in topics.items() if s in SENTIMENTS]))
    return out


def training_rows(data: Path | None) -> list[dict[str, Any]]:
    rows = datasets.read_jsonl(data) if data else datasets.own_examples()
    return [r for r in rows if "topics" in r]


def finetune_topics(settings: Settings, data: Path | None, out_dir: Path | None,
                    config: FinetuneConfig) -> dict[str, Any]:
    """Train and save the adapter; returns the summary (held-out figures per epoch)."""
    if config.method != "lora":
        raise ConfigError("train topics --finetune saves a LoRA adapter only", "use --method lora")
    labels = load_taxonomy(settings.nlp.taxonomy or None).labels
    rows = training_rows(data)
    if len(rows) < MIN_ROWS:
        raise AnalysisError(f"{len(rows)} labelled row(s) with \"topics\"; fine-tuning needs {MIN_ROWS} or more",
                            "label more verbatims, or use `listening train topics` (frozen heads)")
    examples = aspect_examples(rows, labels)
    counts = {lab: sum(lab in e.categories for e in examples) for lab in labels}
    kept = [lab for lab in labels if counts[lab] >= MIN_PER_TOPIC]
    if not kept:
        raise AnalysisError(f"no topic has {MIN_PER_TOPIC} examples", "label more verbatims per topic")
    polarities = sorted({p for e in examples for _, p, _ in e.opinions})
    base = resolve_model_dir(settings.nlp.transformers_model, settings.data_dir)
    tuned = train_aspects(base, examples, kept, polarities, config)
    folder = (out_dir or models_dir(settings)) / FOLDER
    tuned.meta.update({"taxonomy": load_taxonomy(settings.nlp.taxonomy or None).name,
                       "data": str(data.name) if data else "own journey rows (Apache-2.0)",
                       "rows": len(rows), "topic_counts": counts})
    tuned.save(folder)
    return {"path": str(folder), "rows": len(rows), "topics": kept, "threshold": tuned.threshold,
            "history": tuned.meta["history"], "best_epoch": tuned.meta["best_epoch"],
            "seconds": tuned.meta["seconds"]}


def eval_finetuned_topics(settings: Settings, folder: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The saved adapter on gold rows, with ``eval_topics``'s definitions."""
    if not rows:
        raise AnalysisError("the gold file has no line", 'write {"text": ..., "topics": [...]} lines')
    tuned = load_tuned(folder, resolve_model_dir(settings.nlp.transformers_model, settings.data_dir))
    gold = [{t: s for t, s in datasets.topics_of(r).items() if t in tuned.categories} for r in rows]
    pred = tuned.predict_categories([r["text"] for r in rows])
    f1, precision, recall = micro_f1([set(g) for g in gold], pred)
    per = {lab: micro_f1([{lab} & set(g) for g in gold], [{lab} & p for p in pred])[0] for lab in tuned.categories}
    supported = [per[lab] for lab in tuned.categories if any(lab in g for g in gold)]
    pairs = [(t, "", r["text"], s) for r, g, p in zip(rows, gold, pred, strict=True)
             for t, s in g.items() if t in p and s in SENTIMENTS]
    guesses = tuned.predict_polarity([(t, tg, x) for t, tg, x, _ in pairs])
    ok = sum(x == p[3] for x, p in zip(guesses, pairs, strict=True))
    no_topic = [p for g, p in zip(gold, pred, strict=True) if not g]
    return {"n": len(rows), "micro_f1": f1, "precision": precision, "recall": recall,
            "macro_f1": round(sum(supported) / len(supported), 4) if supported else 0.0,
            "per_topic_f1": per, "no_topic_items": len(no_topic),
            "no_topic_correct_share": round(sum(not p for p in no_topic) / len(no_topic), 4) if no_topic else None,
            "topic_sentiment_accuracy": round(ok / len(pairs), 4) if pairs else None,
            "model": f"fine-tuned e5 adapter {folder}"}
