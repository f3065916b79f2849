"""NLP commands through the real CLI app (CliRunner) on hand-written inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.settings import get_settings

runner = CliRunner()

POS = ["super série, j'ai adoré", "excellent, drôle et bien joué", "un vrai bijou, bravo",
       "magnifique du début à la fin", "les acteurs sont géniaux", "je recommande vivement",
       "très belle surprise", "captivant et émouvant", "un régal", "parfait, rien à redire",
       "brillant et intelligent", "quel plaisir à regarder"]
NEG = ["nul, une perte de temps", "ennuyeux et mal joué", "scénario ridicule",
       "j'ai arrêté au premier épisode", "vraiment décevant", "à fuir absolument",
       "mauvais acteurs, mauvaise histoire", "d'un ennui mortel", "affligeant",
       "je regrette d'avoir regardé", "sans intérêt", "catastrophique"]


def _last_json(output: str) -> dict:  # type: ignore[type-arg]
    return json.loads(output.strip().splitlines()[-1])


def test_cli_nlp_analyze_text_json_shape() -> None:
    result = runner.invoke(app, ["analyze-text", "livraison rapide mais SAV injoignable", "--json"])
    assert result.exit_code == 0, result.output
    out = _last_json(result.output)
    assert set(out) == {"language", "sentiment", "topics", "intent", "urgency", "actionable", "smalltalk"}
    assert out["smalltalk"] is False
    assert set(out["sentiment"]) == {"label", "score", "confidence"}
    assert out["sentiment"]["label"] in ("negative", "neutral", "positive")
    for topic in out["topics"]:
        assert set(topic) == {"topic", "sentiment", "confidence", "sentiment_confidence",
                              "score", "pattern", "evidence"}
        assert 0.0 < topic["confidence"] < 1.0
        assert all(set(e) == {"start", "end", "text"} for e in topic["evidence"])
    assert {t["topic"] for t in out["topics"]} >= {"delivery", "customer_service"}


def test_cli_nlp_analyze_store_json() -> None:
    from listening.store import Document, Source, Store

    store = Store.from_settings(get_settings())
    store.init()
    with store.session() as s:
        src = Source(name="forum", kind="forum", url="https://example.org/forum")
        s.add(src)
        s.flush()
        s.add_all([Document(source_id=src.id, external_id=str(i), text=t, content_hash=str(i))
                   for i, t in enumerate(["Colis perdu, remboursement refusé.", "Merci !"])])
    result = runner.invoke(app, ["analyze", "--json"])
    assert result.exit_code == 0, result.output
    out = _last_json(result.output)
    assert out["analysed"] == 2 and out["failed"] == 0
    again = _last_json(runner.invoke(app, ["analyze", "--json"]).output)
    assert again["analysed"] == 0 and again["skipped"] == 2


def test_cli_nlp_train_custom_taxonomy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taxonomy = tmp_path / "garden.yaml"
    taxonomy.write_text(
        """
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
""",
        encoding="utf-8",
    )
    out_dir = tmp_path / "models"
    result = runner.invoke(app, ["train", "topics", "--taxonomy", str(taxonomy), "--out", str(out_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert (out_dir / "topics.json").is_file() and (out_dir / "topics.npz").is_file() and (out_dir / "topics.md").is_file()
    monkeypatch.setenv("LISTENING_NLP__MODELS_DIR", str(out_dir))
    get_settings.cache_clear()
    res = _last_json(runner.invoke(app, ["analyze-text", "Mon sécateur est déjà émoussé", "--json"]).output)
    assert [t["topic"] for t in res["topics"]][:1] == ["tools"]


def test_cli_nlp_train_topics_bad_taxonomy(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("topics:\n  only_one:\n    examples: [\"un seul exemple\"]\n", encoding="utf-8")
    result = runner.invoke(app, ["train", "topics", "--taxonomy", str(bad), "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "fewer than 2 examples" in str(result.exception)


def test_cli_nlp_eval_topics_and_sentiment(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "Colis arrivé avec dix jours de retard.", "topics": ["delivery"]},
        {"text": "Remboursement toujours pas reçu.", "topics": {"returns": "negative"}, "sentiment": "negative",
         "intent": "complaint", "urgency": []},
        {"text": "Bonne journée à tous !", "topics": [], "intent": "other", "urgency": []},
        {"text": "Sans remboursement demain, je vais porter plainte.", "topics": ["returns"],
         "intent": "complaint", "urgency": ["legal_threat"]},
    ]), encoding="utf-8")
    out = _last_json(runner.invoke(app, ["eval", "topics", str(gold), "--json"]).output)
    assert out["n"] == 4 and 0 <= out["micro_f1"] <= 1 and "delivery" in out["per_topic"]
    assert out["no_topic_items"] == 1
    assert 0 <= out["intent_accuracy"] <= 1 and 0 <= out["intent_macro_f1"] <= 1
    assert out["urgency_per_flag"]["legal_threat"]["support"] == 1  # intent/urgency only where gold has them

    tsv = tmp_path / "reviews.tsv"
    tsv.write_text("\n".join([f"1\t{t}" for t in POS] + [f"0\t{t}" for t in NEG]), encoding="utf-8")
    out = _last_json(runner.invoke(app, ["eval", "sentiment", "--format", "tsv", str(tsv), "--json"]).output)
    assert out["n"] == 24 and out["binary"] and out["accuracy"] >= 0.75

    (tmp_path / "test_text.txt").write_text("\n".join(["j'adore", "c'est nul", "il pleut à Lyon"]), encoding="utf-8")
    (tmp_path / "test_labels.txt").write_text("2\n0\n1", encoding="utf-8")
    out = _last_json(runner.invoke(app, ["eval", "sentiment", "--format", "xlmt", str(tmp_path), "--json"]).output)
    assert out["n"] == 3 and not out["binary"]

    missing = runner.invoke(app, ["eval", "sentiment", "--format", "xlmt", str(tmp_path / "nope"), "--json"])
    assert missing.exit_code != 0 and "not found" in str(missing.exception)


def test_cli_nlp_bench_sentiment_and_semeval(tmp_path: Path) -> None:
    train, test = tmp_path / "train.tsv", tmp_path / "test.tsv"
    train.write_text("\n".join([f"1\t{t}" for t in POS[:8]] + [f"0\t{t}" for t in NEG[:8]]), encoding="utf-8")
    test.write_text("\n".join([f"1\t{t}" for t in POS[8:]] + [f"0\t{t}" for t in NEG[8:]]), encoding="utf-8")
    out = _last_json(runner.invoke(app, ["bench", "sentiment", "--format", "tsv", "--train", str(train),
                                         "--test", str(test), "--json"]).output)
    assert out["n"] == 8 and out["train_n"] == 16 and out["accuracy"] >= 0.6

    def xml(rows: list[tuple[str, str, str]]) -> str:
        body = "".join(
            f'<sentence id="{i}"><text>{t}</text><Opinions><Opinion target="NULL" category="{c}" '
            f'polarity="{p}" from="0" to="0"/></Opinions></sentence>' for i, (t, c, p) in enumerate(rows))
        return f"<Reviews><Review><sentences>{body}<sentence id='e'><text/></sentence></sentences></Review></Reviews>"

    food = [("Le plat était délicieux.", "FOOD#QUALITY", "positive"), ("La viande était trop cuite.", "FOOD#QUALITY", "negative"),
            ("Des desserts excellents.", "FOOD#QUALITY", "positive"), ("Les frites étaient froides.", "FOOD#QUALITY", "negative")]
    service = [("Serveur très aimable.", "SERVICE#GENERAL", "positive"), ("Service lent et désagréable.", "SERVICE#GENERAL", "negative"),
               ("Accueil chaleureux du personnel.", "SERVICE#GENERAL", "positive"), ("On a attendu une heure pour commander.", "SERVICE#GENERAL", "negative")]
    food += [("Le plat du jour était délicieux.", "FOOD#QUALITY", "positive"), ("La viande était froide.", "FOOD#QUALITY", "negative"),
             ("Des desserts vraiment excellents.", "FOOD#QUALITY", "positive"), ("Les frites étaient trop cuites.", "FOOD#QUALITY", "negative")]
    service += [("Serveur aimable et souriant.", "SERVICE#GENERAL", "positive"), ("Service lent.", "SERVICE#GENERAL", "negative"),
                ("Accueil très chaleureux.", "SERVICE#GENERAL", "positive"), ("On a attendu une heure.", "SERVICE#GENERAL", "negative")]
    (tmp_path / "tr.xml").write_text(xml(food + service), encoding="utf-8")
    (tmp_path / "te.xml").write_text(xml([("La soupe était savoureuse.", "FOOD#QUALITY", "positive"),
                                          ("La serveuse était impolie.", "SERVICE#GENERAL", "negative")]), encoding="utf-8")
    out = _last_json(runner.invoke(app, ["bench", "semeval16", "--train", str(tmp_path / "tr.xml"),
                                         "--test", str(tmp_path / "te.xml"), "--json"]).output)
    assert out["test_sentences"] == 2 and out["categories"] == 2
    assert 0 <= out["slot1_f1"] <= 1 and out["opinions"] == 2
    # hyper-parameters are chosen by CV on the train file, and the bench says which
    assert set(out["topic_cv_micro_f1_by_C"]) == {"4.0", "8.0", "16.0"} and out["topic_C"] in (4.0, 8.0, 16.0)
    assert out["polarity_C"] in (0.25, 0.5, 1.0, 2.0, 4.0) and len(out["polarity_cv_accuracy_by_C"]) == 5


def test_cli_nlp_train_sentiment_from_ratings_file(tmp_path: Path) -> None:
    rows = [{"text": t, "rating": 5} for t in POS] + [{"text": t, "rating": 1} for t in NEG]
    rows += [{"text": f"Commande numéro {i} reçue, produit conforme sans plus.", "rating": 3} for i in range(8)]
    file = tmp_path / "ratings.jsonl"
    file.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["train", "sentiment", "--from-ratings", "--ratings-file", str(file),
                                 "--ratings-only", "--out", str(tmp_path / "m"), "--json"])
    assert result.exit_code == 0, result.output
    out = _last_json(result.output)
    assert out["rated"] == 32 and out["held_out"] == 7
    assert out["gain_macro_f1"] == pytest.approx(out["after"]["macro_f1"] - out["before"]["macro_f1"], abs=1e-3)
    assert out["saved"] == (out["gain_macro_f1"] >= 0)
    if out["saved"]:
        assert (tmp_path / "m" / "sentiment.json").is_file()
    too_few = tmp_path / "few.jsonl"
    too_few.write_text('{"text": "bien", "rating": 5}\n', encoding="utf-8")
    bad = runner.invoke(app, ["train", "sentiment", "--ratings-file", str(too_few), "--out", str(tmp_path)])
    assert bad.exit_code != 0 and "at least 20" in str(bad.exception)
