"""Fine-tune the transformers encoder end to end with aspect task heads (``--finetune``).

One encoder (e5 through the transformers runtime, LoRA adapters or full fine-tuning) and two
linear heads on its mean-pooled last hidden states, trained together on mixed batches:

- **categories** (multi-label, BCE): input ``query: <sentence>``;
- **polarity** of one (sentence, category[, target]) pair (cross-entropy): input
  ``query: <category words> « <target> » : <sentence>``, so the encoder attends to the aspect
  being judged (the sentence-pair formulation of aspect sentiment).

A share of the TRAIN sentences (``holdout``, seeded) is held out: after every epoch the
category threshold is chosen on it (best micro-F1) and the epoch with the best held-out
``F1 + accuracy`` is kept. Nothing is ever tuned on the file that is scored.

``save`` writes the adapter (``adapter_model.safetensors``, LoRA only: the base weights are
not copied), the heads (``heads.safetensors``) and ``aspects.json``; ``load`` rebuilds the
model from the base e5 folder + those files (needs the transformers extra and peft).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError, ConfigError
from nlp.e5_export import require_transformers
from nlp.transformers_encoder import machine_threads, model_identity

METHODS = ("lora", "full")
ADAPTER_FILE = "adapter_model.safetensors"
HEADS_FILE = "heads.safetensors"
META_FILE = "aspects.json"
THRESHOLDS = [round(0.1 + 0.05 * i, 2) for i in range(15)]  # 0.10 … 0.80


@dataclass
class AspectExample:
    """A sentence, its categories and its opinions ``(category, polarity, target or "")``."""

    text: str
    categories: set[str] = field(default_factory=set)
    opinions: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class FinetuneConfig:
    method: str = "lora"
    epochs: int = 3
    batch_size: int = 16
    lr: float | None = None  # encoder; default 5e-4 (lora) / 3e-5 (full)
    head_lr: float = 2e-3
    max_length: int = 96
    lora_r: int = 8
    seed: int = 0
    holdout: float = 0.1
    max_steps: int | None = None  # tests: stop early
    threads: int | None = None  # torch threads; default: the cores this process may use

    def check(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"unknown fine-tuning method {self.method!r}", f"use one of: {', '.join(METHODS)}")
        if self.epochs < 1 or self.batch_size < 1 or self.max_length < 8:
            raise ConfigError("epochs and batch size must be >= 1 and max length >= 8",
                              "e.g. --epochs 3 --batch-size 16 --max-length 96")


def category_words(category: str) -> str:
    """``FOOD#QUALITY`` → ``food quality``; ``customer_service`` → ``customer service``."""
    return " ".join(category.replace("#", " ").replace("_", " ").lower().split())


def pair_text(category: str, target: str, sentence: str) -> str:
    aspect = category_words(category) + (f" « {target} »" if target else "")
    return f"query: {aspect} : {sentence}"


def sentence_text(sentence: str) -> str:
    return f"query: {sentence}"


def micro_f1(gold: Sequence[set[str]], pred: Sequence[set[str]]) -> tuple[float, float, float]:
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return round(f1, 4), round(precision, 4), round(recall, 4)


def check_training_set(examples: list[AspectExample], categories: list[str], polarities: list[str]) -> None:
    if not examples:
        raise AnalysisError("the training set has no sentence", "give a training file with labelled sentences")
    if not categories:
        raise AnalysisError("no category has two training examples or more",
                            "label more sentences (each category needs at least two)")
    if len(polarities) < 2:
        raise AnalysisError(f"the opinions need two polarities or more, found {polarities}",
                            "label opinions of another polarity")


