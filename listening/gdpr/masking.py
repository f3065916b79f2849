"""No contact details in the store: mask e-mail addresses, phone numbers and author names.

Applied by ingestion (:func:`listening.collection.ingest.normalize_item`) to every
verbatim before it is analysed, stored or shown:

- :func:`mask_contacts`: e-mail addresses become ``[email]``; phone numbers become
  ``[phone]``. Phone numbers are found by ``phonenumbers`` (Google's libphonenumber) at
  its ``VALID`` leniency for the configured regions (national formats such as
  ``06 12 34 56 78``, ``01.23.45.67.89``) and for any ``+country`` number. Digit runs that
  do not start with ``+`` or ``0`` (order numbers, ``123456789``) and numbers right after
  an order word (``commande n°``, ``réf``, ``facture``, ``colis``, ``suivi``, ``order``,
  ``#``) are left alone; prices and dates never match.
- :func:`mask_names`: the author's own name or handle written in the text, the title or
  the metadata becomes ``[author]``.
- :func:`scrub_raw`: raw metadata loses the keys that name a person (``username``,
  ``author``, ``email``, ``phone``...) and its strings are masked like the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import phonenumbers

EMAIL = "[email]"
PHONE = "[phone]"
AUTHOR = "[author]"
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_ORDER_CONTEXT = re.compile(
    r"(?:commande|cde|n°|n[or]\.?|num[ée]ro\s+de\s+(?:commande|suivi|colis|facture)|r[ée]f(?:[ée]rence)?"
    r"|facture|colis|suivi|order|tracking|invoice|#)\s*[:.°]?\s*$",
    re.IGNORECASE,
)
PERSONAL_KEYS = frozenset(
    {
        "username", "user_name", "user", "author", "author_name", "author_handle", "handle",
        "screen_name", "display_name", "name", "email", "e-mail", "mail", "from", "sender",
        "phone", "telephone", "tel", "mobile", "address",
    }
)  # fmt: skip


def _phone_spans(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for region in regions or ("FR",):
        for match in phonenumbers.PhoneNumberMatcher(
            text, region.upper(), leniency=phonenumbers.Leniency.VALID
        ):
            raw = match.raw_string.lstrip("(")
            if not raw.startswith(("+", "0")):
                continue  # 123456789: an order or customer number, not a dialable phone
            if not raw.startswith("+") and _ORDER_CONTEXT.search(
                text[max(0, match.start - 30) : match.start]
            ):
                continue
            spans.append((match.start, match.end))
    return spans


def mask_contacts(text: str, regions: Sequence[str] = ("FR",)) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by ``[email]`` / ``[phone]``."""
    if not text:
        return text
    if "@" in text:
        text = EMAIL_RE.sub(EMAIL, text)
    if sum(c.isdigit() for c in text) < 6:
        return text
    spans = sorted(set(_phone_spans(text, regions)))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + PHONE + text[end:]
    return text


def _name_pattern(names: Iterable[str | None]) -> re.Pattern[str] | None:
    parts = []
    for name in names:
        words = (name or "").lstrip("@").split()
        if not words or len("".join(words)) < 3:
            continue
        parts.append(r"@?" + r"\s+".join(re.escape(w) for w in words))
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def mask_names(text: str, names: Iterable[str | None]) -> str:
    """``text`` with the author's name or handle (case and spacing ignored) as ``[author]``."""
    pattern = _name_pattern(names)
    return pattern.sub(AUTHOR, text) if pattern and text else text


def scrub_raw(
    value: Any, names: Sequence[str | None], regions: Sequence[str], mask: bool = True
) -> Any:
    """Raw metadata without keys naming a person, its strings masked (names always;
    contacts when ``mask``)."""
    if isinstance(value, dict):
        return {
            k: scrub_raw(v, names, regions, mask)
            for k, v in value.items()
            if str(k).casefold() not in PERSONAL_KEYS
        }
    if isinstance(value, list):
        return [scrub_raw(v, names, regions, mask) for v in value]
    if isinstance(value, str):
        value = mask_names(value, names)
        return mask_contacts(value, regions) if mask else value
    return value
