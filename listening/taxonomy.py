"""The active topic taxonomy as the stages below the NLP package see it: ids and labels.

``settings.nlp.taxonomy`` names the taxonomy YAML (empty: the shipped journey taxonomy,
``nlp/taxonomies/journey.yaml``); the NLP stage trains and analyses with it
(:mod:`nlp.taxonomy` reads its examples and patterns). Routing validates rule topics
against these ids and the dashboard builds its topic filters and labels from them, so a
custom taxonomy works end to end. Only the ``topics`` map is read here: ids, and
``description`` / ``label`` per UI language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from listening.errors import ConfigError

# the NLP package's data file, installed next to this package (never imported from here)
DEFAULT_TAXONOMY = Path(__file__).resolve().parent.parent / "nlp" / "taxonomies" / "journey.yaml"
HINT = "see nlp/taxonomies/journey.yaml for the format, or empty LISTENING_NLP__TAXONOMY"


@dataclass(frozen=True)
class TopicSet:
    """Topic ids in file order and their label per language (``labels[lang][id]``)."""

    name: str
    ids: tuple[str, ...]
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def label(self, topic: str, lang: str) -> str:
        """The topic's short label in ``lang`` (else English, else its id)."""
        for code in (lang, "en"):
            found = self.labels.get(code, {}).get(topic)
            if found:
                return found
        return topic


def _short(text: str) -> str:
    """First clause of a description: 'Livraison, expédition, ...' -> 'Livraison'."""
    return text.split(",")[0].split(".")[0].strip() or text


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> TopicSet:
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"taxonomy file {file} not found", HINT) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"taxonomy file {file} is not valid YAML ({exc})", HINT) from None
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict) or not topics:
        raise ConfigError(f"taxonomy file {file} has no 'topics' map", HINT)
    labels: dict[str, dict[str, str]] = {}
    for topic, spec in topics.items():
        spec = spec if isinstance(spec, dict) else {}
        given = spec.get("label") or spec.get("description") or {}
        if isinstance(given, str):
            given = {"en": given}
        for lang, text in given.items() if isinstance(given, dict) else []:
            if isinstance(text, str) and text.strip():
                short = text.strip() if "label" in spec else _short(text)
                labels.setdefault(str(lang), {})[str(topic)] = short
    return TopicSet(
        name=str(data.get("name") or file.stem), ids=tuple(str(t) for t in topics), labels=labels
    )


def load_topics(path: str | Path | None = None) -> TopicSet:
    """The topics of the taxonomy at ``path`` (empty: the shipped journey taxonomy)."""
    file = Path(path) if path else DEFAULT_TAXONOMY
    try:
        mtime = file.stat().st_mtime
    except OSError:
        raise ConfigError(f"taxonomy file {file} not found", HINT) from None
    return _load(str(file.resolve()), mtime)
