"""Checks on the project's own hand-written NLP data sets in ``nlp/data/``.

They validate the JSONL schema and label vocabularies, the minimum counts the journey
heads need (per topic, per urgency flag, no-topic and multi-topic items), the language
mix, a few labelling rules from ``nlp/data/README.md``, and that no text is an exact or
near duplicate of another inside a set or between the training and dev sets.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rapidfuzz import fuzz, process

DATA_DIR = Path(__file__).resolve().parents[2] / "nlp" / "data"
JOURNEY_TRAIN = DATA_DIR / "journey_train.jsonl"
JOURNEY_DEV = DATA_DIR / "journey_dev.jsonl"
SENTIMENT_TRAIN = DATA_DIR / "sentiment_train.jsonl"
SENTIMENT_GENERAL = DATA_DIR / "sentiment_general.jsonl"

TOPICS = {
    "delivery",
    "stock",
    "customer_service",
    "price",
    "product",
    "returns",
    "payment",
    "website",
}
SENTIMENTS = {"negative", "neutral", "positive"}
INTENTS = {"complaint", "question", "praise", "suggestion", "other"}
URGENCY = {"legal_threat", "churn", "safety", "public_escalation", "repeated_contact"}
LANGS = {"fr", "en"}
JOURNEY_KEYS = {"text", "lang", "topics", "sentiment", "intent", "urgency"}
SENTIMENT_KEYS = {"text", "lang", "sentiment"}
NEAR_DUPLICATE_RATIO = 90.0


def normalise(text: str) -> str:
    """Lower-case, strip accents, turn punctuation and separators into spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    no_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    spaced = "".join(" " if unicodedata.category(c)[0] in "PZ" else c for c in no_accents)
    return " ".join(spaced.split())


@cache
def load(path: Path) -> tuple[dict[str, Any], ...]:
    assert path.exists(), f"{path} is missing: the NLP data sets live in nlp/data/"
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            assert line.strip(), f"{path.name}:{number}: blank line"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                pytest.fail(f"{path.name}:{number}: not valid JSON ({exc})")
            assert isinstance(item, dict), f"{path.name}:{number}: not a JSON object"
            item["_line"] = number
            items.append(item)
    return tuple(items)


def _where(path: Path, item: dict[str, Any]) -> str:
    return f"{path.name}:{item['_line']} {item['text'][:60]!r}"


def _check_text_and_lang(path: Path, item: dict[str, Any]) -> list[str]:
    problems = []
    text = item.get("text")
    if not isinstance(text, str) or not text.strip() or text != text.strip():
        problems.append(f"{_where(path, item)}: text must be a non-empty stripped string")
    elif len(text.split()) > 120:
        problems.append(f"{_where(path, item)}: text longer than 120 words")
    if item.get("lang") not in LANGS:
        problems.append(f"{_where(path, item)}: lang {item.get('lang')!r} not in {sorted(LANGS)}")
    if item.get("sentiment") not in SENTIMENTS:
        problems.append(f"{_where(path, item)}: sentiment {item.get('sentiment')!r}")
    return problems


def _journey_problems(path: Path) -> list[str]:
    problems = []
    for item in load(path):
        keys = set(item) - {"_line"}
        if keys != JOURNEY_KEYS:
            problems.append(f"{_where(path, item)}: keys {sorted(keys)} != {sorted(JOURNEY_KEYS)}")
            continue
        problems += _check_text_and_lang(path, item)
        topics = item["topics"]
        if not isinstance(topics, dict):
            problems.append(f"{_where(path, item)}: topics must be an object topic -> sentiment")
        else:
            for topic, sentiment in topics.items():
                if topic not in TOPICS or sentiment not in SENTIMENTS:
                    problems.append(f"{_where(path, item)}: bad topic entry {topic}={sentiment}")
        if item["intent"] not in INTENTS:
            problems.append(f"{_where(path, item)}: intent {item['intent']!r}")
        urgency = item["urgency"]
        if (
            not isinstance(urgency, list)
            or not set(urgency) <= URGENCY
            or len(set(urgency)) != len(urgency)
        ):
            problems.append(f"{_where(path, item)}: urgency {urgency!r}")
    return problems


