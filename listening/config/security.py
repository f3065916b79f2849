"""Settings group ``security``: Hardening: outbound-target guard, secrets (docs/SECURITY.md)."""

from __future__ import annotations

from pydantic import BaseModel


class SecuritySettings(BaseModel):
    """``LISTENING_SECURITY__*``: Hardening: outbound-target guard, secrets (docs/SECURITY.md)."""
