"""Settings of the Streamlit dashboard."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DashboardSettings(BaseModel):
    """``LISTENING_DASHBOARD__*``: how the dashboard is served."""

    port: int = Field(default=8501, ge=1, le=65535, description="TCP port of `listening dashboard`.")
    address: str = Field(default="127.0.0.1", description="Address the dashboard listens on.")