class TunedAspects:
    """The fine-tuned encoder + heads; see the module docstring."""

    def __init__(self, model: Any, tokenizer: Any, cat_head: Any, pol_head: Any, categories: list[str],
                 polarities: list[str], threshold: float, config: FinetuneConfig, meta: dict[str, Any]) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.cat_head, self.pol_head = cat_head, pol_head
        self.categories, self.polarities = categories, polarities
        self.threshold, self.config, self.meta = threshold, config, meta

    def _pooled(self, texts: list[str]) -> Any:
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.config.max_length,
                             return_tensors="pt")
        hidden = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1)

    def _infer(self, texts: list[str], head: Any, batch: int = 32) -> np.ndarray:
        import torch

        self.model.eval()
        head.eval()
        out = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for a in range(0, len(order), batch):
                idx = order[a : a + batch]
                out.append(head(self._pooled([texts[i] for i in idx])).float().numpy())
        logits = np.concatenate(out) if out else np.zeros((0, head.out_features), dtype=np.float32)
        back = np.empty_like(logits)
        back[order] = logits
        return back

    def category_proba(self, sentences: list[str]) -> np.ndarray:
        logits = self._infer([sentence_text(s) for s in sentences], self.cat_head)
        return 1.0 / (1.0 + np.exp(-logits))

    def predict_categories(self, sentences: list[str], threshold: float | None = None) -> list[set[str]]:
        t = self.threshold if threshold is None else threshold
        probs = self.category_proba(sentences)
        return [{c for c, p in zip(self.categories, row, strict=True) if p >= t} for row in probs]

    def predict_polarity(self, pairs: list[tuple[str, str, str]]) -> list[str]:
        """``pairs``: (category, target or "", sentence)."""
        logits = self._infer([pair_text(c, t, s) for c, t, s in pairs], self.pol_head)
        return [self.polarities[int(i)] for i in logits.argmax(axis=1)] if len(pairs) else []

    def save(self, out: Path) -> dict[str, Any]:
        """Adapter + heads + metadata in ``out`` (LoRA only: a full copy is never written)."""
        from safetensors.torch import save_file

        if self.config.method != "lora":
            raise ConfigError("only a LoRA adapter can be saved", "train with --method lora")
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(out), safe_serialization=True)
        save_file({"cat.weight": self.cat_head.weight.detach().contiguous(),
                   "cat.bias": self.cat_head.bias.detach().contiguous(),
                   "pol.weight": self.pol_head.weight.detach().contiguous(),
                   "pol.bias": self.pol_head.bias.detach().contiguous()}, str(out / HEADS_FILE))
        meta = {**self.meta, "categories": self.categories, "polarities": self.polarities,
                "threshold": self.threshold, "config": self.config.__dict__}
        (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return meta


def _load_base(base_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
        model = AutoModel.from_pretrained(str(base_dir), local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise AnalysisError(f"cannot load the base model in {base_dir}: {exc}",
                            "re-create it with `listening models export-e5 --force`") from exc
    return model, tokenizer


def load_tuned(folder: Path, base_dir: Path) -> TunedAspects:
    """Rebuild a saved adapter + heads on the base e5 folder."""
    require_transformers()
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file

    meta_path = folder / META_FILE
    if not meta_path.is_file() or not (folder / ADAPTER_FILE).is_file():
        raise AnalysisError(f"{folder} holds no fine-tuned adapter ({META_FILE}, {ADAPTER_FILE})",
                            "train one with `listening train topics --finetune`")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("base_identity") and meta["base_identity"] != model_identity(base_dir):
        raise AnalysisError(f"the adapter in {folder} was trained on another base model",
                            "retrain it on the current e5 folder (`listening train topics --finetune`)")
    torch.set_num_threads(machine_threads())
    model, tokenizer = _load_base(base_dir)
    model = PeftModel.from_pretrained(model, str(folder)).eval()
    heads = load_file(str(folder / HEADS_FILE))
    cat = torch.nn.Linear(heads["cat.weight"].shape[1], heads["cat.weight"].shape[0])
    pol = torch.nn.Linear(heads["pol.weight"].shape[1], heads["pol.weight"].shape[0])
    cat.load_state_dict({"weight": heads["cat.weight"], "bias": heads["cat.bias"]})
    pol.load_state_dict({"weight": heads["pol.weight"], "bias": heads["pol.bias"]})
    config = FinetuneConfig(**meta.get("config", {}))
    return TunedAspects(model, tokenizer, cat, pol, meta["categories"], meta["polarities"],
                        float(meta["threshold"]), config, meta)


def _split(n: int, share: float, seed: int) -> tuple[list[int], list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    k = int(round(n * share)) if n >= 20 else 0
    return sorted(order[k:]), sorted(order[:k])


def _holdout_scores(tuned: TunedAspects, held: list[AspectExample]) -> dict[str, Any]:
    """Best threshold (micro-F1) and polarity accuracy on the held-out TRAIN sentences."""
    probs = tuned.category_proba([e.text for e in held])
    gold = [e.categories for e in held]
    by_t = {t: micro_f1(gold, [{c for c, p in zip(tuned.categories, row, strict=True) if p >= t}
                               for row in probs])[0] for t in THRESHOLDS}
    best = max(THRESHOLDS, key=lambda t: (by_t[t], -abs(t - 0.5)))
    pairs = [(c, tg, e.text, pol) for e in held for c, pol, tg in e.opinions if pol in tuned.polarities]
    guesses = tuned.predict_polarity([(c, tg, s) for c, tg, s, _ in pairs])
    acc = sum(g == p[3] for g, p in zip(guesses, pairs, strict=True)) / len(pairs) if pairs else 0.0
    return {"threshold": best, "f1": by_t[best], "acc": round(acc, 4)}


def train_aspects(base_dir: Path, examples: list[AspectExample], categories: list[str], polarities: list[str],
                  config: FinetuneConfig, log: Callable[[str], None] | None = None) -> TunedAspects:
    """Fine-tune encoder + heads on ``examples``; see the module docstring."""
    config.check()
    check_training_set(examples, categories, polarities)
    require_transformers()
    import torch

    torch.set_num_threads(config.threads or machine_threads())
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    start = time.perf_counter()
    model, tokenizer = _load_base(base_dir)
    if config.method == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=config.lora_r, lora_alpha=2 * config.lora_r,
                                                  lora_dropout=0.1, target_modules=["query", "value"]))
        lr = config.lr or 5e-4
    else:
        model.get_input_embeddings().weight.requires_grad_(False)
        lr = config.lr or 3e-5
    hidden = model.config.hidden_size
    cat_head, pol_head = torch.nn.Linear(hidden, len(categories)), torch.nn.Linear(hidden, len(polarities))
    tuned = TunedAspects(model, tokenizer, cat_head, pol_head, categories, polarities, 0.5, config,
                         {"method": config.method, "base_identity": model_identity(base_dir)})
    fit, held_idx = _split(len(examples), config.holdout, config.seed)
    held = [examples[i] for i in held_idx]
    rows: list[tuple[str, int, Any]] = []  # (input, kind 0=categories 1=polarity, target)
    for i in fit:
        e = examples[i]
        rows.append((sentence_text(e.text), 0, [1.0 if c in e.categories else 0.0 for c in categories]))
        rows.extend((pair_text(c, tg, e.text), 1, polarities.index(pol))
                    for c, pol, tg in e.opinions if pol in polarities)
    per_epoch = math.ceil(len(rows) / config.batch_size)
    total = min(config.max_steps or per_epoch * config.epochs, per_epoch * config.epochs)
    encoder_params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": encoder_params, "lr": lr},
                                   {"params": [*cat_head.parameters(), *pol_head.parameters()],
                                    "lr": config.head_lr}], weight_decay=0.01)
    warm = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    dropout = torch.nn.Dropout(0.1)
    step, best_score, best_state, history = 0, -1.0, None, []
    for epoch in range(config.epochs):
        order = list(range(len(rows)))
        rng.shuffle(order)
        model.train()
        cat_head.train()
        pol_head.train()
        losses = []
        for a in range(0, len(order), config.batch_size):
            if step >= total:
                break
            batch = [rows[i] for i in order[a : a + config.batch_size]]
            pooled = dropout(tuned._pooled([r[0] for r in batch]))
            loss = torch.zeros(())
            cat_rows = [k for k, r in enumerate(batch) if r[1] == 0]
            pol_rows = [k for k, r in enumerate(batch) if r[1] == 1]
            if cat_rows:
                target = torch.tensor([batch[k][2] for k in cat_rows])
                loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(
                    cat_head(pooled[cat_rows]), target)
            if pol_rows:
                labels = torch.tensor([batch[k][2] for k in pol_rows])
                loss = loss + torch.nn.functional.cross_entropy(pol_head(pooled[pol_rows]), labels)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(encoder_params, 1.0)
            optimiser.step()
            scheduler.step()
            losses.append(float(loss.item()))
            step += 1
        scores = _holdout_scores(tuned, held) if held else {"threshold": 0.5, "f1": 0.0, "acc": 0.0}
        record = {"epoch": epoch + 1, "steps": step, "loss": round(float(np.mean(losses or [0.0])), 4),
                  "holdout_f1": scores["f1"], "holdout_acc": scores["acc"], "threshold": scores["threshold"],
                  "seconds": round(time.perf_counter() - start, 1)}
        history.append(record)
        if log:
            log(json.dumps(record))
        if scores["f1"] + scores["acc"] > best_score:
            best_score, tuned.threshold = scores["f1"] + scores["acc"], scores["threshold"]
            best_state = {k: v.detach().clone() for k, v in _trainable_state(tuned).items()}
        if step >= total:
            break
    if held and best_state is not None and len(history) > 1:  # no hold-out: keep the last epoch
        _load_trainable_state(tuned, best_state)
    tuned.meta.update({"history": history, "fit_sentences": len(fit), "holdout_sentences": len(held),
                       "train_rows": len(rows), "steps": step, "lr": lr,
                       "best_epoch": (max(history, key=lambda h: h["holdout_f1"] + h["holdout_acc"])["epoch"]
                                      if held else history[-1]["epoch"]),
                       "seconds": round(time.perf_counter() - start, 1)})
    return tuned


