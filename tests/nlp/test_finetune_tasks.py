"""End-to-end fine-tuning with aspect heads (``bench semeval16 --finetune``) on a tiny
synthetic SemEval XML: the weights move, the saved adapter is small and reloads to the same
predictions, the bench JSON has its keys, and bad inputs give clear errors."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.errors import AnalysisError, ConfigError
from listening.settings import get_settings
from nlp import datasets
from nlp.e5_export import export_e5
from nlp.finetune_tasks import (
    ADAPTER_FILE,
    HEADS_FILE,
    AspectExample,
    FinetuneConfig,
    category_words,
    load_tuned,
    micro_f1,
    pair_text,
    semeval_examples,
    train_aspects,
)

HAVE_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "transformers", "safetensors", "peft"))
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="pip install 'listening[transformers]'")

ROWS = [("Le plat était délicieux.", "FOOD#QUALITY", "positive", "plat"),
        ("La viande était trop cuite.", "FOOD#QUALITY", "negative", "viande"),
        ("Des desserts excellents.", "FOOD#QUALITY", "positive", "desserts"),
        ("Les frites étaient froides.", "FOOD#QUALITY", "negative", "frites"),
        ("Serveur très aimable.", "SERVICE#GENERAL", "positive", "Serveur"),
        ("Service lent et désagréable.", "SERVICE#GENERAL", "negative", "Service"),
        ("Accueil chaleureux.", "SERVICE#GENERAL", "positive", ""),
        ("On a attendu une heure.", "SERVICE#GENERAL", "negative", "")]


def _xml(rows: list[tuple[str, str, str, str]]) -> str:
    body = []
    for i, (text, cat, pol, target) in enumerate(rows):
        a = text.find(target) if target else 0
        b = a + len(target) if target else 0
        body.append(f'<sentence id="{i}"><text>{text}</text><Opinions><Opinion target="{target or "NULL"}" '
                    f'category="{cat}" polarity="{pol}" from="{a}" to="{b}"/></Opinions></sentence>')
    return f"<Reviews><Review><sentences>{''.join(body)}</sentences></Review></Reviews>"


@pytest.fixture(scope="module")
def e5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAVE_TORCH:
        pytest.skip("pip install 'listening[transformers]'")
    out = tmp_path_factory.mktemp("e5ft") / "e5-small-transformers"
    export_e5(out)
    return out


@pytest.fixture
def settings_env(e5_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LISTENING_NLP__TRANSFORMERS_MODEL", str(e5_dir))
    monkeypatch.setenv("LISTENING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_inputs_name_the_aspect_and_the_target() -> None:
    assert category_words("FOOD#STYLE_OPTIONS") == "food style options"
    assert pair_text("SERVICE#GENERAL", "serveur", "Serveur aimable.") == \
        "query: service general « serveur » : Serveur aimable."
    assert pair_text("customer_service", "", "SAV nul") == "query: customer service : SAV nul"
    assert micro_f1([{"a"}, {"b"}], [{"a"}, set()]) == (0.6667, 1.0, 0.5)


def test_bad_configuration_and_empty_training_sets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown fine-tuning method"):
        train_aspects(tmp_path, [AspectExample("x", {"A"})], ["A"], ["neg", "pos"], FinetuneConfig(method="qlora"))
    with pytest.raises(AnalysisError, match="no sentence"):
        train_aspects(tmp_path, [], ["A"], ["neg", "pos"], FinetuneConfig())
    with pytest.raises(AnalysisError, match="two polarities"):
        train_aspects(tmp_path, [AspectExample("x", {"A"}, [("A", "pos", "")])], ["A"], ["pos"], FinetuneConfig())
    bad = tmp_path / "bad.xml"
    bad.write_text("<Reviews><sentence>", encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", "semeval16", "--train", str(bad), "--test", str(bad),
                                      "--finetune", "--json"])
    assert result.exit_code != 0 and "not valid XML" in str(result.exception)
    empty = tmp_path / "empty.xml"
    empty.write_text("<Reviews><Review><sentences><sentence id='1'><text/></sentence></sentences></Review></Reviews>",
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", "semeval16", "--train", str(empty), "--test", str(empty),
                                      "--finetune", "--json"])
    assert result.exit_code != 0 and "no sentence with text" in str(result.exception)


@needs_torch
@pytest.mark.slow
def test_tiny_lora_run_moves_the_weights_and_saves_a_small_adapter(e5_dir: Path, tmp_path: Path) -> None:
    xml = tmp_path / "tiny.xml"
    xml.write_text(_xml(ROWS * 3), encoding="utf-8")
    examples = semeval_examples(datasets.read_semeval(xml))
    assert examples[0].opinions == [("FOOD#QUALITY", "positive", "plat")] and examples[6].opinions[0][2] == ""
    config = FinetuneConfig(epochs=1, batch_size=8, max_length=24, max_steps=3, threads=1)
    tuned = train_aspects(e5_dir, examples, ["FOOD#QUALITY", "SERVICE#GENERAL"], ["negative", "positive"], config)
    assert tuned.meta["steps"] == 3 and tuned.meta["holdout_sentences"] == 2
    lora_b = [p for n, p in tuned.model.named_parameters() if "lora_B" in n]
    assert lora_b and any(float(p.detach().abs().sum()) > 0 for p in lora_b)  # LoRA B starts at zero
    out = tmp_path / "adapter"
    tuned.save(out)
    assert (out / ADAPTER_FILE).stat().st_size < 2_000_000  # an adapter, not a copy of the 470 MB weights
    assert (out / HEADS_FILE).is_file() and not (out / "model.safetensors").exists()
    texts = [r[0] for r in ROWS]
    again = load_tuned(out, e5_dir)
    assert np.allclose(again.category_proba(texts), tuned.category_proba(texts), atol=1e-5)
    pairs = [(c, t, s) for s, c, _, t in ROWS]
    assert again.predict_polarity(pairs) == tuned.predict_polarity(pairs)
    tuned.config = FinetuneConfig(method="full")
    with pytest.raises(ConfigError, match="LoRA"):  # a full fine-tune is never saved (no weight copies)
        tuned.save(tmp_path / "full")
    with pytest.raises(AnalysisError, match="no fine-tuned adapter"):
        load_tuned(tmp_path, e5_dir)


@needs_torch
@pytest.mark.slow
@pytest.mark.usefixtures("settings_env")
def test_bench_finetune_prints_frozen_and_finetuned_figures(tmp_path: Path) -> None:
    train, test = tmp_path / "tr.xml", tmp_path / "te.xml"
    train.write_text(_xml(ROWS * 2), encoding="utf-8")
    test.write_text(_xml(ROWS[:4]), encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", "semeval16", "--train", str(train), "--test", str(test),
                                      "--finetune", "--epochs", "1", "--batch-size", "16", "--max-length", "24",
                                      "--threads", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    for key in ("slot1_f1", "slot3_acc", "frozen_slot1_f1", "frozen_slot3_acc", "finetune_wall_s", "frozen_wall_s"):
        assert isinstance(out[key], float) and out[key] >= 0, key
    assert out["opinions"] == 4 and out["categories"] == 2 and out["history"][0]["epoch"] == 1


def _journey_rows(n: int) -> list[dict[str, object]]:
    kinds = [("Colis arrivé en retard", {"delivery": "negative"}), ("Livraison rapide", {"delivery": "positive"}),
             ("Le SAV ne répond pas", {"customer_service": "negative"}), ("Merci pour ce site", {})]
    return [{"text": f"{kinds[i % 4][0]} ({i})", "topics": kinds[i % 4][1]} for i in range(n)]


def test_train_topics_finetune_needs_enough_labelled_rows(tmp_path: Path) -> None:
    from nlp_helpers import plain_settings

    from nlp.finetune_topics import MIN_ROWS, finetune_topics

    data = tmp_path / "few.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _journey_rows(MIN_ROWS - 1)), encoding="utf-8")
    with pytest.raises(AnalysisError, match=f"needs {MIN_ROWS} or more"):
        finetune_topics(plain_settings(tmp_path), data, tmp_path, FinetuneConfig())
    with pytest.raises(ConfigError, match="LoRA adapter only"):
        finetune_topics(plain_settings(tmp_path), data, tmp_path, FinetuneConfig(method="full"))


@needs_torch
@pytest.mark.slow
@pytest.mark.usefixtures("settings_env")
def test_train_topics_finetune_saves_an_adapter_the_eval_scores(tmp_path: Path) -> None:
    from nlp.finetune_topics import FOLDER, MIN_ROWS

    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _journey_rows(MIN_ROWS)), encoding="utf-8")
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "topics", "--finetune", "--data", str(data), "--epochs", "1",
                                  "--max-steps", "2", "--threads", "1", "--out", str(tmp_path / "models"), "--json"])
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.output.strip().splitlines()[-1])
    assert set(summary["topics"]) == {"customer_service", "delivery"} and summary["rows"] == MIN_ROWS
    folder = tmp_path / "models" / FOLDER
    assert (folder / ADAPTER_FILE).stat().st_size < 2_000_000
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in _journey_rows(8)), encoding="utf-8")
    scored = runner.invoke(app, ["eval", "topics", str(gold), "--finetuned", str(folder), "--json"])
    assert scored.exit_code == 0, scored.output
    out = json.loads(scored.output.strip().splitlines()[-1])
    assert out["n"] == 8 and 0 <= out["micro_f1"] <= 1 and set(out["per_topic_f1"]) == {"customer_service", "delivery"}
