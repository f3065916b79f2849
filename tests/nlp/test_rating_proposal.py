"""Point 4 of issue 12: propose adapting sentiment to the store's star ratings, never silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.settings import get_settings
from listening.store import Store
from listening.store.documents import DocumentIn, upsert_documents
from listening.store.sources import SourceSpec, add_source

runner = CliRunner()
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


def seed_ratings(store: Store, n_sources: int = 1) -> None:
    items = (
        [DocumentIn(f"p{i}", t, rating=1.0) for i, t in enumerate(POS)]
        + [DocumentIn(f"n{i}", t, rating=0.0) for i, t in enumerate(NEG)]
        + [DocumentIn(f"m{i}", t, rating=0.5) for i, t in enumerate(MID)]
    )
    with store.session() as s:
        src, _ = add_source(
            s, SourceSpec(name="avis", kind="review_site", url="https://example.org/a")
        )
        upsert_documents(s, src.id, None, items, "salt")


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("LISTENING_NLP__CALIBRATION_MIN_RATINGS", "20")
    monkeypatch.setenv("LISTENING_NLP__CALIBRATION_RATINGS_ONLY", "true")
    monkeypatch.setenv("LISTENING_NLP__MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    return tmp_path / "models" / "sentiment.json"


def test_calibrate_propose_asks_and_applies_only_on_yes(sqlite_store: Store, fast: Path) -> None:
    seed_ratings(sqlite_store)
    res = runner.invoke(app, ["calibrate", "propose", "--json"], input="n\n")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert (
        out["eligible"] and out["rated"] == 32 and out["held_out"] == 7 and out["applied"] is False
    )
    assert "32 rated reviews: adapting sentiment would change held-out accuracy" in res.output
    assert "Not applied" in res.output and not fast.exists()
    res = runner.invoke(app, ["calibrate", "propose", "--yes", "--json"])
    out2 = json.loads(res.output.strip().splitlines()[-1])
    assert (out2["before"], out2["after"]) == (
        out["before"],
        out["after"],
    )  # same split, same figures
    assert out2["applied"] == out2["helps"] == fast.exists()


def test_calibrate_propose_below_the_minimum_and_unknown_source(
    sqlite_store: Store, fast: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_ratings(sqlite_store)
    monkeypatch.setenv("LISTENING_NLP__CALIBRATION_MIN_RATINGS", "40")
    get_settings.cache_clear()
    res = runner.invoke(app, ["calibrate", "propose", "--yes"])
    assert res.exit_code == 0 and "32 rated review(s): at least 40 are needed" in res.output
    assert not fast.exists()
    res = runner.invoke(app, ["calibrate", "propose", "--source", "nowhere", "--yes"])
    assert "0 rated review(s)" in res.output and not fast.exists()
