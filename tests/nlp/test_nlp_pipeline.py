"""The analysis pipeline on hand-written verbatims (real encoder, shipped heads)."""

from __future__ import annotations

import pytest

from nlp.pipeline import Analyzer


def _topics(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {t["topic"]: t["sentiment"] for t in result.topics}


def test_pipeline_delivery_positive_customer_service_negative(analyzer: Analyzer) -> None:
    text = "livraison rapide mais SAV injoignable"
    res = analyzer.analyze([text])[0]
    assert res.error is None
    assert res.language == "fr"
    topics = _topics(res)
    assert topics.get("delivery") == "positive"
    assert topics.get("customer_service") == "negative"
    for topic in res.topics:  # evidence spans point into the original text
        for ev in topic["evidence"]:
            assert text[ev["start"] : ev["end"]] == ev["text"]
    delivery = next(t for t in res.topics if t["topic"] == "delivery")
    assert "livraison" in delivery["evidence"][0]["text"]
    assert res.actionable


def test_pipeline_legal_threat_is_urgent(analyzer: Analyzer) -> None:
    res = analyzer.analyze(["je vais porter plainte"])[0]
    assert "legal_threat" in res.urgency
    assert res.actionable


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Si ça continue j'écris à UFC Que Choisir.", "public_escalation"),
        ("J'ai déjà appelé 3 fois votre service client.", "repeated_contact"),
        ("La lampe a brûlé, c'est dangereux.", "safety"),
        ("Plus jamais, je vais aller chez Luminéo.", "churn"),
        ("My lawyer will contact you.", "legal_threat"),
    ],
)
def test_pipeline_urgency_patterns(analyzer: Analyzer, text: str, flag: str) -> None:
    assert flag in analyzer.analyze([text])[0].urgency


def test_pipeline_thanks_is_not_actionable(analyzer: Analyzer) -> None:
    res = analyzer.analyze(["merci, bonne journée"])[0]
    assert not res.actionable
    assert res.urgency == []
    assert res.intent in ("other", "praise")


def test_pipeline_english_and_question(analyzer: Analyzer) -> None:
    res = analyzer.analyze(["When will the brass pendant lamp be back in stock?"])[0]
    assert res.language == "en"
    assert res.intent == "question"
    assert "stock" in _topics(res)


def test_pipeline_bad_inputs_never_fail_the_batch(analyzer: Analyzer) -> None:
    long_text = ("Le colis est arrivé en retard. " * 3300)[:100_000]
    batch = [
        "",
        "😀😀🔥",
        long_text,
        "The lamp is lovely mais la livraison était très lente.",
        "<p>Colis <b>jamais</b> reçu &amp; aucun remboursement</p>",
        "Colis reçu cassé, remboursement refusé.",  # wrong language hint below
        12345,
        "ok",
    ]
    hints = [None, None, None, None, None, "en", None, None]
    results = analyzer.analyze(batch, hints)  # type: ignore[arg-type]
    assert len(results) == len(batch)
    empty, emoji, long_res, mixed, html, hinted, not_text, short = results
    for res in (empty, emoji):
        assert res.error is None and res.topics == [] and res.language == "und"
        assert res.sentiment == "neutral" and not res.actionable
    assert long_res.error is None and "delivery" in _topics(long_res)
    for ev in long_res.topics[0]["evidence"]:
        assert ev["end"] - ev["start"] <= 600
    assert mixed.error is None and mixed.topics
    assert html.error is None
    assert {"returns", "delivery"} & set(_topics(html))
    for topic in html.topics:
        for ev in topic["evidence"]:
            assert batch[4][ev["start"] : ev["end"]] == ev["text"]  # type: ignore[index]
    assert hinted.language == "fr" and hinted.sentiment == "negative"
    assert not_text.error and "string" in not_text.error
    assert short.error is None and short.language == "und"
    assert results[0].to_json()["sentiment"] == {"label": "neutral", "score": 0.0, "confidence": 0.0}
