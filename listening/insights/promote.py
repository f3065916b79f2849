"""Promote an emerging theme into a new taxonomy topic, in one action.

The theme's verbatims (closest to its centroid first) become the seed examples of a new
topic appended to the active taxonomy: the file named by ``nlp.taxonomy`` is extended in
place; with the shipped journey taxonomy (``nlp.taxonomy`` empty) a copy extended with
the new topic is written to ``<data_dir>/taxonomy.yaml`` (an earlier copy there is
extended), to be made active with ``LISTENING_NLP__TAXONOMY``. ``listening train topics``
then retrains the topic head with it. The file is written whole or not at all (a checked
temporary file renamed over it); YAML comments of the extended file are not kept.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from listening.errors import InsightsError
from listening.insights.models import Theme, ThemeMember
from listening.settings import Settings
from listening.store import Store
from listening.store.models import Document
from listening.taxonomy import DEFAULT_TAXONOMY

TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
MAX_EXAMPLES = 30
MAX_CHARS = 500


def promoted_taxonomy_path(settings: Settings) -> Path:
    """Where a promotion writes: the active custom taxonomy, else <data_dir>/taxonomy.yaml."""
    return (
        Path(settings.nlp.taxonomy)
        if settings.nlp.taxonomy
        else Path(settings.data_dir) / "taxonomy.yaml"
    )


def promote_theme(
    store: Store,
    settings: Settings,
    theme_id: int,
    topic: str,
    label: str,
    max_examples: int = MAX_EXAMPLES,
) -> dict[str, Any]:
    """Add ``topic`` (with ``label``) to the taxonomy, seeded with the theme's verbatims."""
    if not TOPIC_ID.match(topic or ""):
        raise InsightsError(
            f"invalid topic id {topic!r}",
            "use lower-case letters, digits and underscores, starting with a letter "
            "(e.g. carrier_xyz)",
        )
    if not (label or "").strip():
        raise InsightsError("the new topic needs a label", 'give --label "Transporteur XYZ"')
    target = promoted_taxonomy_path(settings)
    source = target if target.is_file() else DEFAULT_TAXONOMY
    if settings.nlp.taxonomy and not target.is_file():
        raise InsightsError(
            f"taxonomy file {target} not found",
            "fix LISTENING_NLP__TAXONOMY or empty it to extend the shipped taxonomy",
        )
    with store.session() as session:
        theme = session.get(Theme, theme_id)
        if theme is None:
            raise InsightsError(
                f"no theme with id {theme_id}",
                "run `listening themes` and take an id from its list",
            )
        if theme.promoted_topic:
            raise InsightsError(
                f"theme {theme_id} was already promoted to topic {theme.promoted_topic!r}",
                "run `listening train topics` to retrain with it",
            )
        rows = session.execute(
            select(Document.text, Document.language)
            .join(ThemeMember, ThemeMember.document_id == Document.id)
            .where(ThemeMember.theme_id == theme_id, ThemeMember.previous.is_(False))
            .order_by(ThemeMember.distance, Document.id)
        ).all()
        examples: dict[str, list[str]] = defaultdict(list)
        seen: set[str] = set()
        for text, lang in rows:
            clean = " ".join(str(text).split())[:MAX_CHARS]
            if clean and clean not in seen and len(seen) < max_examples:
                seen.add(clean)
                examples["en" if lang == "en" else "fr"].append(clean)
        if len(seen) < 2:
            raise InsightsError(
                f"theme {theme_id} has fewer than 2 distinct verbatims", "promote a larger theme"
            )
        try:
            data = yaml.safe_load(source.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InsightsError(
                f"cannot read taxonomy {source}: {exc}", "fix the taxonomy file"
            ) from None
        topics = data.get("topics") if isinstance(data, dict) else None
        if not isinstance(topics, dict):
            raise InsightsError(f"taxonomy {source} has no 'topics' map", "fix the taxonomy file")
        if topic in topics:
            raise InsightsError(
                f"topic {topic!r} is already in the taxonomy {source}",
                f"choose another id; existing: {', '.join(map(str, topics))}",
            )
        topics[topic] = {
            "label": {"fr": label.strip(), "en": label.strip()},
            "description": {"fr": label.strip(), "en": label.strip()},
            "examples": dict(examples),
            "promoted_from": {
                "theme_id": theme.id,
                "theme_key": theme.key,
                "terms": [t for t, _ in theme.terms],
            },
        }
        if source == DEFAULT_TAXONOMY:
            data["name"] = f"{data.get('name') or 'journey'}_custom"
        _write_checked(target, data)
        theme.promoted_topic = topic
        active = bool(settings.nlp.taxonomy)
    return {
        "theme_id": theme_id,
        "topic": topic,
        "label": label.strip(),
        "taxonomy": str(target),
        "examples": len(seen),
        "active": active,
        "next": (
            "listening train topics"
            if active
            else f"set LISTENING_NLP__TAXONOMY={target} then run listening train topics"
        ),
    }


def _write_checked(target: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``target`` through a checked temporary file (all or nothing)."""
    from nlp.taxonomy import load_taxonomy

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8"
    )
    try:
        load_taxonomy(tmp)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise InsightsError(
            f"the extended taxonomy would not load: {exc}", "nothing was written"
        ) from None
    os.replace(tmp, target)
