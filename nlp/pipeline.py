"""The analysis pipeline: normalise → language → clauses → topics with evidence →
per-topic sentiment → document sentiment → intent → urgency → actionable.

``Analyzer.analyze(texts)`` takes a batch and returns one :class:`AnalysisResult` per
text; an item that cannot be analysed gets ``error`` set (and neutral defaults) instead
of failing the batch. ``Analyzer.analyze_stream(batches)`` does the same for a stream of
batches and prepares the next batch (spaCy, Matcher, language) in a thread while the encoder
runs on the current one, which is how ``listening analyze`` and the workers call it.
``model_version`` is derived from the component names and the hashes of the artifacts in
use, so a retrained head re-analyses the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from listening.errors import AnalysisError
from listening.settings import Settings
from nlp import registry
from nlp.confidence import ConfidenceMaps, calibration_path
from nlp.encoder import Encoder
from nlp.heads import Head
from nlp.prepare import Prepared, Preparer
from nlp.smalltalk import is_smalltalk
from nlp.taxonomy import load_taxonomy
from nlp.text import limit_blas_threads

PIPELINE_NAME = "listening.pipeline.v1"
SHIPPED_MODELS = Path(__file__).resolve().parent / "models"  # package data: in every install
HEAD_NAMES = ("sentiment", "aspect_sentiment", "topics", "intent", "urgency")
SENTIMENTS = ["negative", "neutral", "positive"]
INTENTS = ["complaint", "question", "praise", "suggestion", "other"]
T = TypeVar("T")
URGENCY_HEAD_MIN = 0.8  # the urgency head alone must be confident; patterns decide otherwise
TRANSFORMERS_ENCODER = "listening.encoder.transformers.v1"


@dataclass
class AnalysisResult:
    language: str = "und"
    sentiment: str = "neutral"
    sentiment_score: float = 0.0
    sentiment_confidence: float = 0.0
    topics: list[dict[str, Any]] = field(default_factory=list)
    intent: str = "other"
    urgency: list[str] = field(default_factory=list)
    actionable: bool = False
    smalltalk: bool = False
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``listening analyze-text --json`` shape."""
        out: dict[str, Any] = {
            "language": self.language,
            "sentiment": {
                "label": self.sentiment,
                "score": round(self.sentiment_score, 4),
                "confidence": self.sentiment_confidence,
            },
            "topics": self.topics,
            "intent": self.intent,
            "urgency": self.urgency,
            "actionable": self.actionable,
            "smalltalk": self.smalltalk,
        }
        if self.error:
            out["error"] = self.error
        return out


def models_dir(settings: Settings) -> Path:
    return Path(settings.nlp.models_dir or Path(settings.data_dir) / "models")


def head_path(settings: Settings, name: str) -> Path:
    """The user's retrained head (``NAME.json`` + ``NAME.npz``) when present, else the shipped
    one. A user's old pickled head (``NAME.joblib``) is returned as is, so that loading it
    refuses with the conversion command instead of silently using the shipped head."""
    folder = models_dir(settings)
    user = folder / f"{name}.json"
    if user.is_file():
        return user
    legacy = folder / f"{name}.joblib"
    return legacy if legacy.is_file() else SHIPPED_MODELS / f"{name}.json"


def make_encoder(settings: Settings, cache: bool = False, **options: Any) -> Encoder:
    """The configured encoder component (``options`` go to its constructor)."""
    kwargs: dict[str, Any] = dict(options)
    if cache and settings.nlp.embedding_cache:
        safe = settings.nlp.encoder.replace("/", "_")
        kwargs["cache_path"] = str(Path(settings.data_dir) / "cache" / f"{safe}.sqlite")
    encoder: Encoder = registry.create("encoder", settings.nlp.encoder, settings=settings, **kwargs)
    return encoder


