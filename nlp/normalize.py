"""Normalisation of messy customer text, keeping a map back to the original characters.

Chat turns, SMS and app-store reviews are written fast: no accents ("pas recu", "deja"),
abbreviations ("cmd", "rbt", "tjrs", "svp"), shouting in capitals, stretched letters
("nuuul"), order numbers and the placeholders that support tools put in exports
("[PRENOM]", "{{customer_name}}", "XXXX"). The encoder and the Matcher were trained on
written French; :func:`normalize` rewrites such text towards it and returns, for every
character of the result, the span of the original it comes from, so that evidence spans
still point into the verbatim as the customer wrote it.

Every rule is a table below (``ABBREVIATIONS``, ``ACCENTS``, ``PHRASES``): extend them, not
the code. :func:`fold` (lower case, accents removed) is what the Matcher compares, so a
pattern written ``reçu`` also matches ``recu``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

# one word → its written form (matched case-insensitively on whole words)
ABBREVIATIONS: dict[str, str] = {
    # orders, parcels, refunds
    "cmd": "commande",
    "cmde": "commande",
    "cde": "commande",
    "cmds": "commandes",
    "comande": "commande",
    "commende": "commande",
    "comandé": "commandé",
    "commender": "commander",
    "coli": "colis",
    "colie": "colis",
    "collis": "colis",
    "coliss": "colis",
    "livraision": "livraison",
    "livraisson": "livraison",
    "livrason": "livraison",
    "rbt": "remboursement",
    "rmb": "remboursement",
    "rembourssement": "remboursement",
    "rembourcement": "remboursement",
    "remboursemnt": "remboursement",
    "remb": "remboursement",
    "paiment": "paiement",
    "payement": "paiement",
    "paimment": "paiement",
    "num": "numéro",
    "sav": "SAV",
    "cb": "carte bancaire",
    "rdv": "rendez-vous",
    # chat and SMS
    "svp": "s'il vous plaît",
    "stp": "s'il te plaît",
    "slvp": "s'il vous plaît",
    "tjrs": "toujours",
    "tjs": "toujours",
    "toujour": "toujours",
    "tjr": "toujours",
    "pb": "problème",
    "pbm": "problème",
    "prob": "problème",
    "pbs": "problèmes",
    "bjr": "bonjour",
    "bsr": "bonsoir",
    "slt": "salut",
    "cc": "coucou",
    "mrc": "merci",
    "mci": "merci",
    "mercii": "merci",
    "merciii": "merci",
    "thx": "thanks",
    "pcq": "parce que",
    "pck": "parce que",
    "psk": "parce que",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "qd": "quand",
    "ds": "dans",
    "bcp": "beaucoup",
    "mtn": "maintenant",
    "dsl": "désolé",
    "jsp": "je ne sais pas",
    "ac": "avec",
    "avc": "avec",
    "tt": "tout",
    "tte": "toute",
    "jai": "j'ai",
    "jsuis": "je suis",
    "chui": "je suis",
    "jvais": "je vais",
    "jveux": "je veux",
    "jamai": "jamais",
    "ya": "il y a",
    "y'a": "il y a",
    "yen": "il y en",
    "koi": "quoi",
    "kan": "quand",
    "cmt": "comment",
    "bn": "bien",
    "auj": "aujourd'hui",
    "ajd": "aujourd'hui",
    "aujourdhui": "aujourd'hui",
    "rep": "réponse",
    "msg": "message",
    "dac": "d'accord",
    "dacc": "d'accord",
    "daccord": "d'accord",
    "oki": "ok",
    "okay": "ok",
    "okk": "ok",
    # English
    "pls": "please",
    "plz": "please",
    "u": "you",
    "ur": "your",
    "asap": "as soon as possible",
    "pkg": "package",
    "dunno": "don't know",
    "wont": "won't",
    "didnt": "didn't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "cant": "can't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "im": "I'm",
}

# unaccented spellings that are not ambiguous in customer messages → accented form
ACCENTS: dict[str, str] = {
    w.replace("é", "e")
    .replace("è", "e")
    .replace("ê", "e")
    .replace("à", "a")
    .replace("ù", "u")
    .replace("ç", "c")
    .replace("î", "i")
    .replace("ô", "o")
    .replace("â", "a")
    .replace("û", "u"): w
    for w in (
        "reçu",
        "reçue",
        "reçus",
        "reçues",
        "déjà",
        "était",
        "été",
        "étais",
        "êtes",
        "numéro",
        "numéros",
        "problème",
        "problèmes",
        "expédié",
        "expédiée",
        "expédiés",
        "expédiées",
        "expédition",
        "expéditeur",
        "expédier",
        "préparation",
        "réclamation",
        "réclamations",
        "réponse",
        "réponses",
        "répondu",
        "répond",
        "répondre",
        "même",
        "très",
        "après",
        "prévue",
        "prévu",
        "livrée",
        "livrées",
        "arrivée",
        "arrivées",
        "remboursé",
        "remboursée",
        "remboursés",
        "échange",
        "échanger",
        "échangé",
        "débité",
        "débitée",
        "débiter",
        "facturé",
        "reçois",
        "reçoit",
        "reçoive",
        "réception",
        "réceptionné",
        "téléphone",
        "téléphoné",
        "annulée",
        "annulation",
        "désolé",
        "désolée",
        "où",
        "délai",
        "délais",
        "retardé",
        "retardée",
        "égaré",
        "égarée",
        "abîmé",
        "abîmée",
        "cassée",
        "réglée",
        "payé",
        "payée",
        "prélevé",
        "prélèvement",
        "commandée",
        "commandées",
        "envoyé",
        "envoyée",
        "envoyés",
        "renvoyé",
        "bloqué",
        "bloquée",
        "acheminé",
        "acheminée",
        "déposé",
        "déposée",
        "récupérer",
        "récupéré",
        "carte bancaire",
        "épuisé",
        "épuisée",
        "qualité",
        "défectueux",
        "défectueuse",
        "conformité",
        "intérêt",
        "mél",
        "à bientôt",
        "à plus",
        "bientôt",
        "vérifier",
        "vérifié",
        "fermée",
        "modifié",
        "modifier",
        "adresse modifiée",
        "désinstallé",
        "remboursée",
        "réduction",
        "résilier",
        "garantie",
        "préféré",
        "dernière",
        "reçu ?",
        "intéressé",
        "intéressée",
        "réparé",
        "réparation",
        "accès",
        "créé",
        "créer",
        "écrit",
        "écrire",
        "appelé",
        "contacté",
        "relancé",
        "renseigné",
        "inquiète",
        "inquiet",
    )
    if " " not in w and "?" not in w
}
ACCENTS.pop("ou", None)  # "ou" is mostly "or": only "ou en est" is rewritten (PHRASES)
ACCENTS.pop("a", None)
ACCENTS.pop("ete", None)  # summer/été: handled in PHRASES after an auxiliary

# multi-word rewrites (regex → replacement), applied before the word tables
PHRASES: list[tuple[str, str]] = [
    (r"\bou en est\b", "où en est"),
    (r"\bou en sont\b", "où en sont"),
    (r"\bou est\b", "où est"),
    (r"\bou se trouve\b", "où se trouve"),
    (r"\bou en (?=(?:ai|êtes|etes|est)\b)", "où en "),
    (r"\b(a|ai|as|avez|ont|pas|jamais|toujours|bien|deja|déjà|n'a|n'ai) ete\b", r"\1 été"),
    (
        r"\b(a|ai|est|été|ete|pas|jamais|bien|toujours|être|etre|sera|serai|soit|d'être) livr(e|ee|es|ees)\b",
        r"\1 livré",
    ),
    (r"\bpas encore livre\b", "pas encore livré"),
    (r"\b(colis|commande|paquet|article|produit) livr(e|ee|es|ees)\b", r"\1 livré"),
    (r"\b(a|est|sont|pas|jamais|toujours|bien|deja|déjà) arriv(e|ee|es|ees)\b", r"\1 arrivé"),
    (r"\bj ai\b", "j'ai"),
    (r"\bc est\b", "c'est"),
    (r"\bn est\b", "n'est"),
    (r"\bj attends\b", "j'attends"),
    (r"\bs il vous plait\b", "s'il vous plaît"),
    (r"\bs'il vous plait\b", "s'il vous plaît"),
    (r"\bsuivi de colis\b", "suivi du colis"),
]

_ACRONYMS = {
    "SAV",
    "UPS",
    "DHL",
    "DPD",
    "GLS",
    "TNT",
    "CB",
    "RIB",
    "URGENT",
    "OK",
    "FAQ",
    "DGCCRF",
    "UFC",
    "CNIL",
    "PDF",
    "SMS",
    "USB",
    "LED",
    "TV",
    "XXL",
    "XL",
    "USA",
    "EU",
    "UK",
}
# support-tool placeholders and anonymisation tokens: blanked (same length)
_PLACEHOLDER = re.compile(
    r"\[[A-Za-z_][A-Za-z0-9_ ]{1,30}\]|\{\{\s*[\w.]{1,40}\s*\}\}|\{[A-Z_]{2,30}\}|%[A-Z_]{2,30}%"
    r"|\b[X]{3,}\b|\*{3,}|#{3,}"
)
# order, parcel and ticket references: digit runs of 5+ or letter/digit codes with 4+ digits
_REFERENCE = re.compile(
    r"(?<![\w@])#?(?:[A-Za-z]{1,4}[-_]?)?\d(?:[\d\-_]{3,})\d(?:[-_]?[A-Za-z0-9]{1,4})?(?![\w@])"
)
_STRETCH = re.compile(r"([^\W\d_w])\1{2,}", re.UNICODE)  # not "www"
_WORD = re.compile(r"[^\W\d_][\w'’.°-]*", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents ("Reçu" → "recu"): what the Matcher compares."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").replace("’", "'")


@dataclass
class Normalized:
    """A normalised text and, per character, the original span ``[starts[i], ends[i])``."""

    text: str
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the non-empty normalised span ``[start, end)``."""
        if not self.starts:  # nothing was rewritten
            return start, end
        return self.starts[start], self.ends[end - 1]


