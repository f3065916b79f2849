"""Settings group ``privacy``: Privacy: erasure, access requests, retention, masking (docs/PRIVACY.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PrivacySettings(BaseModel):
    """``LISTENING_PRIVACY__*``: Privacy: erasure, access requests, retention, masking (docs/PRIVACY.md)."""

    retention_days: int = Field(
        default=0,
        ge=0,
        description="Verbatims published (or, without a date, collected) more than this many days "
        "ago are erased by the retention job; 0 keeps them forever. A source's own "
        "'retention_days' setting wins (docs/PRIVACY.md).",
    )
    retention_action: Literal["anonymise", "delete"] = Field(
        default="anonymise",
        description="What retention does to an expired verbatim: 'anonymise' leaves a tombstone "
        "(no text, no author; counts and charts kept), 'delete' removes the row and its analyses, "
        "tickets and counts.",
    )
    retention_interval_hours: float = Field(
        default=24.0,
        gt=0,
        description="`listening serve` and `listening scheduler` apply retention when the last "
        "retention run is older than this many hours.",
    )
    mask_contacts_in_text: bool = Field(
        default=True,
        description="Replace e-mail addresses and phone numbers inside verbatim text (and titles) "
        "by [email] / [phone] at ingestion, before analysis, storage and display.",
    )
    phone_regions: list[str] = Field(
        default=["FR"],
        description="Regions (ISO 3166 codes) whose national phone formats are recognised for "
        "masking; numbers written with +country code are recognised whatever the region.",
    )
