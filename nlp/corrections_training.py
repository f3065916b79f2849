"""Users' corrections as training rows of the heads (`listening train ... --corrections`).

Corrections come from the store (``listening/corrections.py``, folded per verbatim: a later
value of a field wins) and/or a corrections JSONL file (the `listening label export` shape).
Each head gets the rows that say something about it, weighted ``nlp.correction_weight``:

- topics: the corrected topic set (rows whose topics were corrected);
- sentiment (document head): the corrected sentiment;
- intent: the corrected intent; a verbatim marked *not actionable* (or a ticket ignored in
  the Inbox) without a corrected intent becomes an ``other`` row, the intent that makes the
  pipeline's ``actionable`` rule false when the text has no urgency and no negative topic
  (nlp/pipeline.py ``actionable``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from listening.corrections import TaxonomyRef, read_corrections_file, training_rows
from listening.settings import Settings
from nlp.taxonomy import Taxonomy, load_taxonomy


def taxonomy_ref(tax: Taxonomy) -> TaxonomyRef:
    return TaxonomyRef(tax.name, tuple(tax.labels))


def active_taxonomy(settings: Settings) -> TaxonomyRef:
    """The taxonomy corrections are checked against (``nlp.taxonomy``, default journey)."""
    return taxonomy_ref(load_taxonomy(settings.nlp.taxonomy or None))


def stored_rows(settings: Settings) -> list[dict[str, Any]]:
    """Folded corrections of the configured store (none when the store is not initialised)."""
    from listening.errors import StoreError
    from listening.store import Store

    try:
        store = Store.from_settings(settings, read_only=True)
        store.check_schema()
    except StoreError:
        return []  # no store (yet): training needs none
    try:
        with store.session() as session:
            return training_rows(session)
    finally:
        store.dispose()


def correction_rows(
    settings: Settings,
    file: Path | None = None,
    use_store: bool = True,
    tax: Taxonomy | None = None,
) -> list[dict[str, Any]]:
    """Stored corrections and those of ``file``, one row per verbatim (the file wins on a
    verbatim corrected in both)."""
    rows = {r["text"]: r for r in (stored_rows(settings) if use_store else [])}
    if file is not None:
        ref = taxonomy_ref(tax or load_taxonomy(settings.nlp.taxonomy or None))
        for r in read_corrections_file(file, ref):
            rows[r["text"]] = {**rows.get(r["text"], {}), **r}
    return list(rows.values())


def topic_extra(
    rows: list[dict[str, Any]], taxonomy: str | None = None
) -> list[tuple[str, set[str]]]:
    """(text, topic set) rows; with ``taxonomy``, only topic corrections made against that
    taxonomy (or against none named: a file without the ``taxonomy`` key)."""
    return [
        (r["text"], set(r["topics"]))
        for r in rows
        if r.get("topics") is not None
        and (taxonomy is None or r.get("taxonomy") in (None, taxonomy))
    ]


def sentiment_extra(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"text": r["text"], "sentiment": r["sentiment"]} for r in rows if r.get("sentiment")]


def intent_extra(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        intent = r.get("intent") or ("other" if r.get("actionable") is False else None)
        if intent:
            out.append({"text": r["text"], "intent": intent})
    return out


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many correction rows each head gets."""
    return {
        "topics": len(topic_extra(rows)),
        "sentiment": len(sentiment_extra(rows)),
        "intent": len(intent_extra(rows)),
    }