def _rewrite(
    norm: Normalized,
    pattern: re.Pattern[str],
    repl: Callable[[re.Match[str]], str],
) -> Normalized:
    """Apply ``pattern.sub(repl)`` and carry the character map through."""
    text = norm.text
    changes = [
        (m.start(), m.end(), new) for m in pattern.finditer(text) if (new := repl(m)) != m.group()
    ]
    if not changes:
        return norm
    base_s = norm.starts or list(range(len(text)))
    base_e = norm.ends or list(range(1, len(text) + 1))
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last = 0
    for a, b, new in changes:
        pieces.append(text[last:a])
        starts.extend(base_s[last:a])
        ends.extend(base_e[last:a])
        pieces.append(new)
        if len(new) == b - a:  # same length: keep the per-character map
            starts.extend(base_s[a:b])
            ends.extend(base_e[a:b])
        else:  # every new character stands for the whole original match
            starts.extend([base_s[a]] * len(new))
            ends.extend([base_e[b - 1]] * len(new))
        last = b
    pieces.append(text[last:])
    starts.extend(base_s[last:])
    ends.extend(base_e[last:])
    return Normalized("".join(pieces), starts, ends)


def _match_case(word: str, replacement: str) -> str:
    if word[:1].isupper() and not replacement[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


@lru_cache(maxsize=1)
def _tables() -> tuple[list[tuple[re.Pattern[str], str]], dict[str, str]]:
    phrases = [(re.compile(p, re.IGNORECASE), r) for p, r in PHRASES]
    words = {
        **{fold(k): v for k, v in ACCENTS.items()},
        **{k.lower(): v for k, v in ABBREVIATIONS.items()},
    }
    return phrases, words


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) >= 0.6 * len(letters)