def _trainable_state(tuned: TunedAspects) -> dict[str, Any]:
    state = {f"enc.{n}": p for n, p in tuned.model.named_parameters() if p.requires_grad}
    state.update({f"cat.{n}": p for n, p in tuned.cat_head.named_parameters()})
    state.update({f"pol.{n}": p for n, p in tuned.pol_head.named_parameters()})
    return state


def _load_trainable_state(tuned: TunedAspects, state: dict[str, Any]) -> None:
    import torch

    with torch.no_grad():
        for name, param in _trainable_state(tuned).items():
            param.copy_(state[name])


def semeval_examples(sentences: list[Any]) -> list[AspectExample]:
    """SemEval-2016 sentences → examples (the target is the opinion's span, "" for NULL)."""
    return [AspectExample(s.text, set(s.categories),
                          [(c, p, s.text[a:b] if b > a else "") for c, p, a, b in s.opinions])
            for s in sentences]


def bench_semeval_finetune(settings: Any, train: Path, test: Path, config: FinetuneConfig,
                          frozen: bool = True, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Frozen-heads bench and the fine-tuned method side by side (train on TRAIN, score TEST)."""
    from nlp import datasets
    from nlp.evaluation import bench_semeval
    from nlp.transformers_encoder import resolve_model_dir

    config.check()
    tr, te = datasets.read_semeval(train), datasets.read_semeval(test)
    if not tr or not te:
        raise AnalysisError("no sentence with text in the SemEval files", "check the XML files")
    out: dict[str, Any] = {}
    if frozen:
        start = time.perf_counter()
        base = bench_semeval(settings, train, test)
        out.update({"frozen_slot1_f1": base["slot1_f1"], "frozen_slot3_acc": base["slot3_acc"],
                    "frozen_wall_s": round(time.perf_counter() - start, 1)})
    examples = semeval_examples(tr)
    counts: dict[str, int] = {}
    for e in examples:
        for c in e.categories:
            counts[c] = counts.get(c, 0) + 1
    categories = sorted(c for c, n in counts.items() if n >= 2)
    polarities = sorted({p for e in examples for _, p, _ in e.opinions})
    start = time.perf_counter()
    tuned = train_aspects(resolve_model_dir(settings.nlp.transformers_model, settings.data_dir),
                          examples, categories, polarities, config, log)
    wall = time.perf_counter() - start
    gold = semeval_examples(te)
    f1, precision, recall = micro_f1([g.categories for g in gold], tuned.predict_categories([g.text for g in gold]))
    pairs = [(c, tg, g.text, p) for g in gold for c, p, tg in g.opinions]
    guesses = tuned.predict_polarity([(c, tg, s) for c, tg, s, _ in pairs])
    acc = sum(x == p[3] for x, p in zip(guesses, pairs, strict=True)) / len(pairs) if pairs else None
    out.update({"slot1_f1": f1, "slot1_precision": precision, "slot1_recall": recall,
                "slot3_acc": round(acc, 4) if acc is not None else None,
                "method": f"fine-tuned e5 ({config.method}) + category/polarity heads",
                "finetune_wall_s": round(wall, 1), "threshold": tuned.threshold,
                "train_sentences": len(tr), "test_sentences": len(te), "categories": len(categories),
                "opinions": len(pairs), "epochs": config.epochs, "batch_size": config.batch_size,
                "max_length": config.max_length, "lr": tuned.meta["lr"],
                **({"lora_r": config.lora_r} if config.method == "lora" else {}),
                "best_epoch": tuned.meta["best_epoch"], "history": tuned.meta["history"]})
    return out
