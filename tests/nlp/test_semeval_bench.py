"""SemEval-2016 bench pieces that run without ../shared: XML reading, the SemEval taxonomy
turned into multi-label training rows, and the polarity model's C selection by CV."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlp import datasets
from nlp.evaluation import POLARITY_C_GRID, semeval_taxonomy, train_polarity
from nlp.training import topic_rows

XML = """<Reviews><Review rid="1"><sentences>
<sentence id="1:0"><text>Great pasta but the waiter was rude.</text><Opinions>
<Opinion target="pasta" category="FOOD#QUALITY" polarity="positive" from="6" to="11"/>
<Opinion target="waiter" category="SERVICE#GENERAL" polarity="negative" from="20" to="26"/>
</Opinions></sentence>
<sentence id="1:1"><text>Lovely food.</text><Opinions>
<Opinion target="food" category="FOOD#QUALITY" polarity="positive" from="7" to="11"/>
</Opinions></sentence>
<sentence id="1:2"><text>Friendly staff.</text><Opinions>
<Opinion target="NULL" category="SERVICE#GENERAL" polarity="positive" from="0" to="0"/>
</Opinions></sentence>
<sentence id="1:3"><text></text></sentence>
<sentence id="1:4"><text>We went on a Tuesday.</text></sentence>
</sentences></Review></Reviews>"""


def test_semeval_reader_and_taxonomy_rows_are_multilabel(tmp_path: Path) -> None:
    file = tmp_path / "tiny.xml"
    file.write_text(XML, encoding="utf-8")
    sentences = datasets.read_semeval(file)
    assert [s.text for s in sentences][-1] == "We went on a Tuesday."  # empty text dropped
    assert len(sentences) == 4
    first = sentences[0]
    assert first.categories == {"FOOD#QUALITY", "SERVICE#GENERAL"}
    assert first.text[6:11] == "pasta" and first.opinions[1][1:] == ("negative", 20, 26)
    tax = semeval_taxonomy(sentences)
    assert tax.labels == ["FOOD#QUALITY", "SERVICE#GENERAL"]
    texts, labels, _ = topic_rows(tax, use_own=False, merge=True)
    rows = dict(zip(texts, labels, strict=True))
    assert len(texts) == 4  # the two-category sentence is one row, not two contradicting ones
    assert rows[first.text] == {"FOOD#QUALITY", "SERVICE#GENERAL"}
    assert rows["We went on a Tuesday."] == set()
    unmerged, _, _ = topic_rows(tax, use_own=False)
    assert unmerged.count(first.text) == 2  # the default (journey training) is unchanged


def _synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str], list[str], list[str]]:
    """Positive when the text says "nice" and the category is A; category B is always
    negative (a per-category bias). The vectors are noise."""
    rng = np.random.default_rng(seed)
    clause = rng.normal(size=(n, 16)).astype(np.float32)
    sentence = rng.normal(size=(n, 16)).astype(np.float32)
    cats, texts, y = [], [], []
    for i in range(n):
        good, cat = i % 2 == 0, "A" if i % 3 else "B"
        cats.append(cat)
        texts.append(f"the dish was {'nice' if good else 'awful'} tonight number {i % 7}")
        y.append("positive" if good and cat == "A" else "negative")
    return clause, sentence, cats, texts, y


def test_semeval_polarity_picks_c_by_cv_and_uses_text_and_category() -> None:
    clause, sentence, cats, texts, y = _synthetic(120, 0)
    model = train_polarity(clause, sentence, cats, texts, y)
    assert set(model.cv_accuracy) == set(POLARITY_C_GRID)
    assert model.c in POLARITY_C_GRID
    assert model.cv_accuracy[model.c] == max(model.cv_accuracy.values())
    assert model.cv_accuracy[model.c] >= 0.9  # text word x category, not the noise vectors
    c2, s2, cats2, texts2, y2 = _synthetic(40, 1)
    accuracy = np.mean(np.array(model.predict(c2, s2, cats2, texts2)) == np.array(y2))
    assert accuracy >= 0.9
    one = train_polarity(clause, sentence, cats, texts, y, c_grid=[0.5])
    assert one.c == 0.5


def test_word_vectorizer_accepts_examples_that_share_no_word() -> None:
    from nlp.heads import word_vectorizer

    vec = word_vectorizer(["colis perdu", "remboursement refusé", "écran cassé"])
    assert "colis" in vec.vocabulary_ and vec.transform(["colis"]).nnz == 1
    shared = word_vectorizer(["colis perdu", "colis abîmé", "écran cassé"])
    assert set(shared.vocabulary_) == {"colis"}  # min_df=2 still applies when it can
