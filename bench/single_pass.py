"""One encoder pass per text, clause vectors pooled from its token states: how far from today's
clause embeddings (issue 14's route to a higher pipeline/encoder ratio, which lets results move).

For every text, the pipeline's clauses (``Preparer``) are embedded as today (each clause alone,
``passage: `` prefix, mean of all its tokens) and, from one pass of the default encoder's model
over the whole text, as the mean of the last hidden states of the tokens that overlap the
clause. Prints the cosine between the two (min, 5th percentile, median) and how often the
shipped heads trained on today's vectors take the same decision on both: top topic of the clause
and clause sentiment. Texts: the realistic set and journey dev (in the repository), plus 200
Allociné-TV reviews when ../shared is present. Texts over 510 tokens are skipped.

    .venv/bin/python bench/single_pass.py [--n 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ALLOCINE = ROOT.parent / "shared" / "data" / "sentiment" / "allocine_tv_fr" / "test.tsv"


def texts(n: int) -> list[str]:
    out = []
    for name in ("realistic_eval.jsonl", "journey_dev.jsonl"):
        lines = (ROOT / "nlp" / "data" / name).read_text(encoding="utf-8").splitlines()
        out += [json.loads(line)["text"] for line in lines[:n]]
    if ALLOCINE.is_file():
        rows = ALLOCINE.read_text(encoding="utf-8").splitlines()
        out += [row.split("\t", 1)[1] for row in rows if "\t" in row][:n]
    return out


def char_offsets(text: str) -> dict[int, int]:
    """UTF-8 byte offset → character offset (SentencePiece reports bytes)."""
    table, byte = {}, 0
    for index, char in enumerate(text):
        table[byte] = index
        byte += len(char.encode("utf-8"))
    table[byte] = len(text)
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="texts taken from each set")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import onnx
    import openvino as ov

    from listening.settings import load_settings
    from nlp.onnx_encoder import OnnxEncoder
    from nlp.pipeline import Analyzer

    analyzer = Analyzer(load_settings())
    encoder = analyzer.encoder
    if not isinstance(encoder, OnnxEncoder):
        sys.exit(f"needs the OpenVINO or ONNX encoder, got {encoder.name}")
    graph = onnx.load(str(encoder.path / "model.onnx"))
    hidden_name = next(n.input[0] for n in graph.graph.node if n.output == ["masked"])
    graph.graph.output.append(
        onnx.helper.make_tensor_value_info(hidden_name, onnx.TensorProto.FLOAT, None)
    )
    with tempfile.TemporaryDirectory() as tmp:
        onnx.save(graph, f"{tmp}/hidden.onnx", save_as_external_data=True, location="hidden.data")
        compiled = ov.Core().compile_model(f"{tmp}/hidden.onnx", "CPU")
    request, port = compiled.create_infer_request(), compiled.output(hidden_name)
    spm = encoder._tok._sp  # noqa: SLF001  (the encoder's own tokenizer, for the offsets)
    heads, prefix = analyzer.heads, encoder.prefix
    cosines: list[float] = []
    same_topic = same_sentiment = clauses = skipped = 0
    corpus = texts(args.n)
    for text, item in zip(corpus, analyzer.preparer.prepare(corpus), strict=True):
        if not item.clauses:
            continue
        full = prefix + text
        pieces = spm.encode(full, return_type="proto").pieces
        if len(pieces) > encoder.window:
            skipped += 1
            continue
        chars = char_offsets(full)
        spans = [(chars[p.begin] - len(prefix), chars[p.end] - len(prefix)) for p in pieces]
        ids = np.array([[encoder._bos, *(p.id for p in pieces), encoder._eos]], dtype=np.int64)  # noqa: SLF001
        states = np.asarray(
            request.infer({"input_ids": ids, "attention_mask": np.ones_like(ids)})[port]
        )[0]
        own = encoder.encode([c.text for c in item.clauses])
        pooled = []
        for clause in item.clauses:
            rows = [k + 1 for k, (a, b) in enumerate(spans) if b > clause.start and a < clause.end]
            vector = states[rows].mean(axis=0) if rows else states.mean(axis=0)
            pooled.append(vector / np.linalg.norm(vector))
        mine = np.asarray(pooled, dtype=np.float32)
        cosines += (mine * own).sum(axis=1).tolist()
        words = [c.text for c in item.clauses]
        same_topic += int(
            (
                heads["topics"].proba(own, words).argmax(1)
                == heads["topics"].proba(mine, words).argmax(1)
            ).sum()
        )
        same_sentiment += int(
            (
                heads["aspect_sentiment"].proba(own).argmax(1)
                == heads["aspect_sentiment"].proba(mine).argmax(1)
            ).sum()
        )
        clauses += len(words)
    cos = np.asarray(cosines)
    out = {
        "texts": len(corpus) - skipped,
        "clauses": clauses,
        "cosine_min": round(float(cos.min()), 3),
        "cosine_p5": round(float(np.percentile(cos, 5)), 3),
        "cosine_median": round(float(np.median(cos)), 3),
        "same_top_topic": round(same_topic / clauses, 3),
        "same_clause_sentiment": round(same_sentiment / clauses, 3),
    }
    if not args.json:
        print(
            f"{clauses} clauses of {out['texts']} texts: cosine pooled vs embedded alone min "
            f"{out['cosine_min']}, p5 {out['cosine_p5']}, median {out['cosine_median']}; shipped "
            f"heads agree on the top topic {out['same_top_topic']}, on the clause sentiment "
            f"{out['same_clause_sentiment']}"
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
