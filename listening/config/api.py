"""Settings group ``api``: The read HTTP API (docs/API.md)."""

from __future__ import annotations

from pydantic import BaseModel


class ApiSettings(BaseModel):
    """``LISTENING_API__*``: The read HTTP API (docs/API.md)."""
