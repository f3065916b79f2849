"""Data-only head files: save/load round trip, pickles refused, `models convert`."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.errors import AnalysisError
from nlp.heads import Head
from nlp.linear import LinearProba, WordTfidf

runner = CliRunner()


def _head() -> Head:
    vec = WordTfidf(
        {"colis": 0, "livré": 1, "colis livré": 2},
        np.array([1.0, 1.5, 2.0]),
        (1, 2),
        r"(?u)\b\w\w+\b",
        True,
        True,
        "l2",
    )
    lin = LinearProba(
        np.array([0, 1]), np.arange(7, dtype=np.float64).reshape(1, 7) / 10, np.array([-0.3])
    )
    return Head(
        "topics",
        ["delivery", "stock"],
        True,
        [lin, 0.0],
        [0.5, 0.6],
        meta={"version": "topics-test"},
        vectorizer=vec,
    )


def test_head_round_trip_gives_same_probabilities(tmp_path: Path) -> None:
    head = _head()
    digest = head.save(tmp_path / "topics.json")
    assert {p.name for p in tmp_path.iterdir()} == {"topics.json", "topics.npz"}
    doc = json.loads((tmp_path / "topics.json").read_text())
    assert doc["version"] == "topics-test" and doc["labels"] == ["delivery", "stock"]
    back = Head.load(tmp_path / "topics.npz")
    assert back.digest == digest
    vectors = np.ones((2, 4), np.float32)
    texts = ["colis livré", "rien"]
    assert np.array_equal(back.proba(vectors, texts), head.proba(vectors, texts))
    head.save(tmp_path / "again.json")  # same content, other zip timestamps: same digest
    assert Head.load(tmp_path / "again.json").digest == digest


def test_pickle_is_refused_with_the_convert_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = tmp_path / "sentiment.joblib"

    class Boom:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(marker),))  # type: ignore[return-value]

    evil.write_bytes(pickle.dumps({"x": Boom()}))
    for path in (evil, tmp_path / "sentiment.json"):
        with pytest.raises(AnalysisError) as err:
            Head.load(path)
        assert (
            "pickle" in err.value.message
            and f"listening models convert {tmp_path}" in err.value.hint
        )
    assert not marker.exists()  # the pickle never ran


def test_npz_holding_objects_is_refused(tmp_path: Path) -> None:
    _head().save(tmp_path / "topics.json")
    np.savez(tmp_path / "topics.npz", model0_coef=np.array([{"a": 1}], dtype=object))
    with pytest.raises(AnalysisError, match="cannot read model"):
        Head.load(tmp_path / "topics.json")


def test_models_convert_cli(tmp_path: Path) -> None:
    head = _head()
    payload = {
        k: getattr(head, k)
        for k in (
            "name",
            "labels",
            "multilabel",
            "thresholds",
            "lexical",
            "meta",
            "models",
            "vectorizer",
        )
    }
    joblib.dump(payload, tmp_path / "topics.joblib")
    res = runner.invoke(app, ["models", "convert", str(tmp_path), "--remove", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert [Path(r["to"]).name for r in out["converted"]] == ["topics.json"]
    assert not (tmp_path / "topics.joblib").exists()
    back = Head.load(tmp_path / "topics.json")
    vectors = np.zeros((1, 4), np.float32)
    assert np.array_equal(back.proba(vectors, ["colis"]), head.proba(vectors, ["colis"]))
    bad = runner.invoke(app, ["models", "convert", str(tmp_path / "nope")])
    assert bad.exit_code != 0 and "is not a folder" in str(bad.exception)


def test_user_pickle_in_models_dir_is_refused_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from listening.settings import get_settings
    from nlp.pipeline import head_path

    monkeypatch.setenv("LISTENING_NLP__MODELS_DIR", str(tmp_path))
    get_settings.cache_clear()
    (tmp_path / "intent.joblib").write_bytes(b"\x80\x04N.")
    path = head_path(get_settings(), "intent")
    assert path.name == "intent.joblib"
    with pytest.raises(AnalysisError, match="models convert"):
        Head.load(path)
    get_settings.cache_clear()
