"""Regressions: complaint intent of threats / mixed verbatims, no false payment topic,
and the compiled-regex disk cache used to cut the French pipeline's cold start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlp.pipeline import AnalysisResult, Analyzer, complaint_override
from nlp.regex_cache import cached_regex_compilation


@pytest.mark.parametrize("text", ["je vais porter plainte", "livraison rapide mais SAV injoignable"])
def test_pipeline_threat_and_mixed_complaint_intent(analyzer: Analyzer, text: str) -> None:
    res = analyzer.analyze([text])[0]
    assert res.error is None
    assert res.intent == "complaint"


@pytest.mark.xfail(strict=True, reason="known gap: 10 of 13 'plainte' training items are "
                   "labelled payment; a topics retrain with topic-less threats lowered dev "
                   "micro-F1, so the shipped topics head still says payment (see docs/NLP.md)")
def test_pipeline_legal_threat_has_no_false_payment_topic(analyzer: Analyzer) -> None:
    res = analyzer.analyze(["je vais porter plainte"])[0]
    assert "payment" not in {t["topic"] for t in res.topics}


def test_pipeline_complaint_override_rules() -> None:
    threat = AnalysisResult(intent="other", urgency=["churn"])
    assert complaint_override(threat) == "complaint"
    question = AnalysisResult(intent="question", urgency=["legal_threat"])
    assert complaint_override(question) == "question"  # questions are never overridden
    praised = AnalysisResult(intent="praise", urgency=["churn"],
                             topics=[{"topic": "product", "sentiment": "positive"}])
    assert complaint_override(praised) == "praise"  # praise present: left alone
    neutral = AnalysisResult(intent="other", sentiment="neutral",
                             topics=[{"topic": "stock", "sentiment": "negative"}])
    assert complaint_override(neutral) == "other"  # needs a negative document
    negative = AnalysisResult(intent="other", sentiment="negative",
                              topics=[{"topic": "stock", "sentiment": "negative"}])
    assert complaint_override(negative) == "complaint"


def test_regex_cache_round_trip_gives_same_matches(tmp_path: Path) -> None:
    cache = tmp_path / "re.marshal"
    pattern = "(?iu)" + "|".join(f"(?:[a-zé]+-{i}(?P<g{i}>x)?)" for i in range(400))
    re.purge()
    with cached_regex_compilation(cache):
        first = re.compile(pattern)
    assert cache.is_file() and cache.stat().st_size > 0
    re.purge()
    with cached_regex_compilation(cache):
        second = re.compile(pattern)
    assert second is not first
    for probe in ("Été-7x", "abc-399", "abc-400", "zz-12"):
        a, b = first.match(probe), second.match(probe)
        assert (a and a.group(0)) == (b and b.group(0))
        assert (a and a.groupdict()) == (b and b.groupdict())


def test_regex_cache_ignores_corrupt_file(tmp_path: Path) -> None:
    cache = tmp_path / "re.marshal"
    cache.write_bytes(b"not marshal data")
    pattern = "(?i)" + "|".join(f"word{i}" for i in range(500))
    re.purge()
    with cached_regex_compilation(cache):
        compiled = re.compile(pattern)
    assert compiled.match("WORD42")
