"""Training and evaluation data readers (JSONL of our own examples, Amazon aspects,
Allociné TSV, DEFT/XLM-T text+label files, SemEval-2016 ABSA XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listening.errors import AnalysisError

DATA_DIR = Path(__file__).resolve().parent / "data"
SENT3 = ["negative", "neutral", "positive"]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise AnalysisError(f"{path} not found", "give the path of a JSONL file")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AnalysisError(f"{path}:{n} is not JSON: {exc}", "one JSON object per line") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise AnalysisError(f"{path}:{n} has no 'text' string", 'write {"text": ..., ...}')
        rows.append(row)
    return rows


def own_training_files() -> list[Path]:
    """Our own written examples: nlp/data/*.jsonl except dev/test sets."""
    if not DATA_DIR.is_dir():
        return []
    return sorted(p for p in DATA_DIR.glob("*.jsonl")
                  if not any(tag in p.stem for tag in ("dev", "test", "eval")))


def own_examples() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in own_training_files():
        rows.extend(read_jsonl(path))
    return rows


def topics_of(row: dict[str, Any]) -> dict[str, str]:
    """Gold topics as {topic: sentiment} from a dict or a list."""
    topics = row.get("topics") or {}
    if isinstance(topics, list):
        out = {}
        for t in topics:
            if isinstance(t, str):
                out[t] = ""
            elif isinstance(t, dict) and "topic" in t:
                out[str(t["topic"])] = str(t.get("sentiment") or "")
        return out
    return {str(k): str(v or "") for k, v in topics.items()}


AMAZON_TOPIC_WORDS = {
    "delivery": ("ship", "deliver", "arriv", "packag"),
    "customer_service": ("customer service", "support", "seller", "service"),
    "price": ("price", "cost", "value", "cheap", "money"),
    "returns": ("return", "refund", "warranty", "replace"),
}


def amazon_examples(folder: Path) -> list[dict[str, Any]]:
    """MIT-licensed Amazon reviews: review sentiment from stars, sentence topics from aspects."""
    rows: list[dict[str, Any]] = []
    for file in sorted(folder.glob("*.json")):
        for review in json.loads(file.read_text(encoding="utf-8")):
            stars = float(review.get("overall") or 0)
            label = "negative" if stars <= 2 else "neutral" if stars == 3 else "positive"
            rows.append({"text": review.get("reviewText", ""), "lang": "en", "sentiment": label,
                         "kind": "review"})
            sentences = review.get("reviewTextJson") or {}
            by_sentence: dict[str, set[str]] = {}
            for aspect, idx in (review.get("aspects") or {}).items():
                topic = next((t for t, words in AMAZON_TOPIC_WORDS.items()
                              if any(w in aspect.lower() for w in words)), "product")
                for i in idx:
                    by_sentence.setdefault(str(i), set()).add(topic)
            for i, sentence in sentences.items():
                rows.append({"text": sentence, "lang": "en", "kind": "sentence",
                             "topics": {t: "" for t in sorted(by_sentence.get(str(i), set()))}})
    return [r for r in rows if r["text"].strip()]


FILMS_DIR = DATA_DIR / "allocine_films_fr_mit"


def read_labelled_csv(path: Path) -> tuple[list[str], list[str]]:
    """``text,label`` CSV with 0/1 labels (1 positive) → (texts, negative|positive)."""
    import csv

    if not path.is_file():
        raise AnalysisError(f"{path} not found", "give a CSV file with the columns text,label")
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise AnalysisError(f"{path}: columns {reader.fieldnames} lack text,label",
                                "write a header line 'text,label'")
        for n, row in enumerate(reader, 2):
            label = (row.get("label") or "").strip()
            if label not in ("0", "1") or not (row.get("text") or "").strip():
                raise AnalysisError(f"{path}:{n}: expected a text and a 0|1 label",
                                    "binary labels 0 negative, 1 positive")
            texts.append(row["text"])
            labels.append("positive" if label == "1" else "negative")
    return texts, labels


def film_reviews(splits: tuple[str, ...] = ("train", "extra"),
                 exclude: tuple[str, ...] = ("test",)) -> list[dict[str, Any]]:
    """Allociné film reviews (Théophile Blard, MIT, ``nlp/data/allocine_films_fr_mit``) of the
    given splits, without duplicates and without any text of the ``exclude`` splits (the
    held-out part)."""
    held_out = {t for name in exclude for t in read_labelled_csv(FILMS_DIR / f"{name}.csv")[0]}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in splits:
        for text, label in zip(*read_labelled_csv(FILMS_DIR / f"{name}.csv"), strict=True):
            if text not in seen and text not in held_out:
                seen.add(text)
                rows.append({"text": text, "lang": "fr", "sentiment": label, "kind": "film_review"})
    return rows


def read_tsv(path: Path) -> tuple[list[str], list[str]]:
    """``label<TAB>text`` with 0/1 labels → (texts, negative|positive)."""
    if not path.is_file():
        raise AnalysisError(f"{path} not found", "give a label<TAB>text file")
    texts, labels = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        label, _, text = line.partition("\t")
        if label.strip() not in ("0", "1") or not text:
            raise AnalysisError(f"{path}:{n}: expected '0|1<TAB>text'", "binary labels 0 negative, 1 positive")
        labels.append("positive" if label.strip() == "1" else "negative")
        texts.append(text)
    return texts, labels


def read_xlmt(prefix: Path, split: str = "test") -> tuple[list[str], list[str]]:
    """XLM-T/DEFT files ``{split}_text.txt`` + ``{split}_labels.txt`` (0 neg, 1 neu, 2 pos).

    ``prefix`` is the folder holding them, or a path prefix like ``.../test`` naming the split."""
    if prefix.is_dir():
        folder, name = prefix, split
    else:
        folder, name = prefix.parent, prefix.name.removesuffix("_text.txt").removesuffix("_")
    tf, lf = folder / f"{name}_text.txt", folder / f"{name}_labels.txt"
    if not tf.is_file() or not lf.is_file():
        raise AnalysisError(f"{tf} or {lf} not found",
                            "give the folder of {split}_text.txt/{split}_labels.txt or the prefix .../split")
    texts = tf.read_text(encoding="utf-8").split("\n")
    labels = lf.read_text(encoding="utf-8").split("\n")
    texts = texts[: len(labels)] if texts and texts[-1] == "" else texts
    pairs = [(t, label.strip()) for t, label in zip(texts, labels, strict=False) if label.strip()]
    bad = [label for _, label in pairs if label not in ("0", "1", "2")]
    if bad or len(texts) < len(pairs):
        raise AnalysisError(f"{lf}: labels must be 0/1/2, one per text line", "check the files")
    return [t for t, _ in pairs], [SENT3[int(label)] for _, label in pairs]


@dataclass
class AbsaSentence:
    text: str
    categories: set[str] = field(default_factory=set)
    opinions: list[tuple[str, str, int, int]] = field(default_factory=list)  # cat, polarity, from, to


def read_semeval(path: Path) -> list[AbsaSentence]:
    """SemEval-2016 task 5 sentences; empty texts (download failures) are dropped."""
    if not path.is_file():
        raise AnalysisError(f"{path} not found", "give a SemEval-2016 ABSA XML file")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise AnalysisError(f"{path} is not valid XML: {exc}", "give a SemEval-2016 ABSA XML file") from None
    out = []
    for node in root.iter("sentence"):
        text = (node.findtext("text") or "").strip()
        if not text:
            continue
        s = AbsaSentence(text)
        for op in node.iter("Opinion"):
            cat, pol = op.get("category", ""), op.get("polarity", "")
            s.categories.add(cat)
            s.opinions.append((cat, pol, int(op.get("from") or 0), int(op.get("to") or 0)))
        out.append(s)
    return out
