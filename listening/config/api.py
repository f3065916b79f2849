"""Settings group ``api``: The read HTTP API (docs/API.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApiSettings(BaseModel):
    """``LISTENING_API__*``: The read HTTP API (docs/API.md)."""

    host: str = Field(
        default="127.0.0.1",
        description="Address `listening api` listens on (127.0.0.1: this machine only).",
    )
    port: int = Field(default=8600, ge=1, le=65535, description="TCP port of `listening api`.")
    rate_limit_per_minute: int = Field(
        default=120,
        ge=0,
        description=(
            "Requests one token may make in any 60-second window (sliding, per API process); "
            "past it the API answers 429 with Retry-After. 0: no limit."
        ),
    )
    page_size: int = Field(
        default=50, ge=1, le=1000, description="Items per page when a request gives no `limit`."
    )
    max_page_size: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="Largest `limit` a request may ask for (a larger one is refused with 422).",
    )
