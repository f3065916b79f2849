"""AppTest of the Sources page's proposal to adapt sentiment to star ratings (never silent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_helpers import make_app, no_exception
from streamlit.testing.v1 import AppTest

from listening.settings import get_settings
from listening.store import Store
from listening.store.documents import DocumentIn, upsert_documents
from listening.store.sources import SourceSpec, add_source

POS = [
    "Super boutique, je recommande",
    "Livraison rapide, ravie",
    "Parfait, merci beaucoup",
    "Très bon produit",
    "Excellent service",
    "Top qualité",
    "Génial, conforme",
    "Je suis contente",
    "Rien à redire, parfait",
    "Très satisfaite de ma commande",
    "Bravo, impeccable",
    "Trop bien",
]
NEG = [
    "Colis jamais arrivé",
    "Produit cassé, nul",
    "Service client injoignable",
    "Arnaque, fuyez",
    "Très déçu",
    "Qualité médiocre",
    "Remboursement toujours pas reçu",
    "Horrible expérience",
    "Livraison en retard de deux semaines",
    "Je ne commanderai plus",
    "Article abîmé",
    "Nul",
]
MID = [f"Commande {i} reçue, correct sans plus" for i in range(8)]


def _click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run(timeout=600)


def _texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.info, at.success, at.warning, at.error) for e in kind)


def test_dashboard_sources_proposes_rating_calibration_and_applies_on_click(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LISTENING_NLP__CALIBRATION_MIN_RATINGS", "20")
    monkeypatch.setenv("LISTENING_NLP__CALIBRATION_RATINGS_ONLY", "true")
    monkeypatch.setenv("LISTENING_NLP__MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    saved = tmp_path / "models" / "sentiment.json"
    at = make_app("sources")
    no_exception(at)
    assert "avis notés" not in _texts(at)  # no rated review: no notice
    items = (
        [DocumentIn(f"p{i}", t, rating=1.0) for i, t in enumerate(POS)]
        + [DocumentIn(f"n{i}", t, rating=0.0) for i, t in enumerate(NEG)]
        + [DocumentIn(f"m{i}", t, rating=0.5) for i, t in enumerate(MID)]
    )
    with sqlite_store.session() as s:
        src, _ = add_source(
            s, SourceSpec(name="avis", kind="review_site", url="https://example.org/a")
        )
        upsert_documents(s, src.id, None, items, "salt")
    at = make_app("sources")
    assert "32 avis notés" in _texts(at) and not saved.exists()
    _click(at, "Mesurer")
    no_exception(at)
    assert "adapter le sentiment changerait la précision sur 7 avis mis de côté" in _texts(at)
    assert not saved.exists()  # measuring applies nothing
    if any(b.label == "Appliquer" for b in at.button):
        _click(at, "Appliquer")
        no_exception(at)
        assert saved.exists() and "Modèle de sentiment adapté enregistré" in _texts(at)
    else:
        assert "Non proposé" in _texts(at) and not saved.exists()
