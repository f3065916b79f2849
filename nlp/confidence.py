"""Calibrated confidences: what share of outputs given a score turn out right.

The heads' raw scores are not probabilities one can read: a topic whose taxonomy pattern
fired is pushed to 1.0 by the pattern boost, and logistic heads trained with balanced class
weights are over-confident on the rare class. :class:`ConfidenceMaps` turns raw scores into
observed rates with monotone maps (isotonic regression) fitted on labelled verbatims:

- ``topic_pattern``: P(the topic is really there | the model's own score for it) for topics
  a taxonomy pattern also found; ``topic``: the same for the others, from how far the score
  clears the topic's own threshold (thresholds range from 0.3 to 0.95);
- ``sentiment``: P(the document sentiment is right | its top class probability);
- ``aspect``: P(a topic's sentiment is right | its top class probability).

Calibration never moves a decision (thresholds stay on the raw scores), so every quality
figure is unchanged; only the number shown and stored as ``confidence`` changes. The maps are
a small JSON file (breakpoints only, no code), ``calibration.json`` beside the heads: the
user's models folder first, else the shipped one. ``listening calibrate confidences``
refits them and prints a reliability table (docs/BENCHMARKS.md, "Calibrated confidences").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError

CALIBRATION_FILE = "calibration.json"
MAP_NAMES = ("topic", "topic_pattern", "sentiment", "aspect")
FORMAT_VERSION = 1
FIT_METHODS = ("isotonic", "platt")
PRIOR = 4.0  # examples of base rate added to each isotonic step


@dataclass
class Monotone:
    """A non-decreasing piecewise-linear map from breakpoints (``np.interp``)."""

    x: list[float]
    y: list[float]
    n: int = 0  # examples it was fitted on

    def __call__(self, score: float) -> float:
        if not self.x:
            return float(score)
        return float(np.interp(score, self.x, self.y))

    @classmethod
    def fit(cls, scores: np.ndarray, outcomes: np.ndarray, method: str = "isotonic") -> Monotone:
        """Fit 0/1 ``outcomes`` on ``scores`` (scikit-learn, training side only).

        ``isotonic`` (default): the monotone step function closest to the data, each step
        shrunk towards the base rate by :data:`PRIOR` examples. ``platt``: a logistic curve on
        the score's logit, stored as 41 breakpoints (smoother, but it cannot bend)."""
        if method not in FIT_METHODS:
            raise AnalysisError(f"unknown calibration method {method!r}",
                                f"use one of: {', '.join(FIT_METHODS)}")
        if len(scores) < 2 or len(set(outcomes.tolist())) < 2:
            rate = float(outcomes.mean()) if len(outcomes) else 0.5
            return cls([0.0, 1.0], [rate, rate], len(scores))
        if method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            fitted = iso.fit_transform(scores, outcomes)
            # shrink each step towards the base rate (a Beta prior worth PRIOR examples), so a
            # step fitted on 3 examples never states 0 or 1
            base = float(outcomes.mean())
            shrunk = {}
            for value in np.unique(fitted):
                n = int((fitted == value).sum())
                shrunk[round(float(value), 9)] = (value * n + base * PRIOR) / (n + PRIOR)
            xs = np.asarray(iso.X_thresholds_, dtype=float)
            ys = np.asarray([shrunk.get(round(float(v), 9), v) for v in iso.y_thresholds_])
            ys = np.maximum.accumulate(ys)  # shrinking unequal steps can dent the order
        else:
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=1.0)
            model.fit(_logit(scores)[:, None], outcomes.astype(int))
            xs = np.linspace(0.0, 1.0, 41)
            ys = model.predict_proba(_logit(xs)[:, None])[:, 1]
        return cls([round(float(v), 5) for v in xs], [round(float(v), 5) for v in ys], len(scores))


def topic_margin(score: float, threshold: float) -> float:
    """How far ``score`` clears ``threshold``, scaled to 0 (at it) .. 1 (score 1)."""
    return min(1.0, max(0.0, (score - threshold) / max(1e-6, 1.0 - threshold)))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-3, 1 - 1e-3)
    return np.log(q / (1 - q))


@dataclass
class ConfidenceMaps:
    """The four maps and where they come from; ``digest`` enters the model version."""

    maps: dict[str, Monotone] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    digest: str = "raw"

    def apply(self, name: str, score: float) -> float:
        """Calibrated confidence (rounded); the raw score when the map is absent."""
        fn = self.maps.get(name)
        return round(fn(score) if fn is not None else float(score), 4)

    def topic(self, model_score: float, threshold: float, pattern: bool) -> float:
        """A reported topic's confidence: from the model's own score when a taxonomy pattern
        also found it, else from how far that score clears the topic's threshold."""
        if pattern:
            return self.apply("topic_pattern", model_score)
        return self.apply("topic", topic_margin(model_score, threshold))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "meta": self.meta,
            "maps": {k: {"x": m.x, "y": m.y, "n": m.n} for k, m in self.maps.items()},
        }

    def save(self, path: Path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n"
        path.write_text(text, encoding="utf-8")
        self.digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        return self.digest

    @classmethod
    def load(cls, path: Path) -> ConfidenceMaps:
        try:
            raw = path.read_bytes()
            obj = json.loads(raw)
            if obj.get("format") != FORMAT_VERSION:
                raise ValueError(f"format {obj.get('format')!r}, expected {FORMAT_VERSION}")
            maps = {}
            for name, m in obj["maps"].items():
                if name not in MAP_NAMES:
                    raise ValueError(f"unknown map {name!r} (valid: {', '.join(MAP_NAMES)})")
                x, y = [float(v) for v in m["x"]], [float(v) for v in m["y"]]
                if len(x) != len(y) or any(b < a for a, b in zip(x, x[1:], strict=False)):
                    raise ValueError(f"map {name!r} needs as many x as y, x increasing")
                maps[name] = Monotone(x, y, int(m.get("n", 0)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AnalysisError(
                f"cannot read the confidence calibration {path}: {exc}",
                "rebuild it with `listening calibrate confidences` or delete it to use the shipped one",
            ) from None
        return cls(maps, dict(obj.get("meta", {})), hashlib.sha256(raw).hexdigest()[:12])


def calibration_path(models_dir: Path, shipped_dir: Path) -> Path | None:
    """The user's calibration when present, else the shipped one, else None (raw scores)."""
    for folder in (models_dir, shipped_dir):
        path = folder / CALIBRATION_FILE
        if path.is_file():
            return path
    return None


def reliability(scores: np.ndarray, outcomes: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Reliability table (equal-width bins of the stated confidence) and expected calibration
    error: the count-weighted mean gap between stated confidence and observed rate."""
    scores = np.asarray(scores, dtype=float)
    outcomes = np.asarray(outcomes, dtype=float)
    rows, ece = [], 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    for k in range(bins):
        lo, hi = edges[k], edges[k + 1]
        mask = (scores >= lo) & ((scores < hi) if k < bins - 1 else (scores <= hi))
        n = int(mask.sum())
        if not n:
            continue
        stated, observed = float(scores[mask].mean()), float(outcomes[mask].mean())
        ece += n * abs(stated - observed)
        rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": n, "stated": round(stated, 3),
                     "observed": round(observed, 3)})
    total = len(scores)
    return {"n": total, "ece": round(ece / total, 4) if total else None, "bins": rows}
