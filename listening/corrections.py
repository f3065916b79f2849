"""Corrections: users teach the models (`listening label`, the Explorer and Inbox pages).

A correction says what a verbatim really is about: topics added or removed (against the
active taxonomy), the right sentiment, the right intent, "not actionable" (no ticket
needed). Each one is stored with who and when, and a snapshot of the text, so it keeps
training the heads after the document is deleted (``document_id`` then becomes NULL).

``listening train`` folds the corrections of one verbatim in time order (a later value of a
field wins) and adds them as weighted rows (``nlp.correction_weight``); see
``nlp/corrections_training.py``. This module is store code only: it never imports the NLP
stage; the caller passes the taxonomy (name and labels) to validate topic names against.

Export/import is JSONL (one correction per line). An import checks every line first (JSON,
fields, topic names, labels, document existence) and writes all of them in one transaction,
or nothing: errors name the line and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listening.errors import CorrectionError
from listening.store.models import Analysis, Correction, Document, utcnow

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
INTENT_LABELS: tuple[str, ...] = ("complaint", "question", "praise", "suggestion", "other")
ORIGINS: tuple[str, ...] = ("cli", "dashboard", "inbox", "import")
FIELDS: tuple[str, ...] = (
    "id",
    "document_id",
    "text",
    "actor",
    "at",
    "origin",
    "taxonomy",
    "topics_added",
    "topics_removed",
    "topics",
    "sentiment",
    "intent",
    "actionable",
    "note",
)


@dataclass(frozen=True)
class TaxonomyRef:
    """The active taxonomy as the store code needs it: a name and its topic labels."""

    name: str
    labels: tuple[str, ...]


@dataclass
class CorrectionIn:
    """One correction before it is written (validated by :func:`validate`)."""

    actor: str
    document_id: int | None = None
    text: str | None = None
    topics_added: list[str] = field(default_factory=list)
    topics_removed: list[str] = field(default_factory=list)
    topics: list[str] | None = None  # the exact topic set (wins over added/removed)
    sentiment: str | None = None
    intent: str | None = None
    actionable: bool | None = None
    note: str | None = None
    origin: str = "cli"
    at: datetime | None = None


def parse_topic_changes(spec: str) -> tuple[list[str], list[str], list[str] | None]:
    """``"+delivery,-price"`` → (added, removed, None); ``"delivery,price"`` → ([], [], exact);
    ``""`` or ``"none"`` → the exact empty set (the verbatim has no topic)."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts or parts == ["none"]:
        return [], [], []
    signed = [p for p in parts if p[0] in "+-"]
    if signed and len(signed) != len(parts):
        raise CorrectionError(
            f"--topics {spec!r} mixes +/- changes and plain topic names",
            "write +a,-b to change the predicted topics, or a,b for the exact set",
        )
    if not signed:
        return [], [], parts
    added = [p[1:].strip() for p in parts if p[0] == "+"]
    removed = [p[1:].strip() for p in parts if p[0] == "-"]
    return added, removed, None


def _problems(item: CorrectionIn, tax: TaxonomyRef) -> list[tuple[str, str]]:
    """(field, what is wrong) for one correction, without looking at the store."""
    out: list[tuple[str, str]] = []
    if not (item.actor or "").strip():
        out.append(("actor", "is empty: say who corrects (e.g. --by alice)"))
    for name in ("topics_added", "topics_removed", "topics"):
        values = getattr(item, name)
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            out.append((name, "must be a list of topic names"))
            continue
        unknown = [v for v in values if v not in tax.labels]
        if unknown:
            out.append(
                (
                    name,
                    f"unknown topic {', '.join(map(repr, unknown))} (taxonomy {tax.name}: "
                    f"{', '.join(tax.labels)})",
                )
            )
    both = set(item.topics_added) & set(item.topics_removed)
    if both:
        out.append(("topics", f"{', '.join(sorted(both))} both added and removed"))
    if item.sentiment is not None and item.sentiment not in SENTIMENT_LABELS:
        out.append(("sentiment", f"{item.sentiment!r} is not one of {', '.join(SENTIMENT_LABELS)}"))
    if item.intent is not None and item.intent not in INTENT_LABELS:
        out.append(("intent", f"{item.intent!r} is not one of {', '.join(INTENT_LABELS)}"))
    if item.actionable is not None and not isinstance(item.actionable, bool):
        out.append(("actionable", "must be true, false or null"))
    if item.origin not in ORIGINS:
        out.append(("origin", f"{item.origin!r} is not one of {', '.join(ORIGINS)}"))
    changes = (
        item.topics_added
        or item.topics_removed
        or item.topics is not None
        or item.sentiment
        or item.intent
        or item.actionable is not None
    )
    if not changes:
        out.append(("topics", "nothing to correct: give topics, sentiment, intent or actionable"))
    if item.document_id is None and not (item.text or "").strip():
        out.append(
            ("document_id", "is null and there is no text: the correction needs one of them")
        )
    return out


