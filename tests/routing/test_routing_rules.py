from __future__ import annotations

from pathlib import Path

import pytest

from listening.errors import RoutingError
from listening.routing.rules import RoutingInput, evaluate, load_rules, parse_rules


def _inp(**kw: object) -> RoutingInput:
    base: dict[str, object] = {"text": "x", "brand_kind": "own"}
    base.update(kw)
    return RoutingInput(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "yaml_text,expected",
    [
        ("rules:\n  - name: a\n    when:\n      intent: [complain]\n    then: {team: support}\n",
         "line 4: rules.0.when.intent.0: Input should be 'complaint', 'question'"),
        ("rules:\n  - name: a\n    when:\n      topic_sentiment: {delivry: negative}\n    then: {team: s}\n",
         "line 4: rules.0.when.topic_sentiment: unknown topic 'delivry'; valid topics: delivery, stock"),
        ("rules:\n  - name: a\n    when:\n      topics: [shipping]\n    then: {team: s}\n",
         "line 4: rules.0.when.topics: unknown topic 'shipping'; valid topics: delivery, stock"),
        ("rules:\n  - name: a\n    when:\n      colour: red\n    then: {team: s}\n",
         "line 4: rules.0.when.colour: unknown key 'colour'; valid keys: topics, topic_sentiment"),
        ("rules:\n  - name: a\n    then:\n      team: s\n      priority: P5\n",
         "line 5: rules.0.then.priority: Input should be 'P1', 'P2', 'P3' or 'P4'"),
        ("rules:\n  - name: a\n    when: {regex: '(unclosed'}\n    then: {team: s}\n",
         "invalid regular expression '(unclosed'"),
        ("rules:\n  - name: a\n    when: {}\n", "a rule needs 'then:'"),
        ("rules:\n  - name: a\n    skip: true\n    then: {team: s}\n", "either 'skip: true' or 'then:'"),
        ("rules:\n  - {name: a, skip: true}\n  - {name: a, skip: true}\n", "two rules are named 'a'"),
        ("rules:\n  - name: a\n    then: {team: Support Team}\n", "rules.0.then.team: String should match pattern"),
        ("rules: [\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping with a 'rules:' list"),
        ("rules: []\n", "rules: List should have at least 1 item"),
    ],
)
def test_rules_invalid_files_name_line_and_options(yaml_text: str, expected: str) -> None:
    with pytest.raises(RoutingError) as err:
        parse_rules(yaml_text, "r.yaml")
    assert expected in err.value.message, err.value.message
    assert err.value.message.startswith("r.yaml:") and "ROUTING.md" in err.value.hint


def test_rules_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(RoutingError, match="no such rules file"):
        load_rules(tmp_path / "nope.yaml")


def test_rules_first_match_wins_and_explains() -> None:
    rules = parse_rules(
        "rules:\n"
        "  - name: lawyer-words\n    when: {keywords: [avocat, mise en demeure]}\n"
        "    then: {team: legal, priority: P1}\n"
        "  - name: order-number\n    when: {regex: 'commande\\s+n?°?\\s*\\d{5}'}\n"
        "    then: {team: support, priority: P2}\n"
        "  - name: low-rating\n    when: {rating_max: 0.4, source_kind: review_site}\n"
        "    then: {team: quality, priority: P3}\n"
        "  - name: everything\n    then: {team: community, priority: P4}\n"
    )
    ev = evaluate(rules, _inp(text="Mise en Demeure : commande 12345", rating=0.2, source_kind="review_site"))
    assert ev.rule is not None and ev.rule.name == "lawyer-words" and len(ev.trace) == 1
    assert "found ['mise en demeure']" in ev.trace[0].checks[0].detail
    ev = evaluate(rules, _inp(text="Ma Commande n° 12345 est bloquée", rating=0.2, source_kind="review_site"))
    assert ev.rule is not None and ev.rule.name == "order-number"
    assert ev.trace[1].checks[0].detail.endswith("matched 'Commande n° 12345'")
    ev = evaluate(rules, _inp(text="avocats? no: 'avocats' is not the word avocat", rating=0.9))
    assert ev.rule is not None and ev.rule.name == "lawyer-words"  # whole word 'avocat' present
    ev = evaluate(rules, _inp(text="Les avocats du diable", rating=0.3, source_kind="review_site"))
    assert ev.rule is not None and ev.rule.name == "low-rating"
    ev = evaluate(rules, _inp(text="rien", rating=None, source_kind="review_site"))
    assert ev.rule is not None and ev.rule.name == "everything"
    rating = next(c for c in ev.trace[2].checks if c.condition == "rating")
    assert not rating.passed and rating.detail == "wanted 0.0..0.4, got None"


def test_rules_defaults_merchant_semantics() -> None:
    rules = load_rules()
    delivery = [{"topic": "delivery", "sentiment": "negative"}]
    cases = {
        "delivery-complaint": _inp(topics=delivery, intent="complaint", sentiment="negative"),
        "legal-threat": _inp(topics=delivery, intent="complaint", urgency=["legal_threat"]),
        "questions": _inp(intent="question", topics=[{"topic": "product", "sentiment": "neutral"}]),
        "competitors-never-ticketed": _inp(brand_kind="competitor", urgency=["legal_threat"]),
        "suggestions": _inp(intent="suggestion", sentiment="positive"),
    }
    for name, inp in cases.items():
        ev = evaluate(rules, inp)
        assert ev.rule is not None and ev.rule.name == name, (name, ev.rule)
    assert evaluate(rules, _inp(intent="praise", sentiment="positive")).rule is None
    legal = next(r for r in rules.rules if r.name == "legal-threat")
    assert legal.then is not None and legal.then.sla_hours == 4 and legal.then.priority == "P1"