def pool(vectors: np.ndarray, weights: list[int]) -> np.ndarray:
    """Length-weighted mean of clause vectors, L2-normalised."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1], dtype=np.float32)
    v = (vectors * np.asarray(weights, dtype=np.float32)[:, None]).sum(axis=0)
    n = float(np.linalg.norm(v))
    return (v / n if n else v).astype(np.float32)


class Analyzer:
    """Holds the encoder, the heads and the taxonomy patterns; analyses batches."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None,
                 heads: dict[str, Head] | None = None,
                 confidence: ConfidenceMaps | None = None) -> None:
        import nlp.encoder  # noqa: F401  (registers the encoders)

        self.settings = settings
        if settings.nlp.threads > 0:  # 0: every core, numpy's BLAS default
            limit_blas_threads(settings.nlp.threads)
        self.heads = heads or {}
        for name in HEAD_NAMES:
            if name not in self.heads:
                self.heads[name] = Head.load(head_path(settings, name))
        if confidence is None:
            path = calibration_path(models_dir(settings), SHIPPED_MODELS)
            confidence = ConfidenceMaps.load(path) if path else ConfidenceMaps()
        self.confidence = confidence
        topics = self.heads["topics"]
        taxonomy_patterns = topics.meta.get("patterns")
        urgency_patterns = topics.meta.get("urgency_patterns")
        if taxonomy_patterns is None:
            tax = load_taxonomy(settings.nlp.taxonomy or None)
            taxonomy_patterns, urgency_patterns = tax.patterns, tax.urgency_patterns
        self.preparer = Preparer(settings.nlp.languages, taxonomy_patterns or {},
                                 urgency_patterns or {}, settings.nlp.max_clauses)
        # spaCy, the Matchers and the language detector load in a thread while the encoder loads
        # (mostly file reads: a cold start ~0.5 s shorter). Not beside the torch runtime, which
        # would import torch while spaCy's import hides it (nlp.text.import_spacy).
        torch_encoder = encoder is None and settings.nlp.encoder == TRANSFORMERS_ENCODER
        if torch_encoder:
            self.encoder = make_encoder(settings)
        warm = ThreadPoolExecutor(1, thread_name_prefix="listening-warm")
        self._warming: Future[None] | None = warm.submit(self.preparer.warm)
        warm.shutdown(wait=False)
        if not torch_encoder:
            try:
                self.encoder = encoder or make_encoder(settings)
            except BaseException:
                self.ready()
                raise
        parts = [PIPELINE_NAME, self.encoder.fingerprint(),
                 *(f"{n}:{self.heads[n].digest}" for n in HEAD_NAMES),
                 f"confidence:{self.confidence.digest}",
                 f"boost:{settings.nlp.pattern_boost}", f"thr:{settings.nlp.topic_threshold}",
                 f"langs:{','.join(settings.nlp.languages)}"]
        digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]
        self.model_version = f"nlp1-{digest}"
        self.components = parts

    # -- features shared by inference, training and evaluation ---------------------
    def featurize(self, items: list[Prepared]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Document vectors (pooled clauses) and per-item clause vectors."""
        return featurize(self.encoder, items)

    def ready(self) -> None:
        """Wait until the text preparation's models are loaded (started by ``__init__``); a
        failure there is raised here."""
        if self._warming is not None:
            warming, self._warming = self._warming, None
            warming.result()

    def analyze(self, texts: list[Any], hints: list[str | None] | None = None) -> list[AnalysisResult]:
        self.ready()
        return self.analyze_prepared(self.preparer.prepare(texts, hints))

    def analyze_stream(
        self, batches: Iterable[tuple[list[Any], list[str | None] | None, T]]
    ) -> Iterator[tuple[T, list[AnalysisResult]]]:
        """``(texts, hints, tag)`` batches in, ``(tag, results)`` out, in order.

        While the encoder works on one batch, a thread prepares the next one (spaCy,
        Matcher, language): the encoder's runtime leaves the GIL and, with its idle threads
        sleeping rather than spinning, the core. The next batch is taken from ``batches``
        before the current results are yielded; when taking it fails, the current results
        are still yielded before the error is raised. Results are those of :meth:`analyze`."""
        self.ready()
        source = iter(batches)
        with ThreadPoolExecutor(1, thread_name_prefix="listening-prepare") as pool:

            def submit() -> tuple[T, Future[list[Prepared]]] | None:
                try:
                    texts, hints, tag = next(source)
                except StopIteration:
                    return None
                return tag, pool.submit(self.preparer.prepare, texts, hints)

            pending = submit()
            while pending is not None:
                tag, future = pending
                items = future.result()
                failed: Exception | None = None
                try:
                    pending = submit()
                except Exception as exc:  # the source failed: hand out this batch, then raise
                    pending, failed = None, exc
                yield tag, self.analyze_prepared(items)
                if failed is not None:
                    raise failed

    def analyze_prepared(self, items: list[Prepared]) -> list[AnalysisResult]:
        results = [AnalysisResult(language=item.language, error=item.error) for item in items]
        live = [i for i, item in enumerate(items) if item.error is None and not item.empty]
        if not live:
            return results
        try:
            docs, clause_vecs = self.featurize([items[i] for i in live])
        except Exception:  # isolate the failing item(s)
            docs_list, clause_list, ok = [], [], []
            for i in live:
                try:
                    d, c = self.featurize([items[i]])
                    docs_list.append(d[0])
                    clause_list.append(c[0])
                    ok.append(i)
                except Exception as exc:
                    results[i].error = f"encoding failed: {exc}"
            if not ok:
                return results
            live, docs, clause_vecs = ok, np.stack(docs_list), clause_list
        self._decide(items, results, live, docs, clause_vecs)
        return results

    def _decide(self, items: list[Prepared], results: list[AnalysisResult], live: list[int],
                docs: np.ndarray, clause_vecs: list[np.ndarray]) -> None:
        heads = self.heads
        texts = [items[i].clean_text for i in live]
        sent = heads["sentiment"].proba(docs)
        intent = heads["intent"].proba(docs, texts)
        urgency = heads["urgency"].proba(docs)
        topic_doc = heads["topics"].proba(docs, texts)
        all_clauses = np.concatenate(clause_vecs)
        clause_texts = [c.text for i in live for c in items[i].clauses]
        topic_clause = heads["topics"].proba(all_clauses, clause_texts)
        sent_clause = heads["aspect_sentiment"].proba(all_clauses)
        offset = 0
        for k, i in enumerate(live):
            item, res = items[i], results[i]
            n = len(item.clauses)
            tc = topic_clause[offset : offset + n]
            sc = sent_clause[offset : offset + n]
            offset += n
            res.topics = self._topics(item, topic_doc[k], tc, sc)
            res.sentiment, res.sentiment_score = _sentiment(heads["sentiment"], sent[k])
            res.sentiment_confidence = self.confidence.apply("sentiment", float(sent[k].max()))
            res.intent = heads["intent"].labels[int(np.argmax(intent[k]))]
            flags = set(item.urgency_hits)
            for j, flag in enumerate(heads["urgency"].labels):
                if urgency[k, j] >= max(URGENCY_HEAD_MIN, heads["urgency"].thresholds[j]):
                    flags.add(flag)
            res.urgency = [f for f in heads["urgency"].labels if f in flags] + sorted(
                flags - set(heads["urgency"].labels))
            res.intent = complaint_override(res)
            res.actionable = actionable(res)
            if is_smalltalk(item.clean_text):  # "ok merci": no topic, never a ticket
                res.smalltalk, res.topics, res.urgency = True, [], []
                res.intent, res.actionable = "other", False

    def _topics(self, item: Prepared, doc_p: np.ndarray, clause_p: np.ndarray,
                clause_sent: np.ndarray) -> list[dict[str, Any]]:
        head = self.heads["topics"]
        boost = self.settings.nlp.pattern_boost
        global_thr = self.settings.nlp.topic_threshold
        out: list[dict[str, Any]] = []
        boosted = boosted_clause_scores(clause_p, item.topic_hits, head.labels, boost)
        for j, label in enumerate(head.labels):
            thr = global_thr or head.thresholds[j]
            scores = boosted[:, j]
            best = float(max(scores.max(), doc_p[j]))
            if best < thr:
                continue
            evidence_idx = [c for c in range(len(scores)) if scores[c] >= thr]
            if not evidence_idx:
                evidence_idx = [int(np.argmax(scores))]
            probs = clause_sent[evidence_idx].mean(axis=0)
            polarity, _ = _sentiment(self.heads["aspect_sentiment"], probs)
            # the model's own score (no pattern boost) and whether a pattern also found it
            model_score = float(max(clause_p[:, j].max(), doc_p[j]))
            pattern = any(label in hit for hit in item.topic_hits.values())
            out.append({
                "topic": label,
                "sentiment": polarity,
                "confidence": self.confidence.topic(model_score, thr, pattern),
                "sentiment_confidence": self.confidence.apply("aspect", float(probs.max())),
                "score": round(best, 4),
                "pattern": pattern,
                "evidence": [
                    {"start": item.clauses[c].start, "end": item.clauses[c].end,
                     "text": item.text[item.clauses[c].start : item.clauses[c].end]}
                    for c in evidence_idx
                ],
            })
        out.sort(key=lambda t: -float(t["score"]))
        return out


def boosted_clause_scores(clause_p: np.ndarray, topic_hits: dict[int, set[str]], labels: list[str],
                          boost: float) -> np.ndarray:
    """Clause topic probabilities plus ``boost`` (capped at 1) where a taxonomy pattern of that
    topic fired in the clause: the clause half of the topic decision rule."""
    scores = clause_p.copy()
    for c, hit in topic_hits.items():
        for j, label in enumerate(labels):
            if label in hit:
                scores[c, j] = min(1.0, scores[c, j] + boost)
    return scores


def featurize(encoder: Encoder, items: list[Prepared]) -> tuple[np.ndarray, list[np.ndarray]]:
    texts = [c.text for item in items for c in item.clauses]
    vecs = encoder.encode(texts) if texts else np.zeros((0, encoder.dim), np.float32)
    docs, per_item, offset = [], [], 0
    for item in items:
        n = len(item.clauses)
        v = vecs[offset : offset + n]
        offset += n
        per_item.append(v)
        docs.append(pool(v, [max(1, c.end - c.start) for c in item.clauses]) if n
                    else np.zeros(encoder.dim, np.float32))
    return np.stack(docs) if docs else np.zeros((0, encoder.dim), np.float32), per_item


def _sentiment(head: Head, probs: np.ndarray) -> tuple[str, float]:
    """Label and a signed score in [-1, 1] (P(positive) - P(negative))."""
    label = head.labels[int(np.argmax(probs))]
    p = dict(zip(head.labels, probs.tolist(), strict=True))
    return label, float(p.get("positive", 0.0) - p.get("negative", 0.0))


COMPLAINT_URGENCY = frozenset({"legal_threat", "churn"})


def complaint_override(res: AnalysisResult) -> str:
    """Intent after two documented rules on top of the intent head.

    A legal or churn threat with no praise is a complaint; so is a negative document
    that the head left as 'other' or 'praise' while at least one topic is negative ("livraison
    rapide mais SAV injoignable"). Questions and suggestions are never overridden."""
    if res.intent not in ("other", "praise"):
        return res.intent
    if res.intent == "other" and COMPLAINT_URGENCY & set(res.urgency):
        return "complaint"
    if res.intent == "praise" and COMPLAINT_URGENCY & set(res.urgency) and \
            not any(t["sentiment"] == "positive" for t in res.topics):
        return "complaint"
    if res.sentiment == "negative" and any(t["sentiment"] == "negative" for t in res.topics):
        return "complaint"  # 'other', or 'praise' contradicted by a negative document and topic
    return res.intent


def actionable(res: AnalysisResult) -> bool:
    """Needs a response: any urgency, a complaint or a question (not praise/thanks)."""
    if res.urgency:
        return True
    if res.intent in ("complaint", "question"):
        return True
    return res.sentiment == "negative" and any(t["sentiment"] == "negative" for t in res.topics)


def check_heads(settings: Settings) -> None:
    missing = [n for n in HEAD_NAMES if not head_path(settings, n).is_file()]
    if missing:
        raise AnalysisError(f"model file(s) missing: {', '.join(missing)}",
                            "run `listening train all` or reinstall listening (its heads ship in nlp/models/)")