def normalize(text: str) -> Normalized:
    """Rewrite messy customer text towards written French/English (see the module doc)."""
    norm = Normalized(text)
    # placeholders and references: blanked with spaces of the same length
    norm = _rewrite(norm, _PLACEHOLDER, lambda m: " " * len(m.group()))
    norm = _rewrite(
        norm,
        _REFERENCE,
        lambda m: " " * len(m.group()) if sum(c.isdigit() for c in m.group()) >= 5 else m.group(),
    )
    if _shouting(norm.text):  # same length: lower case except known acronyms
        norm = _rewrite(
            norm,
            _WORD,
            lambda m: m.group() if m.group().upper() in _ACRONYMS else m.group().lower(),
        )
    norm = _rewrite(norm, _STRETCH, lambda m: m.group(1))
    phrases, words = _tables()
    for pattern, template in phrases:

        def phrase(m: re.Match[str], template: str = template) -> str:
            return _match_case(m.group(), m.expand(template))

        norm = _rewrite(norm, pattern, phrase)

    def word(m: re.Match[str]) -> str:
        w = m.group()
        key = w.lower().rstrip(".")
        found = words.get(key) or words.get(fold(key))
        if found is None or fold(found) == fold(w) and found.lower() == w.lower():
            return w
        if fold(found) == fold(w) and any(not c.isascii() for c in w):
            return w  # already accented (maybe differently): leave the customer's spelling
        return _match_case(w, found) + w[len(key) :] if w.lower().startswith(key) else found

    return _rewrite(norm, _WORD, word)
