"""Regressions: complaint intent of threats / mixed verbatims, no false payment topic,
taxonomy pattern coverage (stock phrasings, non-topic uses of retour/payer), no dev text
in the added training files, and the compiled-regex disk cache used to cut the French
pipeline's cold start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlp.datasets import read_jsonl
from nlp.pipeline import AnalysisResult, Analyzer, complaint_override
from nlp.prepare import Preparer
from nlp.regex_cache import cached_regex_compilation
from nlp.taxonomy import load_taxonomy


@pytest.mark.parametrize("text", ["je vais porter plainte", "livraison rapide mais SAV injoignable"])
def test_pipeline_threat_and_mixed_complaint_intent(analyzer: Analyzer, text: str) -> None:
    res = analyzer.analyze([text])[0]
    assert res.error is None
    assert res.intent == "complaint"


def test_pipeline_legal_threat_has_no_false_payment_topic(analyzer: Analyzer) -> None:
    res = analyzer.analyze(["je vais porter plainte"])[0]
    assert "payment" not in {t["topic"] for t in res.topics}


@pytest.mark.parametrize("text", ["Épuisé, comme d'habitude.", "Plus disponible depuis un mois.",
                                  "Victime de son succès.", "Sold out, no longer available.",
                                  "Will it be restocked soon?"])
def test_taxonomy_stock_patterns_cover_common_phrasings(text: str) -> None:
    tax = load_taxonomy()
    item = Preparer(["fr", "en"], tax.patterns, {}).prepare([text])[0]
    assert any("stock" in hit for hit in item.topic_hits.values()), (text, item.topic_hits)


@pytest.mark.parametrize(("text", "flag"), [
    ("C'est illégal, je fais un signalement à la CNIL.", "legal_threat"),
    ("Je dépose une plainte contre votre société.", "legal_threat"),
    ("I've reported you to trading standards.", "legal_threat"),
    ("Je désinstalle votre appli, c'est fini.", "churn"),
    ("Vous venez de perdre une cliente.", "churn"),
    ("Done with you, cancelling my membership.", "churn"),
    ("J'ai écrit à trois reprises, aucune réponse.", "repeated_contact"),
    ("5 mails et 2 appels, toujours rien.", "repeated_contact"),
    ("I've sent 4 emails and nobody answers.", "repeated_contact"),
    ("Les petites pièces sont accessibles aux enfants, risque d'étouffement.", "safety"),
    ("The charger is overheating, this is unsafe.", "safety"),
    ("Je poste ça sur LinkedIn ce soir.", "public_escalation"),
])
def test_taxonomy_urgency_patterns_cover_common_phrasings(text: str, flag: str) -> None:
    tax = load_taxonomy()
    item = Preparer(["fr", "en"], {}, tax.urgency_patterns).prepare([text])[0]
    assert flag in item.urgency_hits, (text, item.urgency_hits)


def test_shipped_topics_head_carries_the_taxonomy_patterns() -> None:
    """The analyzer takes its patterns from the topics head: it must match the YAML."""
    from nlp.heads import Head

    tax = load_taxonomy()
    head = Head.load(Path(__file__).resolve().parents[2] / "nlp" / "models" / "topics.json")
    assert head.meta["patterns"] == tax.patterns
    assert head.meta["urgency_patterns"] == tax.urgency_patterns


@pytest.mark.parametrize("text", ["Merci pour votre retour.", "Il est de retour en stock !",
                                  "J'ai payé 199 € pour ça."])
def test_taxonomy_patterns_skip_non_topic_uses(text: str) -> None:
    """'votre retour' (a reply), 'de retour' (back) and a price paid are not returns/payment."""
    tax = load_taxonomy()
    item = Preparer(["fr", "en"], tax.patterns, {}).prepare([text])[0]
    hits = set().union(*item.topic_hits.values()) if item.topic_hits else set()
    assert not hits & {"returns", "payment"}, (text, hits)


def test_extra_journey_files_share_no_text_with_dev() -> None:
    """Added training files must not copy (or nearly copy) a dev text."""
    from rapidfuzz import fuzz, process

    data = Path(__file__).resolve().parents[2] / "nlp" / "data"
    dev = [norm(r["text"]) for r in read_jsonl(data / "journey_dev.jsonl")]
    for name in ("journey_more.jsonl", "journey_extra.jsonl"):
        texts = [norm(r["text"]) for r in read_jsonl(data / name)]
        scores = process.cdist(texts, dev, scorer=fuzz.ratio, score_cutoff=90, workers=1)
        close = [(texts[i], dev[j]) for i, j in zip(*scores.nonzero(), strict=True)]
        assert not close, f"{name} texts too close to dev: {close[:5]}"


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


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
