"""Settings of the Streamlit dashboard."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator


class DashboardSettings(BaseModel):
    """``LISTENING_DASHBOARD__*``: how the dashboard is served."""

    port: int = Field(default=8501, ge=1, le=65535, description="TCP port of `listening dashboard`.")
    address: str = Field(default="127.0.0.1", description="Address the dashboard listens on.")
    language: Literal["fr", "en"] = Field(
        default="fr",
        description="Default interface language of the dashboard: fr or en (users can switch).",
    )
    cache_ttl_seconds: int = Field(
        default=60,
        ge=0,
        le=86400,
        description="Seconds a dashboard query result is kept before it is read again from the store.",
    )
    cache_max_entries: int = Field(
        default=256,
        ge=1,
        description="Most results kept per dashboard query (different filters are different entries).",
    )
    default_days: int = Field(
        default=90,
        ge=1,
        description="Days shown by default on the Overview, Competitors and Explorer pages.",
    )
    page_size: int = Field(
        default=50, ge=5, le=1000, description="Verbatims or tickets listed per table."
    )
    min_volume: int = Field(
        default=5,
        ge=1,
        description=(
            "Fewest mentions for a Competitors cell or weekly trend point to be shown as a "
            "figure; below it the cell is greyed with its count and the point left off the line."
        ),
    )
    sla_warning_hours: float = Field(
        default=4.0,
        ge=0,
        description="An open ticket whose SLA ends within this many hours is shown as 'at risk'.",
    )
    passwords: dict[str, str] = Field(
        json_schema_extra={"secret": True},
        default_factory=dict,
        description=(
            "Removed: the shared per-role passwords are refused (a value is an error). Create "
            "named accounts with `listening users add` (docs/ACCOUNTS.md)."
        ),
    )

    @field_validator("passwords")
    @classmethod
    def _removed(cls, value: dict[str, str]) -> dict[str, str]:
        if value:
            raise ValueError(
                "shared role passwords are no longer supported; remove dashboard.passwords "
                "(LISTENING_DASHBOARD__PASSWORDS) and create one account per person with "
                "`listening users add NAME --role ROLE` (docs/ACCOUNTS.md)"
            )
        return value
