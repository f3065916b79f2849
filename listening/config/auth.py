"""Settings group ``auth``: Accounts, sign-in and roles (docs/SECURITY.md)."""

from __future__ import annotations

from pydantic import BaseModel


class AuthSettings(BaseModel):
    """``LISTENING_AUTH__*``: Accounts, sign-in and roles (docs/SECURITY.md)."""
