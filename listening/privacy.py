"""Author pseudonyms: a salted HMAC, so the store never holds a name."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymize(author: str | None, salt: str) -> str | None:
    """Stable pseudonym for ``author`` (case and spacing ignored); ``None`` stays ``None``."""
    if author is None:
        return None
    key = " ".join(author.split()).casefold()
    if not key:
        return None
    digest = hmac.new(salt.encode(), key.encode(), hashlib.sha256).hexdigest()
    return f"a_{digest[:16]}"


ERASED_PREFIX = "erased:"


def salted(salt: str, purpose: str, value: str) -> str:
    """A keyed digest of ``value`` for ``purpose`` (not reversible without the salt)."""
    return hmac.new(salt.encode(), f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def tombstone_key(salt: str, source_id: int, external_id: str) -> str:
    """The external id an erased verbatim keeps: recognises it when collected again."""
    return ERASED_PREFIX + salted(salt, "external-id", f"{source_id}\x1f{external_id}")[:40]
