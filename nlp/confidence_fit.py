"""Fitting the confidence maps (`listening calibrate confidences`) and measuring them.

Labelled verbatims (default: the project's own journey dev set and realistic set, both
written for evaluation, no licence question) are split in two halves by a stable hash of
the text. The analyzer runs once with raw scores; the maps are fitted on the first half and
the reliability of raw and calibrated confidences is reported on the second, so the figures
printed are measured on verbatims the maps never saw.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError
from listening.settings import Settings
from nlp import datasets
from nlp.confidence import CALIBRATION_FILE, ConfidenceMaps, Monotone, reliability
from nlp.pipeline import Analyzer, make_encoder, models_dir

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_SETS = (DATA_DIR / "journey_dev.jsonl", DATA_DIR / "realistic_eval.jsonl")


def half_of(text: str) -> int:
    """0 (fit) or 1 (held out), stable across runs and machines."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] & 1


def observations(analyzer: Analyzer, rows: list[dict[str, Any]]) -> dict[str, list[tuple[float, int, int, float]]]:
    """``{map name: [(map input, right 0/1, half, confidence shown before)]}`` from one run
    of ``analyzer`` with identity maps."""
    results = analyzer.analyze([r["text"] for r in rows], [r.get("lang") for r in rows])
    obs: dict[str, list[tuple[float, int, int, float]]] = {
        "topic": [], "topic_pattern": [], "sentiment": [], "aspect": []}
    for row, res in zip(rows, results, strict=True):
        if res.error:
            continue
        half = half_of(row["text"])
        gold = datasets.topics_of(row)
        for t in res.topics:
            # with identity maps, "confidence" is the map's input (the model score, or its
            # margin over the threshold); "score" is what was shown before calibration
            name = "topic_pattern" if t.get("pattern") else "topic"
            obs[name].append((float(t["confidence"]), int(t["topic"] in gold), half, float(t["score"])))
            if gold.get(t["topic"]):
                right = int(gold[t["topic"]] == t["sentiment"])
                p = float(t["sentiment_confidence"])
                obs["aspect"].append((p, right, half, p))
        if row.get("sentiment") and not res.smalltalk:
            p = res.sentiment_confidence
            obs["sentiment"].append((p, int(row["sentiment"] == res.sentiment), half, p))
    return obs


def fit_maps(obs: dict[str, list[tuple[float, int, int, float]]], meta: dict[str, Any],
             method: str = "isotonic") -> tuple[ConfidenceMaps, dict[str, Any]]:
    """Maps fitted on half 0; raw and calibrated reliability on half 1."""
    maps, report = {}, {}
    for name, triples in obs.items():
        arr = np.asarray(triples, dtype=float).reshape(-1, 4)
        fit, held = arr[arr[:, 2] == 0], arr[arr[:, 2] == 1]
        fn = Monotone.fit(fit[:, 0], fit[:, 1], method)
        maps[name] = fn
        calibrated = np.asarray([fn(s) for s in held[:, 0]])
        report[name] = {
            "fit_n": len(fit),
            "raw": reliability(held[:, 3], held[:, 1]),
            "calibrated": reliability(calibrated, held[:, 1]),
        }
    return ConfidenceMaps(maps, meta), report


def calibrate_confidences(settings: Settings, files: list[Path] | None = None,
                          out_dir: Path | None = None, save: bool = True,
                          method: str = "isotonic") -> dict[str, Any]:
    """Fit and (unless ``save`` is false) write ``calibration.json``; returns the report."""
    import nlp.encoder  # noqa: F401

    paths = list(files or DEFAULT_SETS)
    rows: list[dict[str, Any]] = []
    for path in paths:
        rows += [r for r in datasets.read_jsonl(path) if r.get("text")]
    if len(rows) < 100:
        raise AnalysisError(f"{len(rows)} labelled verbatims: too few to calibrate",
                            "give at least 100 lines of {\"text\", \"topics\", \"sentiment\"}")
    analyzer = Analyzer(settings, encoder=make_encoder(settings, cache=True), confidence=ConfidenceMaps())
    obs = observations(analyzer, rows)
    meta = {"fitted_on": [p.name for p in paths], "half": "sha256(text)[0] & 1 == 0",
            "heads": {n: h.digest for n, h in analyzer.heads.items()}, "method": method}
    maps, report = fit_maps(obs, meta, method)
    result: dict[str, Any] = {"n_verbatims": len(rows), "method": method, "maps": report, "saved": None}
    if save:
        path = (out_dir or models_dir(settings)) / CALIBRATION_FILE
        maps.save(path)
        result["saved"] = str(path)
    return result


def reliability_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables (docs/BENCHMARKS.md)."""
    lines = []
    for name, r in report["maps"].items():
        lines.append(f"**{name}** (fitted on {r['fit_n']}, held out {r['raw']['n']}): "
                     f"ECE raw {r['raw']['ece']} → calibrated {r['calibrated']['ece']}")
        lines.append("")
        lines.append("| bin | raw n | raw stated | raw observed | cal. n | cal. stated | cal. observed |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- |")
        raw = {b["bin"]: b for b in r["raw"]["bins"]}
        cal = {b["bin"]: b for b in r["calibrated"]["bins"]}
        for key in sorted(set(raw) | set(cal)):
            a, b = raw.get(key, {}), cal.get(key, {})
            lines.append(f"| {key} | {a.get('n', '')} | {a.get('stated', '')} | {a.get('observed', '')} "
                         f"| {b.get('n', '')} | {b.get('stated', '')} | {b.get('observed', '')} |")
        lines.append("")
    return "\n".join(lines)
