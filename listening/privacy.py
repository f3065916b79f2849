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
