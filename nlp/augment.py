"""Messy copies of our own training texts, written the way customers type in a chat.

Our training rows are clean written French; customers drop accents and capitals, abbreviate
("cmd", "tjrs", "svp", "rbt"), skip punctuation and glue greetings to their request. A
messy copy of each French row teaches the heads that the words still mean the same thing,
beyond what :mod:`nlp.normalize` restores at analysis time. Copies are deterministic (a
seeded generator per text), so a retrain gives the same head.
"""

from __future__ import annotations

import random
import re
import zlib
from typing import Any

from nlp.normalize import fold

# written form → what customers type (the inverse direction of normalize.ABBREVIATIONS)
SHORTHAND: dict[str, str] = {
    "commande": "cmd",
    "toujours": "tjrs",
    "s'il vous plaît": "svp",
    "problème": "pb",
    "remboursement": "rbt",
    "bonjour": "bjr",
    "beaucoup": "bcp",
    "pourquoi": "pk",
    "quand": "qd",
    "parce que": "pcq",
    "maintenant": "mtn",
    "rendez-vous": "rdv",
    "service après-vente": "sav",
    "service client": "sav",
    "j'ai": "jai",
    "c'est": "c",
    "je ne sais pas": "jsp",
    "numéro": "num",
    "message": "msg",
}
_GREETINGS = ["bonjour", "bjr", "bonsoir", "slt", "hello", "re"]
_CLOSINGS = ["merci", "mrc", "svp", "merci d'avance", "cordialement", "?", "!!", "..."]
_PUNCT = re.compile(r"[.,;:!?…]+")
_SHORTHAND = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, SHORTHAND), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def messy_copy(text: str) -> str:
    """A chat-style copy of a French text: no accents or capitals, shorthand, fewer marks."""
    rng = random.Random(zlib.crc32(text.encode("utf-8")))
    out = text.lower()
    out = _SHORTHAND.sub(
        lambda m: SHORTHAND[m.group().lower()] if rng.random() < 0.7 else m.group(), out
    )
    if rng.random() < 0.8:
        out = fold(out)
    if rng.random() < 0.6:
        out = _PUNCT.sub(lambda m: " " if rng.random() < 0.7 else m.group(), out)
    out = " ".join(out.split())
    if rng.random() < 0.3:
        out = f"{rng.choice(_GREETINGS)} {out}"
    if rng.random() < 0.3:
        out = f"{out} {rng.choice(_CLOSINGS)}"
    return out


def messy_copies(rows: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(index of the original, its messy copy) for each French row whose copy differs from it;
    the copy keeps the row's labels."""
    copies = []
    for i, row in enumerate(rows):
        text = row.get("text")
        if row.get("lang") == "fr" and isinstance(text, str):
            copy = messy_copy(text)
            if copy != text:
                copies.append((i, {**row, "text": copy}))
    return copies
