"""Settings group ``privacy``: Privacy: erasure, access requests, retention, masking (docs/SECURITY.md)."""

from __future__ import annotations

from pydantic import BaseModel


class PrivacySettings(BaseModel):
    """``LISTENING_PRIVACY__*``: Privacy: erasure, access requests, retention, masking (docs/SECURITY.md)."""
