"""The inference-only forms give scikit-learn's numbers, and loading a head needs no sklearn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlp.linear import LinearProba, WordTfidf, plain

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["Livraison rapide, colis bien emballé !", "SAV injoignable depuis 3 jours…",
        "livraison lente et SAV absent", "Très bon produit, prix correct", "prix trop élevé",
        "Delivery was fast but support never answered", "l'écran est arrivé cassé", "  ", "😀"]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_linear_proba_matches_sklearn(n_classes: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 7))
    y = (np.argmax(x[:, :n_classes], axis=1)).tolist()
    model = LogisticRegression(C=2.0, max_iter=500).fit(x, y)
    mine = plain(model)
    assert isinstance(mine, LinearProba)
    assert list(mine.classes_) == list(model.classes_)
    np.testing.assert_allclose(mine.predict_proba(x), model.predict_proba(x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sublinear", [True, False])
def test_word_tfidf_matches_sklearn(sublinear: bool) -> None:
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=sublinear).fit(DOCS[:5])
    mine = plain(vec)
    assert isinstance(mine, WordTfidf)
    np.testing.assert_allclose(mine.transform(DOCS).toarray(), vec.transform(DOCS).toarray(), atol=1e-12)


def test_unsupported_vectorizer_is_refused() -> None:
    vec = TfidfVectorizer(analyzer="char").fit(DOCS[:3])
    with pytest.raises(ValueError, match="word analyzer"):
        WordTfidf.from_sklearn(vec)


def test_shipped_heads_load_and_apply_without_sklearn() -> None:
    code = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from nlp.heads import Head\n"
        "for name in ('sentiment', 'aspect_sentiment', 'topics', 'intent', 'urgency'):\n"
        "    head = Head.load(Path('nlp/models') / f'{name}.json')\n"
        "    p = head.proba(np.ones((2, 384), np.float32) / 20, ['Livraison rapide ?', 'merci'])\n"
        "    assert p.shape == (2, len(head.labels)) and np.isfinite(p).all(), name\n"
        "print('sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
