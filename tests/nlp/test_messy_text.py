"""Messy customer text (issue 12): normalisation with offsets, folded patterns, chat turns,
order-status evidence, small talk. Built without the encoder: Preparer + taxonomy only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nlp_helpers import plain_settings

from nlp.normalize import fold, normalize
from nlp.pipeline import Analyzer
from nlp.prepare import Preparer
from nlp.smalltalk import is_smalltalk
from nlp.taxonomy import NOT_PREFIX, expand_first_token, fold_pattern, load_taxonomy

DATA = Path(__file__).resolve().parents[2] / "nlp" / "data"


@pytest.fixture(scope="module")
def preparer() -> Preparer:
    tax = load_taxonomy()
    return Preparer(["fr", "en"], tax.patterns, tax.urgency_patterns)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ou en est ma cmd svp", "où en est ma commande s'il vous plaît"),
        ("TOUJOURS RIEN RECU !!!", "toujours rien reçu !!!"),
        ("mon colis a ete livre mais jai rien recu", "mon colis a été livré mais j'ai rien reçu"),
        ("rbt tjrs pas arrivé, c nuuuul", "remboursement toujours pas arrivé, c nul"),
        ("le SAV ne répond pas", "le SAV ne répond pas"),
        ("Cmd passée hier", "Commande passée hier"),
    ],
)
def test_normalize_rewrites_chat_spelling(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_normalize_blanks_placeholders_and_references_but_keeps_dates_and_prices() -> None:
    out = normalize(
        "Bonjour [PRENOM], cmd #FR-4481023 du 12/03/2024 à 49,99 € {{customer_name}} XXXX"
    ).text
    assert "PRENOM" not in out and "4481023" not in out and "customer_name" not in out
    assert "XXXX" not in out
    assert "12/03/2024" in out and "49,99" in out and "commande" in out


def test_normalize_maps_every_character_back_to_the_original() -> None:
    raw = "bjr, ma cmd 100234567 est tjrs pas arrivee"
    norm = normalize(raw)
    assert len(norm.starts) == len(norm.text) == len(norm.ends)
    a = norm.text.index("toujours")
    start, end = norm.span(a, a + len("toujours"))
    assert raw[start:end] == "tjrs"
    start, end = norm.span(0, len(norm.text))
    assert (start, end) == (0, len(raw))


def test_normalize_leaves_clean_text_alone() -> None:
    raw = "Livraison rapide, colis reçu en 48h. Le SAV est très réactif."
    norm = normalize(raw)
    assert norm.text == raw and not norm.starts


def test_fold_pattern_compares_folded_forms() -> None:
    assert fold("Reçu Déjà") == "recu deja"
    folded = fold_pattern([{"LEMMA": {"IN": ["expédition"]}}, {"LOWER": "reçu", "OP": "?"}])
    assert folded == [{"LEMMA": {"IN": ["expedition"]}}, {"NORM": "recu", "OP": "?"}]


def test_first_token_sets_become_exact_values() -> None:
    pattern = [{"LEMMA": {"IN": ["colis", "commande", "colis"]}, "POS": "NOUN"}, {"NORM": "recu"}]
    assert expand_first_token(pattern) == [
        [{"LEMMA": "colis", "POS": "NOUN"}, {"NORM": "recu"}],
        [{"LEMMA": "commande", "POS": "NOUN"}, {"NORM": "recu"}],
    ]
    optional = [{"NORM": {"IN": ["pas", "rien"]}, "OP": "?"}, {"NORM": "recu"}]
    assert expand_first_token(optional) == [optional]  # a repeated or optional token keeps its set
    regex = [{"NORM": {"REGEX": "^liv"}}]
    assert expand_first_token(regex) == [regex]


def test_expanded_matcher_finds_what_the_original_patterns_find(preparer: Preparer) -> None:
    """The Matcher built from expanded patterns returns the same (label, start, end) as one built
    from the folded patterns as written, on the shipped taxonomy and chat-like text."""
    from spacy.matcher import Matcher

    from nlp.taxonomy import set_fold_attributes
    from nlp.text import spacy_pipeline

    nlp = spacy_pipeline("fr")
    tax = load_taxonomy()
    plain = Matcher(nlp.vocab)
    for label, by_lang in tax.patterns.items():
        if by_lang.get("fr"):
            plain.add(label, [fold_pattern(p) for p in by_lang["fr"]])
    expanded, _urgency = preparer._matchers_for("fr")
    texts = [
        "ou en est ma commande ? toujours rien recu depuis 10 jours",
        "Le livreur a laissé le colis devant la porte, il manque un article",
        "remboursement pas reçu, le SAV ne répond pas, je vais porter plainte",
        "Site lent, paiement refusé deux fois, prix trop cher",
        "produit cassé à la réception, je veux le retourner",
    ]
    found = 0
    for doc in nlp.pipe(texts):
        set_fold_attributes(doc)
        want = sorted((nlp.vocab.strings[m], a, b) for m, a, b in plain(doc))
        got = sorted((nlp.vocab.strings[m], a, b) for m, a, b in expanded(doc))
        assert sorted(set(got)) == sorted(set(want))
        found += len(want)
    assert found >= 5


@pytest.mark.parametrize(
    "text",
    [
        "où en est ma commande ?",
        "ou en est ma cmd",
        "TOUJOURS RIEN RECU",
        "le colis est toujours en preparation",
        "ma commande est bloquée en cours d'acheminement",
        "le suivi n'a pas bougé depuis 5 jours",
        "il manque un article dans ma commande",
        "quand est ce que je vais recevoir ma commande",
        "j'ai toujours pas ma commande",
        "where is my order??",
        "still haven't received my package",
    ],
)
def test_order_status_phrasing_is_delivery_evidence(preparer: Preparer, text: str) -> None:
    item = preparer.prepare([text])[0]
    assert any("delivery" in hit for hit in item.topic_hits.values()), (text, item.topic_hits)


@pytest.mark.parametrize(
    "text",
    [
        "je n'ai toujours pas reçu de réponse",
        "mon remboursement n'est toujours pas arrivé",
        "quand vais-je recevoir mon remboursement ?",
    ],
)
def test_not_patterns_veto_a_delivery_hit(preparer: Preparer, text: str) -> None:
    item = preparer.prepare([text])[0]
    assert not any("delivery" in hit for hit in item.topic_hits.values()), (text, item.topic_hits)
    assert not any(
        label.startswith(NOT_PREFIX) for hit in item.topic_hits.values() for label in hit
    )


def test_chat_turns_are_separate_clauses_with_original_offsets(preparer: Preparer) -> None:
    raw = "bjr [PRENOM]\nmon colis a ete livre\nmais jai rien recu\nvous pouvez regarder ?"
    item = preparer.prepare([raw])[0]
    spans = [raw[c.start : c.end] for c in item.clauses]
    assert "mon colis a ete livre" in spans
    assert "mais jai rien recu" in spans
    assert any(c.text == "mais j'ai rien reçu" for c in item.clauses)


@pytest.mark.parametrize(
    "text",
    [
        "ok merci",
        "non pour le moment",
        "Parfait merci, bonne journée 👍",
        "vous êtes là ?",
        "rien d'autre merci",
        "bonjour",
        "Thanks a lot, have a nice day!",
        "d'accord je vais attendre",
    ],
)
def test_smalltalk_is_recognised(text: str) -> None:
    assert is_smalltalk(text)


@pytest.mark.parametrize(
    "text",
    [
        "ok merci et mon colis ?",
        "toujours rien",
        "merci mais le remboursement ?",
        "bonjour, ma commande n'est pas arrivée",
        "thanks but where is my order",
    ],
)
def test_smalltalk_is_not_a_real_message(text: str) -> None:
    assert not is_smalltalk(text)


def test_pipeline_chat_messages_with_the_shipped_heads(analyzer: Analyzer) -> None:
    """Order status in chat spelling is delivery with evidence in the text as typed; small
    talk, even a question ("vous êtes là ?") or a negative one, gets no topic and no ticket."""
    texts = ["bjr [PRENOM]\nou en est ma cmd #FR-4481023 svp\ntjrs rien recu", "vous êtes là ?",
             "non pour le moment", "ok merci 👍"]
    status, *talk = analyzer.analyze(texts)
    delivery = [t for t in status.topics if t["topic"] == "delivery"]
    assert delivery and status.actionable and not status.smalltalk
    assert any(e["text"] == "tjrs rien recu" for e in delivery[0]["evidence"])
    for res in talk:
        assert res.smalltalk and not res.topics and not res.actionable and res.intent == "other"


def test_numpy_blas_gives_the_tags_lemmas_and_sentences_of_thinc_blis() -> None:
    """The French pipeline runs its matrix products through numpy's BLAS (nlp.text.use_numpy_blas,
    2x faster): same part of speech, morphology, lemma and sentence start for every token of the
    shipped evaluation texts as the pipeline loaded as spaCy ships it (thinc's BLIS)."""
    from nlp.text import import_spacy, spacy_pipeline

    fast = spacy_pipeline("fr")
    ops = {type(node.ops).__name__ + str(node.ops.use_blis)  # type: ignore[attr-defined]
           for _n, pipe in fast.components if getattr(pipe, "model", None) is not None
           for node in pipe.model.walk()}
    assert ops == {"NumpyOpsFalse"}
    shipped = import_spacy().load("fr_core_news_sm", exclude=["ner", "parser"])
    shipped.enable_pipe("senter")
    texts = [
        json.loads(line)["text"]
        for name in ("journey_dev.jsonl", "realistic_eval.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
    ]

    def tokens(nlp: Any) -> list[tuple[str, str, str, bool]]:
        return [(t.pos_, str(t.morph), t.lemma_, bool(t.is_sent_start))
                for doc in nlp.pipe(texts, batch_size=64) for t in doc]

    want = tokens(shipped)
    assert len(want) > 10_000
    assert tokens(fast) == want


def test_nlp_threads_bounds_numpy_blas(analyzer: Analyzer, tmp_path: Path) -> None:
    """``nlp.threads`` above 0 caps numpy's BLAS (spaCy's matrix products) in the process, as it
    caps the encoder's threads; 0 leaves numpy's default."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> set[int]:
        return {int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"}

    with threadpool_limits():  # the limits of the session come back on exit
        before = blas_threads()
        Analyzer(plain_settings(tmp_path), encoder=analyzer.encoder)
        assert blas_threads() == before
        Analyzer(plain_settings(tmp_path, threads=1), encoder=analyzer.encoder)
        assert blas_threads() == {1}
