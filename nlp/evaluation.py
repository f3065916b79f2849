"""`listening eval` and `listening bench`: measured quality of the shipped models and of the
training method."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from listening.errors import AnalysisError
from listening.settings import Settings
from nlp import datasets
from nlp.heads import Head
from nlp.pipeline import SENTIMENTS, Analyzer, make_encoder
from nlp.taxonomy import NONE_KEY, Taxonomy
from nlp.training import Featurizer, train_topics

SEMEVAL_TO_JOURNEY = {  # ../shared/data/README.md
    "SERVICE#GENERAL": "customer_service",
    "FOOD#PRICES": "price", "DRINKS#PRICES": "price", "RESTAURANT#PRICES": "price",
    "FOOD#QUALITY": "product", "DRINKS#QUALITY": "product",
}


def cached_analyzer(settings: Settings) -> Analyzer:
    import nlp.encoder  # noqa: F401

    return Analyzer(settings, encoder=make_encoder(settings, cache=True))


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn}


def eval_topics(analyzer: Analyzer, rows: list[dict[str, Any]], mapping: dict[str, str] | None = None,
                only: list[str] | None = None) -> dict[str, Any]:
    """Per-topic P/R/F1, micro/macro F1, no-topic agreement, and per-topic sentiment accuracy."""
    if not rows:
        raise AnalysisError("the gold file has no line", 'write {"text": ..., "topics": [...]} lines')
    results = analyzer.analyze([r["text"] for r in rows], [r.get("lang") for r in rows])
    labels = only or analyzer.heads["topics"].labels
    counts = {lab: [0, 0, 0] for lab in labels}
    no_topic_gold = no_topic_ok = sent_ok = sent_n = doc_ok = doc_n = 0
    for row, res in zip(rows, results, strict=True):
        gold = datasets.topics_of(row)
        if mapping is not None:
            gold = {mapping[g]: s for g, s in gold.items() if g in mapping}
        pred = {t["topic"]: t["sentiment"] for t in res.topics}
        for lab in labels:
            g, p = lab in gold, lab in pred
            counts[lab][0] += g and p
            counts[lab][1] += p and not g
            counts[lab][2] += g and not p
            if g and p and gold[lab] in SENTIMENTS:
                sent_n += 1
                sent_ok += gold[lab] == pred[lab]
        if not gold:
            no_topic_gold += 1
            no_topic_ok += not any(lab in pred for lab in labels)
        if row.get("sentiment") in SENTIMENTS:
            doc_n += 1
            doc_ok += row["sentiment"] == res.sentiment
    per = {lab: _prf(*c) for lab, c in counts.items()}
    extra = {**_intent_urgency(rows, results), **_smalltalk(rows, results)}
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    out: dict[str, Any] = {
        "n": len(rows),
        "micro_f1": _prf(tp, fp, fn)["f1"],
        "macro_f1": round(float(np.mean([v["f1"] for v in per.values() if v["support"]] or [0])), 4),
        "no_topic_items": no_topic_gold,
        "no_topic_correct_share": round(no_topic_ok / no_topic_gold, 4) if no_topic_gold else None,
        "per_topic": per,
        **({"delivery_recall": per["delivery"]["recall"]} if "delivery" in per else {}),
        "topic_sentiment_accuracy": round(sent_ok / sent_n, 4) if sent_n else None,
        "document_sentiment_accuracy": round(doc_ok / doc_n, 4) if doc_n else None,
        **extra,
        "model_version": analyzer.model_version,
    }
    return out


def _smalltalk(rows: list[dict[str, Any]], results: list[Any]) -> dict[str, Any]:
    """On gold lines marked ``smalltalk``: the share given no topic and the share left
    not actionable (never a ticket); on lines with a topic, the share left actionable."""
    talk = [res for r, res in zip(rows, results, strict=True) if r.get("smalltalk") is True]
    topical = [res for r, res in zip(rows, results, strict=True) if datasets.topics_of(r)]
    out: dict[str, Any] = {}
    if talk:
        out["smalltalk_items"] = len(talk)
        out["smalltalk_no_topic_share"] = round(sum(not res.topics for res in talk) / len(talk), 4)
        out["smalltalk_not_actionable_share"] = round(sum(not res.actionable for res in talk) / len(talk), 4)
    if topical and talk:
        out["topical_actionable_share"] = round(sum(res.actionable for res in topical) / len(topical), 4)
    return out


def _intent_urgency(rows: list[dict[str, Any]], results: list[Any]) -> dict[str, Any]:
    """Intent accuracy / macro-F1 and urgency-flag F1 on the gold lines that carry them."""
    from sklearn.metrics import f1_score

    out: dict[str, Any] = {}
    pairs = [(r["intent"], res.intent) for r, res in zip(rows, results, strict=True) if r.get("intent")]
    if pairs:
        gold, pred = [g for g, _ in pairs], [p for _, p in pairs]
        out["intent_accuracy"] = round(sum(g == p for g, p in pairs) / len(pairs), 4)
        out["intent_macro_f1"] = round(float(f1_score(gold, pred, labels=sorted(set(gold)),
                                                      average="macro", zero_division=0)), 4)
    urgent = [(set(r["urgency"]), set(res.urgency)) for r, res in zip(rows, results, strict=True)
              if isinstance(r.get("urgency"), list)]
    if urgent:
        flags = sorted(set().union(*(g for g, _ in urgent)))
        counts = {f: [sum(f in g and f in p for g, p in urgent), sum(f in p and f not in g for g, p in urgent),
                      sum(f in g and f not in p for g, p in urgent)] for f in flags}
        tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
        out["urgency_micro_f1"] = _prf(tp, fp, fn)["f1"]
        out["urgency_per_flag"] = {f: _prf(*c) for f, c in counts.items()}
    return out


def binary_or_3(probs: np.ndarray, binary: bool) -> list[str]:
    """Labels from negative/neutral/positive probabilities; ``binary`` compares the two poles."""
    if binary:  # compare negative vs positive only
        return ["positive" if p[2] >= p[0] else "negative" for p in probs]
    return [SENTIMENTS[int(i)] for i in probs.argmax(axis=1)]


def sentiment_metrics(gold: list[str], pred: list[str], binary: bool) -> dict[str, Any]:
    labels = ["negative", "positive"] if binary else SENTIMENTS
    recall = {lab: round(sum(g == p == lab for g, p in zip(gold, pred, strict=True)) / gold.count(lab), 4)
              for lab in labels if lab in gold}
    return {"n": len(gold), "accuracy": round(float(accuracy_score(gold, pred)), 4),
            "macro_f1": round(float(f1_score(gold, pred, labels=labels, average="macro")), 4),
            "recall": recall, "binary": binary}


def eval_sentiment(analyzer: Analyzer, texts: list[str], gold: list[str], binary: bool) -> dict[str, Any]:
    items = analyzer.preparer.prepare(texts)
    docs, _ = analyzer.featurize(items)
    probs = analyzer.heads["sentiment"].proba(docs)
    out = sentiment_metrics(gold, binary_or_3(probs, binary), binary)
    out["model_version"] = analyzer.model_version
    return out


def load_sentiment(fmt: str, path: Path, split: str = "test") -> tuple[list[str], list[str], bool]:
    if fmt == "tsv":
        texts, labels = datasets.read_tsv(path)
        return texts, labels, True
    if fmt == "xlmt":
        texts, labels = datasets.read_xlmt(path, split)
        return texts, labels, False
    raise AnalysisError(f"unknown format {fmt!r}", "use --format tsv or --format xlmt")


def bench_features(feat: Featurizer, texts: list[str]) -> np.ndarray:
    """Bench representation: pooled clause vectors + whole-text vector (both e5)."""
    docs, _, items = feat.docs(texts)
    whole = feat.encoder.encode([it.clean_text or t for it, t in zip(items, texts, strict=True)])
    return np.hstack([docs, whole])


def bench_sentiment(settings: Settings, fmt: str, train: Path, test: Path) -> dict[str, Any]:
    """Train a sentiment head on TRAIN with the shipped method, report on TEST."""
    tr_texts, tr_labels, binary = load_sentiment(fmt, train, "train")
    te_texts, te_labels, _ = load_sentiment(fmt, test, "test")
    from scipy.sparse import csr_matrix, hstack

    from nlp.heads import word_vectorizer

    feat = Featurizer.from_settings(settings)
    words = word_vectorizer(tr_texts)  # fitted on TRAIN only
    x_tr = hstack([csr_matrix(bench_features(feat, tr_texts)), words.transform(tr_texts)]).tocsr()
    x_te = hstack([csr_matrix(bench_features(feat, te_texts)), words.transform(te_texts)]).tocsr()
    grid = GridSearchCV(LogisticRegression(max_iter=3000, class_weight="balanced"),
                        {"C": [0.5, 1, 2, 4, 8, 16]}, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                        scoring="f1_macro", n_jobs=1)
    grid.fit(x_tr, tr_labels)
    probs = grid.best_estimator_.predict_proba(x_te)
    classes = list(grid.best_estimator_.classes_)
    if binary:
        pred = [classes[int(i)] for i in probs.argmax(axis=1)]
    else:
        order = [classes.index(s) for s in SENTIMENTS]
        pred = binary_or_3(probs[:, order], False)
    out = sentiment_metrics(te_labels, pred, binary)
    out.update({"train_n": len(tr_texts), "C": grid.best_params_["C"],
                "method": "logistic regression on e5 (pooled clauses + whole text) + word TF-IDF"})
    return out


def semeval_taxonomy(sentences: list[datasets.AbsaSentence]) -> Taxonomy:
    counts: dict[str, int] = {}
    for s in sentences:
        for c in s.categories:
            counts[c] = counts.get(c, 0) + 1
    labels = sorted(c for c, n in counts.items() if n >= 2)
    examples: dict[str, list[tuple[str, str]]] = {lab: [] for lab in labels}
    for s in sentences:
        for c in s.categories & set(labels):
            examples[c].append((s.text, "und"))
    examples[NONE_KEY] = [(s.text, "und") for s in sentences if not s.categories]
    return Taxonomy("semeval16", labels, examples, {lab: {} for lab in labels}, {})


def _opinion_clause(clauses: list[Any], start: int, end: int) -> list[int]:
    hit = [i for i, c in enumerate(clauses) if c.start <= start < c.end or (start < c.end and end > c.start)]
    return hit


# Model selection for the SemEval bench, on 5-fold CV of the TRAIN file only.
SEMEVAL_TOPIC_C_GRID = [4.0, 8.0, 16.0]  # topic head: CV micro-F1 of the decision rule
POLARITY_C_GRID = [0.25, 0.5, 1.0, 2.0, 4.0]  # polarity: CV accuracy


@dataclass
class Polarity:
    """Opinion polarity: logistic regression on [target clause vector ; sentence vector ;
    category one-hot ; word 1-2-gram TF-IDF of the target clause]."""

    categories: list[str]
    vectorizer: Any
    model: LogisticRegression
    c: float
    cv_accuracy: dict[float, float]

    def predict(self, clause: np.ndarray, sentence: np.ndarray, cats: list[str], texts: list[str]) -> list[str]:
        x = polarity_features(clause, sentence, cats, texts, self.categories, self.vectorizer)
        return [str(p) for p in self.model.predict(x)]


def _text_vectorizer(texts: list[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2 if len(texts) >= 50 else 1,
                          max_features=20000, sublinear_tf=True)
    return vec.fit(texts)


def polarity_features(clause: np.ndarray, sentence: np.ndarray, cats: list[str], texts: list[str],
                      categories: list[str], vectorizer: Any) -> Any:
    from scipy.sparse import csr_matrix, hstack

    onehot = np.array([[1.0 if c == k else 0.0 for k in categories] for c in cats], dtype=np.float32)
    dense = np.hstack([clause, sentence, onehot.reshape(len(cats), len(categories))])
    return hstack([csr_matrix(dense), vectorizer.transform(texts)]).tocsr()


def train_polarity(clause: np.ndarray, sentence: np.ndarray, cats: list[str], texts: list[str],
                   y: list[str], c_grid: list[float] | None = None) -> Polarity:
    """Fit the polarity model; C is the grid value with the best 5-fold CV accuracy (the
    TF-IDF is refitted inside each fold)."""
    grid = c_grid or POLARITY_C_GRID
    categories = sorted(set(cats))
    k = min(5, min(y.count(label) for label in set(y)))
    cv = {c: 0.0 for c in grid}
    if k >= 2 and len(grid) > 1:
        for a, b in StratifiedKFold(k, shuffle=True, random_state=0).split(clause, y):
            vec = _text_vectorizer([texts[i] for i in a])
            xa = polarity_features(clause[a], sentence[a], [cats[i] for i in a], [texts[i] for i in a],
                                   categories, vec)
            xb = polarity_features(clause[b], sentence[b], [cats[i] for i in b], [texts[i] for i in b],
                                   categories, vec)
            for c in grid:
                model = LogisticRegression(C=c, max_iter=3000).fit(xa, [y[i] for i in a])
                cv[c] += float(np.mean(model.predict(xb) == np.array([y[i] for i in b]))) / k
    best = max(grid, key=lambda c: (round(cv[c], 6), -c))
    vec = _text_vectorizer(texts)
    model = LogisticRegression(C=best, max_iter=3000)
    model.fit(polarity_features(clause, sentence, cats, texts, categories, vec), y)
    return Polarity(categories, vec, model, best, {c: round(v, 4) for c, v in cv.items()})


def bench_semeval(settings: Settings, train: Path, test: Path) -> dict[str, Any]:
    """Category (slot 1) and polarity (slot 3) through the custom-taxonomy machinery."""
    tr, te = datasets.read_semeval(train), datasets.read_semeval(test)
    if not tr or not te:
        raise AnalysisError("no sentence with text in the SemEval files", "check the XML files")
    tax = semeval_taxonomy(tr)
    feat = Featurizer.from_settings(settings)
    with tempfile.TemporaryDirectory() as tmp:
        _path, topics, topic_metrics = train_topics(settings, out_dir=Path(tmp), featurizer=feat, tax=tax,
                                                    c_grid=SEMEVAL_TOPIC_C_GRID)
    # polarity of each opinion from the clause(s) holding its target (whole sentence for NULL)
    docs_tr, clause_vecs, items = feat.docs([s.text for s in tr])
    xs, ds, cats, texts, ys = [], [], [], [], []
    for s, item, cv, dv in zip(tr, items, clause_vecs, docs_tr, strict=True):
        for cat, pol, a, b in s.opinions:
            idx = _opinion_clause(item.clauses, a, b) if b > a else []
            xs.append(cv[idx].mean(axis=0) if idx else dv)
            ds.append(dv)
            cats.append(cat)
            texts.append(" ".join(item.clauses[i].text for i in idx) if idx else item.clean_text)
            ys.append(pol)
    polarity = train_polarity(np.stack(xs), np.stack(ds), cats, texts, ys)
    # the pipeline's per-topic sentiment (evidence clauses only) for the predicted topics
    clause_polarity = _polarity_head(np.stack(xs), ys)
    dummy = Head("intent", ["other"], False, [], meta={})
    analyzer = Analyzer(settings, encoder=feat.encoder,
                        heads={"topics": topics, "sentiment": _polarity_as_sentiment(clause_polarity),
                               "aspect_sentiment": _polarity_as_sentiment(clause_polarity),
                               "intent": dummy, "urgency": Head("urgency", [], True, [], [])})
    analyzer.settings = settings.model_copy(update={"nlp": settings.nlp.model_copy(update={"pattern_boost": 0.0})})
    items_te = analyzer.preparer.prepare([s.text for s in te])
    docs_te, clauses_te = analyzer.featurize(items_te)
    topic_doc = topics.proba(docs_te, [it.clean_text for it in items_te])
    tp = fp = fn = 0
    q_clause, q_doc, q_cat, q_text, q_gold = [], [], [], [], []
    for k, (s, item) in enumerate(zip(te, items_te, strict=True)):
        if item.empty:
            pred_topics: list[dict[str, Any]] = []
        else:
            tc = topics.proba(clauses_te[k], [c.text for c in item.clauses])
            sc = analyzer.heads["aspect_sentiment"].proba(clauses_te[k])
            pred_topics = analyzer._topics(item, topic_doc[k], tc, sc)
        pred = {t["topic"] for t in pred_topics}
        tp += len(pred & s.categories)
        fp += len(pred - s.categories)
        fn += len(s.categories - pred)
        for cat, pol, a, b in s.opinions:
            idx = _opinion_clause(item.clauses, a, b) if b > a else []
            if not idx:
                ev = next((t for t in pred_topics if t["topic"] == cat), None)
                idx = [i for i, c in enumerate(item.clauses)
                       if ev and any(e["start"] == c.start for e in ev["evidence"])]
            q_clause.append(clauses_te[k][idx].mean(axis=0) if idx else docs_te[k])
            q_doc.append(docs_te[k])
            q_cat.append(cat)
            q_text.append(" ".join(item.clauses[i].text for i in idx) if idx else item.clean_text)
            q_gold.append(pol)
    n = len(q_gold)
    guesses = polarity.predict(np.stack(q_clause), np.stack(q_doc), q_cat, q_text) if n else []
    ok = sum(g == p for g, p in zip(q_gold, guesses, strict=True))
    slot1 = _prf(tp, fp, fn)
    return {"slot1_f1": slot1["f1"], "slot1_precision": slot1["precision"], "slot1_recall": slot1["recall"],
            "slot3_acc": round(ok / n, 4) if n else None, "train_sentences": len(tr),
            "test_sentences": len(te), "categories": len(tax.labels), "opinions": n,
            "topic_C": topic_metrics["C"], "topic_cv_micro_f1_by_C": topic_metrics.get("cv_micro_f1_by_C"),
            "polarity_C": polarity.c, "polarity_cv_accuracy_by_C": {str(c): v for c, v in polarity.cv_accuracy.items()}}


def _polarity_head(x: np.ndarray, y: list[str], c: float = 2.0) -> Head:
    """Polarity classifier on the opinion clause vectors (the pipeline's per-topic sentiment)."""
    head = Head("sentiment", sorted(set(y)), False, [LogisticRegression(C=c, max_iter=3000).fit(x, y)])
    head.meta["C"] = c
    return head


def _polarity_as_sentiment(head: Head) -> Head:
    """The pipeline expects negative/neutral/positive columns; fill missing ones with 0."""
    class _Wrap(Head):
        def proba(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
            raw = head.proba(vectors, texts)
            out = np.zeros((len(vectors), 3), dtype=np.float32)
            for j, lab in enumerate(head.labels):
                if lab in SENTIMENTS:
                    out[:, SENTIMENTS.index(lab)] = raw[:, j]
            return out

    return _Wrap("sentiment", SENTIMENTS, False, head.models, digest=head.digest)