def test_data_sets_journey_schema_and_vocabularies() -> None:
    problems = _journey_problems(JOURNEY_TRAIN) + _journey_problems(JOURNEY_DEV)
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize("path", [SENTIMENT_TRAIN, SENTIMENT_GENERAL], ids=lambda p: p.stem)
def test_data_sets_sentiment_schema_and_vocabularies(path: Path) -> None:
    problems = []
    for item in load(path):
        keys = set(item) - {"_line"}
        if keys != SENTIMENT_KEYS:
            problems.append(f"{_where(path, item)}: keys {sorted(keys)}")
            continue
        problems += _check_text_and_lang(path, item)
    assert not problems, "\n".join(problems[:30])


def _journey_counts(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in load(path):
        counts["items"] += 1
        counts[f"lang:{item['lang']}"] += 1
        counts[f"intent:{item['intent']}"] += 1
        topics = item["topics"]
        counts["no_topic" if not topics else "with_topic"] += 1
        if len(topics) > 1:
            counts["multi_topic"] += 1
        for topic, sentiment in topics.items():
            counts[f"topic:{topic}"] += 1
            if sentiment != "neutral":
                counts[f"polar:{topic}"] += 1
        for flag in item["urgency"]:
            counts[f"urgency:{flag}"] += 1
    return counts


@pytest.mark.parametrize(
    ("path", "minimum"),
    [
        (
            JOURNEY_TRAIN,
            {"items": 900, "multi_topic": 200, "no_topic": 150, "polar": 120, "urgency": 40},
        ),
        (
            JOURNEY_DEV,
            {"items": 450, "multi_topic": 100, "no_topic": 80, "polar": 30, "urgency": 5},
        ),
    ],
    ids=["train", "dev"],
)
def test_data_sets_journey_minimum_counts(path: Path, minimum: dict[str, int]) -> None:
    counts = _journey_counts(path)
    short = [
        f"{key}: {counts[key]} < {minimum[key]}"
        for key in ("items", "multi_topic", "no_topic")
        if counts[key] < minimum[key]
    ]
    short += [
        f"positive+negative mentions of {topic}: {counts[f'polar:{topic}']} < {minimum['polar']}"
        for topic in sorted(TOPICS)
        if counts[f"polar:{topic}"] < minimum["polar"]
    ]
    short += [
        f"urgency {flag}: {counts[f'urgency:{flag}']} < {minimum['urgency']}"
        for flag in sorted(URGENCY)
        if counts[f"urgency:{flag}"] < minimum["urgency"]
    ]
    short += [
        f"intent {intent}: {counts[f'intent:{intent}']} < 15"
        for intent in sorted(INTENTS)
        if counts[f"intent:{intent}"] < 15
    ]
    assert not short, f"{path.name} is below its minimum counts:\n" + "\n".join(short)


@pytest.mark.parametrize(
    ("path", "lowest_french", "highest_french"),
    [(JOURNEY_TRAIN, 0.65, 0.82), (JOURNEY_DEV, 0.65, 0.82), (SENTIMENT_TRAIN, 0.70, 0.90)],
    ids=["journey_train", "journey_dev", "sentiment_train"],
)
def test_data_sets_language_mix(path: Path, lowest_french: float, highest_french: float) -> None:
    langs = Counter(item["lang"] for item in load(path))
    share = langs["fr"] / sum(langs.values())
    assert lowest_french <= share <= highest_french, f"{path.name}: French share {share:.2f}"


def test_data_sets_sentiment_is_balanced_and_large_enough() -> None:
    items = load(SENTIMENT_TRAIN)
    assert len(items) >= 1200, f"sentiment_train has {len(items)} items, need >= 1200"
    labels = Counter(item["sentiment"] for item in items)
    for label in SENTIMENTS:
        assert labels[label] / len(items) >= 0.28, f"sentiment {label}: {labels[label]} items"


def _near_duplicates(
    left: tuple[dict[str, Any], ...], right: tuple[dict[str, Any], ...] | None = None
) -> list[str]:
    a = [normalise(item["text"]) for item in left]
    b = a if right is None else [normalise(item["text"]) for item in right]
    others = left if right is None else right
    scores = process.cdist(a, b, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_RATIO, workers=1)
    found = []
    for i, j in zip(*np.nonzero(scores), strict=True):
        if right is None and j <= i:
            continue
        found.append(
            f"{scores[i, j]:.0f}: line {left[i]['_line']} {left[i]['text']!r} ~ "
            f"line {others[j]['_line']} {others[j]['text']!r}"
        )
    return found


@pytest.mark.parametrize(
    "path", [JOURNEY_TRAIN, JOURNEY_DEV, SENTIMENT_TRAIN, SENTIMENT_GENERAL], ids=lambda p: p.stem
)
def test_data_sets_no_near_duplicates_within_a_set(path: Path) -> None:
    found = _near_duplicates(load(path))
    assert not found, f"near-duplicate texts in {path.name}:\n" + "\n".join(found[:20])


def test_data_sets_dev_shares_no_text_with_training_sets() -> None:
    dev = load(JOURNEY_DEV)
    found = (_near_duplicates(dev, load(JOURNEY_TRAIN)) + _near_duplicates(dev, load(SENTIMENT_TRAIN))
             + _near_duplicates(dev, load(SENTIMENT_GENERAL)))
    assert not found, "dev texts too close to training texts:\n" + "\n".join(found[:20])


def test_data_sets_near_duplicate_check_catches_trivial_variants() -> None:
    item = {"text": "Livraison rapide, rien à redire !", "_line": 1}
    variant = {"text": "livraison RAPIDE rien a redire", "_line": 2}
    other = {"text": "Le colis n'est jamais arrivé.", "_line": 3}
    assert _near_duplicates((item, variant, other))
    assert not _near_duplicates((item, other))


LEGAL_CUES = re.compile(
    r"porter plainte|porte plainte|plainte (déposée|en cours|pour)|dépose(r)? (une )?plainte"
    r"|avocat|tribunal|mise en demeure|DGCCRF|small claims|solicitor|trading standards",
    re.IGNORECASE,
)


def test_data_sets_journey_labels_follow_the_guidelines() -> None:
    problems = []
    for path in (JOURNEY_TRAIN, JOURNEY_DEV):
        for item in load(path):
            if not item["topics"] and item["intent"] == "complaint":
                problems.append(f"{_where(path, item)}: no topic but intent complaint")
            if LEGAL_CUES.search(item["text"]) and "legal_threat" not in item["urgency"]:
                problems.append(f"{_where(path, item)}: legal cue without legal_threat")
    assert not problems, "\n".join(problems[:30])


def test_data_sets_journey_contains_the_support_lead_anchor_cases() -> None:
    by_text = {normalise(item["text"]): item for item in load(JOURNEY_TRAIN)}
    mixed = [item for text, item in by_text.items() if "livraison rapide mais sav" in text]
    assert mixed and all(
        item["topics"].get("delivery") == "positive"
        and item["topics"].get("customer_service") == "negative"
        for item in mixed
    )
    thanks = by_text["merci bonne journee"]
    assert thanks["topics"] == {} and thanks["intent"] == "other" and not thanks["urgency"]
    assert any(
        "je vais porter plainte" in text and "legal_threat" in item["urgency"]
        for text, item in by_text.items()
    )


REALISTIC_EVAL = DATA_DIR / "realistic_eval.jsonl"
JOURNEY_CHAT = DATA_DIR / "journey_chat.jsonl"
CHANNELS = {"chat", "email", "social", "appstore", "sms"}


def test_data_sets_realistic_eval_schema_and_smalltalk_rule() -> None:
    problems = []
    for item in load(REALISTIC_EVAL):
        keys = set(item) - {"_line"}
        if keys != JOURNEY_KEYS | {"channel", "smalltalk"}:
            problems.append(f"{_where(REALISTIC_EVAL, item)}: keys {sorted(keys)}")
            continue
        if item["channel"] not in CHANNELS or not isinstance(item["smalltalk"], bool):
            problems.append(f"{_where(REALISTIC_EVAL, item)}: channel/smalltalk")
        if item["smalltalk"] and (item["topics"] or item["intent"] != "other" or item["urgency"]):
            problems.append(f"{_where(REALISTIC_EVAL, item)}: small talk has a topic, intent or urgency")
        if set(item["topics"]) - TOPICS or set(item["topics"].values()) - SENTIMENTS:
            problems.append(f"{_where(REALISTIC_EVAL, item)}: topics {item['topics']}")
        if item["intent"] not in INTENTS or not set(item["urgency"]) <= URGENCY:
            problems.append(f"{_where(REALISTIC_EVAL, item)}: intent/urgency")
    assert not problems, "\n".join(problems[:30])


def test_data_sets_realistic_eval_covers_what_customers_write() -> None:
    items = load(REALISTIC_EVAL)
    assert len(items) >= 600
    topics = Counter(t for item in items for t in item["topics"])
    assert topics["delivery"] >= 150 and all(topics[t] >= 40 for t in TOPICS), topics
    assert sum(item["smalltalk"] for item in items) >= 100
    assert sum(not item["topics"] and not item["smalltalk"] for item in items) >= 40
    assert set(Counter(item["channel"] for item in items)) == CHANNELS
    text = " ".join(item["text"] for item in items).lower()
    for cue in ("cmd", "svp", "colis", "[", "\n", "#", "recu"):  # abbreviations, placeholders, turns
        assert cue in text, cue


def test_data_sets_journey_chat_schema() -> None:
    problems = []
    for item in load(JOURNEY_CHAT):
        if set(item) - {"_line"} != {"text", "lang", "topics", "intent", "urgency"}:
            problems.append(f"{_where(JOURNEY_CHAT, item)}: keys")
        elif not set(item["topics"]) <= TOPICS or item["intent"] not in INTENTS \
                or not set(item["urgency"]) <= URGENCY or item["lang"] not in LANGS:
            problems.append(f"{_where(JOURNEY_CHAT, item)}: labels")
    assert not problems, "\n".join(problems[:30])


def test_data_sets_realistic_eval_shares_no_text_with_any_training_or_dev_set() -> None:
    evaluation = load(REALISTIC_EVAL)
    found = _near_duplicates(evaluation)
    for path in sorted(DATA_DIR.glob("*.jsonl")):
        if path != REALISTIC_EVAL:
            found += _near_duplicates(evaluation, load(path))
    assert not found, "realistic eval texts too close to other texts:\n" + "\n".join(found[:20])

FILMS = DATA_DIR / "allocine_films_fr_mit"
FILMS_ATTRIBUTION = "Allociné dataset © 2020 Théophile Blard, MIT licence"


def test_data_sets_mit_films_keep_licence_and_attribution() -> None:
    licence = (FILMS / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Copyright (c) 2020 Théophile Blard" in licence
    assert FILMS_ATTRIBUTION in (FILMS / "README.md").read_text(encoding="utf-8")
    assert FILMS_ATTRIBUTION in (DATA_DIR.parents[1] / "docs" / "MODELS.md").read_text(encoding="utf-8")


def test_data_sets_mit_films_counts_and_training_rows() -> None:
    from nlp import datasets

    counts = {}
    for name in ("train", "test", "extra"):
        texts, labels = datasets.read_labelled_csv(FILMS / f"{name}.csv")
        assert all(t.strip() for t in texts)
        counts[name] = Counter(labels)
    assert counts["train"] == {"negative": 1000, "positive": 1000}
    assert counts["test"] == {"negative": 510, "positive": 490}
    assert counts["extra"] == {"negative": 180, "positive": 191}
    rows = datasets.film_reviews()
    texts = [r["text"] for r in rows]
    held_out = set(datasets.read_labelled_csv(FILMS / "test.csv")[0])
    # train + extra, without the in-file duplicates and the one text shared with test.csv
    assert len(texts) == len(set(texts)) == 2368 and not held_out & set(texts)
    assert {r["sentiment"] for r in rows} == {"negative", "positive"}


def test_data_sets_labelled_csv_errors_say_what_is_wrong(tmp_path: Path) -> None:
    from listening.errors import AnalysisError
    from nlp import datasets

    bad = tmp_path / "bad.csv"
    bad.write_text('text,label\n"Très bon film.",1\n"Nul.",neutre\n', encoding="utf-8")
    with pytest.raises(AnalysisError, match=r"bad.csv:3: expected a text and a 0\|1 label"):
        datasets.read_labelled_csv(bad)
    (tmp_path / "cols.csv").write_text("review,stars\nbien,5\n", encoding="utf-8")
    with pytest.raises(AnalysisError, match="lack text,label"):
        datasets.read_labelled_csv(tmp_path / "cols.csv")
    with pytest.raises(AnalysisError, match="not found"):
        datasets.read_labelled_csv(tmp_path / "nope.csv")


def test_data_sets_mit_films_share_no_text_with_evaluation_sets(shared_data: Path) -> None:
    """The films train the shipped head; Allociné-TV and DEFT-2017 are evaluation only."""
    from nlp import datasets

    films = {normalise(t)[:80] for name in ("train", "test", "extra")
             for t in datasets.read_labelled_csv(FILMS / f"{name}.csv")[0]}
    sentiment = shared_data / "sentiment"
    evaluation = [t for split in ("train", "dev", "test")
                  for t in datasets.read_tsv(sentiment / "allocine_tv_fr" / f"{split}.tsv")[0]]
    evaluation += [t for split in ("train", "val", "test")
                   for t in datasets.read_xlmt(sentiment / "deft2017_tweets_fr", split)[0]]
    shared = [t for t in evaluation if normalise(t)[:80] in films]
    assert not shared, f"{len(shared)} evaluation texts are in the film set: {shared[:3]}"


def test_data_sets_films_enter_the_sentiment_rows_with_their_weight() -> None:
    from nlp import training

    base = training.sentiment_training_set(film_weight=0)
    texts, labels, weights, n, data = training.sentiment_training_set(film_weight=0.5)
    films = {r["text"] for r in training.datasets.film_reviews()}
    assert n - base[3] == len(films) == 2368 and len(texts) - n == len(base[0]) - base[3]  # same copies
    assert training.LICENCES["films"] in data and training.LICENCES["films"] not in base[4]
    film_rows = [i for i, t in enumerate(texts[:n]) if t in films]
    assert {float(weights[i]) for i in film_rows} == {0.5}
    assert {labels[i] for i in film_rows} == {"negative", "positive"}
    # every other row keeps the weight it had without the films
    assert sorted(weights[[i for i in range(n) if texts[i] not in films]]) == sorted(base[2][: base[3]])
    assert not films & set(base[0])


def test_sentiment_head_offsets_shift_the_log_odds() -> None:
    import numpy as np

    from nlp.evaluation import sentiment_metrics
    from nlp.training import fit_sentiment_head

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = ["negative", "neutral", "positive"] * 20
    plain = fit_sentiment_head(x, y, np.ones(60), 1.0, 0.0, 0.0)
    shifted = fit_sentiment_head(x, y, np.ones(60), 1.0, 0.3, 5.0)
    diff = shifted.models[0].intercept_ - plain.models[0].intercept_
    classes = list(plain.models[0].classes_)
    assert diff[classes.index("positive")] == pytest.approx(0.3)
    assert diff[classes.index("neutral")] == pytest.approx(5.0)
    assert diff[classes.index("negative")] == pytest.approx(0.0)
    # a large neutral offset makes "neutral" win: its recall is reported per label
    pred = [shifted.labels[int(i)] for i in shifted.proba(x).argmax(axis=1)]
    assert sentiment_metrics(y, pred, False)["recall"] == {"negative": 0.0, "neutral": 1.0, "positive": 0.0}


def test_model_card_notes_and_hand_written_sections_survive_a_rebuild(tmp_path: Path) -> None:
    from nlp.training import LICENCES, fit_sentiment_head, write_card

    rng = np.random.default_rng(0)
    head = fit_sentiment_head(rng.normal(size=(30, 4)), ["negative", "neutral", "positive"] * 10,
                              np.ones(30), 1.0, 0.0, 0.0)
    card = tmp_path / "sentiment.md"
    write_card(card, head, "Title.", [LICENCES["films"]], {"n": 30}, "listening train sentiment",
               ["Method: film weight 1"])
    text = card.read_text(encoding="utf-8")
    assert "Allociné dataset © 2020 Théophile Blard, MIT licence" in text
    assert "- Method: film weight 1\n" in text and "## " not in text
    card.write_text(text + "\n## Figures\n\n- Allociné dev 0.9\n", encoding="utf-8")
    write_card(card, head, "Title.", [], {"n": 31}, "listening train sentiment", None)
    again = card.read_text(encoding="utf-8")
    assert again.count("## Figures") == 1 and again.endswith("- Allociné dev 0.9\n")
    assert '"n": 31' in again and "Method: film weight 1" not in again