def _latest_topics(session: Session, document_id: int) -> list[str]:
    analysis = session.scalar(
        select(Analysis)
        .where(Analysis.document_id == document_id, Analysis.error.is_(None))
        .order_by(Analysis.created_at.desc(), Analysis.id.desc())
        .limit(1)
    )
    return [str(t["topic"]) for t in (analysis.topics if analysis else []) if "topic" in t]


def _resolved_topics(session: Session, item: CorrectionIn) -> list[str] | None:
    if item.topics is not None:
        return sorted(set(item.topics))
    if not (item.topics_added or item.topics_removed):
        return None
    base = set(_latest_topics(session, item.document_id)) if item.document_id is not None else set()
    return sorted((base | set(item.topics_added)) - set(item.topics_removed))


def _row(session: Session, item: CorrectionIn, tax: TaxonomyRef, text: str) -> Correction:
    return Correction(
        document_id=item.document_id,
        text=text,
        actor=item.actor.strip()[:200],
        created_at=item.at or utcnow(),
        origin=item.origin,
        taxonomy=tax.name or None,
        topics_added=sorted(set(item.topics_added)),
        topics_removed=sorted(set(item.topics_removed)),
        topics=_resolved_topics(session, item),
        sentiment=item.sentiment,
        intent=item.intent,
        actionable=item.actionable,
        note=(item.note or "").strip() or None,
    )


def record_correction(session: Session, item: CorrectionIn, tax: TaxonomyRef) -> Correction:
    """Validate and add one correction in the caller's transaction."""
    problems = _problems(item, tax)
    if problems:
        name, what = problems[0]
        raise CorrectionError(f"correction: {name} {what}", "see `listening label --help`")
    text = item.text
    if item.document_id is not None:
        doc = session.get(Document, item.document_id)
        if doc is None:
            raise CorrectionError(
                f"no document #{item.document_id}",
                "the document may have been deleted; `listening export` lists ids",
            )
        text = doc.text
    row = _row(session, item, tax, str(text))
    session.add(row)
    session.flush()
    return row


def to_json(row: Correction) -> dict[str, Any]:
    """The export shape of one correction (one JSONL line)."""
    return {
        "id": row.id,
        "document_id": row.document_id,
        "text": row.text,
        "actor": row.actor,
        "at": row.created_at.isoformat(),
        "origin": row.origin,
        "taxonomy": row.taxonomy,
        "topics_added": list(row.topics_added or []),
        "topics_removed": list(row.topics_removed or []),
        "topics": None if row.topics is None else list(row.topics),
        "sentiment": row.sentiment,
        "intent": row.intent,
        "actionable": row.actionable,
        "note": row.note,
    }


def list_corrections(session: Session, document_id: int | None = None) -> list[Correction]:
    query = select(Correction).order_by(Correction.created_at, Correction.id)
    if document_id is not None:
        query = query.where(Correction.document_id == document_id)
    return list(session.scalars(query))


def export_jsonl(session: Session, path: Path) -> int:
    """Write every correction, oldest first, to ``path``; returns how many."""
    rows = list_corrections(session)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(to_json(row), ensure_ascii=False) + "\n")
    return len(rows)


