"""Settings group ``insights``: Insights: emerging themes, reports and digests (docs/INSIGHTS.md)."""

from __future__ import annotations

from pydantic import BaseModel


class InsightsSettings(BaseModel):
    """``LISTENING_INSIGHTS__*``: Insights: emerging themes, reports and digests (docs/INSIGHTS.md)."""
