"""Per-item preparation: masked text, language, clauses with offsets, pattern hits."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlp.normalize import Normalized, normalize
from nlp.taxonomy import NOT_PREFIX, build_matcher, set_fold_attributes
from nlp.text import (
    Clause,
    clean,
    detect_language,
    letter_count,
    mask_html,
    spacy_pipeline,
    split_clauses,
)


@dataclass
class Prepared:
    text: str
    language: str = "und"
    normalized: Normalized | None = None  # the text the models read, with its map to ``text``
    clean_text: str = ""
    clauses: list[Clause] = field(default_factory=list)
    topic_hits: dict[int, set[str]] = field(default_factory=dict)  # clause index -> labels
    urgency_hits: set[str] = field(default_factory=set)
    error: str | None = None

    @property
    def empty(self) -> bool:
        return not self.clauses


class Preparer:
    """Normalise → language → clauses → Matcher hits, for a batch."""

    def __init__(self, languages: list[str], topic_patterns: dict[str, Any],
                 urgency_patterns: dict[str, Any], max_clauses: int = 64) -> None:
        self.languages = tuple(languages) or ("fr",)
        self.topic_patterns = topic_patterns
        self.urgency_patterns = urgency_patterns
        self.max_clauses = max_clauses
        self._matchers: dict[str, tuple[Any, Any]] = {}
        self._loading = threading.Lock()

    def _matchers_for(self, lang: str) -> tuple[Any, Any]:
        with self._loading:  # loaded once even when two threads prepare (analyze_stream)
            if lang not in self._matchers:
                vocab = spacy_pipeline(lang).vocab
                self._matchers[lang] = (
                    build_matcher(vocab, self.topic_patterns, lang),
                    build_matcher(vocab, self.urgency_patterns, lang),
                )
            return self._matchers[lang]

    def warm(self) -> None:
        """Load what the first batch needs: the spaCy pipelines and Matchers of every language
        a text may be analysed in, and the language detector."""
        for lang in dict.fromkeys(self.pipeline_lang(code, None) for code in self.languages):
            self._matchers_for(lang)
        if len(self.languages) > 1:
            detect_language("Bonjour, ceci est un texte pour charger le détecteur.", self.languages)

    def pipeline_lang(self, detected: str, hint: str | None) -> str:
        if detected in ("fr", "en"):
            return detected
        if hint in ("fr", "en") and hint in self.languages:
            return hint
        return "en" if self.languages[0] == "en" else "fr"

    def prepare(self, texts: list[Any], hints: list[str | None] | None = None) -> list[Prepared]:
        hints = hints or [None] * len(texts)
        items: list[Prepared] = []
        groups: dict[str, list[int]] = defaultdict(list)
        for i, (raw, hint) in enumerate(zip(texts, hints, strict=True)):
            if not isinstance(raw, str):
                items.append(Prepared(text="", error=f"text must be a string, got {type(raw).__name__}"))
                continue
            item = Prepared(text=raw)
            items.append(item)
            try:
                item.normalized = normalize(mask_html(raw))
                item.clean_text = clean(item.normalized.text[:5000])
                if letter_count(item.normalized.text) == 0:
                    continue  # empty / emoji-only: a valid, empty result
                item.language = detect_language(item.clean_text, self.languages)
                groups[self.pipeline_lang(item.language, hint)].append(i)
            except Exception as exc:  # one bad item never fails the batch
                item.error = f"preparation failed: {exc}"
        for lang, idx in groups.items():
            topic_matcher, urgency_matcher = self._matchers_for(lang)  # loads the pipeline too
            nlp = spacy_pipeline(lang)
            masked_texts = [items[i].normalized.text for i in idx]  # type: ignore[union-attr]
            try:
                docs = list(nlp.pipe(masked_texts, batch_size=64))
            except Exception:
                docs = []
                for t in masked_texts:
                    try:
                        docs.append(nlp(t))
                    except Exception as exc:
                        docs.append(exc)
            for i, doc in zip(idx, docs, strict=True):
                if isinstance(doc, Exception):
                    items[i].error = f"segmentation failed: {doc}"
                    continue
                try:
                    self._finish(items[i], doc, topic_matcher, urgency_matcher)
                except Exception as exc:
                    items[i].error = f"segmentation failed: {exc}"
        return items

    def _finish(self, item: Prepared, doc: Any, topic_matcher: Any, urgency_matcher: Any) -> None:
        clauses = split_clauses([doc])[0]  # before the lemmas are folded for the Matcher
        set_fold_attributes(doc)
        starts = np.array([c.start for c in clauses])
        hits: dict[int, set[str]] = defaultdict(set)
        vocab = doc.vocab
        matches = [(vocab.strings[m], a, b) for m, a, b in (topic_matcher(doc) if len(topic_matcher) else [])]
        vetoed = [(label[len(NOT_PREFIX):], a, b) for label, a, b in matches if label.startswith(NOT_PREFIX)]
        for label, a, b in matches:
            if label.startswith(NOT_PREFIX) or any(
                    v == label and a < vb and va < b for v, va, vb in vetoed):
                continue  # a not_pattern of the topic covers this hit ("pas reçu de réponse")
            pos = int(np.searchsorted(starts, doc[a].idx, side="right")) - 1
            if 0 <= pos < len(clauses):
                hits[pos].add(label)
        if len(urgency_matcher):
            item.urgency_hits = {vocab.strings[m] for m, _a, _b in urgency_matcher(doc)}
        if len(clauses) > self.max_clauses:
            keep = sorted(hits)[: self.max_clauses // 2]
            rest = [i for i in range(len(clauses)) if i not in hits]
            want = self.max_clauses - len(keep)
            if rest and want > 0:
                pick = np.linspace(0, len(rest) - 1, min(want, len(rest))).round().astype(int)
                keep = sorted(set(keep) | {rest[p] for p in pick})
            remap = {old: new for new, old in enumerate(keep)}
            clauses = [clauses[i] for i in keep]
            hits = defaultdict(set, {remap[i]: labels for i, labels in hits.items() if i in remap})
        norm = item.normalized
        if norm is not None and norm.starts:  # offsets back into the verbatim as written
            for clause in clauses:
                clause.start, clause.end = norm.span(clause.start, clause.end)
        item.clauses = clauses
        item.topic_hits = dict(hits)
