"""Clean verbatims before they are stored: Unicode repair, HTML stripped, whitespace,
language detection and robust date parsing.

- Text goes through ftfy (mojibake such as ``CafÃ©`` becomes ``Café``), HTML tags are
  stripped (block elements become line breaks, entities are decoded), spaces are
  collapsed and at most one blank line is kept between paragraphs.
- Language is detected by lingua among the configured languages plus a few common
  European "guard" languages, so a German review is not forced into French or
  English: anything that is not a configured language, or too short to tell, or
  ambiguous, is ``und``.
- Dates keep their raw string (the caller stores it in ``raw``) and are parsed into
  timezone-aware UTC: ISO 8601 and RFC 822 first (fast, exact), then dateparser with
  the source's language, relative dates included ("il y a 3 jours", "hier").
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, time, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ftfy

UND = "und"
# Languages lingua also considers, so that text in one of them is answered 'und'
# rather than mislabelled as one of the configured languages.
GUARD_LANGUAGES: tuple[str, ...] = ("fr", "en", "de", "es", "it", "nl", "pt")

_TAG_RE = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>|<!--.*?-->", re.DOTALL)
_BLOCK_RE = re.compile(
    r"<\s*(br|/p|p|/div|div|/li|li|/h[1-6]|/tr|/blockquote|hr)\b[^<>]*>", re.IGNORECASE
)
_DROP_RE = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES_RE = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANKS_RE = re.compile(r"\n\s*\n+")
_LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)


def looks_like_html(text: str) -> bool:
    return bool(_TAG_RE.search(text)) or "&" in text and bool(re.search(r"&#?\w+;", text))


def strip_html(text: str) -> str:
    """Text of an HTML fragment: scripts dropped, blocks as line breaks, entities decoded."""
    text = _DROP_RE.sub(" ", text)
    text = _BLOCK_RE.sub("\n", text)
    text = _TAG_RE.sub("", text)
    return html.unescape(text)


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces, trim every line, keep at most one blank line between paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES_RE.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = _BLANKS_RE.sub("\n\n", text)
    return text.strip()


def clean_text(text: str | None) -> str:
    """The full cleaning chain: ftfy, HTML stripped, whitespace normalised."""
    if not text:
        return ""
    text = ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)
    if looks_like_html(text):
        text = strip_html(text)
        text = ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)
    return normalize_whitespace(text)


def clean_line(text: str | None) -> str | None:
    """Like :func:`clean_text` for one-line values (titles, author names); empty gives None."""
    cleaned = " ".join(clean_text(text).split())
    return cleaned or None


# ---------------------------------------------------------------- language


LOW_ACCURACY_FROM = 120  # characters: lingua's trigram-only mode is as good on longer texts


@lru_cache(maxsize=8)
def _detector(candidates: tuple[str, ...], min_distance: float, low_accuracy: bool = False) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = []
    for code in candidates:
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is not None:
            languages.append(Language.from_iso_code_639_1(iso))
    if len(languages) < 2:  # lingua needs at least two languages to compare
        languages.append(Language.from_iso_code_639_1(IsoCode639_1.EN))
        languages.append(Language.from_iso_code_639_1(IsoCode639_1.FR))
    builder = LanguageDetectorBuilder.from_languages(
        *set(languages)
    ).with_minimum_relative_distance(min_distance)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def detect_language(
    text: str,
    languages: list[str] | tuple[str, ...],
    min_letters: int = 8,
    min_distance: float = 0.05,
) -> str:
    """ISO 639-1 code among ``languages``, or ``'und'`` when too short, ambiguous or other."""
    allowed = tuple(sorted({code.lower() for code in languages}))
    if not allowed or len(_LETTER_RE.findall(text)) < min_letters or len(text.split()) < 2:
        return UND
    candidates = tuple(sorted(set(allowed) | set(GUARD_LANGUAGES)))
    sample = text[:2000]
    detector = _detector(candidates, min_distance, len(sample) >= LOW_ACCURACY_FROM)
    found = detector.detect_language_of(sample)
    if found is None:
        return UND
    code = found.iso_code_639_1.name.lower()
    return code if code in allowed else UND


# ---------------------------------------------------------------- dates


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def to_utc(value: datetime, naive_timezone: str = "UTC") -> datetime:
    """A timezone-aware UTC datetime; naive values are read in ``naive_timezone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(naive_timezone))
    return value.astimezone(UTC)


