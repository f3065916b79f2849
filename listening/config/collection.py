"""Settings of the collection stage (spiders, feeds, imports)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CollectionSettings(BaseModel):
    """``LISTENING_COLLECTION__*``: how sources are crawled and verbatims normalised."""

    languages: list[str] = Field(
        default=["fr", "en"],
        description="ISO 639-1 codes the language detector may answer; anything else is 'und'.",
    )
    author_salt: str = Field(
        default="change-me",
        description="Secret salt for author pseudonyms; set your own so pseudonyms cannot be reversed.",
    )