def _parse_line(obj: Any, origin: str) -> tuple[CorrectionIn | None, list[tuple[str, str]]]:
    if not isinstance(obj, dict):
        return None, [("line", "is not a JSON object")]
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        return None, [(unknown[0], f"is not a correction field (fields: {', '.join(FIELDS)})")]
    problems: list[tuple[str, str]] = []
    doc_id = obj.get("document_id")
    if doc_id is not None and (isinstance(doc_id, bool) or not isinstance(doc_id, int)):
        problems.append(("document_id", "must be an integer or null"))
        doc_id = None
    at = None
    if obj.get("at") is not None:
        try:
            at = datetime.fromisoformat(str(obj["at"]).replace("Z", "+00:00"))
        except ValueError:
            problems.append(("at", f"{obj['at']!r} is not an ISO date-time"))
    for key in ("text", "actor", "note", "sentiment", "intent", "taxonomy", "origin"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            problems.append((key, "must be a string"))
    if problems:
        return None, problems
    item = CorrectionIn(
        actor=str(obj.get("actor") or ""),
        document_id=doc_id,
        text=obj.get("text"),
        topics_added=obj.get("topics_added") or [],
        topics_removed=obj.get("topics_removed") or [],
        topics=obj.get("topics"),
        sentiment=obj.get("sentiment"),
        intent=obj.get("intent"),
        actionable=obj.get("actionable"),
        note=obj.get("note"),
        origin=origin,
        at=at,
    )
    return item, []


def _key(
    doc_id: int | None,
    text: str,
    actor: str,
    at: datetime,
    topics: Any,
    sentiment: Any,
    intent: Any,
    actionable: Any,
) -> str:
    return json.dumps(
        [doc_id, text, actor, at.isoformat(), topics, sentiment, intent, actionable],
        sort_keys=True,
        ensure_ascii=False,
    )


def import_jsonl(session: Session, path: Path, tax: TaxonomyRef) -> dict[str, int]:
    """Check every line of ``path``, then add them all in the caller's transaction.

    Lines already stored (same document, text, actor, date and labels) are skipped, so
    importing the same file twice adds nothing. Raises :class:`CorrectionError` naming the
    line(s) and field(s) at fault, before anything is written."""
    if not path.is_file():
        raise CorrectionError(f"{path} not found", "give the path of a corrections JSONL file")
    items: list[tuple[int, CorrectionIn]] = []
    errors: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: not JSON ({exc.msg} at column {exc.colno})")
            continue
        item, problems = _parse_line(obj, "import")
        if item is not None:
            problems = _problems(item, tax)
        errors += [f"line {n}: {name} {what}" for name, what in problems]
        if item is not None and not problems:
            items.append((n, item))
    wanted = {i.document_id for _, i in items if i.document_id is not None}
    texts: dict[int, str] = (
        {
            int(i): str(t)
            for i, t in session.execute(
                select(Document.id, Document.text).where(Document.id.in_(wanted))
            )
        }
        if wanted
        else {}
    )
    for n, item in items:
        if item.document_id is not None and item.document_id not in texts:
            errors.append(
                f"line {n}: document_id {item.document_id} does not exist (deleted?); "
                "set it to null and keep the text to train on it anyway"
            )
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise CorrectionError(
            f"{path}: {'; '.join(errors[:5])}{more}",
            "nothing was imported; fix the line(s) and import the file again",
        )
    seen = {
        _key(
            r.document_id,
            r.text,
            r.actor,
            r.created_at,
            r.topics,
            r.sentiment,
            r.intent,
            r.actionable,
        )
        for r in list_corrections(session)
    }
    added = skipped = 0
    for _n, item in items:
        text = texts.get(item.document_id) if item.document_id is not None else item.text
        row = _row(session, item, tax, str(text))
        key = _key(
            row.document_id,
            row.text,
            row.actor,
            row.created_at,
            row.topics,
            row.sentiment,
            row.intent,
            row.actionable,
        )
        if key in seen:
            skipped += 1
            continue
        seen.add(key)
        session.add(row)
        added += 1
    session.flush()
    return {"imported": added, "already_present": skipped}


def fold(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One training row per verbatim from its corrections (export shape, oldest first): a later
    value of a field wins. Keys: ``text`` and those of ``topics`` (with its ``taxonomy`` when
    known), ``sentiment``, ``intent``, ``actionable`` that some correction set."""
    merged: dict[Any, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (str(r.get("at") or ""), r.get("id") or 0)):
        key = ("doc", r["document_id"]) if r.get("document_id") is not None else ("text", r["text"])
        out = merged.setdefault(key, {})
        out["text"] = r["text"]
        for name in ("topics", "sentiment", "intent", "actionable"):
            if r.get(name) is not None:
                out[name] = r[name]
        if r.get("topics") is not None and r.get("taxonomy"):
            out["taxonomy"] = r["taxonomy"]  # the topics are names of this taxonomy
    return list(merged.values())


def training_rows(session: Session) -> list[dict[str, Any]]:
    """The stored corrections folded per verbatim (see :func:`fold`)."""
    return fold(to_json(r) for r in list_corrections(session))


def read_corrections_file(path: Path, tax: TaxonomyRef) -> list[dict[str, Any]]:
    """A corrections JSONL (the export shape) checked like an import, without the store:
    every line needs its ``text``. Returns the folded training rows."""
    if not path.is_file():
        raise CorrectionError(f"{path} not found", "give the path of a corrections JSONL file")
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: not JSON ({exc.msg} at column {exc.colno})")
            continue
        item, problems = _parse_line(obj, "import")
        if item is not None:
            problems = _problems(item, tax)
            if not (item.text or "").strip():
                problems.append(
                    ("text", "is missing: a corrections file for training needs the text")
                )
            if item.topics is None and (item.topics_added or item.topics_removed):
                problems.append(("topics", "is missing: training needs the resolved topic set"))
        errors += [f"line {n}: {name} {what}" for name, what in problems]
        if item is not None and not problems:
            rows.append({**obj, "id": n})
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise CorrectionError(f"{path}: {'; '.join(errors[:5])}{more}", "fix the line(s) and retry")
    return fold(rows)


def review_priority(sentiment: str, sentiment_score: float, topics: list[Any]) -> float:
    """How unsure the stored analysis is, 0 (sure) to 1 (a coin toss), from what ``analyses``
    keeps: the lowest confidence of a reported topic (a topic only just above its threshold)
    and, for a polar sentiment, how close P(positive) - P(negative) is to 0."""
    margins = [float(t.get("confidence", 1.0)) for t in topics if isinstance(t, dict)]
    topic_margin = min(margins) if margins else 1.0
    sentiment_margin = abs(sentiment_score) if sentiment != "neutral" else 1.0
    return round(1.0 - min(topic_margin, sentiment_margin), 4)


def review_queue(
    session: Session,
    limit: int = 20,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Verbatims to review (active learning): recent analysed documents without a correction,
    the most uncertain first (:func:`review_priority`), then the most recent."""
    corrected = select(Correction.document_id).where(Correction.document_id.is_not(None))
    query = (
        select(Analysis, Document)
        .join(Document, Document.id == Analysis.document_id)
        .where(Analysis.error.is_(None), Document.id.not_in(corrected))
        .order_by(Analysis.created_at.desc(), Analysis.id.desc())
    )
    if since is not None:
        query = query.where(Document.collected_at >= since)
    latest: dict[int, dict[str, Any]] = {}
    for analysis, doc in session.execute(query.limit(max(limit * 20, 500))):
        if doc.id in latest:
            continue
        latest[doc.id] = {
            "document_id": doc.id,
            "text": doc.text,
            "published_at": doc.published_at,
            "sentiment": analysis.sentiment,
            "sentiment_score": analysis.sentiment_score,
            "topics": [str(t.get("topic")) for t in analysis.topics or []],
            "intent": analysis.intent,
            "actionable": analysis.actionable,
            "priority": review_priority(
                analysis.sentiment, analysis.sentiment_score, analysis.topics or []
            ),
            "recency": doc.published_at or doc.collected_at,
        }
    rows = sorted(latest.values(), key=lambda r: (-r["priority"], -r["recency"].timestamp()))
    for r in rows:
        r.pop("recency")
    return rows[:limit]
