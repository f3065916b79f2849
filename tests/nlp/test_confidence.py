"""Calibrated confidences: the maps, their file, and what the analyzer reports with them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from nlp_helpers import plain_settings

from listening.errors import AnalysisError
from nlp.confidence import CALIBRATION_FILE, ConfidenceMaps, Monotone, reliability, topic_margin
from nlp.confidence_fit import fit_maps, half_of
from nlp.pipeline import SHIPPED_MODELS, Analyzer


def test_isotonic_fit_is_monotone_and_never_certain_on_few_examples() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 300)
    outcomes = (rng.uniform(0, 1, 300) < scores).astype(float)  # P(right) = score
    fn = Monotone.fit(scores, outcomes)
    ys = [fn(x) for x in np.linspace(0, 1, 21)]
    assert all(b >= a for a, b in zip(ys, ys[1:], strict=False))
    assert min(ys) > 0.0 and max(ys) < 1.0  # steps shrunk towards the base rate
    assert abs(fn(0.8) - 0.8) < 0.15 and abs(fn(0.2) - 0.2) < 0.15
    tiny = Monotone.fit(np.array([0.9, 0.95, 0.99]), np.array([1.0, 1.0, 0.0]))
    assert 0.0 < tiny(0.99) < 1.0


def test_fit_rejects_an_unknown_method() -> None:
    with pytest.raises(AnalysisError, match="isotonic, platt"):
        Monotone.fit(np.array([0.1, 0.9]), np.array([0.0, 1.0]), method="beta")


def test_calibration_repairs_an_overconfident_score() -> None:
    """Scores stated at 0.95 that are right half the time: ECE falls once calibrated."""
    rng = np.random.default_rng(1)
    raw = rng.uniform(0.9, 1.0, 800)
    right = (rng.uniform(0, 1, 800) < 0.5).astype(float)
    halves = np.arange(800) % 2
    obs = {"topic": [(s, int(r), int(h), s) for s, r, h in zip(raw, right, halves, strict=True)]}
    maps, report = fit_maps(obs, {})
    assert report["topic"]["raw"]["ece"] > 0.4
    assert report["topic"]["calibrated"]["ece"] < 0.1
    assert abs(maps.apply("topic", 0.95) - 0.5) < 0.1


def test_reliability_table_and_ece() -> None:
    table = reliability(np.array([0.95, 0.95, 0.15, 0.15]), np.array([1, 0, 0, 0]))
    assert table["n"] == 4
    assert table["ece"] == pytest.approx((2 * 0.45 + 2 * 0.15) / 4, abs=1e-4)
    assert [b["bin"] for b in table["bins"]] == ["0.1-0.2", "0.9-1.0"]


def test_topic_margin_scales_the_clearance_of_the_threshold() -> None:
    assert topic_margin(0.6, 0.6) == 0.0
    assert topic_margin(0.8, 0.6) == pytest.approx(0.5)
    assert topic_margin(1.0, 0.6) == 1.0
    assert topic_margin(0.2, 0.6) == 0.0


def test_maps_round_trip_and_bad_files_say_how_to_rebuild(tmp_path: Path) -> None:
    maps = ConfidenceMaps({"sentiment": Monotone([0.0, 1.0], [0.3, 0.9], 10)}, {"fitted_on": ["x"]})
    digest = maps.save(tmp_path / CALIBRATION_FILE)
    back = ConfidenceMaps.load(tmp_path / CALIBRATION_FILE)
    assert back.digest == digest and back.apply("sentiment", 0.5) == pytest.approx(0.6)
    assert back.apply("aspect", 0.42) == 0.42  # no map: the raw score
    bad = tmp_path / "bad.json"
    for text in ("{not json", json.dumps({"format": 99, "maps": {}}),
                 json.dumps({"format": 1, "maps": {"stars": {"x": [0], "y": [1]}}}),
                 json.dumps({"format": 1, "maps": {"topic": {"x": [1, 0], "y": [0, 1]}}})):
        bad.write_text(text)
        with pytest.raises(AnalysisError, match="listening calibrate confidences"):
            ConfidenceMaps.load(bad)


def test_half_split_is_stable() -> None:
    assert half_of("où en est ma commande") == half_of("où en est ma commande")
    halves = [half_of(f"texte {i}") for i in range(400)]
    assert 150 < sum(halves) < 250


def test_shipped_calibration_is_data_only_and_complete() -> None:
    maps = ConfidenceMaps.load(SHIPPED_MODELS / CALIBRATION_FILE)
    assert set(maps.maps) == {"topic", "topic_pattern", "sentiment", "aspect"}
    for fn in maps.maps.values():
        assert fn.n >= 100 and min(fn.y) > 0.0 and max(fn.y) < 1.0


def test_analyzer_reports_calibrated_confidences(analyzer: Analyzer) -> None:
    """A pattern-found topic used to print 1.0; now it states an observed rate below 1,
    keeps its decision score, and the document sentiment carries a confidence too."""
    res = analyzer.analyze(["Toujours pas reçu mon colis, commande passée il y a 3 semaines."])[0]
    delivery = next(t for t in res.topics if t["topic"] == "delivery")
    assert delivery["pattern"] is True and delivery["score"] == 1.0
    assert 0.5 < delivery["confidence"] < 1.0
    assert 0.0 < delivery["sentiment_confidence"] < 1.0
    assert 0.0 < res.sentiment_confidence < 1.0
    assert res.to_json()["sentiment"]["confidence"] == res.sentiment_confidence


def test_the_calibration_enters_the_model_version(tmp_path: Path, analyzer: Analyzer) -> None:
    settings = plain_settings(tmp_path)
    other = ConfidenceMaps({"topic": Monotone([0.0, 1.0], [0.2, 0.7], 5)})
    other.save(tmp_path / "models" / CALIBRATION_FILE)
    custom = Analyzer(settings.model_copy(update={"nlp": settings.nlp.model_copy(
        update={"models_dir": str(tmp_path / "models")})}), encoder=analyzer.encoder)
    assert custom.confidence.digest == other.digest
    assert custom.model_version != analyzer.model_version
