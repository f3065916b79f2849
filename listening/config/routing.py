"""Settings of the routing stage (rules, tickets, notifications, alerts)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RoutingSettings(BaseModel):
    """``LISTENING_ROUTING__*``: how analysed verbatims become tickets and notifications."""

    rules_file: str = Field(
        default="",
        description="YAML routing rules; empty uses the shipped defaults.",
    )