def parse_date(
    raw: str | None,
    language: str | None = None,
    naive_timezone: str = "Europe/Paris",
    now: datetime | None = None,
) -> datetime | None:
    """Parse a date as found on a page or in a feed; ``None`` when it cannot be read.

    ISO 8601 and RFC 822 are tried first; then dateparser with the source's language
    (``fr`` reads "il y a 3 jours", "hier", "12 mars 2024"), relative to ``now``.
    """
    if raw is None:
        return None
    text = " ".join(str(raw).split())
    if not text:
        return None
    parsed = _parse_date(text, language, naive_timezone, now)
    if parsed is not None and not _HAS_TIME_RE.search(text):
        # a date without a time ("2026-11-05", "5 nov. 2026") is that calendar day where
        # it was written: anchored at local noon, it stays on that day in UTC and in any
        # time zone within 12 hours (midnight would fall on the previous UTC day)
        zone = _zone(naive_timezone)
        local = parsed.astimezone(zone)
        if local.time() == time(0):
            parsed = datetime.combine(local.date(), DATE_ONLY_TIME, zone).astimezone(UTC)
    return parsed


DATE_ONLY_TIME = time(12)
_HAS_TIME_RE = re.compile(
    r"\d{1,2}\s*(?::|h\b|h\s*\d)|T\d{2}|\b(?:am|pm)\b|\bago\b|\bil y a\b", re.I
)


def _parse_date(
    text: str, language: str | None, naive_timezone: str, now: datetime | None
) -> datetime | None:
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return to_utc(datetime.fromisoformat(candidate), naive_timezone)
    except ValueError:
        pass
    if re.match(r"^[A-Za-z]{3},? ", text) or re.search(r"[+-]\d{4}$|\bGMT$|\bUTC$", text):
        try:
            return to_utc(parsedate_to_datetime(text), naive_timezone)
        except (TypeError, ValueError, IndexError):
            pass
    return _dateparser(text, language, naive_timezone, now)


DATE_LANGUAGES: tuple[str, ...] = ("fr", "en")
_DATE_PREFIX_RE = re.compile(
    r"^\s*(publi[ée]e?s?|post[ée]e?s?|[ée]crit|mis en ligne|modifi[ée]|avis|posted|published"
    r"|written|updated|reviewed)?\s*(le|on|du)?\s+",
    re.IGNORECASE,
)
_DATE_AT_RE = re.compile(r"\s+(à|at|-|,)\s+(?=\d)", re.IGNORECASE)
_HOUR_RE = re.compile(r"\b(\d{1,2})\s?h\s?(\d{2})\b")


def _dateparser(
    text: str, language: str | None, naive_timezone: str, now: datetime | None
) -> datetime | None:
    import dateparser

    base = now or datetime.now(UTC)
    settings: dict[str, Any] = {
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": naive_timezone,
        "TO_TIMEZONE": "UTC",
        "RELATIVE_BASE": base.astimezone(_zone(naive_timezone)).replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY"
        if language in (None, "fr", "de", "es", "it", "nl", "pt", UND)
        else "MDY",
    }
    text = _DATE_PREFIX_RE.sub("", text)
    text = _DATE_AT_RE.sub(" ", text)
    text = _HOUR_RE.sub(r"\1:\2", text)
    languages = [language] if language and language != UND else list(DATE_LANGUAGES)
    try:
        parsed = dateparser.parse(text, languages=languages, settings=settings)
        if parsed is None and languages != list(DATE_LANGUAGES):  # the date's language may differ
            parsed = dateparser.parse(text, languages=list(DATE_LANGUAGES), settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        return None
    if parsed is None:
        return None
    return to_utc(parsed, naive_timezone)
