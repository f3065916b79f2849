"""Text preparation: normalisation that keeps character offsets, language, clauses.

Offsets of every clause point into the ORIGINAL text (the dashboard highlights them):
leftover HTML tags are blanked with spaces of the same length instead of removed, and
the cleaned text fed to the models (ftfy, whitespace collapsed) is derived per clause.
French uses spaCy ``fr_core_news_sm`` (senter instead of the parser, lemmas for the
Matcher); English uses ``spacy.blank("en")`` + sentencizer because no English pipeline
is installable offline here (patterns for English match on LOWER, not LEMMA).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ftfy

_TAG = re.compile(r"<[^>\n]{1,400}>|&(?:[a-zA-Z]{2,8}|#\d{2,5});")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
CONTRAST = {
    "fr": {"mais", "cependant", "pourtant", "toutefois", "néanmoins", "sauf", "alors", "revanche",
           "contre", "malheureusement", "hélas"},
    "en": {"but", "however", "although", "though", "whereas", "unfortunately", "except", "yet"},
}
# two-word markers: the clause starts at the first word
CONTRAST_PAIRS = {("par", "contre"), ("en", "revanche"), ("sauf", "que"), ("alors", "que")}
SINGLE_START = {"mais", "cependant", "pourtant", "toutefois", "néanmoins", "malheureusement",
                "hélas", "but", "however", "although", "though", "whereas", "unfortunately", "yet"}


def mask_html(text: str) -> str:
    """Blank leftover HTML tags and entities with spaces (same length, offsets kept)."""
    return _TAG.sub(lambda m: " " * len(m.group()), text)


def clean(text: str) -> str:
    """Text for the models: mojibake fixed, whitespace collapsed."""
    return _SPACES.sub(" ", ftfy.fix_text(text)).strip()


def letter_count(text: str) -> int:
    return len(_LETTER.findall(text))


@dataclass
class Clause:
    start: int
    end: int
    text: str  # cleaned text of original[start:end]
    lemmas: list[str]


@lru_cache(maxsize=4)
def _detector(languages: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    return builder.with_preloaded_language_models().build()


def detect_language(text: str, languages: tuple[str, ...], min_letters: int = 12) -> str:
    """ISO 639-1 code among ``languages``, or 'und' when too short or undecided."""
    if letter_count(text) < min_letters:
        return "und"
    if len(languages) == 1:
        return languages[0]
    found = _detector(languages).detect_language_of(text[:2000])
    if found is None:
        return "und"
    return str(found.iso_code_639_1.name).lower()


def import_spacy() -> Any:
    """``import spacy`` without letting thinc import torch.

    thinc imports torch at start-up whenever it is installed (the `transformers` extra),
    which costs 2-4 s of cold start although our spaCy pipelines never use it. While spaCy
    is first imported, ``torch`` is marked missing; afterwards it imports normally (the
    transformers encoder does), thinc just does not wrap it."""
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy
        import thinc.api  # noqa: F401  (thinc's torch probe runs here, once)
    finally:
        del sys.modules["torch"]
    return spacy


@lru_cache(maxsize=2)
def spacy_pipeline(lang: str) -> Any:
    """The spaCy pipeline for ``lang`` ('fr' or anything else → English blank)."""
    spacy = import_spacy()

    if lang == "fr":
        from nlp.regex_cache import cached_regex_compilation

        # the French tokenizer's big regexes dominate load time: compiled form cached on disk
        with cached_regex_compilation():
            nlp = spacy.load("fr_core_news_sm", exclude=["ner", "parser"])
        nlp.enable_pipe("senter")
        use_numpy_blas(nlp)
    else:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
    nlp.max_length = 2_000_000
    return nlp


def use_numpy_blas(nlp: Any) -> None:
    """Run the matrix products of ``nlp``'s models through numpy's BLAS instead of thinc's
    bundled BLIS: 2x faster on the French pipeline's tok2vec (most of the text preparation)
    on the CPUs we measured, and the same tags, lemmas and sentence starts (docs/NLP.md)."""
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _name, component in nlp.components:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops


def limit_blas_threads(threads: int) -> None:
    """At most ``threads`` threads for numpy's BLAS in this process (spaCy's matrix products, see
    :func:`use_numpy_blas`), as ``nlp.threads`` bounds the encoder runtimes' threads."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def _clause_bounds(doc: Any) -> list[tuple[int, int]]:
    """Token index ranges: sentences, cut before contrast markers and at ';'.

    One pass over the tokens (``doc.sents`` re-checks the whole document for every
    sentence, which is quadratic on 100k-character texts)."""
    bounds: list[tuple[int, int]] = []
    lowers = [t.lower_ for t in doc]
    starts = [bool(t.is_sent_start) for t in doc]
    n = len(lowers)
    for i, low in enumerate(lowers[:-1]):  # a line break ends a chat turn or an e-mail line
        if "\n" in low and low.isspace():
            starts[i + 1] = True
    start = 0
    for i in range(n):
        if i > start and starts[i]:
            bounds.append((start, i))
            start = i
            continue
        low = lowers[i]
        nxt = lowers[i + 1] if i + 1 < n else ""
        if i > start and (low in SINGLE_START or (low, nxt) in CONTRAST_PAIRS):
            bounds.append((start, i))
            start = i
        elif low == ";" and i + 1 < n and not starts[i + 1]:
            bounds.append((start, i + 1))
            start = i + 1
    if start < n:
        bounds.append((start, n))
    return bounds


def _windows(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Cut an over-long span into windows of about ``size`` chars at spaces."""
    out = []
    while end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        cut = cut if cut > start else start + size
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
    return out


def split_clauses(docs: list[Any], min_letters: int = 3, max_chars: int = 600) -> list[list[Clause]]:
    """Clauses with offsets for spaCy docs made from masked texts (same offsets)."""
    out: list[list[Clause]] = []
    for doc in docs:
        full = doc.text  # rebuilt on every access by spaCy: read it once
        clauses: list[Clause] = []
        for a, b in _clause_bounds(doc):
            span = doc[a:b]
            # trim punctuation/space at both ends for clean evidence spans
            toks = [t for t in span if not (t.is_punct or t.is_space)]
            if not toks:
                continue
            start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
            if end - start > max_chars:
                for a2, b2 in _windows(full, start, end, max_chars):
                    clauses.append(Clause(a2, b2, clean(full[a2:b2]), []))
                continue
            text = clean(full[start:end])
            if letter_count(text) < min_letters and clauses:
                # glue tiny fragments ("ok", "!!") to the previous clause
                prev = clauses[-1]
                prev.end = end
                prev.text = clean(full[prev.start : end])
                prev.lemmas.extend(t.lemma_.lower() for t in toks)
                continue
            clauses.append(Clause(start, end, text, [t.lemma_.lower() for t in toks]))
        out.append(clauses)
    return out
