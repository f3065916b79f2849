"""Relevance before routing: may this verbatim open a ticket at all?

A rule decides *which* team gets a ticket; this module decides whether a ticket may be
opened. A verbatim passes three gates (docs/ROUTING.md, "Relevance"):

- ``off_topic``: it must concern the merchant: it comes from one of the merchant's own
  channels (``routing.own_source_kinds``: survey, email, a review page of the brand), or
  it names the brand (name or alias), or one of ``routing.relevance_keywords`` (product
  names, shop domain) in its text, title or thread title;
- ``other_language``: it is written in one of ``routing.ticket_languages`` (a text too
  short to tell passes);
- ``too_old``: it was published at most ``routing.ticket_max_age_days`` ago (a verbatim
  with no publication date is judged on its collection date).

A verbatim that fails a gate is still analysed and charted; routing records the gate as
the decision's outcome (``routing_decisions.outcome``) instead of opening a ticket. A
rule may let a gate through with ``allow: [off_topic, other_language, too_old]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from listening.config.routing import RoutingSettings
from listening.routing.rules import fold

GATES: tuple[str, ...] = ("off_topic", "other_language", "too_old")
# languages the detector also considers, so that a German post is recognised as German
# instead of being forced into the closest ticketing language
DETECTED_LANGUAGES: tuple[str, ...] = ("fr", "en", "de", "es", "it", "nl", "pt")
MIN_LETTERS = 20


@dataclass(frozen=True)
class Gate:
    """One failed gate: its name and why, in words."""

    name: str
    reason: str


def mentions(haystacks: list[str | None], terms: list[str]) -> str | None:
    """The first of ``terms`` found as a whole word (case and accents ignored), or None."""
    folded = fold("\n".join(h for h in haystacks if h))
    for term in terms:
        t = fold(term).strip()
        if t and re.search(rf"(?<!\w){re.escape(t)}(?!\w)", folded):
            return term
    return None


@lru_cache(maxsize=4)
def _detector(languages: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def text_language(text: str, ticket_languages: list[str]) -> str | None:
    """ISO 639-1 code of ``text`` among the ticketing and common European languages."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    candidates = tuple(sorted({*DETECTED_LANGUAGES, *(c.lower() for c in ticket_languages)}))
    try:
        found = _detector(candidates).detect_language_of(text[:2000])
    except AttributeError:  # a code lingua does not know: judge on the analysis only
        return None
    return None if found is None else str(found.iso_code_639_1.name).lower()


def check(
    cfg: RoutingSettings,
    *,
    text: str,
    title: str | None,
    thread_title: str | None,
    source_kind: str | None,
    brand_terms: list[str],
    language: str | None,
    published_at: datetime | None,
    collected_at: datetime | None,
    now: datetime,
) -> list[Gate]:
    """The gates this verbatim fails (empty: it may open a ticket)."""
    gates: list[Gate] = []
    if source_kind not in cfg.own_source_kinds:
        found = mentions([title, thread_title, text], [*brand_terms, *cfg.relevance_keywords])
        if found is None:
            gates.append(
                Gate(
                    "off_topic",
                    f"a {source_kind or 'unknown'} verbatim that names neither the brand "
                    f"({', '.join(brand_terms) or 'no brand'}) nor a relevance keyword",
                )
            )
    wanted = [code.lower() for code in cfg.ticket_languages]
    if wanted:
        detected = text_language(f"{title or ''}\n{text}", wanted)
        said = (language or "").lower()
        lang = detected or (said if said not in ("", "und") else None)
        if lang is not None and lang not in wanted:
            gates.append(
                Gate("other_language", f"written in {lang!r}; tickets are for {', '.join(wanted)}")
            )
    when = published_at or collected_at
    if cfg.ticket_max_age_days > 0 and when is not None:
        age = now - when
        if age > timedelta(days=cfg.ticket_max_age_days):
            gates.append(
                Gate(
                    "too_old",
                    f"published {age.days} days ago (limit {cfg.ticket_max_age_days:g} days)",
                )
            )
    return gates
