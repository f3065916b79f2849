"""`listening train` learns from users' corrections (stored and from a JSONL file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.corrections import CorrectionIn, TaxonomyRef, record_correction
from listening.settings import get_settings
from listening.store import Store
from listening.store.documents import DocumentIn, upsert_documents
from listening.store.sources import SourceSpec, add_source
from nlp.corrections_training import counts, intent_extra, topic_extra

runner = CliRunner()
GARDEN = """
name: garden
topics:
  watering:
    examples: ["l'arrosage automatique fuit", "le tuyau d'arrosage est percé",
               "l'arroseur ne tourne plus", "the sprinkler leaks everywhere"]
  seeds:
    examples: ["les graines n'ont pas germé", "sachet de semences vide",
               "aucune pousse après trois semaines", "the seeds never sprouted"]
  tools:
    examples: ["le sécateur coupe mal", "la pelle s'est tordue",
               "manche du râteau cassé", "the shovel handle snapped"]
none_examples: ["bonjour à tous", "merci d'avance"]
"""


def _last_json(output: str) -> dict:  # type: ignore[type-arg]
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_corrections_training_rows_per_head() -> None:
    rows = [
        {"text": "a", "topics": ["tools"], "taxonomy": "garden", "sentiment": "negative"},
        {"text": "b", "actionable": False},
        {"text": "c", "actionable": False, "intent": "question"},
        {"text": "d", "topics": ["delivery"], "taxonomy": "journey"},
    ]
    assert topic_extra(rows, "garden") == [("a", {"tools"})]
    assert intent_extra(rows) == [
        {"text": "b", "intent": "other"},
        {"text": "c", "intent": "question"},
    ]
    assert counts(rows) == {"topics": 2, "sentiment": 1, "intent": 2}


def test_cli_train_topics_learns_stored_and_file_corrections(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taxonomy = tmp_path / "garden.yaml"
    taxonomy.write_text(GARDEN, encoding="utf-8")
    tax = TaxonomyRef("garden", ("watering", "seeds", "tools"))
    with sqlite_store.session() as s:
        src, _ = add_source(
            s, SourceSpec(name="avis", kind="review_site", url="https://example.org/a")
        )
        res = upsert_documents(
            s, src.id, None, [DocumentIn("x", "la brouette a un pneu crevé")], "salt"
        )
        record_correction(
            s, CorrectionIn(actor="ann", document_id=res.document_ids[0], topics=["tools"]), tax
        )
    file = tmp_path / "more.jsonl"
    file.write_text(
        json.dumps({"text": "le composteur en bois a pourri", "actor": "ann", "topics": ["tools"]})
        + "\n",
        encoding="utf-8",
    )
    out_dir = tmp_path / "models"
    result = runner.invoke(
        app,
        [
            "train",
            "topics",
            "--taxonomy",
            str(taxonomy),
            "--out",
            str(out_dir),
            "--corrections",
            str(file),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = _last_json(result.output)["metrics"]
    assert metrics["corrections"] == 2 and metrics["n"] == 14 + 2
    monkeypatch.setenv("LISTENING_NLP__MODELS_DIR", str(out_dir))
    get_settings.cache_clear()
    res_json = _last_json(
        runner.invoke(app, ["analyze-text", "la brouette a un pneu crevé", "--json"]).output
    )
    assert "tools" in [t["topic"] for t in res_json["topics"]]
    # without them: the 14 examples as the taxonomy alone
    result = runner.invoke(
        app,
        [
            "train",
            "topics",
            "--taxonomy",
            str(taxonomy),
            "--out",
            str(out_dir),
            "--no-stored-corrections",
            "--json",
        ],
    )
    assert _last_json(result.output)["metrics"]["corrections"] == 0


def test_cli_train_corrections_file_with_a_bad_line_names_it(tmp_path: Path) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_text(
        json.dumps({"text": "ok", "actor": "a", "sentiment": "negative"})
        + "\n"
        + json.dumps({"text": "colis perdu", "actor": "a", "topics": ["shipping"]})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["train", "intent", "--out", str(tmp_path), "--corrections", str(file)]
    )
    assert result.exit_code != 0
    assert "line 2: topics unknown topic 'shipping'" in str(result.exception)
    assert not (tmp_path / "intent.json").exists()
