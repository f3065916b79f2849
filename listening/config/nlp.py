"""Settings of the NLP stage (pipeline, models, taxonomy)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class NLPSettings(BaseModel):
    """``LISTENING_NLP__*``: how verbatims are analysed."""

    batch_size: int = Field(default=64, ge=1, description="Documents analysed per batch by `listening analyze`.")
