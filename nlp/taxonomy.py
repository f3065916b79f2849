"""Topic taxonomies (YAML): labels, descriptions, examples, spaCy Matcher patterns.

The default ``journey`` taxonomy ships in ``nlp/taxonomies/journey.yaml``; users may
bring their own (any labels, a handful of examples each) and retrain the topic head with
``listening train topics --taxonomy FILE``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from listening.errors import AnalysisError
from nlp.normalize import fold

DEFAULT_TAXONOMY = Path(__file__).parent / "taxonomies" / "journey.yaml"
JOURNEY_TOPICS = ["delivery", "stock", "customer_service", "price", "product", "returns",
                  "payment", "website"]
NONE_KEY = "__none__"  # examples with no topic (YAML key: none_examples)
NOT_PREFIX = "!"  # patterns["!delivery"]: spans where a delivery pattern hit does not count
URGENCY_FLAGS = ["legal_threat", "churn", "safety", "public_escalation", "repeated_contact"]


@dataclass
class Taxonomy:
    name: str
    labels: list[str]
    examples: dict[str, list[tuple[str, str]]]  # label -> [(text, lang)]
    patterns: dict[str, dict[str, list[list[dict[str, Any]]]]]  # label -> lang -> patterns
    urgency_patterns: dict[str, dict[str, list[list[dict[str, Any]]]]] = field(default_factory=dict)
    digest: str = ""


def _examples(raw: Any, label: str, path: Path) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [(str(t), "und") for t in raw]
    if isinstance(raw, dict):
        return [(str(t), str(lang)) for lang, texts in raw.items() for t in (texts or [])]
    raise AnalysisError(f"{path}: examples of topic {label!r} must be a list or a {{lang: [...]}} map",
                        "see nlp/taxonomies/journey.yaml for the format")


def _patterns(raw: Any, label: str, path: Path) -> dict[str, list[list[dict[str, Any]]]]:
    if raw is None:
        return {}
    if isinstance(raw, list):
        raw = {"fr": raw, "en": raw}
    if not isinstance(raw, dict):
        raise AnalysisError(f"{path}: patterns of {label!r} must be a {{lang: [pattern, ...]}} map",
                            "see nlp/taxonomies/journey.yaml for the format")
    return {str(lang): list(pats or []) for lang, pats in raw.items()}


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and check a taxonomy YAML file (default: the journey taxonomy)."""
    file = Path(path) if path else DEFAULT_TAXONOMY
    if not file.is_file():
        raise AnalysisError(f"taxonomy file {file} not found", "give the path of a taxonomy YAML file")
    data_bytes = file.read_bytes()
    try:
        data = yaml.safe_load(data_bytes)
    except yaml.YAMLError as exc:
        raise AnalysisError(f"{file} is not valid YAML: {exc}", "fix the YAML syntax") from None
    topics = (data or {}).get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict) or not topics:
        raise AnalysisError(f"{file} has no 'topics' map",
                            "write topics: {label: {examples: [...]}} (see nlp/taxonomies/journey.yaml)")
    examples: dict[str, list[tuple[str, str]]] = {}
    patterns: dict[str, dict[str, list[list[dict[str, Any]]]]] = {}
    for label, spec in topics.items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise AnalysisError(f"{file}: topic {label!r} must be a map", "give examples/patterns keys")
        examples[str(label)] = _examples(spec.get("examples"), label, file)
        patterns[str(label)] = _patterns(spec.get("patterns"), label, file)
        if spec.get("not_patterns"):
            patterns[NOT_PREFIX + str(label)] = _patterns(spec["not_patterns"], label, file)
    examples[NONE_KEY] = _examples(data.get("none_examples"), "none_examples", file)
    urgency = {str(flag): _patterns((spec or {}).get("patterns"), flag, file)
               for flag, spec in (data.get("urgency") or {}).items()}
    return Taxonomy(
        name=str(data.get("name") or file.stem),
        labels=[str(label) for label in topics],
        examples=examples,
        patterns=patterns,
        urgency_patterns=urgency,
        digest=hashlib.sha256(data_bytes).hexdigest()[:12],
    )


_FOLDED_KEYS = {"LOWER": "NORM", "ORTH": "NORM", "TEXT": "NORM", "NORM": "NORM", "LEMMA": "LEMMA"}


def _fold_value(value: Any) -> Any:
    if isinstance(value, str):
        return fold(value)
    if isinstance(value, dict):
        return {op: ([fold(v) if isinstance(v, str) else v for v in vals] if op in ("IN", "NOT_IN")
                     else vals) for op, vals in value.items()}
    return value


def fold_pattern(pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The accent- and case-insensitive form of a Matcher pattern: LOWER/ORTH/TEXT compare the
    folded token (``NORM``), LEMMA the folded lemma (both set by :func:`set_fold_attributes`)."""
    out = []
    for token in pattern:
        new: dict[str, Any] = {}
        for key, value in token.items():
            if key in _FOLDED_KEYS and not (isinstance(value, dict) and "REGEX" in value):
                new[_FOLDED_KEYS[key]] = _fold_value(value)
            else:
                new[key] = value
        out.append(new)
    return out


def expand_first_token(pattern: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """One pattern per value of a first-token ``IN`` set on NORM or LEMMA (same matches).

    spaCy's Matcher tests the first token of every pattern at every token of the text; an
    ``IN`` set there is a Python predicate called each time (most of the analysis time
    outside the encoder), an exact value a comparison in C."""
    first = pattern[0] if pattern else {}
    if "OP" in first:
        return [pattern]
    for key in ("LEMMA", "NORM"):
        value = first.get(key)
        if isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list):
            values = list(dict.fromkeys(value["IN"]))
            return [[{**first, key: v}, *pattern[1:]] for v in values]
    return [pattern]


@lru_cache(maxsize=200_000)
def _fold_cached(text: str) -> str:
    return fold(text)


def set_fold_attributes(doc: Any) -> None:
    """Give every token its folded form (``norm_``) and replace its lemma by the folded lemma
    (its own folded form when it has none): what the patterns of :func:`build_matcher`
    compare. The documents are the analysis' own, read for nothing else afterwards."""
    for token in doc:
        norm = token.norm_ = _fold_cached(token.text)
        lemma = token.lemma_
        token.lemma_ = _fold_cached(lemma) if lemma else norm


def build_matcher(vocab: Any, patterns: dict[str, dict[str, list[list[dict[str, Any]]]]],
                  lang: str) -> Any:
    """A spaCy Matcher with one rule per label for ``lang`` (French patterns by default).
    Patterns are folded (:func:`fold_pattern`): written with accents, they also match text
    typed without them."""
    from nlp.text import import_spacy

    import_spacy()
    from spacy.matcher import Matcher

    matcher = Matcher(vocab)
    for label, by_lang in patterns.items():
        pats = by_lang.get(lang) or by_lang.get("fr" if lang != "en" else "en") or []
        if lang == "en" and "en" not in by_lang:
            pats = []
        if pats:
            try:
                matcher.add(label, [x for p in pats for x in expand_first_token(fold_pattern(p))])
            except Exception as exc:
                raise AnalysisError(f"invalid Matcher pattern for {label!r} ({lang}): {exc}",
                                    "patterns are lists of spaCy token dicts") from None
    return matcher
