"""Data-only head files: ``NAME.npz`` (numpy arrays) + ``NAME.json`` (classes, thresholds,
vectoriser settings, metadata). Loading them never unpickles anything (``np.load`` with
``allow_pickle=False``), so a model file handed over by someone else cannot run code.

Older releases saved heads with joblib (a pickle). :func:`load_head_payload` refuses those
with the conversion command; :func:`convert_folder` (``listening models convert DIR``) runs
each pickle once, on files the user trusts, and writes the data-only pair.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from listening.errors import AnalysisError
from nlp.linear import LinearProba, WordTfidf, plain

FORMAT = "listening-head"
FORMAT_VERSION = 1
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


def pair(path: Path) -> tuple[Path, Path]:
    """The (``.json``, ``.npz``) files of a head, from either of them or the bare stem."""
    base = path.with_suffix("") if path.suffix in (".json", ".npz", *PICKLE_SUFFIXES) else path
    return base.with_suffix(".json"), base.with_suffix(".npz")


def refuse_pickle(path: Path) -> AnalysisError:
    return AnalysisError(
        f"model file {path} is a pickle (joblib); listening loads only data-only heads "
        "(NAME.npz + NAME.json) because unpickling a file can run any code",
        f"convert the folder once, only if you trust where its files come from: "
        f"`listening models convert {path.parent}` (or retrain with `listening train`)",
    )


def _model_entry(i: int, model: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    if isinstance(model, float | int):  # label never seen positive/negative in training
        return {"kind": "constant", "value": float(model)}
    if not isinstance(model, LinearProba):
        raise AnalysisError(
            f"cannot save a {type(model).__name__} head model",
            "heads hold logistic regressions (nlp.linear.LinearProba) only",
        )
    arrays[f"model{i}_coef"] = np.asarray(model.coef, dtype=np.float64)
    arrays[f"model{i}_intercept"] = np.asarray(model.intercept, dtype=np.float64)
    return {"kind": "linear", "classes": np.asarray(model.classes_).tolist()}


def _vectorizer_entry(vec: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any] | None:
    if vec is None:
        return None
    if not isinstance(vec, WordTfidf):
        raise AnalysisError(
            f"cannot save a {type(vec).__name__} vectoriser",
            "heads hold word TF-IDF (nlp.linear.WordTfidf) only",
        )
    terms = [""] * len(vec.vocabulary)
    for term, j in vec.vocabulary.items():
        terms[j] = term
    arrays["vectorizer_terms"] = np.asarray(terms, dtype=np.str_)
    arrays["vectorizer_idf"] = np.asarray(vec.idf, dtype=np.float64)
    return {
        "kind": "word_tfidf",
        "ngram_range": list(vec.ngram_range),
        "token_pattern": vec.token_pattern,
        "lowercase": vec.lowercase,
        "sublinear_tf": vec.sublinear_tf,
        "norm": vec.norm,
    }


def content_digest(doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    """Hash of the head's content (JSON text and array bytes; the zip's timestamps aside)."""
    h = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:12]


def save_head_payload(payload: dict[str, Any], path: Path) -> tuple[Path, str]:
    """Write ``payload`` (the :class:`nlp.heads.Head` fields) as NAME.json + NAME.npz;
    returns the JSON path and the content digest."""
    json_path, npz_path = pair(path)
    arrays: dict[str, np.ndarray] = {}
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": payload["name"],
        "labels": list(payload["labels"]),
        "multilabel": bool(payload["multilabel"]),
        "thresholds": [float(t) for t in payload["thresholds"]],
        "lexical": bool(payload["lexical"]),
        "models": [_model_entry(i, plain(m), arrays) for i, m in enumerate(payload["models"])],
        "vectorizer": _vectorizer_entry(plain(payload.get("vectorizer")), arrays),
        "version": (payload.get("meta") or {}).get("version"),
        "meta": payload.get("meta") or {},
    }
    json_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(npz_path, **arrays)  # type: ignore[arg-type]
    json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return json_path, content_digest(doc, arrays)


def load_head_payload(path: Path) -> tuple[dict[str, Any], str]:
    """The Head fields and content digest from NAME.json + NAME.npz (never a pickle)."""
    if path.suffix in PICKLE_SUFFIXES:
        raise refuse_pickle(path)
    json_path, npz_path = pair(path)
    if not json_path.is_file() or not npz_path.is_file():
        legacy = next(
            (
                json_path.with_suffix(s)
                for s in PICKLE_SUFFIXES
                if json_path.with_suffix(s).is_file()
            ),
            None,
        )
        if legacy is not None:
            raise refuse_pickle(legacy)
        raise AnalysisError(
            f"model file {json_path} (with {npz_path.name}) is missing",
            "run `listening train topics|sentiment|intent|urgency` or set "
            "LISTENING_NLP__MODELS_DIR to the folder holding the shipped models",
        )
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        models: list[Any] = []
        for i, entry in enumerate(doc["models"]):
            if entry["kind"] == "constant":
                models.append(float(entry["value"]))
            else:
                models.append(
                    LinearProba(
                        np.asarray(entry["classes"]),
                        arrays[f"model{i}_coef"],
                        arrays[f"model{i}_intercept"],
                    )
                )
        vec = doc.get("vectorizer")
        vectorizer = (
            None
            if vec is None
            else WordTfidf(
                {str(t): j for j, t in enumerate(arrays["vectorizer_terms"].tolist())},
                arrays["vectorizer_idf"],
                (int(vec["ngram_range"][0]), int(vec["ngram_range"][1])),
                vec["token_pattern"],
                bool(vec["lowercase"]),
                bool(vec["sublinear_tf"]),
                vec["norm"],
            )
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise AnalysisError(
            f"cannot read model {json_path}: {exc}", "retrain it with `listening train`"
        ) from None
    payload = {
        "name": doc["name"],
        "labels": doc["labels"],
        "multilabel": doc["multilabel"],
        "thresholds": doc["thresholds"],
        "lexical": doc["lexical"],
        "meta": doc["meta"],
        "models": models,
        "vectorizer": vectorizer,
    }
    return payload, content_digest(doc, arrays)


def convert_folder(folder: Path, remove: bool = False) -> list[dict[str, Any]]:
    """Convert every pickled head (``*.joblib``/``*.pkl``) in ``folder`` to NAME.npz + NAME.json.

    This unpickles each file once: run it only on files you trust (your own ``listening
    train`` output or a release's shipped heads). ``remove`` deletes each pickle once its
    data-only pair is written and reads back.
    """
    if not folder.is_dir():
        raise AnalysisError(
            f"{folder} is not a folder", "pass the folder holding the *.joblib heads"
        )
    import joblib

    done: list[dict[str, Any]] = []
    for old in sorted(p for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES):
        try:
            payload = joblib.load(old)
        except Exception as exc:
            raise AnalysisError(
                f"cannot read {old}: {exc}", "retrain it with `listening train`"
            ) from None
        if not isinstance(payload, dict) or "labels" not in payload:
            raise AnalysisError(f"{old} is not a listening head", "move it out of the folder")
        fields = {
            k: payload.get(k)
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
        fields["thresholds"] = fields["thresholds"] or []
        json_path, digest = save_head_payload(fields, old)
        _, back = load_head_payload(json_path)
        if back != digest:
            raise AnalysisError(f"{json_path} does not read back as written", "check the disk")
        if remove:
            old.unlink()
        done.append(
            {
                "from": str(old),
                "to": str(json_path),
                "npz": str(pair(old)[1]),
                "digest": digest,
                "removed": remove,
            }
        )
    return done
