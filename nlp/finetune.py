"""Fine-tune the transformers encoder on labelled texts (``listening train encoder``).

Input: JSONL lines ``{"text": ..., "label": ...}`` (any string labels, at least two). The
encoder is trained through a throw-away linear classifier on its e5 embedding (mean pooling
over the tokens, the same pooling the encoder uses at inference), with cross-entropy:

- ``lora``: LoRA adapters (peft; rank ``r`` on the attention query/value projections, the
  defaults peft picks for the architecture), then **merged into the weights**
  (``merge_and_unload``): the output is a plain, standalone transformers folder, no peft
  needed to use it;
- ``full``: every transformer layer is trained; the 250k-row word-embedding table stays
  frozen (it holds most of the parameters and would need ~1 GB of optimiser state).

The output folder (config, ``model.safetensors``, tokenizer, ``listening.json`` with the
prefix, the method and the base model) is what ``LISTENING_NLP__TRANSFORMERS_MODEL`` points
to. The heads (sentiment, topics...) must then be retrained on the new embeddings
(``listening train all``): the new encoder changes ``model_version``.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from pathlib import Path
from typing import Any

from listening.errors import AnalysisError, ConfigError
from listening.settings import Settings
from nlp.e5_export import MARKER, require_transformers
from nlp.transformers_encoder import (
    machine_threads,
    model_identity,
    passage_prefix,
    resolve_model_dir,
)

METHODS = ("lora", "full")


def read_labelled(path: Path, label_field: str = "label") -> tuple[list[str], list[str]]:
    """Texts and labels of a ``{"text", "label"}`` JSONL file (errors name the line)."""
    if not path.is_file():
        raise ConfigError(f"training file not found: {path}", 'give a JSONL file of {"text", "label"} lines')
    texts: list[str] = []
    labels: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{path}:{number}: not JSON ({exc})", 'one {"text", "label"} object per line') from exc
        text, label = (row.get("text"), row.get(label_field)) if isinstance(row, dict) else (None, None)
        if not isinstance(text, str) or not text.strip() or label is None:
            raise ConfigError(f"{path}:{number}: needs a non-empty \"text\" and a {label_field!r} field",
                              f'one {{"text", "{label_field}"}} object per line (see --label-field)')
        texts.append(text)
        labels.append(str(label))
    if len(set(labels)) < 2:
        raise ConfigError(f"{path}: needs at least two distinct labels, found {sorted(set(labels))}",
                          "add examples of another label")
    return texts, labels


def finetune_encoder(settings: Settings, data: Path, out: Path, method: str = "lora",
                     base: str | None = None, epochs: int = 1, max_steps: int | None = None,
                     batch_size: int = 16, lr: float | None = None, max_length: int = 128,
                     lora_r: int = 8, seed: int = 0, label_field: str = "label") -> dict[str, Any]:
    """Train, save the model folder to ``out`` and return a summary."""
    if method not in METHODS:
        raise ConfigError(f"unknown fine-tuning method {method!r}", f"use one of: {', '.join(METHODS)}")
    require_transformers()
    import torch
    from transformers import AutoModel, AutoTokenizer

    texts, labels = read_labelled(data, label_field)
    model_setting = settings.nlp.transformers_model if base is None else base
    base_dir = resolve_model_dir(model_setting, settings.data_dir)
    out = Path(out)
    if out.resolve() == base_dir.resolve():
        raise ConfigError(f"--out {out} is the base model folder", "write the fine-tuned model elsewhere")
    prefix = passage_prefix(base_dir, model_setting)
    torch.set_num_threads(machine_threads())
    torch.manual_seed(seed)
    rng = random.Random(seed)
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(base_dir), local_files_only=True)
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=lora_r, lora_alpha=2 * lora_r, lora_dropout=0.1))
        lr = lr or 5e-4
    else:
        model.get_input_embeddings().weight.requires_grad_(False)
        lr = lr or 2e-5
    names = sorted(set(labels))
    target = torch.tensor([names.index(label) for label in labels])
    head = torch.nn.Linear(model.config.hidden_size, len(names))
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=lr)
    steps = max_steps or epochs * math.ceil(len(texts) / batch_size)
    order: list[int] = []
    losses: list[float] = []
    model.train()
    for _ in range(steps):
        if len(order) < batch_size:
            fresh = list(range(len(texts)))
            rng.shuffle(fresh)
            order.extend(fresh)
        batch, order = order[:batch_size], order[batch_size:]
        enc = tokenizer([prefix + texts[i] for i in batch], padding=True, truncation=True,
                        max_length=max_length, return_tensors="pt")
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        loss = torch.nn.functional.cross_entropy(head(pooled) * 20.0, target[batch])  # scale: cosine logits
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    if method == "lora":
        model = model.merge_and_unload()
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    info = {
        "prefix": prefix, "pooling": "mean", "method": method,
        "merged": method == "lora",
        "base": str(model_setting or base_dir), "base_identity": model_identity(base_dir),
        "data": data.name, "data_sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
        "labels": names, "examples": len(texts), "steps": steps, "batch_size": batch_size,
        "lr": lr, "max_length": max_length, **({"lora_r": lora_r} if method == "lora" else {}),
    }
    base_marker = base_dir / MARKER
    if base_marker.is_file():
        licence = json.loads(base_marker.read_text(encoding="utf-8")).get("licence")
        if licence:
            info["licence"] = licence
    (out / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    if not (out / "config.json").is_file():  # pragma: no cover - save_pretrained always writes it
        raise AnalysisError(f"nothing saved in {out}", "check the folder is writable")
    return {"path": str(out), "method": method, "examples": len(texts), "labels": names,
            "steps": steps, "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4),
            "seconds": round(time.perf_counter() - start, 1)}
